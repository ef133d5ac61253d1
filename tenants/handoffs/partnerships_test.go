package handoffs

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// partnershipWorld is three organisations (a partner in Thailand, AFESIP
// Laos, a partner in Malaysia) with the members the tests act as.
type partnershipWorld struct {
	s                    *tenants.Store
	svc                  *Service
	th, laos, my         uuid.UUID
	thAdmin, thManager   context.Context
	laosAdmin, laosMgr   context.Context
	laosSocial           context.Context
	myAdmin              context.Context
	thAdminP, laosAdminP *tenants.Principal
}

func newPartnershipWorld(t *testing.T, s *tenants.Store) *partnershipWorld {
	t.Helper()
	w := &partnershipWorld{s: s, svc: New(s)}
	w.th, w.laos, w.my = tenanttest.NewOrg(t, s), tenanttest.NewOrg(t, s), tenanttest.NewOrg(t, s)
	sub := func(org uuid.UUID, who string) string { return who + "-" + org.String()[:8] }
	w.thAdmin, w.thAdminP = tenanttest.Member(t, s, w.th, sub(w.th, "admin"), tenants.RoleTenantAdmin)
	w.thManager, _ = tenanttest.Member(t, s, w.th, sub(w.th, "manager"), tenants.RoleCaseManager)
	w.laosAdmin, w.laosAdminP = tenanttest.Member(t, s, w.laos, sub(w.laos, "admin"), tenants.RoleTenantAdmin)
	w.laosMgr, _ = tenanttest.Member(t, s, w.laos, sub(w.laos, "manager"), tenants.RoleCaseManager)
	w.laosSocial, _ = tenanttest.Member(t, s, w.laos, sub(w.laos, "social"), tenants.RoleSocialWorker)
	w.myAdmin, _ = tenanttest.Member(t, s, w.my, sub(w.my, "admin"), tenants.RoleTenantAdmin)
	return w
}

func (w *partnershipWorld) slug(t *testing.T, org uuid.UUID) string {
	t.Helper()
	tn, err := w.s.TenantByID(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	return tn.Slug
}

// handoffProposal is th's proposal to send handoffs to Laos.
func (w *partnershipWorld) handoffProposal(t *testing.T) NewPartnership {
	return NewPartnership{Partner: w.slug(t, w.laos), Purpose: PurposeHandoffs, Sending: true,
		Groups:    []string{tenants.FieldGroupLegal, tenants.FieldGroupIdentity, tenants.FieldGroupFamily},
		Documents: true, AgreementRef: "DSA-TH-LA-2024-07", StallDays: 10, StatisticsBack: true}
}

// active proposes th → Laos and has Laos's admin accept it.
func (w *partnershipWorld) active(t *testing.T) uuid.UUID {
	t.Helper()
	p, err := w.svc.ProposePartnership(w.thAdmin, w.handoffProposal(t))
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	if _, err := w.svc.DecidePartnership(w.laosAdmin, p.ID, true, ""); err != nil {
		t.Fatalf("accept: %v", err)
	}
	return p.ID
}

// wantCode fails unless err carries code (and, when field is given, names
// it).
func wantCode(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Fatalf("%s: %v (code %q), want %s", what, err, got, code)
	}
	if field == "" {
		return
	}
	var he *homeward.Error
	if !errors.As(err, &he) || he.Fields[field] == "" {
		t.Fatalf("%s: %v does not name %s", what, err, field)
	}
}

// rowOf is organisation org's copy of partnership id.
func rowOf(t *testing.T, s *tenants.Store, org, id uuid.UUID) *partnershipRow {
	t.Helper()
	var row *partnershipRow
	err := s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		row, err = loadPartnership(tx, id, false, false)
		return err
	})
	if err != nil {
		t.Fatalf("copy of %s in %s: %v", id, org, err)
	}
	return row
}

