package pages

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
)

// The settings pages of sign-in: an organisation's members, its API tokens
// and its identity provider. Every read and write goes through the domain
// (Deps.Administration, *tenants.Store), which authorizes the principal of
// the request: tenant admins change, auditors read, anyone else is refused
// (403), and another organisation's record is not found (404), exactly as
// for the API. The pages decide only what to show: a reader who may not
// write sees no form, and a form is refused before its fields are read.
//
// Forms work without script: POST with the session's csrf_token, then 303
// back to the page with a flash message; a form with a mistake is drawn
// again with each reason beside its field (422, or 409 for a conflict). A
// destructive action (disabling a member, revoking a token) needs its
// confirmation box ticked.

// Administration is the domain of the settings pages (*tenants.Store).
// Each call authorizes the principal in ctx.
type Administration interface {
	Members(ctx context.Context, q tenants.MemberQuery) (*tenants.MemberPage, error)
	Member(ctx context.Context, id uuid.UUID) (*tenants.Member, error)
	SetMemberDisabled(ctx context.Context, id uuid.UUID, disabled bool) (*tenants.Member, error)
	SetMemberRoles(ctx context.Context, id uuid.UUID, add, remove []tenants.Role) (*tenants.Member, error)
	APITokens(ctx context.Context, q tenants.APITokenQuery) (*tenants.APITokenPage, error)
	CreateAPIToken(ctx context.Context, n tenants.NewAPIToken) (*tenants.CreatedAPIToken, error)
	RevokeAPIToken(ctx context.Context, id uuid.UUID) (*tenants.APIToken, error)
	IdentityProviderSettings(ctx context.Context) (*tenants.IdentityProviderSettings, error)
	PutIdentityProvider(ctx context.Context, tenantID uuid.UUID, ch tenants.IdentityProviderChange) (*tenants.IdentityProviderSettings, error)
}

var _ Administration = (*tenants.Store)(nil)

// ListPageSize is how many members or tokens a page lists: few enough for
// a slow link.
const ListPageSize = 25

// tokenLifetimes are the expiries the token form offers, in days (at most
// tenants.MaxAPITokenLifetime).
var tokenLifetimes = []int{7, 30, 90, 180, 365}

const defaultTokenLifetime = 90

var errNoAdministration = homeward.Errorf(homeward.EUNAVAILABLE, "the settings are not available on this server")

// signedIn begins a settings page: anyone not signed in is sent to sign in
// and back to path. A nil request means the answer is given (err is it).
func (p *Pages) signedIn(c *fiber.Ctx, path string) (*request, error) {
	if p.deps.Administration == nil {
		return nil, errNoAdministration
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	return r, nil
}

// form begins a settings form post: as signedIn (back to page, the page the
// form is on), then the CSRF token of a session, then the right to write,
// which is refused before any field is read (the domain checks it again).
func (p *Pages) form(c *fiber.Ctx, page string, perm tenants.Permission) (*request, error) {
	r, err := p.signedIn(c, page)
	if r == nil {
		return nil, err
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if !mayWrite(r.principal, perm) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow this")
	}
	return r, nil
}

// mayWrite reports whether the principal may change its organisation's
// settings of perm: what decides whether a page shows its forms.
func mayWrite(pr *tenants.Principal, perm tenants.Permission) bool {
	return pr.Can(perm) && pr.TenantID != uuid.Nil
}

// idParam is the route's :id; one that is no UUID names nothing (the
// domain then answers not_found, once it has checked the caller may look).
func idParam(c *fiber.Ctx) uuid.UUID {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil
	}
	return id
}

// fieldErrors are a form's mistakes: field name -> message key.
type fieldErrors map[string]string

// fieldError is the template function naming a field's mistake ("" if none).
func fieldError(errs fieldErrors, field string) string { return errs[field] }

// codeOf is err's code when it is one of codes, else "".
func codeOf(err error, codes ...string) string {
	var he *homeward.Error
	if errors.As(err, &he) && slices.Contains(codes, he.Code) {
		return he.Code
	}
	return ""
}

