package cases_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The canaries: a name, a birth date and a comment no clear column may hold.
const (
	canaryName    = "Canarynoy"
	canaryBirth   = "2007-04-13"
	canaryComment = "Canary comment about her family"
)

var canaries = []string{canaryName, canaryBirth, canaryComment}

// writeCanaryCase creates a case holding the canaries, with a comment, a
// withdrawn consent and an erasure request note.
func writeCanaryCase(t *testing.T, svc *cases.Service, ctx context.Context) *cases.Case {
	t.Helper()
	nc := intake(canaryName, canaryBirth)
	nc.Values["prs_SecondName"] = "Sisouk"
	nc.Consents = []cases.NewConsent{{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByFamily, GivenOn: "2024-02-03", Basis: cases.BasisRecordedVerbal}}
	c, err := svc.Create(ctx, nc)
	must(t, err)
	_, err = svc.AddComment(ctx, c.ID, canaryComment)
	must(t, err)
	_, err = svc.WithdrawConsent(ctx, c.ID, cases.PurposeSharing, canaryComment)
	must(t, err)
	return c
}

// searchFinds checks that each query finds exactly the case.
func searchFinds(t *testing.T, svc *cases.Service, ctx context.Context, id uuid.UUID, queries ...string) {
	t.Helper()
	for _, q := range queries {
		page, err := svc.List(ctx, cases.Query{Q: q})
		must(t, err)
		if len(page.Cases) != 1 || page.Cases[0].ID != id {
			t.Errorf("search %q: %d cases, want the canary's", q, len(page.Cases))
		}
	}
}

// leaks reports which canaries data holds, as text or hex (bytea printed).
func leaks(data []byte) []string {
	var out []string
	lower := bytes.ToLower(data)
	for _, c := range canaries {
		if bytes.Contains(lower, []byte(strings.ToLower(c))) || bytes.Contains(lower, []byte(hex.EncodeToString([]byte(c)))) {
			out = append(out, c)
		}
	}
	return out
}

func TestPostgresTablesHoldNoPlaintext(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := cases.New(s)
	st := newStaff(t, s)
	c := writeCanaryCase(t, svc, st.manager)
	searchFinds(t, svc, st.manager, c.ID, canaryName, "CANARYNÖY", " canarynoy ", "Canarynoy Sisouk", "13/04/2007", canaryBirth, c.Reference)

	owner, err := sql.Open("pgx", tenanttest.Postgres(t).OwnerURL)
	must(t, err)
	defer owner.Close()
	var dump bytes.Buffer
	for _, table := range []string{"cases", "case_consents", "case_comments", "case_erasures", "case_assignments", "blind_index", "audit_log", "tenant_settings"} {
		rows, err := owner.Query("SELECT t::text FROM " + table + " t")
		must(t, err)
		for rows.Next() {
			var line string
			must(t, rows.Scan(&line))
			dump.WriteString(line + "\n")
		}
		must(t, rows.Err())
		rows.Close()
	}
	if !strings.Contains(dump.String(), c.ID.String()) {
		t.Fatal("the dump does not even hold the case's id: it read nothing")
	}
	if l := leaks(dump.Bytes()); len(l) > 0 {
		t.Errorf("the PostgreSQL tables hold %v in the clear", l)
	}
}

func TestSQLiteFileHoldsNoPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "homeward.db")
	tenanttest.MigrateSQLite(t, path)
	s := tenanttest.OpenSQLiteFile(t, path)
	svc := cases.New(s)
	st := newStaff(t, s)
	c := writeCanaryCase(t, svc, st.manager)
	searchFinds(t, svc, st.manager, c.ID, canaryName, "canarynöy", "13/04/2007")
	must(t, s.Close())

	var data []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		data = append(data, b...)
	}
	if !bytes.Contains(data, []byte("Test organisation")) {
		t.Fatal("the file does not hold the organisation's name in the clear: the check reads nothing")
	}
	if l := leaks(data); len(l) > 0 {
		t.Errorf("the SQLite file holds %v in the clear", l)
	}
}