// consistent fails unless both organisations hold the same partnership id
// in state, each as its side.
func consistent(t *testing.T, s *tenants.Store, a, b, id uuid.UUID, state string) {
	t.Helper()
	ra, rb := rowOf(t, s, a, id), rowOf(t, s, b, id)
	if ra.State != state || rb.State != state {
		t.Fatalf("states %s / %s, want %s on both sides", ra.State, rb.State, state)
	}
	if ra.PartnerTenantID != b || rb.PartnerTenantID != a {
		t.Fatalf("partners %s / %s, want each the other", ra.PartnerTenantID, rb.PartnerTenantID)
	}
	same := func(r *partnershipRow) []any {
		return []any{r.Purpose, r.FromTenantID, r.ToTenantID, r.Groups, r.Documents, r.AgreementRef, r.StallDays,
			r.StatisticsBack, r.ProposedByTenant, r.ProposedAt.UnixMicro(), r.ChangedAt.UnixMicro(), r.StateReason, r.Version,
			r.DecidedAt == nil}
	}
	if !slices.Equal(same(ra), same(rb)) {
		t.Fatalf("the two copies differ:\n%v\n%v", same(ra), same(rb))
	}
	for _, r := range []*partnershipRow{ra, rb} {
		if r.ProposedByMember != nil && r.TenantID != r.ProposedByTenant {
			t.Fatalf("the copy of %s names the proposer's member", r.TenantID)
		}
	}
}

func listed(ps []Partnership, id uuid.UUID) bool {
	return slices.ContainsFunc(ps, func(p Partnership) bool { return p.ID == id })
}

// outboxCount counts org's outbox jobs of kind naming id.
func outboxCount(t *testing.T, s *tenants.Store, org uuid.UUID, kind string, id uuid.UUID) int {
	t.Helper()
	var rows []tenants.OutboxMessage
	err := s.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Where("tenant_id = ? AND kind = ?", org, kind).Find(&rows).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if id == uuid.Nil || strings.Contains(r.Payload, id.String()) {
			n++
		}
	}
	return n
}

