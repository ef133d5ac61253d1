package cases_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestStaffToAssign: a case manager (case.assign) lists the enabled
// members of its own organisation with their subjects and roles, by
// subject: no disabled member, none of another organisation; anyone who
// does not assign is refused.
func TestStaffToAssign(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := newStaff(t, s), newStaff(t, s)
			_, gone := member(t, s, a.org, "gone", tenants.RoleLawyer)
			if _, err := s.SetMemberDisabled(a.admin, *gone.Actor.MemberID, true); err != nil {
				t.Fatal(err)
			}
			svc := cases.New(s)
			staff, err := svc.Staff(a.manager)
			must(t, err)
			var subjects []string
			var ids []uuid.UUID
			for _, m := range staff {
				subjects, ids = append(subjects, m.Subject), append(ids, m.ID)
				if len(m.Roles) == 0 {
					t.Errorf("%s listed without a role", m.Subject)
				}
			}
			want := []string{"admin", "auditor", "counsellor", "lawyer", "manager", "medical", "outreach", "social"}
			if !slices.Equal(subjects, want) {
				t.Errorf("staff %v, want %v", subjects, want)
			}
			for _, other := range []*tenants.Principal{b.managerP, b.socialP, gone} {
				if slices.Contains(ids, *other.Actor.MemberID) {
					t.Errorf("listed %s of another organisation, or disabled", other.Actor.Subject)
				}
			}
			if i := slices.Index(subjects, "social"); i < 0 || !slices.Equal(staff[i].Roles, []tenants.Role{tenants.RoleSocialWorker}) {
				t.Errorf("the social worker's roles: %+v", staff)
			}

			for who, ctx := range map[string]context.Context{"social worker": a.social, "tenant admin": a.admin,
				"auditor": a.auditor, "platform operator": tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test"))} {
				_, err := svc.Staff(ctx)
				wantCode(t, who, err, homeward.EFORBIDDEN)
			}
			_, err = svc.Staff(context.Background())
			wantCode(t, "nobody", err, homeward.EUNAUTHENTICATED)
		})
	}
}
