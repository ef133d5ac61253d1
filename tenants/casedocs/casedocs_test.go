package casedocs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// staff is an organisation with a member of each case role, and a case
// opened by its case manager and assigned to the social worker, the
// counsellor and the medical officer.
type staff struct {
	org                                           uuid.UUID
	manager, social, counsellor, medical, auditor context.Context
	caseID                                        uuid.UUID
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: tenanttest.NewOrg(t, s)}
	member := func(subject string, role tenants.Role) (context.Context, uuid.UUID) {
		ctx, p := tenanttest.Member(t, s, st.org, subject, role)
		return ctx, *p.Actor.MemberID
	}
	var social, counsellor, medical uuid.UUID
	st.manager, _ = member("manager", tenants.RoleCaseManager)
	st.social, social = member("social", tenants.RoleSocialWorker)
	st.counsellor, counsellor = member("counsellor", tenants.RoleCounsellor)
	st.medical, medical = member("medical", tenants.RoleMedicalOfficer)
	st.auditor, _ = member("auditor", tenants.RoleAuditor)
	svc := cases.New(s)
	k, err := svc.Create(st.manager, cases.NewCase{Values: map[string]any{"prs_FirstName": "Noy",
		"prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}})
	must(t, err)
	_, err = svc.Assign(st.manager, k.ID, nil, []uuid.UUID{social, counsellor, medical})
	must(t, err)
	st.caseID = k.ID
	return st
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

// A referral letter, as small as a PDF gets.
const referralPDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

// elfExecutable is the header of a Linux x86-64 program.
func elfExecutable() []byte {
	h := make([]byte, 128)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[20] = 2, 0x3e, 1
	return h
}

// stored counts the contents in the bucket and the document rows of org.
func stored(t *testing.T, s *tenants.Store, bucket *blob.Bucket, org uuid.UUID) (contents, rows int) {
	t.Helper()
	it := bucket.List(nil)
	for {
		_, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		must(t, err)
		contents++
	}
	var n int64
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		return tx.Model(&tenants.Document{}).Count(&n).Error
	}))
	return contents, int(n)
}

func TestAnExecutableRenamedPDFIsRefusedAndNothingStored(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			bucket := memblob.OpenBucket(nil)
			t.Cleanup(func() { bucket.Close() })
			svc := casedocs.New(s, bucket, tenants.DocumentLimits{})
			st := newStaff(t, s)

			_, err := svc.Add(st.social, st.caseID, casedocs.NewDocument{Part: tenants.CaseSupport,
				Filename: "training-certificate.pdf", Content: bytes.NewReader(elfExecutable())})
			wantCode(t, "a program named .pdf", err, homeward.EINVALID)
			var he *homeward.Error
			if !errors.As(err, &he) || !strings.Contains(he.Fields["file"], "a program") {
				t.Errorf("the refusal does not name the file as a program: %v", err)
			}
			if contents, rows := stored(t, s, bucket, st.org); contents != 0 || rows != 0 {
				t.Fatalf("after the refusal: %d contents, %d rows stored", contents, rows)
			}

			// control: a real PDF is accepted, with its entry
			visit := uuid.New()
			doc, err := svc.Add(st.social, st.caseID, casedocs.NewDocument{Part: tenants.CaseFollowUp,
				Entry: &casedocs.Entry{Kind: "followup.visit", ID: visit}, Filename: "visit report.pdf",
				Content: strings.NewReader(referralPDF)})
			must(t, err)
			if doc.ContentType != "application/pdf" || doc.Part != tenants.CaseFollowUp || doc.Entry == nil ||
				doc.Entry.Kind != "followup.visit" || doc.Entry.ID != visit {
				t.Fatalf("stored %+v", doc)
			}
			if contents, rows := stored(t, s, bucket, st.org); contents != 1 || rows != 1 {
				t.Fatalf("after the PDF: %d contents, %d rows stored", contents, rows)
			}
			got, content, err := svc.Open(st.manager, doc.ID)
			must(t, err)
			if string(content) != referralPDF || got.Filename != "visit report.pdf" || got.Entry == nil || got.Entry.ID != visit {
				t.Errorf("read back %+v, %q", got, content)
			}
		})
	}
}