// auditOf lists org's audit entries of partnership id.
func auditOf(t *testing.T, s *tenants.Store, org, id uuid.UUID) []tenants.AuditRecord {
	t.Helper()
	var page tenants.AuditPage
	err := s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		page, err = tenants.ListAudit(tx, tenants.AuditQuery{RecordType: RecordTypePartnership, RecordID: id, Limit: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

func TestProposeAndAccept(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newPartnershipWorld(t, s)
			ctx := context.Background()
			// The Laos admin gives a contact address: the proposal mails it.
			if _, err := s.SetMemberContact(w.laosAdmin, tenants.MemberContact{Address: "admin@laos.example.org", Language: "lo"}); err != nil {
				t.Fatal(err)
			}

			// Denied: a case manager reads partnerships but proposes none.
			_, err := w.svc.ProposePartnership(w.thManager, w.handoffProposal(t))
			wantCode(t, "a case manager proposes", err, homeward.EFORBIDDEN, "")

			// Bad proposals, each named.
			suspended := tenanttest.NewOrg(t, s)
			if _, err := s.SetTenantStatus(ctx, w.slug(t, suspended), tenants.StatusSuspended); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what  string
				edit  func(*NewPartnership)
				field string
			}{
				{"an unknown organisation", func(n *NewPartnership) { n.Partner = "no-such-organisation" }, "partner"},
				{"itself", func(n *NewPartnership) { n.Partner = w.slug(t, w.th) }, "partner"},
				{"a suspended organisation", func(n *NewPartnership) { n.Partner = w.slug(t, suspended) }, "partner"},
				{"the psychological group", func(n *NewPartnership) { n.Groups = append(n.Groups, tenants.FieldGroupPsychological) }, "groups"},
				{"no group", func(n *NewPartnership) { n.Groups = nil }, "groups"},
				{"statistics with groups", func(n *NewPartnership) { n.Purpose = PurposeStatistics; n.Documents, n.StatisticsBack = false, false }, "groups"},
				{"statistics with documents", func(n *NewPartnership) { n.Purpose, n.Groups, n.StatisticsBack = PurposeStatistics, nil, false }, "documents"},
				{"an unknown purpose", func(n *NewPartnership) { n.Purpose = "gossip" }, "purpose"},
				{"no agreement", func(n *NewPartnership) { n.AgreementRef = "  " }, "agreement_ref"},
				{"91 stall days", func(n *NewPartnership) { n.StallDays = 91 }, "stall_days"},
			} {
				np := w.handoffProposal(t)
				c.edit(&np)
				_, err := w.svc.ProposePartnership(w.thAdmin, np)
				wantCode(t, c.what, err, homeward.EINVALID, c.field)
				if c.field == "groups" && c.what == "the psychological group" && !strings.Contains(err.Error(), "psychological") {
					t.Errorf("the psychological group refused without saying why: %v", err)
				}
			}

			p, err := w.svc.ProposePartnership(w.thAdmin, w.handoffProposal(t))
			if err != nil {
				t.Fatalf("propose: %v", err)
			}
			if p.State != PartnershipProposed || p.From.ID != w.th || p.To.ID != w.laos || p.ProposedBy != w.th ||
				!slices.Equal(p.Groups, []string{"identity", "family", "legal"}) || p.StallDays != 10 || !p.StatisticsBack {
				t.Fatalf("proposal: %+v", p)
			}
			consistent(t, s, w.th, w.laos, p.ID, PartnershipProposed)
			if rowOf(t, s, w.th, p.ID).ProposedByMember == nil {
				t.Error("the proposer's side does not record its member")
			}
			// The other side's admins are told, in-app and by mail; the
			// proposing side is not.
			if n := outboxCount(t, s, w.laos, tenants.KindNotifyCreate, p.ID); n != 1 {
				t.Errorf("Laos notifications of the proposal: %d, want 1 (its admin)", n)
			}
			if n := outboxCount(t, s, w.laos, tenants.KindMailSend, uuid.Nil); n != 1 {
				t.Errorf("Laos mails: %d, want 1", n)
			}
			if n := outboxCount(t, s, w.th, tenants.KindNotifyCreate, p.ID); n != 0 {
				t.Errorf("th notifications of its own proposal: %d, want 0", n)
			}

			// One live partnership per pair, purpose and direction.
			_, err = w.svc.ProposePartnership(w.thAdmin, w.handoffProposal(t))
			wantCode(t, "a second proposal", err, homeward.ECONFLICT, "partner")
			_, err = w.svc.ProposePartnership(w.laosAdmin, NewPartnership{Partner: w.slug(t, w.th), Purpose: PurposeHandoffs,
				Groups: []string{"identity"}, AgreementRef: "DSA", Sending: false})
			wantCode(t, "the same from the other side", err, homeward.ECONFLICT, "partner")

			// Denied: the proposer accepting its own proposal; a case
			// manager of the other side; a third organisation.
			_, err = w.svc.DecidePartnership(w.thAdmin, p.ID, true, "")
			wantCode(t, "the proposer accepts", err, homeward.EFORBIDDEN, "")
			_, err = w.svc.DecidePartnership(w.laosMgr, p.ID, true, "")
			wantCode(t, "Laos's case manager accepts", err, homeward.EFORBIDDEN, "")
			_, err = w.svc.DecidePartnership(w.myAdmin, p.ID, true, "")
			wantCode(t, "Malaysia's admin accepts", err, homeward.ENOTFOUND, "")
			consistent(t, s, w.th, w.laos, p.ID, PartnershipProposed)

			// Malaysia sees nothing of it.
			mine, err := w.svc.Partnerships(w.myAdmin)
			if err != nil || listed(mine, p.ID) {
				t.Fatalf("Malaysia's list: %v, %v", mine, err)
			}
			_, err = w.svc.Partnership(w.myAdmin, p.ID)
			wantCode(t, "Malaysia reads it", err, homeward.ENOTFOUND, "")

			// Allowed: Laos's admin accepts.
			got, err := w.svc.DecidePartnership(w.laosAdmin, p.ID, true, "")
			if err != nil || got.State != PartnershipActive || got.DecidedAt == nil || got.Version != 2 {
				t.Fatalf("accept: %+v, %v", got, err)
			}
			consistent(t, s, w.th, w.laos, p.ID, PartnershipActive)
			if n := outboxCount(t, s, w.th, tenants.KindNotifyCreate, p.ID); n != 1 {
				t.Errorf("th notifications of the acceptance: %d, want 1", n)
			}
			_, err = w.svc.DecidePartnership(w.laosAdmin, p.ID, false, "changed our mind")
			wantCode(t, "declining an active partnership", err, homeward.ECONFLICT, "")

			// Both sides see it; each audits, the other side as the partner
			// organisation, never its member.
			for _, c := range []struct {
				ctx context.Context
				org uuid.UUID
			}{{w.thAdmin, w.th}, {w.laosAdmin, w.laos}, {w.laosMgr, w.laos}} {
				list, err := w.svc.Partnerships(c.ctx)
				if err != nil || !listed(list, p.ID) {
					t.Fatalf("list of %s: %v, %v", c.org, list, err)
				}
			}
			for _, c := range []struct {
				org, partner uuid.UUID
				acts         []string // the actor kinds, oldest first
			}{
				{w.th, w.laos, []string{tenants.ActorMember, tenants.ActorPartner}},
				{w.laos, w.th, []string{tenants.ActorPartner, tenants.ActorMember}},
			} {
				entries := auditOf(t, s, c.org, p.ID)
				if len(entries) != 2 {
					t.Fatalf("audit of %s: %d entries, want 2", c.org, len(entries))
				}
				for i := range entries {
					e := entries[len(entries)-1-i]
					if e.Actor.Kind != c.acts[i] {
						t.Errorf("audit %d of %s: actor %s, want %s", i, c.org, e.Actor.Kind, c.acts[i])
					}
					if e.Actor.Kind == tenants.ActorPartner && (e.Actor.MemberID != nil || e.Organisation == nil || *e.Organisation != c.partner) {
						t.Errorf("audit %d of %s names %+v for the partner", i, c.org, e.Actor)
					}
				}
			}
		})
	}
}