// fieldsOf is the fields of an invalid or conflict error.
func fieldsOf(err error) map[string]string {
	var he *homeward.Error
	if errors.As(err, &he) {
		return he.Fields
	}
	return nil
}

// when is a moment as a page shows it: the date in the reader's language
// and calendar, in the organisation's time zone, and the ISO date.
type when struct{ Text, ISO string }

func (r *request) when(t *time.Time) *when {
	if t == nil {
		return nil
	}
	day := t.UTC()
	if tz := r.settings["time_zone"]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			day = t.In(loc)
		}
	}
	return &when{Text: r.locale.Date(day), ISO: day.Format(time.DateOnly)}
}

// roleKeys are the message keys of roles, in the order of tenants.Roles.
func roleKeys(rs []tenants.Role) []string {
	var out []string
	for _, r := range tenants.Roles {
		if slices.Contains(rs, r) {
			out = append(out, "role."+string(r))
		}
	}
	return out
}

// orgRoles are the roles an organisation gives (never platform_operator).
func orgRoles() []tenants.Role {
	var out []tenants.Role
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			out = append(out, r)
		}
	}
	return out
}

// pager links the next page of a list and back to its first.
type pager struct{ Next, First string }

func listURL(path string, q url.Values) string {
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// ---------------------------------------------------------------------------
// Members

// memberView is a member as the pages show one.
type memberView struct {
	ID, Subject, Issuer string
	Href                string
	Roles               []string // message keys
	Disabled, Self      bool
	LastLogin           *when
	Since               *when
	Language            string // the endonym of the member's own choice; "" for none
}

func (r *request) member(m *tenants.Member) memberView {
	v := memberView{
		ID: m.ID.String(), Subject: m.Subject, Issuer: m.Issuer, Href: PathMembers + "/" + m.ID.String(),
		Roles: roleKeys(m.Roles), Disabled: m.Disabled, LastLogin: r.when(m.LastLoginAt), Since: r.when(&m.CreatedAt),
	}
	if r.principal.Actor.MemberID != nil && *r.principal.Actor.MemberID == m.ID {
		v.Self = true
	}
	if m.Locale != "" {
		v.Language = endonym(m.Locale)
	}
	return v
}

// membersPage is the members list's part of the view.
type membersPage struct {
	CanWrite    bool
	Subject     string // the search: identities starting with it
	SearchError string
	Members     []memberView
	Pager       pager
}

// Members is GET /settings/members[?subject=PREFIX][&from=CURSOR]: the
// organisation's members, a page at a time, searched by the start of their
// identity (tenant admins and auditors).
func (p *Pages) Members(c *fiber.Ctx) error {
	r, err := p.signedIn(c, PathMembers)
	if r == nil {
		return err
	}
	ctx := c.UserContext()
	subject := strings.TrimSpace(c.Query("subject"))
	cursor := c.Query("from")
	pg := &membersPage{CanWrite: mayWrite(r.principal, tenants.PermMembersWrite), Subject: subject}
	res, err := p.deps.Administration.Members(ctx, tenants.MemberQuery{Limit: ListPageSize, Cursor: cursor, SubjectPrefix: subject})
	if codeOf(err, homeward.EINVALID) != "" {
		switch f := fieldsOf(err); {
		case f["subject"] != "":
			pg.SearchError, res, err = "members.error_search", &tenants.MemberPage{}, nil
		case f["cursor"] != "": // a cursor of another search, or mangled: start again
			cursor = ""
			res, err = p.deps.Administration.Members(ctx, tenants.MemberQuery{Limit: ListPageSize, SubjectPrefix: subject})
		}
	}
	if err != nil {
		return err
	}
	for i := range res.Members {
		pg.Members = append(pg.Members, r.member(&res.Members[i]))
	}
	if res.Next != "" {
		pg.Pager.Next = listURL(PathMembers, url.Values{"subject": {subject}, "from": {res.Next}})
	}
	if cursor != "" {
		pg.Pager.First = listURL(PathMembers, url.Values{"subject": {subject}})
	}
	status := fiber.StatusOK
	if pg.SearchError != "" {
		status = fiber.StatusUnprocessableEntity
	}
	return p.render(c, status, "members", p.frame(c, r, "settings.members_title", PathMembers, pg))
}

// roleChoice is one role of the member page's roles form.
type roleChoice struct {
	Role   tenants.Role
	Key    string // the role's message key
	Mapped bool   // the provider's groups give it
	Choice string // auto (as the groups say), add (always), remove (never)
}

// memberPage is the member page's part of the view.
type memberPage struct {
	CanWrite     bool
	Member       memberView
	Roles        []roleChoice
	FormError    string // a message key: what stopped the last form
	ConfirmError string // a message key, beside the confirmation box
	// Where the forms post.
	RolesAction, DisableAction, EnableAction string
}

func memberPath(id uuid.UUID) string { return PathMembers + "/" + id.String() }

// Member is GET /settings/members/:id: one member, their roles (with the
// overrides a tenant admin may set) and their status (tenant admins and
// auditors; another organisation's member is not found).
func (p *Pages) Member(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.signedIn(c, memberPath(id))
	if r == nil {
		return err
	}
	return p.memberPage(c, r, id, fiber.StatusOK, "", "")
}

// memberPage reads the member and draws their page with status, and the
// message of a form that stopped.
func (p *Pages) memberPage(c *fiber.Ctx, r *request, id uuid.UUID, status int, formError, confirmError string) error {
	m, err := p.deps.Administration.Member(c.UserContext(), id)
	if err != nil {
		return err
	}
	pg := &memberPage{
		CanWrite: mayWrite(r.principal, tenants.PermMembersWrite), Member: r.member(m),
		FormError: formError, ConfirmError: confirmError,
		RolesAction:   memberPath(id) + "/roles",
		DisableAction: memberPath(id) + "/disable",
		EnableAction:  memberPath(id) + "/enable",
	}
	for _, role := range orgRoles() {
		rc := roleChoice{Role: role, Key: "role." + string(role), Mapped: slices.Contains(m.MappedRoles, role), Choice: "auto"}
		switch {
		case slices.Contains(m.AddedRoles, role):
			rc.Choice = "add"
		case slices.Contains(m.RemovedRoles, role):
			rc.Choice = "remove"
		}
		pg.Roles = append(pg.Roles, rc)
	}
	return p.render(c, status, "member", p.frame(c, r, "member.title", PathMembers, pg))
}

// SetMemberRoles is POST /settings/members/:id/roles (form: role_ROLE =
// auto, add or remove for each organisation role; missing is auto): the
// member's overrides, replaced whole.
func (p *Pages) SetMemberRoles(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.form(c, memberPath(id), tenants.PermMembersWrite)
	if r == nil {
		return err
	}
	var add, remove []tenants.Role
	for _, role := range orgRoles() {
		switch c.FormValue("role_" + string(role)) {
		case "add":
			add = append(add, role)
		case "remove":
			remove = append(remove, role)
		}
	}
	_, err = p.deps.Administration.SetMemberRoles(c.UserContext(), id, add, remove)
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		return p.memberPage(c, r, id, fiber.StatusUnprocessableEntity, "member.roles_invalid", "")
	case homeward.ECONFLICT: // the only one: taking tenant_admin from oneself
		return p.memberPage(c, r, id, fiber.StatusConflict, "member.roles_self_admin", "")
	}
	if err != nil {
		return err
	}
	p.flash(c, "flash.member_roles")
	return c.Redirect(memberPath(id), fiber.StatusSeeOther)
}

