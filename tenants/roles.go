package tenants

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Role is what a member may do in an organisation; a member may hold several
// and the union applies. The identifiers are the same in the API, the CLI
// and identity-provider group mappings.
type Role string

// The roles of ../docs (permissions): who may do what is the table in
// permissions.go.
const (
	RoleTenantAdmin      Role = "tenant_admin"
	RoleCaseManager      Role = "case_manager"
	RoleSocialWorker     Role = "social_worker"
	RoleCounsellor       Role = "counsellor"
	RoleMedicalOfficer   Role = "medical_officer"
	RoleLawyer           Role = "lawyer"
	RoleOutreachWorker   Role = "outreach_worker"
	RoleVillageVolunteer Role = "village_volunteer"
	RoleFinanceOfficer   Role = "finance_officer"
	RoleAuditor          Role = "auditor"
	RolePlatformOperator Role = "platform_operator"
)

// Roles lists every role, in the order of the permission table.
var Roles = []Role{
	RoleTenantAdmin, RoleCaseManager, RoleSocialWorker, RoleCounsellor, RoleMedicalOfficer, RoleLawyer,
	RoleOutreachWorker, RoleVillageVolunteer, RoleFinanceOfficer, RoleAuditor, RolePlatformOperator,
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Principal is who a request acts as, once signed in (a session cookie) or
// authenticated (a bearer JWT or API token): the identity, the organisation
// it acts in, and its roles there as of this very request (a disabled
// member, a removed role or a suspended organisation take effect at once).
type Principal struct {
	Actor      Actor
	TenantID   uuid.UUID
	TenantSlug string
	TenantName string
	Roles      []Role
	Locale     string // lo, th, ms, en or fr
	// LocaleChosen: Locale is the member's own choice (SetMemberLocale),
	// not the organisation's default standing in for it. The pages let a
	// device's or browser's language come before the default, never before
	// the member's choice.
	LocaleChosen bool
	// ViaToken is set for API tokens: they never approve (two-person rules).
	ViaToken bool
	// SessionID is set for browser sessions (empty for bearer credentials).
	SessionID string
	// CSRFToken is the session's token, to be echoed by every state-changing
	// cookie-authenticated request (forms and the X-CSRF-Token header).
	CSRFToken string
	// adjustments are the organisation's changes to the default permission
	// table, loaded with the principal (withAdjustments); Can applies them.
	adjustments PermissionAdjustments
}

// Has reports whether the principal holds role.
func (p *Principal) Has(role Role) bool { return p != nil && slices.Contains(p.Roles, role) }

type principalKey struct{}

// WithPrincipal records the authenticated principal for the request; it also
// records its actor and organisation (WithActor, WithTenant).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	if p != nil {
		ctx = WithActor(ctx, p.Actor)
		if p.TenantID != uuid.Nil {
			ctx = WithTenant(ctx, p.TenantID)
		}
	}
	return ctx
}

// PrincipalFrom returns the request's principal, nil when anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