func TestDecline(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newPartnershipWorld(t, s)
			p, err := w.svc.ProposePartnership(w.thAdmin, w.handoffProposal(t))
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.svc.DecidePartnership(w.laosAdmin, p.ID, false, " ")
			wantCode(t, "a decline without a reason", err, homeward.EINVALID, "reason")
			got, err := w.svc.DecidePartnership(w.laosAdmin, p.ID, false, "No agreement signed yet")
			if err != nil || got.State != PartnershipDeclined || got.StateReason != "No agreement signed yet" {
				t.Fatalf("decline: %+v, %v", got, err)
			}
			consistent(t, s, w.th, w.laos, p.ID, PartnershipDeclined)
			_, err = w.svc.ChangePartnership(w.thAdmin, p.ID, PartnershipActive, "")
			wantCode(t, "resuming a declined proposal", err, homeward.ECONFLICT, "")
			// Declined is not live: a new proposal may follow.
			if _, err := w.svc.ProposePartnership(w.thAdmin, w.handoffProposal(t)); err != nil {
				t.Fatalf("a new proposal after a decline: %v", err)
			}
		})
	}
}

// activeAs calls activePartnership in org.
func activeAs(t *testing.T, s *tenants.Store, org, id uuid.UUID, sending bool) error {
	t.Helper()
	return s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		_, err := activePartnership(tx, id, sending)
		return err
	})
}

