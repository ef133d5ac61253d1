package handoffs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// handoffWorld is the partnership world (a partner in Thailand sending to
// AFESIP Laos under an active partnership, a partner in Malaysia beside)
// with the members a handoff needs, document storage, and a case of the
// Thai partner carrying canaries: values that must never reach Laos.
type handoffWorld struct {
	*partnershipWorld
	pship    uuid.UUID
	bucket   *blob.Bucket
	h        *Service // with documents
	starter  context.Context
	approver context.Context
	counsel  context.Context
	myMgr    context.Context
	starterP *tenants.Principal
	now      time.Time

	caseID                              uuid.UUID
	passport, secretDoc                 uuid.UUID // a document shared, and one not chosen
	canaryUnchosen, canaryPsych, canDoc string
}

const referralPDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

func canary(what string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "CANARY" + what + hex.EncodeToString(b)
}

func newHandoffWorld(t *testing.T, s *tenants.Store) *handoffWorld {
	t.Helper()
	w := &handoffWorld{partnershipWorld: newPartnershipWorld(t, s), bucket: memblob.OpenBucket(nil), now: time.Now()}
	w.h = New(s).WithDocuments(w.bucket, tenants.DocumentLimits{}).WithClock(func() time.Time { return w.now })
	w.svc = w.h
	w.pship = w.active(t)
	sub := func(org uuid.UUID, who string) string { return who + "-" + org.String()[:8] }
	w.starter, w.starterP = tenanttest.Member(t, s, w.th, sub(w.th, "starter"), tenants.RoleCaseManager)
	w.approver, _ = tenanttest.Member(t, s, w.th, sub(w.th, "approver"), tenants.RoleCaseManager)
	w.counsel, _ = tenanttest.Member(t, s, w.th, sub(w.th, "counsellor"), tenants.RoleCounsellor)
	w.myMgr, _ = tenanttest.Member(t, s, w.my, sub(w.my, "manager"), tenants.RoleCaseManager)
	w.canaryUnchosen, w.canaryPsych = canary("unchosen"), canary("psych")
	w.canDoc = canary("doc")
	w.caseID = w.newCase(t, true)
	return w
}

// newCase is a case of the Thai partner, opened by the starter, with the
// services consent (and the sharing consent when sharing), a value in a
// field the handoffs here never choose (family_notes) and in the
// psychological group (by the assigned counsellor), an identity document
// shared and one never chosen.
func (w *handoffWorld) newCase(t *testing.T, sharing bool) uuid.UUID {
	t.Helper()
	cs := cases.New(w.s)
	consents := []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl, GivenOn: "2025-01-10",
		Basis: cases.BasisSignedForm}}
	if sharing {
		consents = append(consents, cases.NewConsent{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl,
			GivenOn: "2025-01-10", Basis: cases.BasisSignedForm})
	}
	c, err := cs.Create(w.starter, cases.NewCase{
		Values: map[string]any{"prs_FirstName": "Noy", "prs_Birthdate": "2009-04-02", "prs_Gender": "Feminine",
			"family_home_village": "Ban Nong Bua", "family_notes": w.canaryUnchosen},
		Consents: consents,
	})
	must(t, err)
	counsellor := tenants.PrincipalFrom(w.counsel)
	_, err = cs.Assign(w.starter, c.ID, w.starterP.Actor.MemberID, []uuid.UUID{*counsellor.Actor.MemberID})
	must(t, err)
	_, err = cs.Update(w.counsel, c.ID, cases.Patch{Values: map[string]any{"psychological_notes": w.canaryPsych}})
	must(t, err)
	docs := casedocs.New(w.s, w.bucket, tenants.DocumentLimits{})
	d, err := docs.Add(w.starter, c.ID, casedocs.NewDocument{Part: tenants.FieldGroupIdentity, Filename: "passport.pdf",
		Content: strings.NewReader(referralPDF)})
	must(t, err)
	w.passport = d.ID
	d, err = docs.Add(w.starter, c.ID, casedocs.NewDocument{Part: tenants.FieldGroupIdentity, Filename: w.canDoc + ".pdf",
		Content: strings.NewReader(referralPDF)})
	must(t, err)
	w.secretDoc = d.ID
	return c.ID
}

// chosen are the fields the handoffs here share.
var chosen = []string{"prs_FirstName", "prs_Birthdate", "family_home_village"}

// start starts a handoff of caseID with the chosen fields and the passport.
func (w *handoffWorld) start(t *testing.T, caseID uuid.UUID, override string) *Handoff {
	t.Helper()
	h, err := w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: caseID, Fields: chosen,
		Documents: []uuid.UUID{w.passport}, OverrideReason: override, Note: "found at the Nong Khai shelter"})
	must(t, err)
	return h
}

// advance records a stage change and fails on an error.
func (w *handoffWorld) advance(t *testing.T, ctx context.Context, id uuid.UUID, st Stage, action string) *Handoff {
	t.Helper()
	h, err := w.h.Advance(ctx, id, StageChange{Stage: st, Action: action, Note: "note on " + string(st)})
	if err != nil {
		t.Fatalf("%s %s: %v", action, st, err)
	}
	return h
}

// rowIn is organisation org's row of handoff id (nil when it holds none).
func rowIn(t *testing.T, s *tenants.Store, org, id uuid.UUID) *handoffRow {
	t.Helper()
	var row *handoffRow
	err := s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		r, err := loadHandoff(tx, id, false, true)
		if err == errNoHandoff {
			return nil
		}
		row = r
		return err
	})
	must(t, err)
	return row
}

// mirrored fails unless both organisations hold handoff id alike (state,
// stage, confirmation, version, number), each as its side, in state.
func mirrored(t *testing.T, s *tenants.Store, sender, receiver, id uuid.UUID, state string) {
	t.Helper()
	a, b := rowIn(t, s, sender, id), rowIn(t, s, receiver, id)
	if a == nil || b == nil {
		t.Fatalf("rows: sender %v, receiver %v", a != nil, b != nil)
	}
	if a.State != state || b.State != state {
		t.Fatalf("states %s / %s, want %s", a.State, b.State, state)
	}
	if a.Side != SideSender || b.Side != SideReceiver || a.PartnerTenantID != receiver || b.PartnerTenantID != sender {
		t.Fatalf("sides %s / %s, partners %s / %s", a.Side, b.Side, a.PartnerTenantID, b.PartnerTenantID)
	}
	if a.stageOf() != b.stageOf() || a.Confirmed != b.Confirmed || a.Version != b.Version || a.Number != b.Number ||
		!a.StageChangedAt.Equal(b.StageChangedAt) {
		t.Fatalf("rows differ: sender %s/%v/v%d/%d, receiver %s/%v/v%d/%d", a.stageOf(), a.Confirmed, a.Version, a.Number,
			b.stageOf(), b.Confirmed, b.Version, b.Number)
	}
	if state == StateWithdrawn {
		return // the receiver's timeline went with the shared copy
	}
	var na, nb int64
	must(t, s.InTenant(context.Background(), sender, func(tx *gorm.DB) error {
		return tx.Model(&stageEntryRow{}).Where("handoff_id = ?", id).Count(&na).Error
	}))
	must(t, s.InTenant(context.Background(), receiver, func(tx *gorm.DB) error {
		return tx.Model(&stageEntryRow{}).Where("handoff_id = ?", id).Count(&nb).Error
	}))
	if na != nb {
		t.Fatalf("timeline: %d entries on the sender's side, %d on the receiver's", na, nb)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
