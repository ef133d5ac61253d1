package pages_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/web/i18n"
	"github.com/afesip/homeward/web/pages"
)

// The settings pages against the real domain: organisations, members and
// tokens on a SQLite store (tenanttest), members signed in through
// Store.SignIn as sign-in does, each request's principal given as a browser
// session's (with its CSRF token).

const worldIssuer = "https://idp.example.org/realms/pages"

// world is two organisations, a and b, each with a member signed in with
// each organisation role, and a and b's member "target" whom the admins
// act on.
type world struct {
	s      *tenants.Store
	a, b   *org
	op     *tenants.Principal // a platform operator's session
	deps   pages.Deps
	labels map[string]string
}

type org struct {
	id      uuid.UUID
	slug    string
	members map[tenants.Role]*tenants.Principal
	target  uuid.UUID
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := tenanttest.OpenSQLite(t)
	w := &world{s: s}
	w.a, w.b = w.newOrg(t, "a"), w.newOrg(t, "b")
	w.op = &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://operators.example.org", Subject: "op"},
		Roles: []tenants.Role{tenants.RolePlatformOperator}, Locale: "en", SessionID: "sess-op", CSRFToken: "csrf-op"}
	w.deps = pages.Deps{Administration: s, Settings: pages.TenantSettings{Store: s}, Memberships: pages.StoreMemberships{Store: s},
		LocaleSaver: s, Contacts: s, Notifications: s, QueueMonitor: "/ops/queues", Cases: cases.New(s), Kits: kits.New(s), Care: care.New(s),
		FollowUp: followup.New(s)}
	return w
}