func TestDocumentsFollowTheirPart(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			bucket := memblob.OpenBucket(nil)
			t.Cleanup(func() { bucket.Close() })
			svc := casedocs.New(s, bucket, tenants.DocumentLimits{})
			st := newStaff(t, s)
			add := func(ctx context.Context, part string) (*casedocs.Document, error) {
				return svc.Add(ctx, st.caseID, casedocs.NewDocument{Part: part, Filename: part + ".pdf", Content: strings.NewReader(referralPDF)})
			}

			// The medical officer writes the medical group; the social
			// worker, who may not read it, does not see the case's
			// medical document at all.
			med, err := add(st.medical, tenants.FieldGroupMedical)
			must(t, err)
			_, _, err = svc.Open(st.social, med.ID)
			wantCode(t, "the social worker opening a medical document", err, homeward.ENOTFOUND)
			err = svc.Delete(st.social, med.ID)
			wantCode(t, "the social worker deleting a medical document", err, homeward.ENOTFOUND)
			if _, content, err := svc.Open(st.medical, med.ID); err != nil || string(content) != referralPDF {
				t.Errorf("control: the medical officer opens it: %v", err)
			}

			// The counsellor reads the medical group but may not write it.
			_, _, err = svc.Open(st.counsellor, med.ID)
			must(t, err)
			err = svc.Delete(st.counsellor, med.ID)
			wantCode(t, "the counsellor deleting a medical document", err, homeward.EFORBIDDEN)
			_, err = add(st.counsellor, tenants.FieldGroupMedical)
			wantCode(t, "the counsellor adding a medical document", err, homeward.EFORBIDDEN)

			// The social worker's support document, beside it.
			plan, err := add(st.social, tenants.CaseSupport)
			must(t, err)
			list := func(ctx context.Context) []uuid.UUID {
				l, err := svc.List(ctx, st.caseID)
				must(t, err)
				var ids []uuid.UUID
				for _, d := range l.Documents {
					ids = append(ids, d.ID)
				}
				return ids
			}
			if got := list(st.social); len(got) != 1 || got[0] != plan.ID {
				t.Errorf("the social worker lists %v, want the support plan only", got)
			}
			if got := list(st.medical); len(got) != 1 || got[0] != med.ID {
				t.Errorf("the medical officer lists %v, want the medical document only", got)
			}
			if got := list(st.counsellor); len(got) != 2 {
				t.Errorf("the counsellor lists %v, want both", got)
			}
			l, err := svc.List(st.counsellor, st.caseID)
			must(t, err)
			if !slices.Contains(l.Read, tenants.FieldGroupMedical) || slices.Contains(l.Write, tenants.FieldGroupMedical) ||
				!slices.Contains(l.Write, tenants.FieldGroupPsychological) || slices.Contains(l.Read, tenants.CaseKit) {
				t.Errorf("the counsellor's parts: read %v, write %v", l.Read, l.Write)
			}

			// The consent records take no document; another organisation's
			// member sees no case.
			_, err = add(st.manager, tenants.CaseConsent)
			wantCode(t, "a document of the consent records", err, homeward.EINVALID)
			other := newStaff(t, s)
			_, _, err = svc.Open(other.manager, plan.ID)
			wantCode(t, "another organisation's case manager", err, homeward.ENOTFOUND)
			_, err = svc.List(other.manager, st.caseID)
			wantCode(t, "another organisation's case manager listing", err, homeward.ENOTFOUND)
			_, err = svc.List(st.auditor, st.caseID)
			wantCode(t, "the auditor, who reads no case", err, homeward.ENOTFOUND)

			// Deleted by one who writes the part: gone for everyone.
			must(t, svc.Delete(st.manager, plan.ID))
			_, _, err = svc.Open(st.manager, plan.ID)
			wantCode(t, "a deleted document", err, homeward.ENOTFOUND)
			if got := list(st.social); len(got) != 0 {
				t.Errorf("after the deletion the social worker lists %v", got)
			}
		})
	}
}

func TestDocumentsAreAudited(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	svc := casedocs.New(s, bucket, tenants.DocumentLimits{})
	st := newStaff(t, s)
	doc, err := svc.Add(st.social, st.caseID, casedocs.NewDocument{Part: tenants.CaseKit, Filename: "receipt.pdf",
		Content: strings.NewReader(referralPDF)})
	must(t, err)
	_, err = svc.List(st.manager, st.caseID)
	must(t, err)
	_, _, err = svc.Open(st.manager, doc.ID)
	must(t, err)
	actions := map[string][]string{}
	must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
		for _, q := range []tenants.AuditQuery{{RecordType: "document", RecordID: doc.ID}, {RecordType: "case", RecordID: st.caseID}} {
			page, err := tenants.ListAudit(tx, q)
			if err != nil {
				return err
			}
			for _, e := range page.Entries {
				actions[e.Action] = e.FieldGroups
			}
		}
		return nil
	}))
	for _, a := range []string{tenants.ActionDocumentUpload, tenants.ActionDocumentDownload, casedocs.ActionList} {
		if g := actions[a]; len(g) != 1 || g[0] != tenants.CaseKit {
			t.Errorf("audit %s: parts %v, want [kit] (all: %v)", a, g, actions)
		}
	}
}
