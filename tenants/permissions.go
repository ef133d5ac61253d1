package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

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

// Case-file permissions (docs/permissions.md, "Case files and the
// survivor's path"). Each part of a case (the core and each field group,
// and the consent records) has four rows: read or write, on every case of
// the organisation or only on the member's own (owner or assigned), so an
// organisation can move a role between "all" and "own" in its settings.
// CaseGroupPermission names them; the principal's CaseScope reads them.
const (
	PermCaseCreate       Permission = "case.create"        // intake: a new case with identity and consent
	PermCaseAssign       Permission = "case.assign"        // owner and assigned staff
	PermCaseEraseRequest Permission = "case.erase.request" // ask for a case to be erased
	PermCaseEraseApprove Permission = "case.erase.approve" // approve (a second person)
	PermCaseExport       Permission = "case.export"        // one case as HTCDS 2.0 JSON
	PermStatisticsRead   Permission = "statistics.read"    // anonymised statistics (k ≥ 11)

	PermKitApprove       Permission = "kit.approve"        // approve a starter kit (a second person)
	PermSheltersRead     Permission = "shelters.read"      // shelters: capacity, occupancy, waiting list
	PermSheltersWrite    Permission = "shelters.write"     // add and change shelters
	PermDashboardRead    Permission = "dashboard.read"     // the organisation's dashboard, every case counted
	PermDashboardReadOwn Permission = "dashboard.read_own" // the dashboard of the member's own cases

	// Repatriation handoffs between organisations (tenants/handoffs).
	PermPartnershipsRead       Permission = "partnerships.read"        // the organisation's partnerships
	PermPartnershipsWrite      Permission = "partnerships.write"       // propose, accept, decline, suspend, resume, end
	PermHandoffWrite           Permission = "handoff.write"            // start a handoff, choose its fields, advance the organisation's stages
	PermHandoffWriteOwn        Permission = "handoff.write_own"        // the same, on handoffs of the member's own cases
	PermHandoffOverrideApprove Permission = "handoff.override.approve" // approve sending without the sharing consent (a second person)
	PermHandoffInbox           Permission = "handoff.inbox"            // incoming handoffs: accept, decline
	PermHandoffThread          Permission = "handoff.thread"           // the shared thread: messages and documents
	PermHandoffThreadOwn       Permission = "handoff.thread_own"       // the same, on handoffs of the member's own cases
)

// The parts of a case beside its field groups, each with its own access
// (CaseGroupPermission takes them as it takes the field groups).
const (
	CaseConsent  = "consent"  // the consent records
	CaseSupport  = "support"  // education, vocational training, support plan, life skills and activities
	CaseKit      = "kit"      // the micro-enterprise starter kit (requests; approval is PermKitApprove)
	CaseFollowUp = "followup" // reintegration and the follow-up visits
)

// CaseParts are the parts of a case with their own access: the field groups
// (core first), the consent records, and the survivor's path's parts.
var CaseParts = append(append([]string{}, FieldGroups...), CaseConsent, CaseSupport, CaseKit, CaseFollowUp)

// CaseGroupPermission is the permission to read or write part (a field
// group or CaseConsent) of every case (own false) or of the member's own
// cases (own true): case.<part>.read, .read_own, .write, .write_own.
func CaseGroupPermission(part string, write, own bool) Permission {
	verb := "read"
	if write {
		verb = "write"
	}
	if own {
		verb += "_own"
	}
	return Permission("case." + part + "." + verb)
}

// Scope is how far a case permission reaches.
type Scope int

const (
	ScopeNone Scope = iota // not at all
	ScopeOwn               // cases the member owns or is assigned to
	ScopeAll               // every case of the organisation
)

