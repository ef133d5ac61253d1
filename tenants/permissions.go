package tenants

import (
	"slices"

	"github.com/afesip/homeward"
)

// Permission names something a role may do. The default grants are the
// table of docs/permissions.md; features add their rows as they arrive.
// The domain layer asks Authorize; handlers only translate its answer.
type Permission string

// Administration permissions (docs/permissions.md, "Handoffs, prevention,
// donations, administration").
const (
	PermMembersRead   Permission = "members.read"   // members, role overrides, API tokens
	PermMembersWrite  Permission = "members.write"  //
	PermSettingsRead  Permission = "settings.read"  // organisation settings, identity provider
	PermSettingsWrite Permission = "settings.write" //
	PermIDPWrite      Permission = "idp.write"      // the identity provider alone (the operator's share of settings)
	PermAuditRead     Permission = "audit.read"     // the audit log
	PermOrganisations Permission = "organisations"  // add, suspend, export, delete organisations
	PermOperations    Permission = "operations"     // queue monitor, metrics
	PermSignedIn      Permission = "signed_in"      // anything every signed-in member may do (their profile, notifications)
)

// grant is one row of the default table: the roles holding the permission,
// and whether organisations may change it (fixed rows may not).
type grant struct {
	roles []Role
	fixed bool
}

// defaultGrants is the default permission table. Keep it in the order and
// words of docs/permissions.md.
var defaultGrants = map[Permission]grant{
	PermMembersRead:   {roles: []Role{RoleTenantAdmin, RoleAuditor}},
	PermMembersWrite:  {roles: []Role{RoleTenantAdmin}},
	PermSettingsRead:  {roles: []Role{RoleTenantAdmin, RoleAuditor}},
	PermSettingsWrite: {roles: []Role{RoleTenantAdmin}},
	PermIDPWrite:      {roles: []Role{RoleTenantAdmin, RolePlatformOperator}},
	PermAuditRead:     {roles: []Role{RoleTenantAdmin, RoleAuditor}, fixed: true},
	PermOrganisations: {roles: []Role{RolePlatformOperator}, fixed: true},
	PermOperations:    {roles: []Role{RolePlatformOperator}, fixed: true},
	PermSignedIn:      {roles: Roles, fixed: true},
}

// Can reports whether the principal may do perm (by the default table).
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	g, ok := defaultGrants[perm]
	if !ok {
		return false
	}
	for _, r := range p.Roles {
		if slices.Contains(g.roles, r) {
			return true
		}
	}
	return false
}

// Authorize returns nil when the principal may do perm: unauthenticated
// without a principal, forbidden without the right.
func Authorize(p *Principal, perm Permission) error {
	switch {
	case p == nil:
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	case !p.Can(perm):
		return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow this")
	}
	return nil
}