// DisableMember is POST /settings/members/:id/disable (form: confirm=yes):
// the member is signed out at once and cannot sign in until enabled.
func (p *Pages) DisableMember(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.form(c, memberPath(id), tenants.PermMembersWrite)
	if r == nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return p.memberPage(c, r, id, fiber.StatusUnprocessableEntity, "", "member.disable_confirm_missing")
	}
	_, err = p.deps.Administration.SetMemberDisabled(c.UserContext(), id, true)
	if codeOf(err, homeward.ECONFLICT) != "" { // the only one: disabling oneself
		return p.memberPage(c, r, id, fiber.StatusConflict, "member.disable_self", "")
	}
	if err != nil {
		return err
	}
	p.flash(c, "flash.member_disabled")
	return c.Redirect(memberPath(id), fiber.StatusSeeOther)
}

// EnableMember is POST /settings/members/:id/enable: the member may sign in
// again (a fresh sign-in; no earlier session comes back).
func (p *Pages) EnableMember(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.form(c, memberPath(id), tenants.PermMembersWrite)
	if r == nil {
		return err
	}
	if _, err := p.deps.Administration.SetMemberDisabled(c.UserContext(), id, false); err != nil {
		return err
	}
	p.flash(c, "flash.member_enabled")
	return c.Redirect(memberPath(id), fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// API tokens

// tokenView is a token as the list shows it.
type tokenView struct {
	ID, Name, Prefix string
	Roles            []string // message keys
	StatusKey        string
	Active           bool
	Created, Expires *when
	LastUsed         *when
	RevokeAction     string
	ConfirmError     string // a message key, beside this token's confirmation box
}

// option is one choice of a select or a set of boxes.
type option struct {
	Value, Label string // Label: already in the reader's language
	Key          string // or a message key
	Selected     bool
}

// tokenForm is the form that makes a token: what was typed, and its
// mistakes.
type tokenForm struct {
	Name    string
	Roles   []option
	Expires []option
	Errors  fieldErrors
}

// tokensPage is the API tokens page's part of the view.
type tokensPage struct {
	CanWrite bool
	Tokens   []tokenView
	Pager    pager
	Cursor   string // this page's, so that a form drawn again shows the same page
	Form     tokenForm
}

// APITokens is GET /settings/api-tokens[?from=CURSOR]: the organisation's
// tokens, newest first, and for tenant admins the form that makes one
// (tenant admins and auditors).
func (p *Pages) APITokens(c *fiber.Ctx) error {
	r, err := p.signedIn(c, PathAPITokens)
	if r == nil {
		return err
	}
	return p.tokensPage(c, r, fiber.StatusOK, c.Query("from"), p.newTokenForm(r, "", nil, defaultTokenLifetime, nil), uuid.Nil, "")
}

func (p *Pages) newTokenForm(r *request, name string, roles []tenants.Role, days int, errs fieldErrors) tokenForm {
	f := tokenForm{Name: name, Errors: errs}
	for _, role := range orgRoles() {
		f.Roles = append(f.Roles, option{Value: string(role), Key: "role." + string(role), Selected: slices.Contains(roles, role)})
	}
	for _, d := range tokenLifetimes {
		f.Expires = append(f.Expires, option{Value: strconv.Itoa(d), Label: r.locale.Plural("tokens.expires_in_days", int64(d)), Selected: d == days})
	}
	return f
}

// tokensPage lists the page of tokens at cursor with the form f; revokeID
// names the token whose confirmation box confirmError is beside.
func (p *Pages) tokensPage(c *fiber.Ctx, r *request, status int, cursor string, f tokenForm, revokeID uuid.UUID, confirmError string) error {
	ctx := c.UserContext()
	res, err := p.deps.Administration.APITokens(ctx, tenants.APITokenQuery{Limit: ListPageSize, Cursor: cursor})
	if codeOf(err, homeward.EINVALID) != "" && fieldsOf(err)["cursor"] != "" {
		cursor = ""
		res, err = p.deps.Administration.APITokens(ctx, tenants.APITokenQuery{Limit: ListPageSize})
	}
	if err != nil {
		return err
	}
	pg := &tokensPage{CanWrite: mayWrite(r.principal, tenants.PermMembersWrite) && !r.principal.ViaToken, Cursor: cursor, Form: f}
	now := time.Now() // the domain's clock, as AuthenticateAPIToken's
	for i := range res.Tokens {
		t := &res.Tokens[i]
		st := t.Status(now)
		v := tokenView{
			ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Roles: roleKeys(t.Roles),
			StatusKey: "tokens.status_" + st, Active: st == tenants.TokenActive,
			Created: r.when(&t.CreatedAt), Expires: r.when(&t.ExpiresAt), LastUsed: r.when(t.LastUsedAt),
			RevokeAction: PathAPITokens + "/" + t.ID.String() + "/revoke",
		}
		if t.ID == revokeID {
			v.ConfirmError = confirmError
		}
		pg.Tokens = append(pg.Tokens, v)
	}
	if res.Next != "" {
		pg.Pager.Next = listURL(PathAPITokens, url.Values{"from": {res.Next}})
	}
	if cursor != "" {
		pg.Pager.First = PathAPITokens
	}
	return p.render(c, status, "api_tokens", p.frame(c, r, "settings.api_tokens_title", PathAPITokens, pg))
}

// tokenCreatedPage shows a new token, this once.
type tokenCreatedPage struct {
	Name, Token string
}

// tokenFields are the domain's field names of a new token, and the words
// of each mistake.
var tokenFields = map[string]string{
	"name":       "tokens.error_name",
	"roles":      "tokens.error_roles",
	"expires_at": "tokens.error_expires",
}

// CreateAPIToken is POST /settings/api-tokens (form: name, role (several),
// expires_days): the token is made and shown on the page this answers
// (200), the only time it is ever shown; a page that is not a redirect, so
// that the token never travels in an address or a cookie.
func (p *Pages) CreateAPIToken(c *fiber.Ctx) error {
	r, err := p.form(c, PathAPITokens, tenants.PermMembersWrite)
	if r == nil {
		return err
	}
	name := c.FormValue("name")
	var roles []tenants.Role
	for _, v := range c.Request().PostArgs().PeekMulti("role") {
		roles = append(roles, tenants.Role(v))
	}
	days, _ := strconv.Atoi(c.FormValue("expires_days"))
	n := tenants.NewAPIToken{Name: name, Roles: roles}
	if slices.Contains(tokenLifetimes, days) {
		// The domain's clock, which checks the expiry (Deps.Now is the
		// pages' display clock).
		n.ExpiresAt = time.Now().Add(time.Duration(days) * 24 * time.Hour)
	}
	created, err := p.deps.Administration.CreateAPIToken(c.UserContext(), n)
	if codeOf(err, homeward.EINVALID) != "" {
		errs := fieldErrors{}
		for field := range fieldsOf(err) {
			if key, ok := tokenFields[field]; ok {
				errs[field] = key
			}
		}
		return p.tokensPage(c, r, fiber.StatusUnprocessableEntity, c.FormValue("from"), p.newTokenForm(r, name, roles, days, errs), uuid.Nil, "")
	}
	if err != nil {
		return err
	}
	pg := &tokenCreatedPage{Name: created.Name, Token: created.Token}
	return p.render(c, fiber.StatusOK, "token_created", p.frame(c, r, "tokens.created_title", PathAPITokens, pg))
}

// RevokeAPIToken is POST /settings/api-tokens/:id/revoke (form:
// confirm=yes): programs using the token are refused from their next
// request.
func (p *Pages) RevokeAPIToken(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.form(c, PathAPITokens, tenants.PermMembersWrite)
	if r == nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return p.tokensPage(c, r, fiber.StatusUnprocessableEntity, c.FormValue("from"),
			p.newTokenForm(r, "", nil, defaultTokenLifetime, nil), id, "tokens.revoke_confirm_missing")
	}
	if _, err := p.deps.Administration.RevokeAPIToken(c.UserContext(), id); err != nil {
		return err
	}
	p.flash(c, "flash.token_revoked")
	return c.Redirect(PathAPITokens, fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// Identity provider

// idpForm is the identity-provider form as typed (the secret never comes
// back).
type idpForm struct {
	Issuer, ClientID, Scopes, GroupsClaim, GroupRoles, EmailDomains string
	RemoveSecret                                                    bool
}

// groupMapping is one group and its roles, as the page lists them.
type groupMapping struct {
	Group string
	Roles []string // message keys
}

// idpPage is the identity-provider page's part of the view.
type idpPage struct {
	CanWrite   bool
	Configured bool
	SecretSet  bool
	Current    idpForm // as stored
	Mappings   []groupMapping
	Updated    *when
	Form       idpForm // as the form shows it
	Errors     fieldErrors
	BadLine    int      // the first line of the groups that is wrong (from 1)
	RoleNames  []option // role id and its name, for the groups' help
}

// idpFields are the domain's field names of a provider change, and the
// words of each mistake.
var idpFields = map[string]string{
	"issuer":        "idp.error_issuer",
	"client_id":     "idp.error_client_id",
	"client_secret": "idp.error_client_secret",
	"scopes":        "idp.error_scopes",
	"groups_claim":  "idp.error_groups_claim",
	"group_roles":   "idp.error_group_roles",
	"email_domains": "idp.error_email_domains",
}

// IdentityProvider is GET /settings/identity-provider: the organisation's
// OpenID provider, and for tenant admins the form that changes it (tenant
// admins and auditors).
func (p *Pages) IdentityProvider(c *fiber.Ctx) error {
	r, err := p.signedIn(c, PathIdentityProvider)
	if r == nil {
		return err
	}
	return p.idpPage(c, r, fiber.StatusOK, nil, nil, 0)
}

// idpPage draws the page with status; form is what was typed (nil: the
// stored settings) and errs its mistakes.
func (p *Pages) idpPage(c *fiber.Ctx, r *request, status int, form *idpForm, errs fieldErrors, badLine int) error {
	s, err := p.deps.Administration.IdentityProviderSettings(c.UserContext())
	configured := err == nil
	if codeOf(err, homeward.ENOTFOUND) != "" {
		err = nil
	}
	if err != nil {
		return err
	}
	pg := &idpPage{CanWrite: mayWrite(r.principal, tenants.PermIDPWrite), Configured: configured, Errors: errs, BadLine: badLine}
	if configured {
		pg.SecretSet = s.ClientSecretSet
		pg.Current = idpForm{
			Issuer: s.Issuer, ClientID: s.ClientID, Scopes: strings.Join(s.Scopes, " "), GroupsClaim: s.GroupsClaim,
			GroupRoles: formatGroupRoles(s.GroupRoles), EmailDomains: strings.Join(s.EmailDomains, " "),
		}
		pg.Updated = r.when(&s.UpdatedAt)
		groups := make([]string, 0, len(s.GroupRoles))
		for g := range s.GroupRoles {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			pg.Mappings = append(pg.Mappings, groupMapping{Group: g, Roles: roleKeys(s.GroupRoles[g])})
		}
	} else {
		pg.Current = idpForm{Scopes: "openid profile", GroupsClaim: "groups"}
	}
	pg.Form = pg.Current
	if form != nil {
		pg.Form = *form
	}
	for _, role := range orgRoles() {
		pg.RoleNames = append(pg.RoleNames, option{Value: string(role), Key: "role." + string(role)})
	}
	return p.render(c, status, "identity_provider", p.frame(c, r, "settings.identity_provider_title", PathIdentityProvider, pg))
}

// formatGroupRoles writes a mapping as the form's lines: "group = role, role".
func formatGroupRoles(m map[string][]tenants.Role) string {
	groups := make([]string, 0, len(m))
	for g := range m {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var b strings.Builder
	for _, g := range groups {
		names := make([]string, len(m[g]))
		for i, r := range m[g] {
			names[i] = string(r)
		}
		fmt.Fprintf(&b, "%s = %s\n", g, strings.Join(names, ", "))
	}
	return b.String()
}

// parseGroupRoles reads the form's lines, "group = role, role" (the group
// is everything before the last "=", since a directory group such as
// cn=staff,ou=groups may hold both = and commas; a role never does). It
// returns the first line (from 1) that is no such line, or names no
// organisation role.
func parseGroupRoles(text string) (map[string][]tenants.Role, int) {
	out := map[string][]tenants.Role{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		eq := strings.LastIndex(line, "=")
		if eq < 0 {
			return nil, i + 1
		}
		group := strings.TrimSpace(line[:eq])
		var roles []tenants.Role
		for _, name := range strings.Split(line[eq+1:], ",") {
			role := tenants.Role(strings.TrimSpace(name))
			if role == "" {
				continue
			}
			if !tenants.ValidRole(role) || role == tenants.RolePlatformOperator {
				return nil, i + 1
			}
			roles = append(roles, role)
		}
		if group == "" || len(roles) == 0 {
			return nil, i + 1
		}
		for _, role := range roles {
			if !slices.Contains(out[group], role) {
				out[group] = append(out[group], role)
			}
		}
	}
	return out, 0
}

// words splits a list typed with spaces, commas or lines between.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// SaveIdentityProvider is POST /settings/identity-provider (form: issuer,
// client_id, client_secret (empty keeps the stored one), remove_secret,
// scopes, groups_claim, group_roles (lines), email_domains): the
// organisation's provider, replaced whole; audited idp.change by the
// domain. The next sign-in uses it.
func (p *Pages) SaveIdentityProvider(c *fiber.Ctx) error {
	r, err := p.form(c, PathIdentityProvider, tenants.PermIDPWrite)
	if r == nil {
		return err
	}
	form := idpForm{
		Issuer: c.FormValue("issuer"), ClientID: c.FormValue("client_id"), Scopes: c.FormValue("scopes"),
		GroupsClaim: c.FormValue("groups_claim"), GroupRoles: c.FormValue("group_roles"),
		EmailDomains: c.FormValue("email_domains"), RemoveSecret: c.FormValue("remove_secret") == "yes",
	}
	ch := tenants.IdentityProviderChange{
		Issuer: form.Issuer, ClientID: form.ClientID, Scopes: words(form.Scopes), GroupsClaim: form.GroupsClaim,
		EmailDomains: words(form.EmailDomains), AllowPlainHTTP: p.deps.Config.Demo(),
	}
	if secret := c.FormValue("client_secret"); secret != "" {
		ch.ClientSecret = &secret
	} else if form.RemoveSecret {
		ch.ClientSecret = new(string)
	}
	errs := fieldErrors{}
	groups, badLine := parseGroupRoles(form.GroupRoles)
	if badLine > 0 {
		errs["group_roles"] = "idp.error_group_roles_line"
	}
	ch.GroupRoles = groups
	var saveErr error
	if len(errs) == 0 {
		_, saveErr = p.deps.Administration.PutIdentityProvider(c.UserContext(), r.principal.TenantID, ch)
	}
	status := fiber.StatusUnprocessableEntity
	switch codeOf(saveErr, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.ECONFLICT: // the client is another organisation's
		status = fiber.StatusConflict
		errs["client_id"] = "idp.error_client_id_taken"
	case homeward.EINVALID:
		for field := range fieldsOf(saveErr) {
			if key, ok := idpFields[field]; ok {
				errs[field] = key
			}
		}
		if len(errs) == 0 { // a field this form does not show
			errs["issuer"] = "idp.error_issuer"
		}
	case "":
		if saveErr != nil {
			return saveErr
		}
	}
	if len(errs) > 0 {
		return p.idpPage(c, r, status, &form, errs, badLine)
	}
	p.flash(c, "flash.idp_saved")
	return c.Redirect(PathIdentityProvider, fiber.StatusSeeOther)
}

// endonym is a language's name in itself.
func endonym(lang string) string {
	if name, ok := i18n.Endonyms[lang]; ok {
		return name
	}
	return lang
}