// CaseScope is how far the principal may read (write false) or write part
// of a case: all, own, or none. A member who may write may read as far.
func (p *Principal) CaseScope(part string, write bool) Scope {
	scope := func(write bool) Scope {
		switch {
		case p.Can(CaseGroupPermission(part, write, false)):
			return ScopeAll
		case p.Can(CaseGroupPermission(part, write, true)):
			return ScopeOwn
		}
		return ScopeNone
	}
	if write {
		return scope(true)
	}
	return max(scope(false), scope(true))
}

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

	PermCaseCreate:       {roles: []Role{RoleCaseManager, RoleSocialWorker, RoleOutreachWorker}},
	PermCaseAssign:       {roles: []Role{RoleCaseManager}},
	PermCaseEraseRequest: {roles: []Role{RoleCaseManager}},
	PermCaseEraseApprove: {roles: []Role{RoleTenantAdmin, RoleCaseManager}},
	PermCaseExport:       {roles: []Role{RoleCaseManager}},
	PermStatisticsRead: {roles: []Role{RoleTenantAdmin, RoleCaseManager, RoleOutreachWorker, RoleFinanceOfficer,
		RoleAuditor, RolePlatformOperator}},
	PermKitApprove: {roles: []Role{RoleCaseManager}},
	PermSheltersRead: {roles: []Role{RoleTenantAdmin, RoleCaseManager, RoleSocialWorker, RoleCounsellor,
		RoleMedicalOfficer}},
	PermSheltersWrite:    {roles: []Role{RoleTenantAdmin, RoleCaseManager}},
	PermDashboardRead:    {roles: []Role{RoleTenantAdmin, RoleCaseManager}},
	PermDashboardReadOwn: {roles: []Role{RoleSocialWorker, RoleCounsellor, RoleMedicalOfficer, RoleLawyer}},

	PermPartnershipsRead:       {roles: []Role{RoleTenantAdmin, RoleCaseManager}, fixed: true},
	PermPartnershipsWrite:      {roles: []Role{RoleTenantAdmin}, fixed: true},
	PermHandoffWrite:           {roles: []Role{RoleCaseManager}, fixed: true},
	PermHandoffWriteOwn:        {roles: []Role{RoleSocialWorker}, fixed: true},
	PermHandoffOverrideApprove: {roles: []Role{RoleCaseManager}},
	PermHandoffInbox:           {roles: []Role{RoleCaseManager}},
	PermHandoffThread:          {roles: []Role{RoleCaseManager}},
	PermHandoffThreadOwn:       {roles: []Role{RoleSocialWorker}},
}