func TestSuspendResumeEnd(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newPartnershipWorld(t, s)
			id := w.active(t)

			// Allowed while active, in its direction only.
			if err := activeAs(t, s, w.th, id, true); err != nil {
				t.Fatalf("th sends under an active partnership: %v", err)
			}
			if err := activeAs(t, s, w.laos, id, false); err != nil {
				t.Fatalf("Laos receives under an active partnership: %v", err)
			}
			wantCode(t, "th receiving", activeAs(t, s, w.th, id, false), homeward.ECONFLICT, "partnership_id")
			wantCode(t, "Laos sending", activeAs(t, s, w.laos, id, true), homeward.ECONFLICT, "partnership_id")
			wantCode(t, "Malaysia sending", activeAs(t, s, w.my, id, true), homeward.ECONFLICT, "partnership_id")

			_, err := w.svc.ChangePartnership(w.laosAdmin, id, PartnershipSuspended, "")
			wantCode(t, "a suspension without a reason", err, homeward.EINVALID, "reason")
			_, err = w.svc.ChangePartnership(w.laosAdmin, id, "paused", "why")
			wantCode(t, "an unknown state", err, homeward.EINVALID, "state")
			_, err = w.svc.ChangePartnership(w.laosMgr, id, PartnershipSuspended, "audit")
			wantCode(t, "a case manager suspends", err, homeward.EFORBIDDEN, "")
			_, err = w.svc.ChangePartnership(w.myAdmin, id, PartnershipSuspended, "audit")
			wantCode(t, "Malaysia suspends", err, homeward.ENOTFOUND, "")
			consistent(t, s, w.th, w.laos, id, PartnershipActive)

			// Laos (To, the second side) suspends: both copies move.
			got, err := w.svc.ChangePartnership(w.laosAdmin, id, PartnershipSuspended, "Agreement under review")
			if err != nil || got.State != PartnershipSuspended || got.StateReason != "Agreement under review" {
				t.Fatalf("suspend: %+v, %v", got, err)
			}
			consistent(t, s, w.th, w.laos, id, PartnershipSuspended)
			wantCode(t, "sending under a suspended partnership", activeAs(t, s, w.th, id, true), homeward.ECONFLICT, "partnership_id")
			_, err = w.svc.ChangePartnership(w.thAdmin, id, PartnershipSuspended, "again")
			wantCode(t, "suspending twice", err, homeward.ECONFLICT, "")

			// th (From) resumes.
			got, err = w.svc.ChangePartnership(w.thAdmin, id, PartnershipActive, "")
			if err != nil || got.State != PartnershipActive || got.StateReason != "" {
				t.Fatalf("resume: %+v, %v", got, err)
			}
			consistent(t, s, w.th, w.laos, id, PartnershipActive)
			if err := activeAs(t, s, w.th, id, true); err != nil {
				t.Fatalf("sending after the resumption: %v", err)
			}
			_, err = w.svc.ChangePartnership(w.thAdmin, id, PartnershipActive, "")
			wantCode(t, "resuming an active partnership", err, homeward.ECONFLICT, "")

			// Ended is final.
			_, err = w.svc.ChangePartnership(w.thAdmin, id, PartnershipEnded, "")
			wantCode(t, "an end without a reason", err, homeward.EINVALID, "reason")
			if _, err := w.svc.ChangePartnership(w.thAdmin, id, PartnershipEnded, "Programme closed"); err != nil {
				t.Fatalf("end: %v", err)
			}
			consistent(t, s, w.th, w.laos, id, PartnershipEnded)
			for _, to := range []string{PartnershipActive, PartnershipSuspended, PartnershipEnded} {
				_, err = w.svc.ChangePartnership(w.laosAdmin, id, to, "after the end")
				wantCode(t, "moving an ended partnership to "+to, err, homeward.ECONFLICT, "")
			}
			_, err = w.svc.DecidePartnership(w.laosAdmin, id, true, "")
			wantCode(t, "accepting an ended partnership", err, homeward.ECONFLICT, "")
			wantCode(t, "sending under an ended partnership", activeAs(t, s, w.th, id, true), homeward.ECONFLICT, "partnership_id")
			consistent(t, s, w.th, w.laos, id, PartnershipEnded)
			if v := rowOf(t, s, w.th, id).Version; v != 5 {
				t.Errorf("version after propose, accept, suspend, resume, end: %d, want 5", v)
			}
			// Both sides audited every move.
			for _, org := range []uuid.UUID{w.th, w.laos} {
				if n := len(auditOf(t, s, org, id)); n != 5 {
					t.Errorf("audit of %s: %d entries, want 5", org, n)
				}
			}
		})
	}
}

