package tenants_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMembersWith lists the enabled members who may do a thing by the
// organisation's own table: an added role counts, a disabled member and
// another organisation's member do not (allowed control: the case
// manager, who holds handoff.inbox by default).
func TestMembersWith(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	org, other := tenanttest.NewOrg(t, s), tenanttest.NewOrg(t, s)
	admin, _ := tenanttest.Member(t, s, org, "admin", tenants.RoleTenantAdmin)
	_, manager := tenanttest.Member(t, s, org, "manager", tenants.RoleCaseManager)
	_, social := tenanttest.Member(t, s, org, "social", tenants.RoleSocialWorker)
	_, counsellor := tenanttest.Member(t, s, org, "counsellor", tenants.RoleCounsellor)
	_, gone := tenanttest.Member(t, s, org, "gone", tenants.RoleCaseManager)
	_, elsewhere := tenanttest.Member(t, s, other, "manager", tenants.RoleCaseManager)
	with := func() []uuid.UUID {
		var ids []uuid.UUID
		must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
			ids, err = tenants.MembersWith(tx, tenants.PermHandoffInbox)
			return err
		}))
		return ids
	}
	has := func(ids []uuid.UUID, p *tenants.Principal) bool { return slices.Contains(ids, *p.Actor.MemberID) }

	ids := with()
	if !has(ids, manager) || !has(ids, gone) || has(ids, social) || has(ids, counsellor) || has(ids, elsewhere) {
		t.Fatalf("before: %v", ids)
	}
	_, err := s.SetPermissionAdjustments(admin, tenants.PermissionAdjustments{
		tenants.PermHandoffInbox: {Add: []tenants.Role{tenants.RoleSocialWorker}}})
	must(t, err)
	_, err = s.SetMemberDisabled(admin, *gone.Actor.MemberID, true)
	must(t, err)
	ids = with()
	if !has(ids, manager) || !has(ids, social) || has(ids, gone) || has(ids, counsellor) || has(ids, elsewhere) {
		t.Fatalf("after: %v", ids)
	}
}
