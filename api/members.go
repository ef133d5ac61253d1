package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The signed-in principal, and the administration of an organisation's
// members, API tokens and identity provider (routes.go: /api/v1/me,
// /api/v1/members, /api/v1/tokens, /api/v1/settings/identity-provider).
// Handlers decode and respond; the domain (tenants/members.go, tokens.go,
// idp.go) authorizes every call from the principal in the context.

type administration struct {
	store *tenants.Store
	auth  *authenticator
	demo  bool // an http:// issuer is accepted on any host
}

var errNoStore = homeward.Errorf(homeward.EUNAVAILABLE, "this server has no database for accounts")

func (a *administration) ready() error {
	if a.store == nil {
		return errNoStore
	}
	return nil
}

// meBody is GET /api/v1/me.
type meBody struct {
	Tenant *meTenant      `json:"tenant"`
	Roles  []tenants.Role `json:"roles"`
	Locale string         `json:"locale"`
}

type meTenant struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// me answers who the request acts as: the organisation (null for a platform
// operator), the roles there, and the language.
func me(c *fiber.Ctx) error {
	p := principalOf(c)
	if p == nil {
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	}
	body := meBody{Roles: roleList(p.Roles), Locale: p.Locale}
	if p.TenantID != uuid.Nil {
		body.Tenant = &meTenant{Slug: p.TenantSlug, Name: p.TenantName}
	}
	return c.JSON(body)
}

func roleList(rs []tenants.Role) []tenants.Role {
	if rs == nil {
		return []tenants.Role{}
	}
	return rs
}

// pathID is the route's :id; one that is no UUID names nothing (not_found,
// once the domain has checked the caller may look at all).
func pathID(c *fiber.Ctx) uuid.UUID {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil
	}
	return id
}

// listQuery reads limit (a whole number; the domain checks its range) and
// cursor.
func listQuery(c *fiber.Ctx) (int, string, error) {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, "", homeward.Invalid(map[string]string{"limit": "a whole number from 1 to 200"})
		}
		if n == 0 {
			n = -1 // 0 is out of range, not "the default"
		}
		limit = n
	}
	return limit, c.Query("cursor"), nil
}

type memberBody struct {
	ID           uuid.UUID      `json:"id"`
	Issuer       string         `json:"issuer"`
	Subject      string         `json:"subject"`
	Roles        []tenants.Role `json:"roles"`
	MappedRoles  []tenants.Role `json:"mapped_roles"`
	AddedRoles   []tenants.Role `json:"added_roles"`
	RemovedRoles []tenants.Role `json:"removed_roles"`
	Disabled     bool           `json:"disabled"`
	Locale       *string        `json:"locale"`
	LastLoginAt  *time.Time     `json:"last_login_at"`
	CreatedAt    time.Time      `json:"created_at"`
}

func memberJSON(m *tenants.Member) memberBody {
	b := memberBody{
		ID: m.ID, Issuer: m.Issuer, Subject: m.Subject, Roles: roleList(m.Roles),
		MappedRoles: roleList(m.MappedRoles), AddedRoles: roleList(m.AddedRoles), RemovedRoles: roleList(m.RemovedRoles),
		Disabled: m.Disabled, LastLoginAt: m.LastLoginAt, CreatedAt: m.CreatedAt,
	}
	if m.Locale != "" {
		b.Locale = &m.Locale
	}
	return b
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func nextCursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

func (a *administration) listMembers(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := a.store.Members(c.UserContext(), tenants.MemberQuery{Limit: limit, Cursor: cursor, SubjectPrefix: c.Query("subject")})
	if err != nil {
		return err
	}
	out := page[memberBody]{Items: make([]memberBody, 0, len(res.Members)), NextCursor: nextCursor(res.Next)}
	for i := range res.Members {
		out.Items = append(out.Items, memberJSON(&res.Members[i]))
	}
	return c.JSON(out)
}

func (a *administration) setMemberDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := a.ready(); err != nil {
			return err
		}
		m, err := a.store.SetMemberDisabled(c.UserContext(), pathID(c), disabled)
		if err != nil {
			return err
		}
		return c.JSON(memberJSON(m))
	}
}

type memberRolesBody struct {
	Add    []tenants.Role `json:"add"`
	Remove []tenants.Role `json:"remove"`
}

func (a *administration) setMemberRoles(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	var body memberRolesBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	m, err := a.store.SetMemberRoles(c.UserContext(), pathID(c), body.Add, body.Remove)
	if err != nil {
		return err
	}
	return c.JSON(memberJSON(m))
}

type tokenBody struct {
	ID         uuid.UUID      `json:"id"`
	Name       string         `json:"name"`
	Roles      []tenants.Role `json:"roles"`
	Prefix     string         `json:"prefix"`
	Status     string         `json:"status"`
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  time.Time      `json:"expires_at"`
	RevokedAt  *time.Time     `json:"revoked_at"`
	LastUsedAt *time.Time     `json:"last_used_at"`
}

type createdTokenBody struct {
	tokenBody
	Token string `json:"token"`
}

func tokenJSON(t *tenants.APIToken) tokenBody {
	return tokenBody{
		ID: t.ID, Name: t.Name, Roles: roleList(t.Roles), Prefix: t.Prefix, Status: t.Status(time.Now()),
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: t.LastUsedAt,
	}
}

