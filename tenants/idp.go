package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Each organisation signs its people in with its own OpenID provider,
// stored here (identity_providers, tenant-owned, the client secret
// encrypted). Its groups claim decides the roles: a group maps to one or
// more roles, and an identity none of whose groups maps to a role is
// refused.

// identityProviderRow is a row of identity_providers: one per organisation.
type identityProviderRow struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	Issuer       string
	ClientID     string
	ClientSecret Secret
	Scopes       string // space-separated, as OAuth writes them
	GroupsClaim  string
	GroupRoles   string // JSON object: group -> [role, ...]
	EmailDomains string // comma-separated
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (identityProviderRow) TableName() string { return "identity_providers" }

// identityProviderRowOf reads the transaction tenant's provider; the client
// secret only when withSecret (decrypting it costs a data-key unwrap, which
// a bearer request does not need).
func identityProviderRowOf(tx *gorm.DB, withSecret bool) (*identityProviderRow, error) {
	var row identityProviderRow
	db := tx.Session(&gorm.Session{NewDB: true})
	if !withSecret {
		db = db.Omit("client_secret")
	}
	err := db.Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no identity provider is configured for this organisation")
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

func (r *identityProviderRow) provider() (*IdentityProvider, error) {
	p := &IdentityProvider{
		Issuer: r.Issuer, ClientID: r.ClientID, ClientSecret: r.ClientSecret.Text(),
		Scopes: strings.Fields(r.Scopes), GroupsClaim: r.GroupsClaim, EmailDomains: splitList(r.EmailDomains),
	}
	if err := json.Unmarshal([]byte(r.GroupRoles), &p.GroupRoles); err != nil {
		return nil, fmt.Errorf("tenants: identity provider group_roles: %w", err)
	}
	return p, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// RolesFor maps the identity's provider groups to roles (in the order of
// Roles): the union of the roles of every group it is in. None means no
// access. The platform operator role is never mapped from an organisation's
// provider.
func (p *IdentityProvider) RolesFor(groups []string) []Role {
	var out []Role
	for _, g := range groups {
		for _, r := range p.GroupRoles[g] {
			if r != RolePlatformOperator && ValidRole(r) {
				out = append(out, r)
			}
		}
	}
	return sortRoles(out)
}

// GroupsFrom reads the provider's groups claim from an ID token's (or a
// JWT's) claims: a list of strings or a single string; anything else is no
// group.
func (p *IdentityProvider) GroupsFrom(claims map[string]any) []string {
	switch v := claims[p.GroupsClaim].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, g := range v {
			if s, ok := g.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// IdentityProviderSettings is the identity provider as the settings page and
// API show it: everything but the client secret, of which only whether it is
// set.
type IdentityProviderSettings struct {
	Issuer          string
	ClientID        string
	ClientSecretSet bool
	Scopes          []string
	GroupsClaim     string
	GroupRoles      map[string][]Role
	EmailDomains    []string
	UpdatedAt       time.Time
}

func (r *identityProviderRow) settings() (*IdentityProviderSettings, error) {
	p, err := r.provider()
	if err != nil {
		return nil, err
	}
	return &IdentityProviderSettings{
		Issuer: p.Issuer, ClientID: p.ClientID, ClientSecretSet: p.ClientSecret != "",
		Scopes: p.Scopes, GroupsClaim: p.GroupsClaim, GroupRoles: p.GroupRoles, EmailDomains: p.EmailDomains,
		UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// IdentityProviderChange is a new identity-provider configuration.
type IdentityProviderChange struct {
	Issuer   string
	ClientID string
	// ClientSecret nil keeps the stored secret; "" removes it (a public
	// client, PKCE only).
	ClientSecret *string
	Scopes       []string // openid is added when missing; none means [openid]
	GroupsClaim  string
	GroupRoles   map[string][]Role
	EmailDomains []string
	// AllowPlainHTTP accepts an http:// issuer on any host (demo mode);
	// otherwise http:// is accepted only on a loopback address.
	AllowPlainHTTP bool
}

var (
	groupsClaimPattern = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,100}$`)
	scopePattern       = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,100}$`) // RFC 6749 scope-token
	domainPattern      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// validate normalises the change and names every bad field (API names).
func (ch *IdentityProviderChange) validate() error {
	f := homeward.FieldErrors{}
	ch.Issuer = strings.TrimSpace(ch.Issuer)
	if reason := issuerProblem(ch.Issuer, ch.AllowPlainHTTP); reason != "" {
		f.Add("issuer", reason)
	}
	ch.ClientID = strings.TrimSpace(ch.ClientID)
	if ch.ClientID == "" || len(ch.ClientID) > 500 || !printable(ch.ClientID) {
		f.Add("client_id", "required: the client id registered at the provider (at most 500 printable characters)")
	}
	if ch.ClientSecret != nil && (len(*ch.ClientSecret) > 2000 || !printable(*ch.ClientSecret) && *ch.ClientSecret != "") {
		f.Add("client_secret", "at most 2000 printable characters")
	}
	scopes := []string{"openid"}
	for _, sc := range ch.Scopes {
		sc = strings.TrimSpace(sc)
		if !scopePattern.MatchString(sc) {
			f.Add("scopes", "each scope is a word of printable characters without spaces, quotes or backslashes")
			continue
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) > 20 {
		f.Add("scopes", "at most 20 scopes")
	}
	ch.Scopes = scopes
	ch.GroupsClaim = strings.TrimSpace(ch.GroupsClaim)
	if !groupsClaimPattern.MatchString(ch.GroupsClaim) {
		f.Add("groups_claim", "required: the claim carrying the groups, such as groups (letters, digits, _ . : / -)")
	}
	switch {
	case len(ch.GroupRoles) == 0:
		f.Add("group_roles", "map at least one provider group to a role: without a match nobody may sign in")
	case len(ch.GroupRoles) > 500:
		f.Add("group_roles", "at most 500 groups")
	}
	groups := make([]string, 0, len(ch.GroupRoles))
	for g := range ch.GroupRoles {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	groupRoles := make(map[string][]Role, len(groups))
	for _, g := range groups {
		roles := ch.GroupRoles[g]
		if g == "" || utf8.RuneCountInString(g) > 200 || !printable(g) {
			f.Add("group_roles", "each group name is 1 to 200 printable characters")
			continue
		}
		if len(roles) == 0 {
			f.Add("group_roles", fmt.Sprintf("group %q: give it at least one role", g))
		}
		for _, r := range roles {
			if !ValidRole(r) || r == RolePlatformOperator {
				f.Add("group_roles", fmt.Sprintf("group %q: %q is not an organisation role (one of %s)", g, r, orgRoleNames()))
			}
		}
		groupRoles[g] = sortRoles(roles)
	}
	ch.GroupRoles = groupRoles
	domains := []string{}
	for _, d := range ch.EmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !domainPattern.MatchString(d) || len(d) > 253 {
			f.Add("email_domains", "each is a domain name such as afesip.org")
			continue
		}
		if !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	if len(domains) > 50 {
		f.Add("email_domains", "at most 50 domains")
	}
	ch.EmailDomains = domains
	return f.Err()
}

// issuerProblem says why issuer is not an acceptable issuer URL, or "".
func issuerProblem(issuer string, allowHTTP bool) string {
	const want = "an https:// URL (http:// only on a loopback address, or in demo mode), without query or fragment"
	u, err := url.Parse(issuer)
	if err != nil || issuer == "" || len(issuer) > 500 || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return want
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if allowHTTP || isLoopback(u.Hostname()) {
			return ""
		}
	}
	return want
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

func orgRoleNames() string {
	var names []string
	for _, r := range Roles {
		if r != RolePlatformOperator {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

// IdentityProviderSettings returns the principal's organisation's identity
// provider without its secret (settings.read; not_found when none).
func (s *Store) IdentityProviderSettings(ctx context.Context) (*IdentityProviderSettings, error) {
	p := PrincipalFrom(ctx)
	if err := Authorize(p, PermSettingsRead); err != nil {
		return nil, err
	}
	if p.TenantID == uuid.Nil {
		return nil, errNoOrganisation
	}
	var out *IdentityProviderSettings
	err := s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, err := identityProviderRowOf(tx, true)
		if err != nil {
			return err
		}
		out, err = row.settings()
		return err
	})
	return out, err
}

// errNoOrganisation: a platform operator acts for no organisation.
var errNoOrganisation = homeward.Errorf(homeward.EFORBIDDEN, "a platform operator acts for no organisation here")

// PutIdentityProvider sets the identity provider of organisation tenantID
// (idp.write): a tenant admin for their own organisation (the settings page,
// the API), a platform operator for any (homeward tenants set-idp). It
// validates the change, refuses a provider client another organisation
// already uses (conflict: a token for that client could not tell the two
// apart), and audits idp.change.
func (s *Store) PutIdentityProvider(ctx context.Context, tenantID uuid.UUID, ch IdentityProviderChange) (*IdentityProviderSettings, error) {
	p := PrincipalFrom(ctx)
	if err := Authorize(p, PermIDPWrite); err != nil {
		return nil, err
	}
	switch {
	case tenantID == uuid.Nil:
		return nil, errNoOrganisation
	case p.TenantID != uuid.Nil && p.TenantID != tenantID:
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "you may change your own organisation's identity provider only")
	}
	if err := ch.validate(); err != nil {
		return nil, err
	}
	routes, err := s.IdentityProviderRoutes(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range routes {
		if r.TenantID != tenantID && r.Issuer == ch.Issuer && r.ClientID == ch.ClientID {
			return nil, &homeward.Error{Code: homeward.ECONFLICT, Message: "another organisation uses this client of this provider: register a client of your own",
				Fields: map[string]string{"client_id": "in use by another organisation"}}
		}
	}
	groupRoles, err := json.Marshal(ch.GroupRoles)
	if err != nil {
		return nil, err
	}
	var out *IdentityProviderSettings
	err = s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		now := time.Now().UTC()
		row, err := identityProviderRowOf(tx, true)
		creating := homeward.ErrorCode(err) == homeward.ENOTFOUND
		switch {
		case creating:
			row = &identityProviderRow{ID: newID(), CreatedAt: now}
		case err != nil:
			return err
		}
		row.Issuer, row.ClientID, row.GroupsClaim = ch.Issuer, ch.ClientID, ch.GroupsClaim
		row.Scopes, row.GroupRoles = strings.Join(ch.Scopes, " "), string(groupRoles)
		row.EmailDomains, row.UpdatedAt = strings.Join(ch.EmailDomains, ","), now
		if ch.ClientSecret != nil {
			row.ClientSecret = NewSecret(*ch.ClientSecret)
		} else {
			row.ClientSecret = NewSecret(row.ClientSecret.Text())
		}
		db := tx.Session(&gorm.Session{NewDB: true})
		if creating {
			err = db.Create(row).Error
		} else {
			err = db.Save(row).Error
		}
		if err != nil {
			return err
		}
		if err := Audit(tx, AuditEntry{Action: "idp.change", RecordType: "identity_provider", RecordID: row.ID}); err != nil {
			return err
		}
		out, err = row.settings()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProviderRoute says which organisation a provider's client belongs to: how
// a bearer JWT (by its issuer and audience) and an e-mail domain at /login
// find their organisation.
type ProviderRoute struct {
	TenantID     uuid.UUID
	Slug         string
	Issuer       string
	ClientID     string
	EmailDomains []string
}

// IdentityProviderRoutes lists the identity providers of every active
// organisation, without secrets or group mappings. It reads each
// organisation's own row in one transaction through AcrossTenants (each
// step sees only its organisation): cross-organisation work on purpose,
// since a bearer token names its provider before anyone knows the
// organisation. Callers cache the answer (api/auth.go does, briefly).
func (s *Store) IdentityProviderRoutes(ctx context.Context) ([]ProviderRoute, error) {
	var ts []Tenant
	if err := s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Where("status = ?", StatusActive).Order("slug").Find(&ts).Error
	}); err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, nil
	}
	var out []ProviderRoute
	steps := make([]TenantStep, len(ts))
	for i, t := range ts {
		steps[i] = TenantStep{Tenant: t.ID, Fn: func(tx *gorm.DB) error {
			var rows []identityProviderRow
			err := tx.Session(&gorm.Session{NewDB: true}).Select("tenant_id", "id", "issuer", "client_id", "email_domains").Find(&rows).Error
			for _, r := range rows {
				out = append(out, ProviderRoute{TenantID: t.ID, Slug: t.Slug, Issuer: r.Issuer, ClientID: r.ClientID, EmailDomains: splitList(r.EmailDomains)})
			}
			return err
		}}
	}
	if err := s.AcrossTenants(ctx, steps...); err != nil {
		return nil, err
	}
	return out, nil
}

// BearerPrincipal is the principal of a verified bearer JWT from the
// organisation's own provider: the identity's membership (created when new)
// with the roles its groups map to now plus the tenant admin's overrides.
// Unauthenticated when the organisation is suspended, the membership
// disabled, or the issuer is not the organisation's; forbidden when no group
// maps to a role. No login is audited: a program sends a JWT with every
// request.
func (s *Store) BearerPrincipal(ctx context.Context, tenantID uuid.UUID, issuer, subject string, claims map[string]any) (*Principal, error) {
	var p *Principal
	err := s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		row, err := identityProviderRowOf(tx, false)
		if err != nil {
			return homeward.Errorf(homeward.EUNAUTHENTICATED, "this organisation has no identity provider")
		}
		idp, err := row.provider()
		if err != nil {
			return err
		}
		p, _, _, err = admit(tx, tenantID, issuer, subject, idp.GroupsFrom(claims), false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
