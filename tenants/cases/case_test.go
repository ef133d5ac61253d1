package cases_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// intake is a small valid case: a first name, a birth date and a gender.
func intake(first, birth string) cases.NewCase {
	return cases.NewCase{Values: map[string]any{"prs_FirstName": first, "prs_Birthdate": birth, "prs_Gender": "Feminine"}}
}

// staff is one organisation with a member of each case role.
type staff struct {
	org                                      uuid.UUID
	manager, social, counsellor, medical     context.Context
	lawyer, outreach, admin, auditor         context.Context
	socialP, counsellorP, medicalP, managerP *tenants.Principal
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: newOrg(t, s)}
	st.manager, st.managerP = member(t, s, st.org, "manager", tenants.RoleCaseManager)
	st.social, st.socialP = member(t, s, st.org, "social", tenants.RoleSocialWorker)
	st.counsellor, st.counsellorP = member(t, s, st.org, "counsellor", tenants.RoleCounsellor)
	st.medical, st.medicalP = member(t, s, st.org, "medical", tenants.RoleMedicalOfficer)
	st.lawyer, _ = member(t, s, st.org, "lawyer", tenants.RoleLawyer)
	st.outreach, _ = member(t, s, st.org, "outreach", tenants.RoleOutreachWorker)
	st.admin, _ = member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	st.auditor, _ = member(t, s, st.org, "auditor", tenants.RoleAuditor)
	return st
}

func TestCaseVisibleOnlyInItsOrganisation(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			orgA, orgB := newOrg(t, s), newOrg(t, s)
			managerA, _ := member(t, s, orgA, "cm-a", tenants.RoleCaseManager)
			managerB, _ := member(t, s, orgB, "cm-b", tenants.RoleCaseManager)
			c, err := svc.Create(managerA, intake("Noy", "2008-03-01"))
			must(t, err)
			if c.Reference != "C-00001" || c.Stage != cases.StageIntake || c.Version != 1 {
				t.Fatalf("created %+v", c)
			}
			got, err := svc.Get(managerA, c.ID)
			must(t, err)
			if got.Values["prs_FirstName"] != "Noy" || got.Values["prs_Birthdate"] != "2008-03-01" {
				t.Errorf("A's case manager reads %v", got.Values)
			}
			_, err = svc.Get(managerB, c.ID)
			wantCode(t, "B's case manager", err, homeward.ENOTFOUND)
			_, err = svc.Get(managerA, uuid.New())
			wantCode(t, "an unknown case", err, homeward.ENOTFOUND)
		})
	}
}

func TestFieldGroupsFollowTheRoles(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			nc := intake("Kham", "2009-05-06")
			nc.Values["family_home_village"] = "Ban Nong"
			c, err := svc.Create(st.social, nc) // the social worker owns it
			must(t, err)
			if c.OwnerID == nil || *c.OwnerID != *st.socialP.Actor.MemberID {
				t.Fatalf("owner = %v, want the social worker", c.OwnerID)
			}
			_, err = svc.Update(st.manager, c.ID, cases.Patch{Values: map[string]any{"medical_notes": "x"}})
			wantCode(t, "the case manager writing medical notes", err, homeward.EFORBIDDEN)
			_, err = svc.Assign(st.manager, c.ID, c.OwnerID, []uuid.UUID{*st.medicalP.Actor.MemberID, *st.counsellorP.Actor.MemberID})
			must(t, err)
			_, err = svc.Update(st.medical, c.ID, cases.Patch{Values: map[string]any{"medical_notes": "HIV test negative"}})
			must(t, err)
			_, err = svc.Update(st.counsellor, c.ID, cases.Patch{Values: map[string]any{"psychological_notes": "sleeps badly"}})
			must(t, err)

			get := func(ctx context.Context) *cases.Case {
				t.Helper()
				got, err := svc.Get(ctx, c.ID)
				must(t, err)
				return got
			}
			social, medical, counsellor, manager := get(st.social), get(st.medical), get(st.counsellor), get(st.manager)
			if _, ok := social.Values["medical_notes"]; ok || canSee(social, "medical") {
				t.Errorf("the social worker (owner) sees the medical group: %v", social.Access)
			}
			if medical.Values["medical_notes"] != "HIV test negative" || medical.Access["medical"] != cases.AccessWrite {
				t.Errorf("the assigned medical officer: %v, %v", medical.Values, medical.Access)
			}
			if counsellor.Values["psychological_notes"] != "sleeps badly" || counsellor.Access["medical"] != cases.AccessRead {
				t.Errorf("the counsellor: %v, %v", counsellor.Values, counsellor.Access)
			}
			for who, got := range map[string]*cases.Case{"social worker": social, "medical officer": medical, "case manager": manager} {
				if _, ok := got.Values["psychological_notes"]; ok || canSee(got, "psychological") {
					t.Errorf("the %s sees the psychological group", who)
				}
			}
			if social.Values["family_home_village"] != "Ban Nong" || medical.Values["family_home_village"] != nil {
				t.Errorf("family: social worker %v, medical officer %v", social.Values["family_home_village"], medical.Values["family_home_village"])
			}

			// Another social worker's case is not hers; the case manager sees every case.
			other, err := svc.Create(st.manager, intake("Dao", "2010-01-02"))
			must(t, err)
			_, err = svc.Get(st.social, other.ID)
			wantCode(t, "a social worker reading a case not hers", err, homeward.ENOTFOUND)
			_, err = svc.Get(st.manager, other.ID)
			must(t, err)
			_, err = svc.Get(st.lawyer, c.ID)
			wantCode(t, "a lawyer not assigned", err, homeward.ENOTFOUND)
		})
	}
}

