package tenants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CONTRACT (issue 4): the types and functions below are the agreed shape of
// identities, memberships and identity providers. Keep the signatures.

// Identity is a person as an identity provider knows them: (issuer,
// subject), never an e-mail address. Global: one identity may be a member of
// several organisations.
type Identity struct {
	ID        uuid.UUID
	Issuer    string
	Subject   string
	CreatedAt time.Time
}

// Membership ties an identity to an organisation. Its roles are those its
// provider groups map to at the last sign-in, plus the tenant admin's
// overrides, minus the removed ones.
type Membership struct {
	ID           uuid.UUID
	TenantID     uuid.UUID
	IdentityID   uuid.UUID
	MappedRoles  []Role
	AddedRoles   []Role
	RemovedRoles []Role
	Disabled     bool
	Locale       string
	LastLoginAt  *time.Time
	CreatedAt    time.Time
}

// Roles is what the membership may do now: the mapped roles plus the added
// ones, less the removed ones, in the order of Roles.
func (m *Membership) Roles() []Role {
	return effectiveRoles(m.MappedRoles, m.AddedRoles, m.RemovedRoles)
}

// IdentityProvider is an organisation's OpenID provider (tenant-owned; the
// client secret is encrypted with the keyring).
type IdentityProvider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	GroupsClaim  string
	GroupRoles   map[string][]Role // provider group -> roles; no match, no access
	EmailDomains []string          // to find the organisation from an e-mail at /login
}

// IdentityProviderOf returns the transaction tenant's identity provider
// (not_found when none is configured).
func IdentityProviderOf(tx *gorm.DB) (*IdentityProvider, error) {
	row, err := identityProviderRowOf(tx, true)
	if err != nil {
		return nil, err
	}
	return row.provider()
}