func (a *administration) listTokens(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := a.store.APITokens(c.UserContext(), tenants.APITokenQuery{Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	out := page[tokenBody]{Items: make([]tokenBody, 0, len(res.Tokens)), NextCursor: nextCursor(res.Next)}
	for i := range res.Tokens {
		out.Items = append(out.Items, tokenJSON(&res.Tokens[i]))
	}
	return c.JSON(out)
}

type newTokenBody struct {
	Name      string         `json:"name"`
	Roles     []tenants.Role `json:"roles"`
	ExpiresAt string         `json:"expires_at"`
}

func (a *administration) createToken(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	var body newTokenBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	n := tenants.NewAPIToken{Name: body.Name, Roles: body.Roles}
	if body.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, body.ExpiresAt)
		if err != nil {
			return homeward.Invalid(map[string]string{"expires_at": "a time in RFC 3339, such as 2030-01-31T00:00:00Z"})
		}
		n.ExpiresAt = t
	}
	created, err := a.store.CreateAPIToken(c.UserContext(), n)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createdTokenBody{tokenBody: tokenJSON(&created.APIToken), Token: created.Token})
}

func (a *administration) revokeToken(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	if _, err := a.store.RevokeAPIToken(c.UserContext(), pathID(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type idpBody struct {
	Issuer          string                    `json:"issuer"`
	ClientID        string                    `json:"client_id"`
	ClientSecretSet bool                      `json:"client_secret_set"`
	Scopes          []string                  `json:"scopes"`
	GroupsClaim     string                    `json:"groups_claim"`
	GroupRoles      map[string][]tenants.Role `json:"group_roles"`
	EmailDomains    []string                  `json:"email_domains"`
	UpdatedAt       time.Time                 `json:"updated_at"`
}

func idpJSON(s *tenants.IdentityProviderSettings) idpBody {
	b := idpBody{
		Issuer: s.Issuer, ClientID: s.ClientID, ClientSecretSet: s.ClientSecretSet, Scopes: s.Scopes,
		GroupsClaim: s.GroupsClaim, GroupRoles: s.GroupRoles, EmailDomains: s.EmailDomains, UpdatedAt: s.UpdatedAt,
	}
	if b.Scopes == nil {
		b.Scopes = []string{}
	}
	if b.EmailDomains == nil {
		b.EmailDomains = []string{}
	}
	if b.GroupRoles == nil {
		b.GroupRoles = map[string][]tenants.Role{}
	}
	return b
}

// idpChangeBody is PUT /api/v1/settings/identity-provider: the whole
// configuration; client_secret absent (or null) keeps the stored one, ""
// removes it.
type idpChangeBody struct {
	Issuer       string                    `json:"issuer"`
	ClientID     string                    `json:"client_id"`
	ClientSecret *string                   `json:"client_secret"`
	Scopes       []string                  `json:"scopes"`
	GroupsClaim  string                    `json:"groups_claim"`
	GroupRoles   map[string][]tenants.Role `json:"group_roles"`
	EmailDomains []string                  `json:"email_domains"`
}

func (a *administration) getIdentityProvider(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	s, err := a.store.IdentityProviderSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(idpJSON(s))
}

func (a *administration) putIdentityProvider(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	var body idpChangeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	// The principal's own organisation; the domain refuses anyone else.
	tenantID := uuid.Nil
	if p := principalOf(c); p != nil {
		tenantID = p.TenantID
	}
	s, err := a.store.PutIdentityProvider(c.UserContext(), tenantID, tenants.IdentityProviderChange{
		Issuer: body.Issuer, ClientID: body.ClientID, ClientSecret: body.ClientSecret, Scopes: body.Scopes,
		GroupsClaim: body.GroupsClaim, GroupRoles: body.GroupRoles, EmailDomains: body.EmailDomains,
		AllowPlainHTTP: a.demo,
	})
	if err != nil {
		return err
	}
	a.auth.jwt.forget()
	return c.JSON(idpJSON(s))
}

// providersChangedAfter runs the rest of the route (the identity-provider
// settings page's form), then drops the cached provider routes, so that a
// bearer JWT meets the change at once, as after the API's PUT.
func (a *authenticator) providersChangedAfter(c *fiber.Ctx) error {
	defer a.jwt.forget()
	return c.Next()
}

// permissionsBody is GET and PUT /api/v1/settings/permissions: the
// organisation's effective table, one row per permission.
type permissionsBody struct {
	Permissions []permissionRowBody `json:"permissions"`
}

type permissionRowBody struct {
	Permission tenants.Permission `json:"permission"`
	Roles      []tenants.Role     `json:"roles"`
	Fixed      bool               `json:"fixed"`
	Add        []tenants.Role     `json:"add"`
	Remove     []tenants.Role     `json:"remove"`
}

type permissionsChangeBody struct {
	Adjustments tenants.PermissionAdjustments `json:"adjustments"`
}

func permissionsJSON(rows []tenants.PermissionRow) permissionsBody {
	b := permissionsBody{Permissions: make([]permissionRowBody, 0, len(rows))}
	for _, r := range rows {
		b.Permissions = append(b.Permissions, permissionRowBody{
			Permission: r.Permission, Roles: roleList(r.Roles), Fixed: r.Fixed,
			Add: roleList(r.Add), Remove: roleList(r.Remove),
		})
	}
	return b
}

func (a *administration) getPermissions(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	rows, err := a.store.PermissionTable(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(permissionsJSON(rows))
}

func (a *administration) putPermissions(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	var body permissionsChangeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	rows, err := a.store.SetPermissionAdjustments(c.UserContext(), body.Adjustments)
	if err != nil {
		return err
	}
	return c.JSON(permissionsJSON(rows))
}