func canSee(c *cases.Case, part string) bool { _, ok := c.Access[part]; return ok }

func TestOutreachWorkerCreatesThenLosesSight(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := cases.New(s)
	st := newStaff(t, s)
	nc := intake("Phet", "2008-08-08")
	nc.Consents = []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl, GivenOn: "2024-01-02", Basis: cases.BasisSignedForm}}
	c, err := svc.Create(st.outreach, nc)
	must(t, err)
	if c.OwnerID != nil || len(c.Access) != 0 || len(c.Values) != 0 || c.Reference == "" {
		t.Errorf("the outreach worker got back %+v", c)
	}
	_, err = svc.Get(st.outreach, c.ID)
	wantCode(t, "the outreach worker reading it", err, homeward.ENOTFOUND)
	got, err := svc.Get(st.manager, c.ID)
	must(t, err)
	if got.Values["prs_FirstName"] != "Phet" || len(got.Consent) != 1 {
		t.Errorf("the case manager reads %v, consent %v", got.Values, got.Consent)
	}
	nc.Values["medical_notes"] = "no"
	_, err = svc.Create(st.outreach, nc)
	wantCode(t, "the outreach worker writing medical notes at intake", err, homeward.EFORBIDDEN)
	_, err = svc.Create(st.medical, intake("Phet", "2008-08-08"))
	wantCode(t, "a medical officer creating a case", err, homeward.EFORBIDDEN)
}