func (w *world) newOrg(t *testing.T, name string) *org {
	t.Helper()
	ctx := context.Background()
	o := &org{slug: "org-" + name + "-" + uuid.NewString()[:8], members: map[tenants.Role]*tenants.Principal{}}
	tn, err := w.s.AddTenant(ctx, tenants.NewTenant{Slug: o.slug, Name: "Organisation " + strings.ToUpper(name), Country: "LA"})
	if err != nil {
		t.Fatal(err)
	}
	o.id = tn.ID
	groups := map[string][]tenants.Role{}
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			groups["g-"+string(r)] = []tenants.Role{r}
		}
	}
	secret := "secret-" + name
	operator := tenants.WithPrincipal(ctx, tenants.OperatorPrincipal("test"))
	if _, err := w.s.PutIdentityProvider(operator, o.id, tenants.IdentityProviderChange{
		Issuer: worldIssuer, ClientID: "client-" + o.slug, ClientSecret: &secret, GroupsClaim: "groups", GroupRoles: groups,
		EmailDomains: []string{name + ".example.org"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range tenants.Roles {
		if r == tenants.RolePlatformOperator {
			continue
		}
		p := w.signIn(t, o, name+"."+string(r), "g-"+string(r))
		p.SessionID, p.CSRFToken = "sess-"+name+"-"+string(r), "csrf-"+name+"-"+string(r)
		o.members[r] = p
	}
	o.target = *w.signIn(t, o, name+".target", "g-social_worker", "g-counsellor").Actor.MemberID
	return o
}

func (w *world) signIn(t *testing.T, o *org, subject string, groups ...string) *tenants.Principal {
	t.Helper()
	p, _, err := w.s.SignIn(context.Background(), o.id, worldIssuer, subject, groups)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// as is the server with every page, signed in as p (nil: anonymous).
func (w *world) as(t *testing.T, p *tenants.Principal) *fiber.App {
	t.Helper()
	return newServer(t, w.deps, p)
}

// member reads a member as the domain sees it now.
func (w *world) member(t *testing.T, o *org, id uuid.UUID) *tenants.Member {
	t.Helper()
	m, err := w.s.Member(tenants.WithPrincipal(context.Background(), o.members[tenants.RoleTenantAdmin]), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// form is a form post carrying p's CSRF token.
func form(p *tenants.Principal, kv ...string) url.Values {
	v := url.Values{"csrf_token": {p.CSRFToken}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d, want %d: %.400s", what, r.status, status, r.body)
	}
}

func wantRedirect(t *testing.T, what string, r response, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Errorf("%s: %d Location %q, want 303 to %s: %.300s", what, r.status, r.header.Get("Location"), location, r.body)
	}
}

// flashOf is the flash cookie a response sets ("" for none).
func flashOf(r response) string {
	for _, c := range r.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(c, pages.FlashCookie+"="); ok {
			v, _, _ = strings.Cut(v, ";")
			return v
		}
	}
	return ""
}

// TestSettingsPagesByRole: each settings page as anonymous (sent to sign
// in, and back), as each role (tenant admins and auditors read, the others
// get the "No access" page), as the platform operator (no organisation
// here: 403); forms only for tenant admins.
func TestSettingsPagesByRole(t *testing.T) {
	w := newWorld(t)
	// What only a tenant admin's page has: its form.
	writes := map[string]string{
		"/settings/members":                        "",
		"/settings/api-tokens":                     `action="/settings/api-tokens"`,
		"/settings/identity-provider":              `action="/settings/identity-provider"`,
		"/settings/retention":                      `action="/settings/retention"`,
		"/settings/members/" + w.a.target.String(): `action="/settings/members/` + w.a.target.String() + `/roles"`,
	}
	for path, write := range writes {
		t.Run(path, func(t *testing.T) {
			wantRedirect(t, "anonymous", get(t, w.as(t, nil), path), "/login?next="+url.QueryEscape(path))
			for _, role := range tenants.Roles {
				p := w.a.members[role]
				if role == tenants.RolePlatformOperator {
					p = w.op
				}
				r := get(t, w.as(t, p), path)
				switch role {
				case tenants.RoleTenantAdmin:
					wantStatus(t, string(role), r, 200)
					mustContain(t, r, `name="csrf_token" value="csrf-a-tenant_admin"`, `aria-current="page"`, write)
					mustNotContain(t, r, "You can read these settings")
				case tenants.RoleAuditor:
					wantStatus(t, string(role), r, 200)
					mustContain(t, r, `aria-current="page"`)
					if write != "" {
						mustNotContain(t, r, write, `<form method="post"`)
					}
					if !strings.Contains(path, "/members/") {
						mustContain(t, r, "You can read these settings. Only an administrator can change them.")
					}
				default:
					wantStatus(t, string(role), r, 403)
					mustContain(t, r, "<h1>No access</h1>", "Leave quickly")
					mustNotContain(t, r, w.a.slug, "a.target")
				}
			}
		})
	}
}

// TestMembersPage: the list with its search, pages of ListPageSize, and its
// empty state; another organisation's members never appear.
func TestMembersPage(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	app := w.as(t, admin)
	r := get(t, app, "/settings/members")
	wantStatus(t, "list", r, 200)
	mustContain(t, r, ">a.case_manager<", ">a.target<", "Social worker, Counsellor", `href="/settings/members/`+w.a.target.String()+`"`,
		">a.tenant_admin</a> <span class=\"quiet\">(you)</span>")
	mustNotContain(t, r, "b.case_manager", "b.target", `rel="next"`)

	// Search by the start of the identity.
	r = get(t, app, "/settings/members?subject=a.c")
	mustContain(t, r, ">a.case_manager<", ">a.counsellor<", `value="a.c"`, "Show everyone")
	mustNotContain(t, r, ">a.target<")
	r = get(t, app, "/settings/members?subject=b.")
	mustContain(t, r, "No member’s identity starts with this.")
	mustNotContain(t, r, "b.case_manager")
	r = get(t, app, "/settings/members?subject="+strings.Repeat("x", 501))
	wantStatus(t, "a search too long", r, 422)
	mustContain(t, r, `aria-invalid="true" aria-describedby="subject-error"`, `id="subject-error">Type at most 500 characters.`)

	// Pages: 11 members so far; 20 more make two pages.
	for i := range 20 {
		w.signIn(t, w.a, fmt.Sprintf("a.staff-%02d", i), "g-lawyer")
	}
	first := get(t, app, "/settings/members")
	next := regexp.MustCompile(`href="(/settings/members\?from=[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("no next page: %s", first.body)
	}
	if n := strings.Count(first.body, `<li class="record">`); n != pages.ListPageSize {
		t.Errorf("the first page lists %d members", n)
	}
	second := get(t, app, strings.ReplaceAll(next[1], "&amp;", "&"))
	if n := strings.Count(second.body, `<li class="record">`); n != 31-pages.ListPageSize {
		t.Errorf("the second page lists %d members", n)
	}
	mustContain(t, second, `href="/settings/members">Back to the first page`)
	mustNotContain(t, second, `rel="next"`)
	// A cursor from elsewhere starts the list again rather than failing.
	wantStatus(t, "a mangled cursor", get(t, app, "/settings/members?from=nonsense"), 200)

	// An organisation whose only members... none: the empty state (a new
	// organisation has no member until someone signs in; its admin would
	// be one, so the state is seen through a search of a fresh prefix).
	mustContain(t, get(t, w.as(t, w.b.members[tenants.RoleAuditor]), "/settings/members?subject=zzz"), "No member’s identity starts with this.")
}

// TestMemberPage: one member, with the roles form (tenant admin) or the
// roles as they stand (auditor); the admin's own page has no disable
// form; another organisation's member, or none, is not found.
func TestMemberPage(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	target := "/settings/members/" + w.a.target.String()
	r := get(t, w.as(t, admin), target)
	wantStatus(t, "admin", r, 200)
	mustContain(t, r, "a.target", worldIssuer, `<label for="role-counsellor">Counsellor</label>`,
		`<option value="auto" selected>As the groups say (now: yes)</option>`, `<select id="role-lawyer" name="role_lawyer">`,
		`<option value="auto" selected>As the groups say (now: no)</option>`, `action="`+target+`/disable"`,
		`name="confirm" value="yes" required`, "Yes, disable this member and sign them out now")
	// The admin's own page: no way to disable oneself.
	own := get(t, w.as(t, admin), "/settings/members/"+admin.Actor.MemberID.String())
	mustContain(t, own, "(you)", `action="/settings/members/`+admin.Actor.MemberID.String()+`/roles"`)
	mustNotContain(t, own, "/disable")
	// The auditor reads the roles, changes nothing.
	r = get(t, w.as(t, w.a.members[tenants.RoleAuditor]), target)
	mustContain(t, r, "<strong>Counsellor</strong>: As the groups say (now: yes)")
	mustNotContain(t, r, `<select id="role-`, "/disable", "/roles")
	// Not found: b's member from a's admin, and an id that names nobody.
	for _, path := range []string{"/settings/members/" + w.b.target.String(), "/settings/members/" + uuid.NewString(), "/settings/members/not-an-id"} {
		r := get(t, w.as(t, admin), path)
		wantStatus(t, path, r, 404)
		mustContain(t, r, "<h1>Page not found</h1>", "Leave quickly")
		mustNotContain(t, r, "b.target")
	}
}

// TestMemberRolesForm: the overrides are saved (303, a flash on the next
// page); without the session's CSRF token, or as an auditor, nothing
// changes; taking the administrator role from oneself is refused beside
// the form (409).
func TestMemberRolesForm(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	app := w.as(t, admin)
	target := "/settings/members/" + w.a.target.String()

	r := post(t, app, target+"/roles", form(admin, "role_lawyer", "add", "role_counsellor", "remove", "role_social_worker", "auto"))
	wantRedirect(t, "save", r, target)
	if flashOf(r) != "flash.member_roles" {
		t.Errorf("flash %q", flashOf(r))
	}
	m := w.member(t, w.a, w.a.target)
	if !slices.Equal(m.Roles, []tenants.Role{tenants.RoleSocialWorker, tenants.RoleLawyer}) ||
		!slices.Equal(m.AddedRoles, []tenants.Role{tenants.RoleLawyer}) || !slices.Equal(m.RemovedRoles, []tenants.Role{tenants.RoleCounsellor}) {
		t.Errorf("after saving: %+v", m)
	}
	// The next page shows the flash once, and the choices as saved.
	next := get(t, app, target, "Cookie", pages.FlashCookie+"=flash.member_roles")
	mustContain(t, next, `<p class="flash" role="status">The roles are saved.`, `<option value="add" selected>Always</option>`,
		`<option value="remove" selected>Never</option>`)
	if c := strings.Join(next.header.Values("Set-Cookie"), "\n"); !strings.Contains(c, pages.FlashCookie+"=;") {
		t.Errorf("the flash is not cleared: %q", c)
	}
	// A flash cookie naming no message shows nothing.
	mustNotContain(t, get(t, app, target, "Cookie", pages.FlashCookie+"=<b>hi</b>"), `class="flash"`, "<b>hi</b>")

	// Refused, and nothing changes.
	wantStatus(t, "without CSRF", post(t, app, target+"/roles", url.Values{"role_lawyer": {"remove"}}), 403)
	auditor := w.a.members[tenants.RoleAuditor]
	wantStatus(t, "auditor", post(t, w.as(t, auditor), target+"/roles", form(auditor, "role_lawyer", "remove")), 403)
	wantStatus(t, "b's admin", post(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), target+"/roles",
		form(w.b.members[tenants.RoleTenantAdmin], "role_lawyer", "remove")), 404)
	if m := w.member(t, w.a, w.a.target); !slices.Contains(m.Roles, tenants.RoleLawyer) {
		t.Errorf("a refused form changed the roles: %v", m.Roles)
	}
	anon := post(t, w.as(t, nil), target+"/roles", url.Values{"role_lawyer": {"remove"}})
	wantRedirect(t, "anonymous", anon, "/login?next="+url.QueryEscape(target))

	// Taking tenant_admin from oneself.
	own := "/settings/members/" + admin.Actor.MemberID.String()
	r = post(t, app, own+"/roles", form(admin, "role_tenant_admin", "remove"))
	wantStatus(t, "own admin role", r, 409)
	mustContain(t, r, `<p class="form-error" role="alert">You cannot take the administrator role from yourself`)
	if m := w.member(t, w.a, *admin.Actor.MemberID); !slices.Contains(m.Roles, tenants.RoleTenantAdmin) {
		t.Error("the admin lost tenant_admin")
	}
}

// TestDisableMember: disabling needs the box ticked (else the reason
// beside the box, 422, nothing changed); then the member is disabled and
// shown so, and enabled again; an admin cannot disable themselves.
func TestDisableMember(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	app := w.as(t, admin)
	target := "/settings/members/" + w.a.target.String()

	r := post(t, app, target+"/disable", form(admin))
	wantStatus(t, "unconfirmed", r, 422)
	mustContain(t, r, `aria-invalid="true" aria-describedby="confirm-disable-error"`, `<p class="field-error" id="confirm-disable-error">Tick the box to confirm.</p>`)
	if w.member(t, w.a, w.a.target).Disabled {
		t.Fatal("disabled without confirmation")
	}
	// An auditor is refused before the box is looked at.
	auditor := w.a.members[tenants.RoleAuditor]
	wantStatus(t, "auditor", post(t, w.as(t, auditor), target+"/disable", form(auditor)), 403)

	r = post(t, app, target+"/disable", form(admin, "confirm", "yes"))
	wantRedirect(t, "confirmed", r, target)
	if flashOf(r) != "flash.member_disabled" || !w.member(t, w.a, w.a.target).Disabled {
		t.Fatalf("not disabled (flash %q)", flashOf(r))
	}
	// The member's next request finds no principal.
	if _, err := w.s.PrincipalOf(context.Background(), w.a.target); homeward.ErrorCode(err) != homeward.EUNAUTHENTICATED {
		t.Errorf("the disabled member still signs in: %v", err)
	}
	page := get(t, app, target)
	mustContain(t, page, `<span class="badge off">Disabled</span>`, `action="`+target+`/enable"`, "Enable the member")
	mustNotContain(t, page, `action="`+target+`/disable"`)
	mustContain(t, get(t, app, "/settings/members"), `<span class="badge off">Disabled</span>`)

	r = post(t, app, target+"/enable", form(admin))
	wantRedirect(t, "enable", r, target)
	if flashOf(r) != "flash.member_enabled" || w.member(t, w.a, w.a.target).Disabled {
		t.Error("not enabled")
	}

	// Oneself: refused by the domain (the page offers no such form).
	own := "/settings/members/" + admin.Actor.MemberID.String()
	r = post(t, app, own+"/disable", form(admin, "confirm", "yes"))
	wantStatus(t, "oneself", r, 409)
	mustContain(t, r, "You cannot disable yourself: ask another administrator.")
}

// TestAPITokensPage: a tenant admin makes a token, shown once with the
// warning to copy it now; the list never shows it again; mistakes are
// named beside their fields with what was typed kept; revoking needs the
// box ticked; auditors read only.
func TestAPITokensPage(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	auditor := w.a.members[tenants.RoleAuditor]
	app := w.as(t, admin)

	// Empty states.
	mustContain(t, get(t, app, "/settings/api-tokens"), "No API tokens yet. Make one above", `<option value="90" selected>In 90 days</option>`)
	mustContain(t, get(t, w.as(t, auditor), "/settings/api-tokens"), "No API tokens yet.", "You can read these settings.")
	mustNotContain(t, get(t, w.as(t, auditor), "/settings/api-tokens"), `action="/settings/api-tokens"`)

	// Mistakes: no name, no role.
	r := post(t, app, "/settings/api-tokens", form(admin, "name", " ", "expires_days", "30"))
	wantStatus(t, "no name, no role", r, 422)
	mustContain(t, r, `<p class="field-error" id="token-name-error">Give the token a name of 1 to 100 characters.</p>`,
		`<p class="field-error" id="token-roles-error">Choose at least one role.</p>`, `aria-describedby="token-name-hint token-name-error" aria-invalid="true"`,
		`<option value="30" selected>In 30 days</option>`)
	r = post(t, app, "/settings/api-tokens", form(admin, "name", "ledger sync", "role", "auditor", "expires_days", "9999"))
	wantStatus(t, "an expiry not offered", r, 422)
	mustContain(t, r, `id="token-expires-error">Choose when the token stops working.`, `value="ledger sync"`,
		`id="token-role-auditor" name="role" value="auditor" checked`)
	wantStatus(t, "auditor makes one", post(t, w.as(t, auditor), "/settings/api-tokens", form(auditor, "name", "x", "role", "auditor", "expires_days", "30")), 403)

	// Made: shown this once.
	r = post(t, app, "/settings/api-tokens", form(admin, "name", "ledger sync", "role", "auditor", "role", "finance_officer", "expires_days", "30"))
	wantStatus(t, "make", r, 200)
	token := regexp.MustCompile(`readonly autocomplete="off" spellcheck="false">(hw_[A-Za-z0-9_-]{43})</textarea>`).FindStringSubmatch(r.body)
	if token == nil {
		t.Fatalf("no token on the page: %s", r.body)
	}
	mustContain(t, r, "<h1>Copy the token now</h1>", "This is the only time it is shown.", `The token “ledger sync”`, "readonly")
	if tp, err := w.s.AuthenticateAPIToken(context.Background(), token[1]); err != nil || tp.TenantID != w.a.id ||
		!slices.Equal(tp.Roles, []tenants.Role{tenants.RoleFinanceOfficer, tenants.RoleAuditor}) {
		t.Fatalf("the token shown does not work: %v %+v", err, tp)
	}
	list := get(t, app, "/settings/api-tokens")
	mustContain(t, list, "<h3>ledger sync</h3>", "<code>"+token[1][:9]+"…</code>", "Finance officer, Auditor", "<dt>Last used</dt><dd><time")
	mustNotContain(t, list, token[1])
	mustNotContain(t, get(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), "/settings/api-tokens"), "ledger sync")
	id := regexp.MustCompile(`action="/settings/api-tokens/([0-9a-f-]{36})/revoke"`).FindStringSubmatch(list.body)
	if id == nil {
		t.Fatalf("no revoke form: %s", list.body)
	}
	revoke := "/settings/api-tokens/" + id[1] + "/revoke"

	// Revoking: confirmed only; not by an auditor, not across organisations.
	r = post(t, app, revoke, form(admin))
	wantStatus(t, "unconfirmed", r, 422)
	mustContain(t, r, `<p class="field-error" id="confirm-revoke-`+id[1]+`-error">Tick the box to confirm.</p>`)
	wantStatus(t, "auditor", post(t, w.as(t, auditor), revoke, form(auditor, "confirm", "yes")), 403)
	bAdmin := w.b.members[tenants.RoleTenantAdmin]
	wantStatus(t, "b's admin", post(t, w.as(t, bAdmin), revoke, form(bAdmin, "confirm", "yes")), 404)
	if _, err := w.s.AuthenticateAPIToken(context.Background(), token[1]); err != nil {
		t.Fatalf("revoked by a refused form: %v", err)
	}
	r = post(t, app, revoke, form(admin, "confirm", "yes"))
	wantRedirect(t, "revoke", r, "/settings/api-tokens")
	if flashOf(r) != "flash.token_revoked" {
		t.Errorf("flash %q", flashOf(r))
	}
	if _, err := w.s.AuthenticateAPIToken(context.Background(), token[1]); homeward.ErrorCode(err) != homeward.EUNAUTHENTICATED {
		t.Errorf("the revoked token still works: %v", err)
	}
	list = get(t, app, "/settings/api-tokens")
	mustContain(t, list, `<span class="badge off">Revoked</span>`)
	mustNotContain(t, list, revoke)
}

// TestIdentityProviderPage: the settings as stored (never the secret), the
// form for tenant admins, a change saved (303) and used, mistakes named
// beside their fields with what was typed kept, another organisation's
// client refused, and the empty state of an organisation without one.
func TestIdentityProviderPage(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	app := w.as(t, admin)
	r := get(t, app, "/settings/identity-provider")
	wantStatus(t, "read", r, 200)
	mustContain(t, r, worldIssuer, "client-"+w.a.slug, "Stored (never shown).", `<span class="ident">g-case_manager</span>: Case manager`,
		"a.example.org", `name="group_roles"`, "g-lawyer = lawyer\n", `type="password" id="idp-client-secret" name="client_secret" value=""`)
	mustNotContain(t, r, "secret-a")
	auditor := w.a.members[tenants.RoleAuditor]
	ar := get(t, w.as(t, auditor), "/settings/identity-provider")
	mustContain(t, ar, worldIssuer, "You can read these settings.")
	mustNotContain(t, ar, "<textarea", `action="/settings/identity-provider"`)

	good := func(kv ...string) url.Values {
		f := form(admin, "issuer", "https://login.example.org/realms/afesip", "client_id", "homeward-a", "scopes", "openid profile",
			"groups_claim", "roles", "group_roles", "cn=staff,ou=groups = case_manager, counsellor\r\nadmins = tenant_admin\r\n",
			"email_domains", "afesip.org, afesip.la")
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	// Mistakes, each beside its field, with what was typed kept.
	r = post(t, app, "/settings/identity-provider", good("issuer", "ftp://x", "email_domains", "not a domain!"))
	wantStatus(t, "bad issuer and domains", r, 422)
	mustContain(t, r, `id="idp-issuer-error">Give an https:// address`, `id="idp-email-domains-error">Give domain names`,
		`value="ftp://x"`, `role="alert">Some fields need changing`)
	mustNotContain(t, r, `id="idp-client-id-error"`)
	r = post(t, app, "/settings/identity-provider", good("group_roles", "staff = case_manager\nnobody\n"))
	wantStatus(t, "bad line", r, 422)
	mustContain(t, r, `id="idp-group-roles-error">Line 2 is not a group, =, then roles`)
	r = post(t, app, "/settings/identity-provider", good("group_roles", "staff = chief"))
	mustContain(t, r, `id="idp-group-roles-error">Line 1 is not`)
	r = post(t, app, "/settings/identity-provider", good("client_id", "client-"+w.b.slug, "issuer", worldIssuer))
	wantStatus(t, "b's client", r, 409)
	mustContain(t, r, `id="idp-client-id-error">Another organisation already uses this client`)
	if s, _ := w.s.IdentityProviderSettings(tenants.WithPrincipal(context.Background(), admin)); s.Issuer != worldIssuer {
		t.Fatalf("a refused form changed the provider: %+v", s)
	}
	wantStatus(t, "auditor", post(t, w.as(t, auditor), "/settings/identity-provider", good()), 403)

	// Saved, and the secret kept.
	r = post(t, app, "/settings/identity-provider", good())
	wantRedirect(t, "save", r, "/settings/identity-provider")
	if flashOf(r) != "flash.idp_saved" {
		t.Errorf("flash %q", flashOf(r))
	}
	s, err := w.s.IdentityProviderSettings(tenants.WithPrincipal(context.Background(), admin))
	if err != nil {
		t.Fatal(err)
	}
	if s.Issuer != "https://login.example.org/realms/afesip" || s.ClientID != "homeward-a" || !s.ClientSecretSet || s.GroupsClaim != "roles" ||
		!slices.Equal(s.GroupRoles["cn=staff,ou=groups"], []tenants.Role{tenants.RoleCaseManager, tenants.RoleCounsellor}) ||
		!slices.Equal(s.EmailDomains, []string{"afesip.org", "afesip.la"}) || !slices.Equal(s.Scopes, []string{"openid", "profile"}) {
		t.Errorf("saved: %+v", s)
	}
	// Removing the secret (a public client).
	wantRedirect(t, "remove the secret", post(t, app, "/settings/identity-provider", good("remove_secret", "yes")), "/settings/identity-provider")
	if s, _ := w.s.IdentityProviderSettings(tenants.WithPrincipal(context.Background(), admin)); s.ClientSecretSet {
		t.Error("the secret is still set")
	}

	// An organisation without a provider: its empty state. Nobody can sign
	// in there, so its admin's principal is made by hand.
	c := tenanttest.NewTenant(t, w.s)
	cid := uuid.New()
	cAdmin := &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: worldIssuer, Subject: "c.admin", MemberID: &cid},
		TenantID: c, TenantName: "C", Roles: []tenants.Role{tenants.RoleTenantAdmin}}
	r = get(t, w.as(t, cAdmin), "/settings/identity-provider")
	wantStatus(t, "none", r, 200)
	mustContain(t, r, "No identity provider is set up: nobody in your organisation can sign in until one is.", `name="issuer" value=""`, `value="groups"`)
}

// failingAdministration fails every read as a broken database would.
type failingAdministration struct{ pages.Administration }

func (failingAdministration) Members(context.Context, tenants.MemberQuery) (*tenants.MemberPage, error) {
	return nil, errors.New("connection refused: secret detail")
}

// TestErrorPages: errors outside the API are pages in the reader's
// language, with "Leave quickly" and no detail; the API keeps its JSON.
func TestErrorPages(t *testing.T) {
	w := newWorld(t)
	worker := w.a.members[tenants.RoleSocialWorker]
	worker.Locale, worker.LocaleChosen = "lo", true
	app := w.as(t, worker)
	r := get(t, app, "/no/such/page")
	wantStatus(t, "not found", r, 404)
	mustContain(t, r, `<html lang="lo">`, "ບໍ່ພົບໜ້ານີ້", "ອອກດ່ວນ", `href="/leave"`, "<title>ບໍ່ພົບໜ້ານີ້ · Homeward</title>")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	api := get(t, app, "/api/v1/no/such/thing")
	wantStatus(t, "API not found", api, 404)
	if !strings.HasPrefix(api.header.Get("Content-Type"), "application/json") || !strings.Contains(api.body, `"code":"not_found"`) {
		t.Errorf("the API's 404: %s %s", api.header.Get("Content-Type"), api.body)
	}
	// A program asking a page for JSON gets JSON.
	j := get(t, app, "/no/such/page", "Accept", "application/json")
	if !strings.Contains(j.body, `"code":"not_found"`) {
		t.Errorf("Accept: application/json on a page: %s", j.body)
	}

	// 500: the reference to quote, never the detail.
	deps := w.deps
	deps.Administration = failingAdministration{w.s}
	admin := w.a.members[tenants.RoleTenantAdmin]
	r = get(t, newServer(t, deps, admin), "/settings/members", "Accept-Language", "en")
	wantStatus(t, "internal", r, 500)
	mustContain(t, r, "<h1>Something went wrong</h1>", "Reference:", "<code>"+r.header.Get("X-Request-Id")+"</code>", "Leave quickly")
	mustNotContain(t, r, "secret detail", "connection refused")

	// 403 on a form: it may have expired.
	r = post(t, w.as(t, admin), "/settings/members/"+w.a.target.String()+"/enable", url.Values{})
	wantStatus(t, "no CSRF", r, 403)
	mustContain(t, r, "<h1>No access</h1>", "If you were sending a form, it may have expired")
}

// TestMemberLanguageAndOrganisations: the language picker keeps a member's
// choice with their membership (the real store), ahead of the
// organisation's; the switcher lists the identity's organisations.
func TestMemberLanguageAndOrganisations(t *testing.T) {
	w := newWorld(t)
	worker := w.a.members[tenants.RoleSocialWorker]
	r := post(t, w.as(t, worker), "/language", form(worker, "lang", "th", "next", "/"))
	wantRedirect(t, "choose Thai", r, "/")
	p, err := w.s.PrincipalOf(context.Background(), *worker.Actor.MemberID)
	if err != nil || p.Locale != "th" || !p.LocaleChosen {
		t.Fatalf("after choosing: %+v %v", p, err)
	}
	p.SessionID, p.CSRFToken = worker.SessionID, worker.CSRFToken
	mustContain(t, get(t, w.as(t, p), "/", "Accept-Language", "fr", "Cookie", "homeward_lang=ms"), `<html lang="th">`)

	// One identity in a and b: the switcher offers both, by name.
	subject := "both"
	pa := w.signIn(t, w.a, subject, "g-case_manager")
	w.signIn(t, w.b, subject, "g-lawyer")
	home := get(t, w.as(t, pa), "/")
	mustContain(t, home, `action="/auth/switch"`, `<option value="`+w.a.slug+`" selected>Organisation A</option>`,
		`<option value="`+w.b.slug+`">Organisation B</option>`)
	// Control: a member of one organisation gets no switcher.
	mustNotContain(t, get(t, w.as(t, worker), "/"), `action="/auth/switch"`)
}

// allPages fetches every page in every language: as anonymous, and as
// each role (the platform operator too) on the real store, with the form
// pages that show a created token, a mistake or a confirmation to tick.
func allPages(t *testing.T, visit func(name string, r response)) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	cm := w.a.members[tenants.RoleCaseManager]
	id := w.newCase(t, "Every")
	w.closedCase(t, "Due", time.Now().AddDate(-11, 0, 0)) // listed on the retention page
	casePath := "/cases/" + id.String()
	if _, err := cases.New(w.s).RequestErasure(ctxOf(cm), id, cases.ErasureDuplicate, ""); err != nil {
		t.Fatal(err)
	}
	// A kit request of the social worker's: the case manager sees its
	// decision form.
	if _, err := kits.New(w.s).Request(ctxOf(w.a.members[tenants.RoleSocialWorker]), id, kits.Request{BusinessPlan: "Sewing",
		Items: []kits.NewItem{{Description: "Sewing machine", Quantity: 1, UnitCostMinor: 6_510_000, Currency: kits.LAK}},
		Rates: []kits.NewRate{{Currency: kits.LAK, UnitsPerUSD: "21700"}}}); err != nil {
		t.Fatal(err)
	}
	casePaths := []string{"/cases", "/cases/new", "/cases/erasures", casePath + "/audit", casePath + "/kit"}
	for _, page := range []string{pages.CarePsychological, pages.CareMedical, pages.CareLegal, pages.CareSupport} {
		casePaths = append(casePaths, casePath+"/"+page)
	}
	for _, tab := range append(tenants.CaseParts, "") {
		casePaths = append(casePaths, casePath+"?tab="+tab)
	}
	for _, lang := range i18n.Languages {
		cookie := []string{"Cookie", "homeward_lang=" + lang}
		anon := w.as(t, nil)
		for _, path := range []string{"/", "/leave", "/no/such/page"} {
			visit(lang+" anonymous "+path, get(t, anon, path, cookie...))
		}
		for _, role := range tenants.Roles {
			p := w.a.members[role]
			if role == tenants.RolePlatformOperator {
				p = w.op
			}
			app := w.as(t, p)
			for _, path := range []string{"/", "/settings/members", "/settings/members/" + w.a.target.String(),
				"/settings/api-tokens", "/settings/identity-provider", "/settings/retention", "/settings/kit-limit", "/settings/followup", "/no/such/page"} {
				visit(lang+" "+string(role)+" "+path, get(t, app, path, cookie...))
			}
			for _, path := range casePaths {
				visit(lang+" "+string(role)+" "+path, get(t, app, path, cookie...))
			}
		}
		app := w.as(t, admin)
		post := func(path string, f url.Values) response {
			t.Helper()
			req := newFormRequest(path, f)
			req.Header.Set("Cookie", "homeward_lang="+lang)
			return do(t, app, req)
		}
		visit(lang+" token made", post("/settings/api-tokens", form(admin, "name", "n", "role", "auditor", "expires_days", "7")))
		visit(lang+" token mistakes", post("/settings/api-tokens", form(admin)))
		visit(lang+" revoke unconfirmed", post("/settings/api-tokens/"+uuid.NewString()+"/revoke", form(admin)))
		visit(lang+" disable unconfirmed", post("/settings/members/"+w.a.target.String()+"/disable", form(admin)))
		visit(lang+" idp mistakes", post("/settings/identity-provider", form(admin, "group_roles", "x")))
		visit(lang+" retention mistakes", post("/settings/retention", form(admin, "years", "x")))
		visit(lang+" kit limit mistakes", post("/settings/kit-limit", form(admin, "usd", "x")))
		visit(lang+" schedule mistakes", post("/settings/followup", form(admin, "years", "x", "monthly_months", "x", "then_every_months", "x", "remind_days_before", "x")))
		visit(lang+" form expired", post("/settings/members/"+w.a.target.String()+"/enable", url.Values{}))
		caseApp := w.as(t, cm)
		casePost := func(path string, f url.Values) response {
			t.Helper()
			req := newFormRequest(path, f)
			req.Header.Set("Cookie", "homeward_lang="+lang)
			return do(t, caseApp, req)
		}
		visit(lang+" intake mistakes", casePost("/cases", intakeForm(cm, "x", "prs_Gender", "x", "prs_Birthdate", "x",
			"prs_NumberOfChildren", "x", "consent_services_given_by", "")))
		visit(lang+" stage mistakes", casePost(casePath+"/stage", form(cm, "version", "1", "stage", "closed")))
		visit(lang+" assignment mistakes", casePost(casePath+"/assignment", form(cm, "owner", "x", "assigned_to", "x")))
		visit(lang+" group conflict", casePost(casePath+"/groups/identity", form(cm, "version", "1")))
		visit(lang+" consent mistakes", casePost(casePath+"/consent", form(cm, "purpose", "x")))
		visit(lang+" withdraw unconfirmed", casePost(casePath+"/consent/services/withdraw", form(cm)))
		visit(lang+" erasure unconfirmed", casePost(casePath+"/erasure", form(cm)))
		visit(lang+" erasure self", casePost("/cases/erasures/"+uuid.NewString()+"/approve", form(cm)))
		visit(lang+" kit mistakes", casePost(casePath+"/kit", form(cm, "item_0_description", "x", "item_0_cost", "x")))
		visit(lang+" support plan mistakes", casePost(casePath+"/support", form(cm, "form", "plan", "spl_Type", "x")))
	}
}

func newFormRequest(path string, f url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