// SignIn records a successful sign-in at the organisation: it creates the
// identity and membership when new, maps groups to roles (forbidden when no
// group maps to a role, or the member is disabled, or the organisation is
// suspended), audits the login, and returns the principal.
//
// issuer must be the organisation's own provider's (forbidden otherwise).
// A refused sign-in is audited here too (auth.login_failed with the reason
// no_role, disabled, suspended or wrong_issuer): callers audit only the
// failures they find before calling SignIn (AuditLoginFailed).
func (s *Store) SignIn(ctx context.Context, tenantID uuid.UUID, issuer, subject string, groups []string) (*Principal, *Membership, error) {
	var (
		p *Principal
		m *Membership
		r *admission
	)
	err := s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		var err error
		p, m, r, err = admit(tx, tenantID, issuer, subject, groups, true)
		return err
	})
	if r != nil && r.reason != "" {
		// The sign-in's transaction rolled back: record the refusal apart.
		actor := Actor{Kind: ActorMember, Issuer: issuer, Subject: subject, MemberID: r.memberID}
		if aerr := s.auditLoginFailed(WithActor(ctx, actor), tenantID, r.reason); aerr != nil {
			return nil, nil, errors.Join(err, aerr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return p, m, nil
}

// PrincipalOf returns the membership's principal as of now: unauthenticated
// when the membership is disabled, has no role left, or its organisation is
// suspended. Every request calls it, so changes take effect at once.
func (s *Store) PrincipalOf(ctx context.Context, membershipID uuid.UUID) (*Principal, error) {
	var p *Principal
	err := s.globalThenTenant(ctx,
		func(tx *gorm.DB) (uuid.UUID, error) {
			var m membershipRow
			err := tx.Where("id = ?", membershipID).Take(&m).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return uuid.Nil, errSignInAgain
			}
			return m.TenantID, err
		},
		func(tx *gorm.DB, tenantID uuid.UUID) error {
			t, err := activeTenant(tx, tenantID)
			if err != nil {
				return err
			}
			var m membershipRow
			if err := tx.Where("id = ? AND tenant_id = ?", membershipID, tenantID).Take(&m).Error; err != nil {
				return err
			}
			var id identityRow
			if err := tx.Where("id = ?", m.IdentityID).Take(&id).Error; err != nil {
				return err
			}
			mem := m.membership()
			if m.Disabled {
				return homeward.Errorf(homeward.EUNAUTHENTICATED, "your membership of this organisation is disabled")
			}
			roles := mem.Roles()
			if len(roles) == 0 {
				return homeward.Errorf(homeward.EUNAUTHENTICATED, "you have no role left in this organisation")
			}
			p, err = memberPrincipal(tx, t, &id, mem, roles)
			return err
		})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Reasons for auth.login_failed (stored as the audit row's purpose code).
// The login flow may use its own codes too (state_mismatch, token_invalid,
// ...): lowercase letters, digits and underscores.
const (
	LoginFailedNoRole      = "no_role"
	LoginFailedDisabled    = "disabled"
	LoginFailedSuspended   = "suspended"
	LoginFailedWrongIssuer = "wrong_issuer"
)

// AnonymousActor records what someone not yet identified attempted (a
// failed sign-in before the provider vouched for anyone).
var AnonymousActor = Actor{Kind: ActorSystem, Issuer: "homeward", Subject: "anonymous"}

// AuditLoginFailed records a failed sign-in at the organisation
// (auth.login_failed) with a reason code such as "state_mismatch", and no
// personal data. The actor is the context's (WithActor) when the identity is
// known, else AnonymousActor. SignIn audits its own refusals; the login flow
// calls this for the failures it finds itself.
func (s *Store) AuditLoginFailed(ctx context.Context, tenantID uuid.UUID, reason string) error {
	if _, ok := ctx.Value(actorKey{}).(Actor); !ok {
		ctx = WithActor(ctx, AnonymousActor)
	}
	return s.auditLoginFailed(ctx, tenantID, reason)
}

func (s *Store) auditLoginFailed(ctx context.Context, tenantID uuid.UUID, reason string) error {
	if !codePattern.MatchString(reason) || len(reason) > 64 {
		return fmt.Errorf("tenants: login failure reason %q: a code like state_mismatch", reason)
	}
	return s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		return Audit(tx, AuditEntry{Action: "auth.login_failed", RecordType: "tenant", RecordID: tenantID, Purpose: reason})
	})
}

// OrganisationChoice is one organisation an identity may act in, for the
// organisation switcher.
type OrganisationChoice struct {
	MembershipID uuid.UUID
	TenantID     uuid.UUID
	Slug         string
	Name         string
	Roles        []Role
}

// OrganisationsOf lists the organisations the identity (issuer, subject) is
// an enabled member of, with a role, in active organisations; by name.
// Switching organisations is signing in to another one of these.
func (s *Store) OrganisationsOf(ctx context.Context, issuer, subject string) ([]OrganisationChoice, error) {
	var rows []memberRow
	err := s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT m.*, i.issuer, i.subject, t.slug, t.name FROM memberships m
JOIN identities i ON i.id = m.identity_id JOIN tenants t ON t.id = m.tenant_id
WHERE i.issuer = ? AND i.subject = ? AND NOT m.disabled AND t.status = ?
ORDER BY t.name, t.slug`, issuer, subject, StatusActive).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := []OrganisationChoice{}
	for _, r := range rows {
		roles := r.membershipRow().membership().Roles()
		if len(roles) == 0 {
			continue
		}
		out = append(out, OrganisationChoice{MembershipID: r.ID, TenantID: r.TenantID, Slug: r.Slug, Name: r.Name, Roles: roles})
	}
	return out, nil
}

// identityRow is a row of identities (global).
type identityRow struct {
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Issuer    string
	Subject   string
	CreatedAt time.Time
}

func (identityRow) TableName() string { return "identities" }

// membershipRow is a row of memberships (global: every query names the
// organisation itself).
type membershipRow struct {
	ID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	TenantID     uuid.UUID `gorm:"type:uuid"`
	IdentityID   uuid.UUID `gorm:"type:uuid"`
	MappedRoles  string
	AddedRoles   string
	RemovedRoles string
	Disabled     bool
	Locale       string
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (membershipRow) TableName() string { return "memberships" }

func (r *membershipRow) membership() *Membership {
	m := &Membership{
		ID: r.ID, TenantID: r.TenantID, IdentityID: r.IdentityID,
		MappedRoles: parseRoles(r.MappedRoles), AddedRoles: parseRoles(r.AddedRoles), RemovedRoles: parseRoles(r.RemovedRoles),
		Disabled: r.Disabled, Locale: r.Locale, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.LastLoginAt != nil {
		t := r.LastLoginAt.UTC()
		m.LastLoginAt = &t
	}
	return m
}

// errSignInAgain: the credential names nobody (any more).
var errSignInAgain = homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in again")

// admission is why admit refused, for the audit of a refused sign-in.
type admission struct {
	reason   string
	memberID *uuid.UUID
}

// admit lets the identity (issuer, subject) into the transaction's
// organisation with the roles its groups map to: at sign-in (login: the
// mapping and last_login_at are written and the login audited, refusals are
// forbidden) and for a bearer JWT (the membership is written only when new or
// when its mapping changed; a disabled membership or a suspended organisation
// is unauthenticated, like a session that ended).
//
// The provider stays the authority on who belongs to the organisation: no
// group mapping to a role refuses the identity whatever the tenant admin's
// overrides, which only adjust the roles of those the provider admits.
func admit(tx *gorm.DB, tenantID uuid.UUID, issuer, subject string, groups []string, login bool) (*Principal, *Membership, *admission, error) {
	refuse := func(reason string, member *uuid.UUID, code, msg string) (*Principal, *Membership, *admission, error) {
		if !login && code == homeward.EFORBIDDEN && reason != LoginFailedNoRole {
			code = homeward.EUNAUTHENTICATED
		}
		return nil, nil, &admission{reason: reason, memberID: member}, homeward.Errorf(code, "%s", msg)
	}
	if issuer == "" || subject == "" || len(issuer) > 500 || len(subject) > 500 {
		return nil, nil, nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "the identity provider named nobody")
	}
	var t Tenant
	if err := tx.Where("id = ?", tenantID).Take(&t).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, nil, homeward.Errorf(homeward.ENOTFOUND, "no such organisation")
		}
		return nil, nil, nil, err
	}
	if t.Status != StatusActive {
		return refuse(LoginFailedSuspended, nil, homeward.EFORBIDDEN, "this organisation is suspended")
	}
	row, err := identityProviderRowOf(tx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	idp, err := row.provider()
	if err != nil {
		return nil, nil, nil, err
	}
	if idp.Issuer != issuer {
		return refuse(LoginFailedWrongIssuer, nil, homeward.EFORBIDDEN, "this is not the organisation's identity provider")
	}
	mapped := idp.RolesFor(groups)

	now := time.Now().UTC()
	id, err := ensureIdentity(tx, issuer, subject, now)
	if err != nil {
		return nil, nil, nil, err
	}
	var m membershipRow
	err = tx.Where("tenant_id = ? AND identity_id = ?", tenantID, id.ID).Take(&m).Error
	found := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, nil, err
	}
	var memberID *uuid.UUID
	if found {
		memberID = &m.ID
		if m.Disabled {
			return refuse(LoginFailedDisabled, memberID, homeward.EFORBIDDEN, "your membership of this organisation is disabled")
		}
	}
	if len(mapped) == 0 {
		return refuse(LoginFailedNoRole, memberID, homeward.EFORBIDDEN, "no role for your groups")
	}
	mappedText := joinRoles(mapped)
	switch {
	case !found:
		m = membershipRow{ID: newID(), TenantID: tenantID, IdentityID: id.ID, MappedRoles: mappedText, CreatedAt: now, UpdatedAt: now}
		if login {
			m.LastLoginAt = &now
		}
		// Two first sign-ins at once: the second finds the first's row.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m)
		if res.Error != nil {
			return nil, nil, nil, res.Error
		}
		if res.RowsAffected == 0 {
			if err := tx.Where("tenant_id = ? AND identity_id = ?", tenantID, id.ID).Take(&m).Error; err != nil {
				return nil, nil, nil, err
			}
		}
	case login || m.MappedRoles != mappedText:
		updates := map[string]any{"mapped_roles": mappedText, "updated_at": now}
		if login {
			updates["last_login_at"] = now
		}
		if err := tx.Model(&membershipRow{}).Where("id = ?", m.ID).Updates(updates).Error; err != nil {
			return nil, nil, nil, err
		}
		m.MappedRoles, m.UpdatedAt = mappedText, now
		if login {
			m.LastLoginAt = &now
		}
	}
	memberID = &m.ID
	mem := m.membership()
	roles := mem.Roles()
	if len(roles) == 0 {
		return refuse(LoginFailedNoRole, memberID, homeward.EFORBIDDEN, "no role for your groups")
	}
	actor := Actor{Kind: ActorMember, Issuer: issuer, Subject: subject, MemberID: memberID}
	if login {
		atx := tx.WithContext(WithActor(tx.Statement.Context, actor))
		if err := Audit(atx, AuditEntry{Action: "auth.login", RecordType: "membership", RecordID: m.ID}); err != nil {
			return nil, nil, nil, err
		}
	}
	p, err := memberPrincipal(tx, &t, id, mem, roles)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, mem, nil, nil
}

// ensureIdentity finds or creates the identity (issuer, subject).
func ensureIdentity(tx *gorm.DB, issuer, subject string, now time.Time) (*identityRow, error) {
	id := identityRow{ID: newID(), Issuer: issuer, Subject: subject, CreatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&id).Error; err != nil {
		return nil, err
	}
	var got identityRow
	if err := tx.Where("issuer = ? AND subject = ?", issuer, subject).Take(&got).Error; err != nil {
		return nil, err
	}
	return &got, nil
}

// activeTenant reads the organisation; a suspended one is unauthenticated:
// whatever credential named it stops working at once.
func activeTenant(tx *gorm.DB, tenantID uuid.UUID) (*Tenant, error) {
	var t Tenant
	err := tx.Where("id = ?", tenantID).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errSignInAgain
	}
	if err != nil {
		return nil, err
	}
	if t.Status != StatusActive {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "this organisation is suspended")
	}
	return &t, nil
}

// memberPrincipal is a member's principal in organisation t.
func memberPrincipal(tx *gorm.DB, t *Tenant, id *identityRow, m *Membership, roles []Role) (*Principal, error) {
	locale, err := localeOf(tx, m.Locale)
	if err != nil {
		return nil, err
	}
	mid := m.ID
	return withAdjustments(tx, &Principal{
		Actor:    Actor{Kind: ActorMember, Issuer: id.Issuer, Subject: id.Subject, MemberID: &mid},
		TenantID: t.ID, TenantSlug: t.Slug, TenantName: t.Name,
		Roles: roles, Locale: locale, LocaleChosen: slices.Contains(Locales, m.Locale),
	})
}

// Locales are the languages Homeward speaks (web/emails.Languages).
var Locales = []string{"lo", "th", "ms", "en", "fr"}

// localeOf is the member's own language, else the organisation's default
// language setting, else English.
func localeOf(tx *gorm.DB, own string) (string, error) {
	if slices.Contains(Locales, own) {
		return own, nil
	}
	v, ok, err := SettingValue(tx.Session(&gorm.Session{NewDB: true}), "default_language")
	if err != nil {
		return "", err
	}
	if ok && slices.Contains(Locales, v) {
		return v, nil
	}
	return "en", nil
}

// globalThenTenant runs one transaction that first reads global rows with
// find, which names the organisation, then switches to that organisation
// (like InTenant) for fn. A credential (session, API token) is looked up
// before its organisation is known, then checked and used inside it.
func (s *Store) globalThenTenant(ctx context.Context, find func(tx *gorm.DB) (uuid.UUID, error), fn func(tx *gorm.DB, tenantID uuid.UUID) error) error {
	gctx := context.WithValue(ctx, txTenantKey{}, txTenant{})
	return s.db.WithContext(gctx).Transaction(func(tx *gorm.DB) error {
		tenantID, err := find(tx)
		if err != nil {
			return err
		}
		if tenantID == uuid.Nil {
			return fn(tx, uuid.Nil)
		}
		ttx, err := s.enterTenant(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		return fn(ttx, tenantID)
	})
}

// parseRoles reads a stored role list ("a,b"); unknown names are dropped.
func parseRoles(s string) []Role {
	if s == "" {
		return nil
	}
	var out []Role
	for _, r := range strings.Split(s, ",") {
		if ValidRole(Role(r)) {
			out = append(out, Role(r))
		}
	}
	return sortRoles(out)
}

// joinRoles writes a role list as stored: in the order of Roles, once each.
func joinRoles(rs []Role) string {
	rs = sortRoles(rs)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}

// sortRoles orders roles as Roles does, without duplicates.
func sortRoles(rs []Role) []Role {
	out := make([]Role, 0, len(rs))
	for _, r := range Roles {
		if slices.Contains(rs, r) {
			out = append(out, r)
		}
	}
	return out
}

func effectiveRoles(mapped, added, removed []Role) []Role {
	var out []Role
	for _, r := range Roles {
		if (slices.Contains(mapped, r) || slices.Contains(added, r)) && !slices.Contains(removed, r) {
			out = append(out, r)
		}
	}
	return out
}

// OperatorPrincipal is a platform operator at the command line (homeward
// tenants set-idp, homeward tokens create): someone who holds the database
// and the master key already. who names them in the audit log (the login
// name, or "operator").
func OperatorPrincipal(who string) *Principal {
	if who == "" || len(who) > 100 {
		who = "operator"
	}
	return &Principal{
		Actor: Actor{Kind: ActorOperator, Issuer: "homeward-cli", Subject: who},
		Roles: []Role{RolePlatformOperator}, Locale: "en",
	}
}