func TestRefusedWritesNameTheFieldAndChangeNothing(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			c, err := svc.Create(st.manager, intake("Noy", "2008-03-01"))
			must(t, err)
			long := make([]byte, 101)
			for i := range long {
				long[i] = 'a'
			}
			for field, value := range map[string]any{
				"prs_Gender":            "Robot",
				"prs_Birthdate":         "2999-01-01",
				"prs_FirstName":         string(long),
				"tenant_id":             uuid.New().String(),
				"cas_Status":            "Closed",
				"prs_Nickname":          "x",
				"vic_AgeWhenTrafficked": 500,
			} {
				_, err := svc.Update(st.manager, c.ID, cases.Patch{Values: map[string]any{field: value}})
				var he *homeward.Error
				if !asError(err, &he) || he.Code != homeward.EINVALID || he.Fields[field] == "" {
					t.Errorf("writing %s: err = %v, want invalid naming it", field, err)
				}
				nc := intake("Noy", "2008-03-01")
				nc.Values[field] = value
				_, err = svc.Create(st.manager, nc)
				if !asError(err, &he) || he.Code != homeward.EINVALID || he.Fields[field] == "" {
					t.Errorf("creating with %s: err = %v, want invalid naming it", field, err)
				}
			}
			got, err := svc.Get(st.manager, c.ID)
			must(t, err)
			if got.Version != 1 || got.Values["prs_FirstName"] != "Noy" || got.Values["prs_Gender"] != "Feminine" || len(got.Values) != 3 {
				t.Errorf("after refused writes: version %d, values %v", got.Version, got.Values)
			}
			// The allowed control, and a patch changing nothing bumps nothing.
			up, err := svc.Update(st.manager, c.ID, cases.Patch{Values: map[string]any{"prs_Gender": "Feminine"}, Version: 1})
			must(t, err)
			if up.Version != 1 {
				t.Errorf("a patch changing nothing: version %d", up.Version)
			}
			up, err = svc.Update(st.manager, c.ID, cases.Patch{Values: map[string]any{"prs_SecondName": "Phommachanh"}, Version: 1})
			must(t, err)
			if up.Version != 2 || up.Values["prs_SecondName"] != "Phommachanh" {
				t.Errorf("an update: version %d, values %v", up.Version, up.Values)
			}
			_, err = svc.Update(st.manager, c.ID, cases.Patch{Values: map[string]any{"prs_SecondName": "X"}, Version: 1})
			wantCode(t, "a stale version", err, homeward.ECONFLICT)

			// A field of a group she may not write is forbidden, named.
			_, err = svc.Assign(st.manager, c.ID, st.socialP.Actor.MemberID, nil)
			must(t, err)
			_, err = svc.Update(st.social, c.ID, cases.Patch{Values: map[string]any{"legal_notes": "x", "family_notes": "y"}})
			var he *homeward.Error
			if !asError(err, &he) || he.Code != homeward.EFORBIDDEN || he.Fields["legal_notes"] == "" || he.Fields["family_notes"] != "" {
				t.Errorf("the social worker writing legal notes: %v", err)
			}
			_, err = svc.Update(st.social, c.ID, cases.Patch{Values: map[string]any{"family_notes": "y"}})
			must(t, err)
		})
	}
}

func TestStageMoves(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := cases.New(s)
	st := newStaff(t, s)
	c, err := svc.Create(st.manager, intake("Noy", "2008-03-01"))
	must(t, err)
	to := func(stage cases.Stage, values map[string]any) (*cases.Case, error) {
		return svc.Update(st.manager, c.ID, cases.Patch{Stage: &stage, Values: values})
	}
	_, err = to(cases.StageReintegrated, nil)
	wantCode(t, "intake to reintegrated", err, homeward.EINVALID)
	_, err = to(cases.StageClosed, nil)
	wantCode(t, "closing without a reason", err, homeward.EINVALID)
	_, err = to(cases.StageShelter, nil)
	wantCode(t, "admission by an update", err, homeward.EINVALID)
	// admission moves it (tenants/shelters); an update then closes it
	must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
		return cases.MoveStage(tx, c.ID, cases.StageShelter, "", time.Now())
	}))
	_, err = to(cases.StageReintegrated, nil)
	wantCode(t, "reintegration by an update", err, homeward.EINVALID)
	got, err := to(cases.StageClosed, map[string]any{"cas_ReasonForCaseClosure": "Left the programme"})
	must(t, err)
	if got.Status() != cases.StatusClosed || got.ClosedAt == nil {
		t.Errorf("closed: %s, closed %v", got.Status(), got.ClosedAt)
	}
	_, err = to(cases.StageShelter, nil)
	wantCode(t, "reopening a closed case", err, homeward.EINVALID)
	_, err = svc.Create(st.manager, cases.NewCase{Values: map[string]any{"prs_FirstName": "A"}, Stage: cases.StageShelter})
	wantCode(t, "creating past intake", err, homeward.EINVALID)
}

func TestConcurrentCreatesTakeDistinctNumbers(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := cases.New(s)
	org := newOrg(t, s)
	ctx, _ := member(t, s, org, "manager", tenants.RoleCaseManager)
	const n = 8
	numbers := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := svc.Create(ctx, intake("Noy", "2008-03-01"))
			if err != nil {
				t.Error(err)
				return
			}
			numbers[i] = c.Number
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, n := range numbers {
		if n < 1 || n > 8 || seen[n] {
			t.Fatalf("numbers %v: want 1 to 8, each once", numbers)
		}
		seen[n] = true
	}
}