// TestPartnershipVisibility: who sees which partnerships of the
// organisation.
func TestPartnershipVisibility(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newPartnershipWorld(t, s)
	active := w.active(t)
	proposed, err := w.svc.ProposePartnership(w.laosAdmin, NewPartnership{Partner: w.slug(t, w.my), Purpose: PurposeHandoffs,
		Groups: []string{"identity"}, AgreementRef: "DSA-LA-MY"})
	if err != nil {
		t.Fatal(err)
	}
	counsellor, _ := tenanttest.Member(t, s, w.laos, "counsellor-"+w.laos.String()[:8], tenants.RoleCounsellor)
	for _, c := range []struct {
		who              string
		ctx              context.Context
		active, proposed bool
	}{
		{"an admin", w.laosAdmin, true, true},
		{"a case manager", w.laosMgr, true, true},
		{"a social worker (handoffs of her cases)", w.laosSocial, true, false},
	} {
		list, err := w.svc.Partnerships(c.ctx)
		if err != nil || listed(list, active) != c.active || listed(list, proposed.ID) != c.proposed {
			t.Errorf("%s lists %v (%v): want active %v, proposed %v", c.who, list, err, c.active, c.proposed)
		}
		_, err = w.svc.Partnership(c.ctx, proposed.ID)
		if (err == nil) != c.proposed {
			t.Errorf("%s reads the proposal: %v", c.who, err)
		}
	}
	_, err = w.svc.Partnerships(counsellor)
	wantCode(t, "a counsellor lists", err, homeward.EFORBIDDEN, "")
	_, err = w.svc.Organisations(w.laosMgr)
	wantCode(t, "a case manager lists the organisations to propose to", err, homeward.EFORBIDDEN, "")
	orgs, err := w.svc.Organisations(w.laosAdmin)
	if err != nil || slices.ContainsFunc(orgs, func(o Organisation) bool { return o.ID == w.laos }) ||
		!slices.ContainsFunc(orgs, func(o Organisation) bool { return o.ID == w.th }) {
		t.Errorf("organisations Laos may propose to: %v, %v", orgs, err)
	}
}

// statisticsCases are n consented cases of one cell (2024, 9-17, gender,
// sexual exploitation).
func statisticsCases(n int, gender string) []cases.NewCase {
	out := make([]cases.NewCase, n)
	for i := range out {
		out[i] = cases.NewCase{Values: map[string]any{"prs_FirstName": "Vannaphone", "prs_Birthdate": "2009-05-01",
			"prs_Gender": gender, "vic_TypeOfExploitation": []string{"SexualExploitation"},
			"cas_IncomingReferralDate": "2024-03-01"},
			Consents: []cases.NewConsent{{Purpose: cases.PurposeStatistics, GivenBy: cases.GivenByGirl, GivenOn: "2024-03-01",
				Basis: cases.BasisSignedForm}}}
	}
	return out
}

