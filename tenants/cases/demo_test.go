package cases_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestSeedDemo: the demo cases go in once, through the production path,
// so that each demo persona sees cases and the groups of her role.
func TestSeedDemo(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			tenant := newOrg(t, s)
			signIns := 0
			people := map[tenants.Role]context.Context{}
			staff := func(_ context.Context, r tenants.Role) (*tenants.Principal, error) {
				signIns++
				ctx, p := member(t, s, tenant, "demo-"+string(r), r)
				people[r] = ctx
				return p, nil
			}
			svc := cases.New(s)
			seeded, err := svc.SeedDemo(context.Background(), tenant, staff)
			must(t, err)
			if seeded == nil || seeded.Cases != 12 || seeded.TenantID != tenant {
				t.Fatalf("added %+v, want 12 demo cases", seeded)
			}
			first := signIns
			if again, err := svc.SeedDemo(context.Background(), tenant, staff); err != nil || again != nil {
				t.Fatalf("second run: %+v, %v; want nothing added", again, err)
			}
			if signIns != first {
				t.Fatal("the second run signed the staff in again")
			}

			all, err := svc.List(people[tenants.RoleCaseManager], cases.Query{Limit: 50})
			must(t, err)
			if len(all.Cases) != 12 {
				t.Fatalf("the case manager lists %d cases, want 12 (not two dozen)", len(all.Cases))
			}
			stages := map[cases.Stage]int{}
			for _, c := range all.Cases {
				stages[c.Stage]++
				if c.FirstName == "" {
					t.Errorf("case %s without a first name for the case manager", c.Reference)
				}
			}
			// Every stage but reintegrated, which the follow-up's demo
			// reaches (DemoSeeded.Reintegrate: at the shelter stage, with
			// the services consent the reintegration needs, her social
			// worker assigned; as is the starter kit's case).
			for _, st := range cases.Stages {
				if (stages[st] == 0) != (st == cases.StageReintegrated) {
					t.Errorf("demo cases at %s: %v", st, stages)
				}
			}
			social := *tenants.PrincipalFrom(seeded.As(tenants.RoleSocialWorker)).Actor.MemberID
			later := []uuid.UUID{seeded.Kit}
			for _, r := range seeded.Reintegrate {
				later = append(later, r.CaseID)
				if r.Place == "" {
					t.Errorf("demo reintegration %s has no place", r.CaseID)
				}
			}
			if len(later) != 3 || slices.Contains(later, uuid.Nil) {
				t.Fatalf("the cases carried further: %v, want the kit's and two to reintegrate", later)
			}
			for _, id := range later {
				c, err := svc.Get(seeded.As(tenants.RoleSocialWorker), id)
				must(t, err)
				if c.Stage != cases.StageShelter || !slices.Contains(c.Assigned, social) {
					t.Errorf("demo case %s carried further: at %s, assigned %v", c.Reference, c.Stage, c.Assigned)
				}
			}

			// Each persona sees some cases, not all, and her own group.
			groupOf := map[tenants.Role]string{tenants.RoleMedicalOfficer: "medical_notes",
				tenants.RoleCounsellor: "psychological_notes", tenants.RoleLawyer: "legal_notes"}
			for _, r := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleLawyer} {
				page, err := svc.List(people[r], cases.Query{Limit: 50})
				must(t, err)
				if len(page.Cases) == 0 || len(page.Cases) == 12 {
					t.Errorf("the %s sees %d of the 12 demo cases, want some", r, len(page.Cases))
					continue
				}
				field, ok := groupOf[r]
				if !ok {
					continue
				}
				written := 0
				for _, sum := range page.Cases {
					c, err := svc.Get(people[r], sum.ID)
					must(t, err)
					if c.Values[field] != nil {
						written++
					}
				}
				if written == 0 {
					t.Errorf("the %s sees no %s on her cases", r, field)
				}
			}

			// The closed case says why.
			for _, sum := range all.Cases {
				if sum.Stage != cases.StageClosed {
					continue
				}
				c, err := svc.Get(people[tenants.RoleCaseManager], sum.ID)
				must(t, err)
				if c.ClosedAt == nil || c.Values["cas_ReasonForCaseClosure"] == nil {
					t.Errorf("closed demo case %s: closed at %v, reason %v", c.Reference, c.ClosedAt, c.Values["cas_ReasonForCaseClosure"])
				}
			}
		})
	}
}