func TestErasureShredsTheCase(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			second, _ := member(t, s, st.org, "manager-2", tenants.RoleCaseManager)
			c := writeCanaryCase(t, svc, st.manager)
			_, err := svc.Assign(st.manager, c.ID, st.socialP.Actor.MemberID, []uuid.UUID{*st.medicalP.Actor.MemberID})
			must(t, err)

			_, err = svc.RequestErasure(st.social, c.ID, cases.ErasureDuplicate, "")
			wantCode(t, "a social worker requesting", err, homeward.EFORBIDDEN)
			_, err = svc.RequestErasure(st.manager, c.ID, "because", "")
			wantCode(t, "an uncoded reason", err, homeward.EINVALID)
			e, err := svc.RequestErasure(st.manager, c.ID, cases.ErasureSubjectRequest, "asked by "+canaryName)
			must(t, err)
			_, err = svc.RequestErasure(st.manager, c.ID, cases.ErasureDuplicate, "")
			wantCode(t, "a second open request", err, homeward.ECONFLICT)
			open, err := svc.Erasures(st.admin)
			must(t, err)
			if len(open) != 1 || open[0].Note != "asked by "+canaryName || open[0].Reference != c.Reference {
				t.Errorf("open requests: %+v", open)
			}

			_, err = svc.DecideErasure(st.manager, e.ID, true)
			wantCode(t, "the requester approving", err, homeward.EFORBIDDEN)
			_, err = svc.DecideErasure(st.social, e.ID, true)
			wantCode(t, "a social worker approving", err, homeward.EFORBIDDEN)
			done, err := svc.DecideErasure(second, e.ID, true)
			must(t, err)
			if done.State != cases.ErasureApproved || done.Note != "" {
				t.Errorf("approved: %+v", done)
			}
			_, err = svc.DecideErasure(st.admin, e.ID, true)
			wantCode(t, "deciding twice", err, homeward.ECONFLICT)

			_, err = svc.Get(st.manager, c.ID)
			wantCode(t, "reading the erased case", err, homeward.ENOTFOUND)
			page, err := svc.List(st.manager, cases.Query{Q: canaryName})
			must(t, err)
			if len(page.Cases) != 0 {
				t.Errorf("search finds the erased case")
			}
			_, err = svc.AddComment(st.manager, c.ID, "x")
			wantCode(t, "commenting the erased case", err, homeward.ENOTFOUND)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				var n int64
				if err := tx.Table("blind_index").Where("record_id = ?", c.ID).Count(&n).Error; err != nil {
					return err
				}
				ids, err := tenants.FindByBlindIndex(tx, "cases", "first_name", canaryName)
				if n != 0 || len(ids) != 0 {
					t.Errorf("blind index after erasure: %d entries, search %v", n, ids)
				}
				if ok, err := cases.Consented(tx, c.ID, cases.PurposeServices); ok || err != nil {
					t.Errorf("consented after erasure: %v, %v", ok, err)
				}
				return err
			}))
			trail, err := svc.CaseAudit(st.auditor, c.ID, tenants.AuditQuery{Limit: 200})
			must(t, err)
			actions := map[string]bool{}
			for _, e := range trail.Entries {
				actions[e.Action] = true
			}
			if !actions[cases.ActionCreate] || !actions[cases.ActionErase] || !actions[cases.ActionEraseRequest] {
				t.Errorf("the audit trail after erasure: %v", actions)
			}
			if l := leaks([]byte(strings.Join(func() []string {
				var out []string
				for _, e := range trail.Entries {
					out = append(out, e.Action, e.Purpose, strings.Join(e.FieldGroups, ","))
				}
				return out
			}(), " "))); len(l) > 0 {
				t.Errorf("the audit trail holds %v", l)
			}
			_, err = svc.CaseAudit(st.manager, c.ID, tenants.AuditQuery{})
			wantCode(t, "a case manager reading the audit trail", err, homeward.EFORBIDDEN)
			_, err = svc.CaseAudit(st.auditor, uuid.New(), tenants.AuditQuery{})
			wantCode(t, "the audit trail of no case", err, homeward.ENOTFOUND)

			// A tenant admin approves too; the requester may cancel her own.
			c2, err := svc.Create(st.manager, intake("Other", "2008-01-01"))
			must(t, err)
			e2, err := svc.RequestErasure(st.manager, c2.ID, cases.ErasureCreatedInError, "")
			must(t, err)
			_, err = svc.DecideErasure(st.admin, e2.ID, true)
			must(t, err)
			c3, err := svc.Create(st.manager, intake("Third", "2008-01-01"))
			must(t, err)
			e3, err := svc.RequestErasure(st.manager, c3.ID, cases.ErasureOther, "")
			must(t, err)
			_, err = svc.DecideErasure(st.social, e3.ID, false)
			wantCode(t, "a social worker cancelling", err, homeward.EFORBIDDEN)
			cancelled, err := svc.DecideErasure(st.manager, e3.ID, false)
			must(t, err)
			if cancelled.State != cases.ErasureCancelled {
				t.Errorf("cancelled: %+v", cancelled)
			}
			_, err = svc.Get(st.manager, c3.ID)
			must(t, err)
		})
	}
}