func TestPartnerStatistics(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newPartnershipWorld(t, s)
			ctx := context.Background()
			hq := tenanttest.NewOrg(t, s)
			hqAdmin, _ := tenanttest.Member(t, s, hq, "admin-"+hq.String()[:8], tenants.RoleTenantAdmin)
			hqFinance, _ := tenanttest.Member(t, s, hq, "finance-"+hq.String()[:8], tenants.RoleFinanceOfficer)
			hqSocial, _ := tenanttest.Member(t, s, hq, "social-"+hq.String()[:8], tenants.RoleSocialWorker)
			// Laos: 11 cases in one cell, 3 in another (suppressed).
			if err := cases.SeedCases(ctx, s, w.laos, append(statisticsCases(11, "Feminine"), statisticsCases(3, "Masculine")...)); err != nil {
				t.Fatal(err)
			}
			stats, err := w.svc.ProposePartnership(w.laosAdmin, NewPartnership{Partner: w.slug(t, hq), Purpose: PurposeStatistics,
				Sending: true, AgreementRef: "HQ reporting"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.svc.PartnerStatistics(hqFinance, stats.ID)
			wantCode(t, "statistics of a proposal", err, homeward.ECONFLICT, "")
			if _, err := w.svc.DecidePartnership(hqAdmin, stats.ID, true, ""); err != nil {
				t.Fatal(err)
			}

			// Allowed: HQ's finance officer (statistics.read) reads Laos's.
			out, err := w.svc.PartnerStatistics(hqFinance, stats.ID)
			if err != nil {
				t.Fatalf("HQ reads Laos's statistics: %v", err)
			}
			rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0][0] != "intake_year" || rows[1][2] != "Feminine" || rows[1][5] != "11" {
				t.Fatalf("CSV: %q, want the header and the row of 11 (the row of 3 suppressed)", rows)
			}
			if strings.Contains(string(out), "Masculine") || strings.Contains(string(out), "Vannaphone") {
				t.Fatalf("CSV shows the suppressed row or a name: %s", out)
			}
			// Denied: the sharing side; a role without statistics.read;
			// another organisation.
			_, err = w.svc.PartnerStatistics(w.laosAdmin, stats.ID)
			wantCode(t, "Laos reads its own share", err, homeward.EFORBIDDEN, "")
			_, err = w.svc.PartnerStatistics(hqSocial, stats.ID)
			wantCode(t, "HQ's social worker", err, homeward.EFORBIDDEN, "")
			_, err = w.svc.PartnerStatistics(w.myAdmin, stats.ID)
			wantCode(t, "Malaysia", err, homeward.ENOTFOUND, "")
			// The statistics reader sees the partnership; not others.
			list, err := w.svc.Partnerships(hqFinance)
			if err != nil || !listed(list, stats.ID) {
				t.Errorf("HQ's finance officer's list: %v, %v", list, err)
			}
			// Audited on both sides: the export in Laos's chain as HQ.
			exported := false
			for _, e := range auditOf(t, s, w.laos, stats.ID) {
				if e.Action == "statistics.export" {
					exported = e.Actor.Kind == tenants.ActorPartner && e.Actor.MemberID == nil && e.Organisation != nil && *e.Organisation == hq
				}
			}
			if !exported {
				t.Error("Laos's chain does not record the export as HQ")
			}
			if !slices.ContainsFunc(auditOf(t, s, hq, stats.ID), func(e tenants.AuditRecord) bool { return e.Action == ActionPartnershipStatistics }) {
				t.Error("HQ's chain does not record the read")
			}

			// Only while active.
			if _, err := w.svc.ChangePartnership(w.laosAdmin, stats.ID, PartnershipSuspended, "Review"); err != nil {
				t.Fatal(err)
			}
			_, err = w.svc.PartnerStatistics(hqFinance, stats.ID)
			wantCode(t, "statistics of a suspended partnership", err, homeward.ECONFLICT, "")

			// A handoff partnership with statistics back: the sender (th)
			// receives Laos's; Laos does not read its own through it.
			id := w.active(t)
			out, err = w.svc.PartnerStatistics(w.thAdmin, id)
			if err != nil || !strings.Contains(string(out), ",11\n") {
				t.Fatalf("th reads Laos's statistics back: %s, %v", out, err)
			}
			_, err = w.svc.PartnerStatistics(w.laosAdmin, id)
			wantCode(t, "Laos through the handoff partnership", err, homeward.EFORBIDDEN, "")
		})
	}
}