// caseGrants is the case table: per part, who reads and writes every case
// and who only their own. The platform operator never reads case data, and
// no organisation can grant it (adjustments never touch platform_operator).
var caseGrants = []struct {
	part                                 string
	readAll, readOwn, writeAll, writeOwn []Role
}{
	{FieldGroupCore, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor, RoleMedicalOfficer, RoleLawyer},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{FieldGroupIdentity, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor, RoleMedicalOfficer, RoleLawyer},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{FieldGroupFamily, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor, RoleLawyer},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{FieldGroupMedical, nil, []Role{RoleCounsellor, RoleMedicalOfficer}, nil, []Role{RoleMedicalOfficer}},
	{FieldGroupPsychological, nil, []Role{RoleCounsellor}, nil, []Role{RoleCounsellor}},
	{FieldGroupLegal, []Role{RoleCaseManager}, []Role{RoleLawyer}, nil, []Role{RoleLawyer}},
	{CaseConsent, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor, RoleMedicalOfficer, RoleLawyer},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{CaseSupport, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{CaseKit, []Role{RoleCaseManager}, []Role{RoleSocialWorker}, []Role{RoleCaseManager}, []Role{RoleSocialWorker}},
	{CaseFollowUp, []Role{RoleCaseManager}, []Role{RoleSocialWorker, RoleCounsellor},
		[]Role{RoleCaseManager}, []Role{RoleSocialWorker}},
}

func init() {
	for _, g := range caseGrants {
		defaultGrants[CaseGroupPermission(g.part, false, false)] = grant{roles: g.readAll}
		defaultGrants[CaseGroupPermission(g.part, false, true)] = grant{roles: g.readOwn}
		defaultGrants[CaseGroupPermission(g.part, true, false)] = grant{roles: g.writeAll}
		defaultGrants[CaseGroupPermission(g.part, true, true)] = grant{roles: g.writeOwn}
		Permissions = append(Permissions,
			CaseGroupPermission(g.part, false, false), CaseGroupPermission(g.part, false, true),
			CaseGroupPermission(g.part, true, false), CaseGroupPermission(g.part, true, true))
	}
	Permissions = append(Permissions, PermCaseCreate, PermCaseAssign, PermCaseEraseRequest, PermCaseEraseApprove,
		PermCaseExport, PermStatisticsRead, PermKitApprove, PermSheltersRead, PermSheltersWrite, PermDashboardRead,
		PermDashboardReadOwn, PermPartnershipsRead, PermPartnershipsWrite, PermHandoffWrite, PermHandoffWriteOwn,
		PermHandoffOverrideApprove, PermHandoffInbox, PermHandoffThread, PermHandoffThreadOwn)
}

// Can reports whether the principal may do perm: by the default table as
// its organisation adjusted it (default ∪ add − remove; fixed rows as they
// are).
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	roles, ok := rolesFor(perm, p.adjustments)
	if !ok {
		return false
	}
	for _, r := range p.Roles {
		if slices.Contains(roles, r) {
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

// Permissions lists every permission, in the order of defaultGrants.
var Permissions = []Permission{
	PermMembersRead, PermMembersWrite, PermSettingsRead, PermSettingsWrite, PermIDPWrite,
	PermAuditRead, PermOrganisations, PermOperations, PermSignedIn,
}

// PermissionAdjustment is an organisation's change to one row of the
// default table: roles that gain the permission, and roles that lose it.
type PermissionAdjustment struct {
	Add    []Role `json:"add"`
	Remove []Role `json:"remove"`
}

// PermissionAdjustments are an organisation's changes to the default table,
// kept as its "permissions" setting. Fixed rows are never adjusted.
type PermissionAdjustments map[Permission]PermissionAdjustment

// permissionsSetting is the setting that holds the adjustments (JSON).
const permissionsSetting = "permissions"

// rolesFor is the roles holding perm for an organisation with adjustments
// adj: default ∪ add − remove, the default alone for a fixed row. The
// platform operator is never added or removed by an organisation.
func rolesFor(perm Permission, adj PermissionAdjustments) ([]Role, bool) {
	g, ok := defaultGrants[perm]
	if !ok {
		return nil, false
	}
	a, adjusted := adj[perm]
	if g.fixed || !adjusted {
		return g.roles, true
	}
	var out []Role
	for _, r := range Roles {
		had := slices.Contains(g.roles, r)
		if r != RolePlatformOperator {
			had = (had || slices.Contains(a.Add, r)) && !slices.Contains(a.Remove, r)
		}
		if had {
			out = append(out, r)
		}
	}
	return out, true
}

// validate names each wrong row as adjustments.<permission>.
func (adj PermissionAdjustments) validate() error {
	f := homeward.FieldErrors{}
	for perm, a := range adj {
		field := "adjustments." + string(perm)
		g, ok := defaultGrants[perm]
		switch {
		case !ok:
			f.Add(field, fmt.Sprintf("%q is not a permission", perm))
			continue
		case g.fixed:
			f.Add(field, "this row is fixed: organisations may not change it")
			continue
		}
		for _, r := range append(slices.Clone(a.Add), a.Remove...) {
			switch {
			case !ValidRole(r):
				f.Add(field, fmt.Sprintf("%q is not a role (one of %s)", r, orgRoleNames()))
			case r == RolePlatformOperator:
				f.Add(field, "platform_operator's rights are not an organisation's to change")
			}
		}
		for _, r := range a.Add {
			if slices.Contains(a.Remove, r) {
				f.Add(field, fmt.Sprintf("%q is both added and removed", r))
			}
		}
		if perm == PermSettingsWrite && slices.Contains(a.Remove, RoleTenantAdmin) {
			f.Add(field, "tenant_admin keeps settings.write, or nobody could undo this")
		}
	}
	return f.Err()
}

// normalized drops empty rows and orders each row's roles.
func (adj PermissionAdjustments) normalized() PermissionAdjustments {
	out := PermissionAdjustments{}
	for perm, a := range adj {
		if len(a.Add) == 0 && len(a.Remove) == 0 {
			continue
		}
		out[perm] = PermissionAdjustment{Add: sortRoles(a.Add), Remove: sortRoles(a.Remove)}
	}
	return out
}

// adjustmentsOf reads the organisation's adjustments in its transaction.
func adjustmentsOf(tx *gorm.DB) (PermissionAdjustments, error) {
	v, ok, err := SettingValue(tx.Session(&gorm.Session{NewDB: true}), permissionsSetting)
	if err != nil || !ok || v == "" {
		return nil, err
	}
	var adj PermissionAdjustments
	if err := json.Unmarshal([]byte(v), &adj); err != nil {
		return nil, fmt.Errorf("tenants: the permissions setting: %w", err)
	}
	return adj, nil
}

// withAdjustments loads the organisation's adjustments into p, a principal
// for the transaction's organisation: every principal for an organisation
// is built through it, so Can answers by the organisation's table.
func withAdjustments(tx *gorm.DB, p *Principal) (*Principal, error) {
	adj, err := adjustmentsOf(tx)
	if err != nil {
		return nil, err
	}
	p.adjustments = adj
	return p, nil
}

// PermissionRow is one row of an organisation's effective table.
type PermissionRow struct {
	Permission Permission
	Roles      []Role // who holds it in this organisation
	Fixed      bool   // organisations may not change it
	Add        []Role // the organisation's additions to the default
	Remove     []Role // and removals
}

func permissionTable(adj PermissionAdjustments) []PermissionRow {
	rows := make([]PermissionRow, 0, len(Permissions))
	for _, perm := range Permissions {
		roles, _ := rolesFor(perm, adj)
		row := PermissionRow{Permission: perm, Roles: slices.Clone(roles), Fixed: defaultGrants[perm].fixed,
			Add: []Role{}, Remove: []Role{}}
		if a, ok := adj[perm]; ok && !row.Fixed {
			row.Add, row.Remove = sortRoles(a.Add), sortRoles(a.Remove)
		}
		rows = append(rows, row)
	}
	return rows
}

// PermissionTable is the principal's organisation's effective permission
// table (settings.read).
func (s *Store) PermissionTable(ctx context.Context) ([]PermissionRow, error) {
	p, err := orgPrincipal(ctx, PermSettingsRead)
	if err != nil {
		return nil, err
	}
	var out []PermissionRow
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		adj, err := adjustmentsOf(tx)
		out = permissionTable(adj)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetPermissionAdjustments replaces the organisation's adjustments
// (settings.write), audited permissions.change, and returns the effective
// table. Only rows not fixed may change, with organisation roles only.
// Members meet the change with their next request.
func (s *Store) SetPermissionAdjustments(ctx context.Context, adj PermissionAdjustments) ([]PermissionRow, error) {
	p, err := orgPrincipal(ctx, PermSettingsWrite)
	if err != nil {
		return nil, err
	}
	if err := adj.validate(); err != nil {
		return nil, err
	}
	adj = adj.normalized()
	value, err := json.Marshal(adj)
	if err != nil {
		return nil, err
	}
	var out []PermissionRow
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := PutSetting(tx, permissionsSetting, string(value)); err != nil {
			return err
		}
		if err := Audit(tx, AuditEntry{Action: "permissions.change", RecordType: "settings"}); err != nil {
			return err
		}
		out = permissionTable(adj)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