func TestSeedDemoPartnerships(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			svc := New(s)
			n, err := svc.SeedDemoPartnerships(ctx)
			if err != nil || n != 3 {
				t.Fatalf("first seed: %d, %v; want 3", n, err)
			}
			if n, err := svc.SeedDemoPartnerships(ctx); err != nil || n != 0 {
				t.Fatalf("second seed: %d, %v; want 0", n, err)
			}
			org := func(slug string) uuid.UUID {
				tn, err := s.TenantBySlug(ctx, slug)
				if err != nil {
					t.Fatal(err)
				}
				return tn.ID
			}
			laos, france, th, my := org("afesip-laos"), org("afesip-france"), org("demo-partner-th"), org("demo-partner-my")
			rows := func(tenant uuid.UUID) []partnershipRow {
				var out []partnershipRow
				if err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Find(&out).Error }); err != nil {
					t.Fatal(err)
				}
				return out
			}
			if got := len(rows(laos)); got != 3 {
				t.Fatalf("afesip-laos holds %d partnerships, want 3", got)
			}
			for _, c := range []struct {
				from, to uuid.UUID
				purpose  string
			}{{th, laos, PurposeHandoffs}, {my, laos, PurposeHandoffs}, {laos, france, PurposeStatistics}} {
				rs := rows(c.from)
				i := slices.IndexFunc(rs, func(r partnershipRow) bool { return r.ToTenantID == c.to && r.Purpose == c.purpose })
				if i < 0 {
					t.Fatalf("no %s partnership from %s to %s", c.purpose, c.from, c.to)
				}
				consistent(t, s, c.from, c.to, rs[i].ID, PartnershipActive)
				if c.purpose == PurposeHandoffs {
					r := rs[i]
					if r.Groups != "identity,family,legal" || !r.Documents || r.StallDays != 14 || !r.StatisticsBack {
						t.Errorf("demo handoff partnership: %+v", r)
					}
					if err := activeAs(t, s, c.from, r.ID, true); err != nil {
						t.Errorf("the demo partner sends: %v", err)
					}
				}
			}
			// demo-partner-my holds nothing of th's.
			if got := len(rows(my)); got != 1 {
				t.Errorf("demo-partner-my holds %d partnerships, want its own 1", got)
			}
		})
	}
}

// TestConcurrentMoves: both organisations move one partnership at the same
// moment (PostgreSQL): the steps lock From's copy first whoever acts, so one
// move wins and the other is a conflict, never a deadlock or an internal
// error, and both copies agree.
func TestConcurrentMoves(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	w := newPartnershipWorld(t, s)
	for round := range 5 {
		id := w.active(t)
		errs := make(chan error, 2)
		go func() {
			_, err := w.svc.ChangePartnership(w.laosAdmin, id, PartnershipSuspended, "review")
			errs <- err
		}()
		go func() { _, err := w.svc.ChangePartnership(w.thAdmin, id, PartnershipEnded, "closed"); errs <- err }()
		won := 0
		for range 2 {
			switch err := <-errs; homeward.ErrorCode(err) {
			case "":
				won++
			case homeward.ECONFLICT:
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won == 0 {
			t.Fatalf("round %d: neither move was made", round)
		}
		state := rowOf(t, s, w.th, id).State
		if state != PartnershipEnded && state != PartnershipSuspended {
			t.Fatalf("round %d: %s", round, state)
		}
		consistent(t, s, w.th, w.laos, id, state)
		if state == PartnershipSuspended {
			if _, err := w.svc.ChangePartnership(w.thAdmin, id, PartnershipEnded, "closed"); err != nil {
				t.Fatal(err)
			}
		}
	}
}
