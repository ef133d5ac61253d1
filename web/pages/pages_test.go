package pages_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
	"github.com/afesip/homeward/web/pages"
	"github.com/afesip/homeward/web/static"
)

type pinger struct{}

func (pinger) Ping(context.Context) error { return nil }

// fakeNotifications answers a fixed count and records whom it was asked
// about.
type fakeNotifications struct {
	mu             sync.Mutex
	count          int64
	err            error
	tenant, member uuid.UUID
}

func (f *fakeNotifications) UnreadNotifications(_ context.Context, tenant, member uuid.UUID) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenant, f.member = tenant, member
	return f.count, f.err
}

type fakeSettings map[string]string

func (f fakeSettings) OrganisationSettings(context.Context, uuid.UUID) (map[string]string, error) {
	return f, nil
}

type fakeMemberships []pages.Organisation

func (f fakeMemberships) Organisations(context.Context, *tenants.Principal) ([]pages.Organisation, error) {
	return f, nil
}

// fakeLocaleSaver records the language saved, and for whom.
type fakeLocaleSaver struct {
	saved string
	who   *tenants.Principal
}

func (f *fakeLocaleSaver) SetMemberLocale(ctx context.Context, lang string) error {
	f.saved, f.who = lang, tenants.PrincipalFrom(ctx)
	return nil
}

// sessionOf stands in for sign-in's session resolver: every request is
// signed in as p (nil: anonymous), and the server's own authentication
// middleware puts p into the request's context.
type sessionOf struct{ p *tenants.Principal }

func (s sessionOf) Principal(*fiber.Ctx) (*tenants.Principal, error) { return s.p, nil }

var (
	tenantID = uuid.MustParse("0195f0a0-0000-7000-8000-000000000001")
	memberID = uuid.MustParse("0195f0a0-0000-7000-8000-000000000002")
)

// principal is a member of "AFESIP Laos" with roles.
func principal(roles ...tenants.Role) *tenants.Principal {
	id := memberID
	return &tenants.Principal{
		Actor:    tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://idp.example", Subject: "s1", MemberID: &id},
		TenantID: tenantID, TenantSlug: "afesip-laos", TenantName: "AFESIP Laos",
		Roles: roles, SessionID: "sess", CSRFToken: "csrf-token-1",
	}
}

// newServer is the API server with the pages, as p (nil: anonymous).
func newServer(t *testing.T, deps pages.Deps, p *tenants.Principal) *fiber.App {
	t.Helper()
	if deps.Config == nil {
		deps.Config = &homeward.Config{Mode: homeward.ModeDemo, BaseURL: &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}}
	}
	if deps.Now == nil {
		deps.Now = func() time.Time { return time.Date(2026, time.March, 5, 20, 0, 0, 0, time.UTC) }
	}
	pg, err := pages.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	app := api.NewServer(api.Deps{Config: deps.Config, Database: pinger{}, Pages: pg, Sessions: sessionOf{p}, RateLimit: 1 << 20})
	t.Cleanup(func() { _ = app.Shutdown() })
	return app
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, app *fiber.App, req *http.Request) response {
	t.Helper()
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, app *fiber.App, target string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, app, req)
}

func post(t *testing.T, app *fiber.App, target string, form url.Values, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, app, req)
}

func mustContain(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("the page lacks %q:\n%s", p, r.body)
		}
	}
}

func mustNotContain(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.body, p) {
			t.Errorf("the page has %q:\n%s", p, r.body)
		}
	}
}

func TestLandingPageWhenSignedOut(t *testing.T) {
	app := newServer(t, pages.Deps{}, nil)
	r := get(t, app, "/")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", r.status, r.header.Get("Content-Type"))
	}
	mustContain(t, r, `<html lang="en">`, "Welcome to Homeward", `href="/login"`, `href="/leave"`, "Leave quickly",
		`action="/language"`, "Demo mode")
	mustNotContain(t, r, "Sign out", `action="/logout"`, "Dashboard", "csrf_token")
	// The security headers still apply: no caching of pages, a CSP.
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self' 'nonce-") {
		t.Errorf("CSP = %q", r.header.Get("Content-Security-Policy"))
	}
	// In production there is no demo notice.
	prod := newServer(t, pages.Deps{Config: &homeward.Config{Mode: homeward.ModeProduction, BaseURL: &url.URL{Scheme: "https", Host: "h.example"}}}, nil)
	mustNotContain(t, get(t, prod, "/"), "Demo mode")
}

// TestDashboardPerRole: each role lands on a dashboard with its cards and
// its menu; the administration menu only for tenant admins and auditors,
// the statistics card for those who may read them, the queue monitor only
// for the platform operator.
func TestDashboardPerRole(t *testing.T) {
	deps := pages.Deps{QueueMonitor: "/ops/queues", DemoMailbox: "/demo/mailbox"}
	// The statistics card (statistics.read): its link.
	statsLink := `href="/api/v1/statistics/cases.csv"`
	stats := statsLink + `>Download anonymised statistics (CSV)</a>`
	for _, tc := range []struct {
		role    tenants.Role
		want    []string
		notWant []string
	}{
		{tenants.RoleCaseManager, []string{"Case manager", "Cases", "Repatriation handoffs", stats, "Groups of fewer than 11 cases are left out"},
			[]string{`href="/settings/members"`, "Queue monitor", "Donations", "Audit log", `href="/settings/retention"`}},
		{tenants.RoleSocialWorker, []string{"Social worker", "Cases", "Repatriation handoffs"}, []string{`href="/settings/members"`, statsLink}},
		{tenants.RoleCounsellor, []string{"Counsellor", "Cases"}, []string{"Repatriation handoffs"}},
		{tenants.RoleMedicalOfficer, []string{"Medical officer", "Cases"}, []string{"Prevention"}},
		{tenants.RoleLawyer, []string{"Lawyer", "Cases"}, []string{"Donations"}},
		{tenants.RoleOutreachWorker, []string{"Outreach worker", "Prevention"}, []string{"Audit log"}},
		{tenants.RoleVillageVolunteer, []string{"Village volunteer", "Prevention"}, []string{"Cases<", "Repatriation handoffs"}},
		{tenants.RoleFinanceOfficer, []string{"Finance officer", "Donations", "No gifts recorded yet."}, []string{"Cases<"}},
		{tenants.RoleTenantAdmin, []string{"Administrator", `href="/settings/members"`, `href="/settings/api-tokens"`,
			`href="/settings/identity-provider"`, `href="/settings/retention"`, "Members and settings", "Audit log", stats},
			[]string{"Queue monitor", "Cases<"}},
		{tenants.RoleAuditor, []string{"Auditor", `href="/settings/members"`, "Audit log"}, []string{"Donations", "Cases<"}},
		{tenants.RolePlatformOperator, []string{"Platform operator", `href="/ops/queues"`, "You never see their case files."},
			[]string{`href="/settings/members"`, "Cases<"}},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			r := get(t, newServer(t, deps, principal(tc.role)), "/")
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			mustContain(t, r, "<h1>Dashboard</h1>", "AFESIP Laos", `action="/logout"`,
				`name="csrf_token" value="csrf-token-1"`, `aria-current="page"`, "Today is 5 March 2026.")
			mustContain(t, r, tc.want...)
			mustNotContain(t, r, tc.notWant...)
			mustNotContain(t, r, `href="/login"`, "⟦")
		})
	}
	// The organisation's time zone decides the day: 20:00 UTC on the 5th
	// is already the 6th in Vientiane.
	r := get(t, newServer(t, pages.Deps{Settings: fakeSettings{"time_zone": "Asia/Vientiane"}}, principal(tenants.RoleCaseManager)), "/",
		"Accept-Language", "en")
	mustContain(t, r, "Today is 6 March 2026.", `datetime="2026-03-06"`)
}

// TestTitleNamesNoData: a page title is a message, never data (the
// organisation's name is on the page, not in the title or the history).
func TestTitleNamesNoData(t *testing.T) {
	p := principal(tenants.RoleCaseManager)
	p.TenantName = "Canary Shelter"
	r := get(t, newServer(t, pages.Deps{}, p), "/")
	title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(r.body)
	if title == nil || title[1] != "Dashboard · Homeward" {
		t.Errorf("title %q", title)
	}
	mustContain(t, r, "Canary Shelter") // control: the name is on the page
}

func TestNotificationsCount(t *testing.T) {
	n := &fakeNotifications{count: 1234}
	r := get(t, newServer(t, pages.Deps{Notifications: n}, principal(tenants.RoleSocialWorker)), "/")
	mustContain(t, r, "1,234 unread notifications")
	if n.tenant != tenantID || n.member != memberID {
		t.Errorf("asked about tenant %s member %s", n.tenant, n.member)
	}
	n.count = 1
	mustContain(t, get(t, newServer(t, pages.Deps{Notifications: n}, principal(tenants.RoleSocialWorker)), "/"), "1 unread notification<")
	n.count = 0
	mustContain(t, get(t, newServer(t, pages.Deps{Notifications: n}, principal(tenants.RoleSocialWorker)), "/"), "No unread notifications")
	// In Lao, with Lao's number format.
	n.count = 1234
	p := principal(tenants.RoleSocialWorker)
	p.Locale, p.LocaleChosen = "lo", true
	mustContain(t, get(t, newServer(t, pages.Deps{Notifications: n}, p), "/"), "ການແຈ້ງເຕືອນທີ່ຍັງບໍ່ໄດ້ອ່ານ 1.234 ລາຍການ")
	// A failing count degrades to no count, not to an error page.
	n.err = errors.New("database down")
	r = get(t, newServer(t, pages.Deps{Notifications: n}, principal(tenants.RoleSocialWorker)), "/")
	if r.status != 200 || strings.Contains(r.body, `id="notifications"`) {
		t.Errorf("with the count failing: %d\n%s", r.status, r.body)
	}
}

func TestOrganisationSwitcher(t *testing.T) {
	one := fakeMemberships{{Slug: "afesip-laos", Name: "AFESIP Laos"}}
	r := get(t, newServer(t, pages.Deps{Memberships: one}, principal(tenants.RoleCaseManager)), "/")
	mustNotContain(t, r, `action="/auth/switch"`)
	mustContain(t, r, `class="org-name">AFESIP Laos<`)
	two := append(one, pages.Organisation{Slug: "afesip-france", Name: "AFESIP France"})
	r = get(t, newServer(t, pages.Deps{Memberships: two}, principal(tenants.RoleCaseManager)), "/")
	mustContain(t, r, `action="/auth/switch"`, `name="tenant"`, `<option value="afesip-laos" selected>AFESIP Laos</option>`,
		`<option value="afesip-france">AFESIP France</option>`, `<label for="organisation">`)
}

// TestLanguageChoice: the member's language, else this device's choice,
// else the browser's, else the organisation's, else English.
func TestLanguageChoice(t *testing.T) {
	lang := func(r response) string {
		m := regexp.MustCompile(`<html lang="([a-z]+)">`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no lang: %s", r.body)
		}
		return m[1]
	}
	org := pages.Deps{Settings: fakeSettings{"default_language": "fr"}}
	member := principal(tenants.RoleCaseManager)
	member.Locale, member.LocaleChosen = "lo", true
	// A principal's Locale that only stands in for the organisation's
	// default (no choice of the member's) comes after the device and the
	// browser, as the default does.
	defaulted := principal(tenants.RoleCaseManager)
	defaulted.Locale = "fr"
	for _, tc := range []struct {
		name    string
		p       *tenants.Principal
		headers []string
		want    string
	}{
		{"member", member, []string{"Cookie", "homeward_lang=th", "Accept-Language", "ms"}, "lo"},
		{"cookie", principal(tenants.RoleCaseManager), []string{"Cookie", "homeward_lang=th", "Accept-Language", "ms"}, "th"},
		{"browser", principal(tenants.RoleCaseManager), []string{"Accept-Language", "ms-MY,ms;q=0.9"}, "ms"},
		{"browser before the default", defaulted, []string{"Accept-Language", "th"}, "th"},
		{"cookie before the default", defaulted, []string{"Cookie", "homeward_lang=ms", "Accept-Language", "th"}, "ms"},
		{"organisation", principal(tenants.RoleCaseManager), []string{"Accept-Language", "de"}, "fr"},
		{"anonymous browser", nil, []string{"Accept-Language", "th-TH"}, "th"},
		{"anonymous nothing", nil, nil, "en"},
		{"bad cookie", nil, []string{"Cookie", "homeward_lang=xx"}, "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lang(get(t, newServer(t, org, tc.p), "/", tc.headers...)); got != tc.want {
				t.Errorf("lang %s, want %s", got, tc.want)
			}
		})
	}
	// Lao and Thai pages show Lao and Thai, with Buddhist Era dates.
	r := get(t, newServer(t, pages.Deps{}, member), "/")
	mustContain(t, r, "ໜ້າພາບລວມ", "5 ມີນາ ພ.ສ. 2569", "ອອກດ່ວນ", "ຜູ້ຈັດການກໍລະນີ")
	mustContain(t, get(t, newServer(t, pages.Deps{}, nil), "/", "Accept-Language", "th"), "ออกด่วน", "เข้าสู่ระบบ")
}

func TestSetLanguage(t *testing.T) {
	app := newServer(t, pages.Deps{}, nil)
	r := post(t, app, "/language", url.Values{"lang": {"lo"}, "next": {"/settings/members"}})
	if r.status != 303 || r.header.Get("Location") != "/settings/members" {
		t.Fatalf("POST /language = %d Location %q", r.status, r.header.Get("Location"))
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"homeward_lang=lo", "path=/", "HttpOnly", "SameSite=Lax", "max-age=31536000"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "secure") {
		t.Errorf("a Secure cookie on plain http: %q", cookie)
	}
	// The cookie then chooses the language.
	mustContain(t, get(t, app, "/", "Cookie", "homeward_lang=lo"), `<html lang="lo">`, "ຍິນດີຕ້ອນຮັບສູ່ Homeward")

	// next never leaves the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
		r := post(t, app, "/language", url.Values{"lang": {"th"}, "next": {next}})
		if r.header.Get("Location") != "/" {
			t.Errorf("next %q: Location %q", next, r.header.Get("Location"))
		}
	}
	if r := post(t, app, "/language", url.Values{"lang": {"de"}}); r.status != 422 {
		t.Errorf("an unsupported language: %d", r.status)
	}

	// Signed in: the form must carry the session's CSRF token; the choice
	// is saved with the membership, for the principal of the request.
	saver := &fakeLocaleSaver{}
	member := newServer(t, pages.Deps{LocaleSaver: saver}, principal(tenants.RoleCaseManager))
	if r := post(t, member, "/language", url.Values{"lang": {"fr"}, "next": {"/"}}); r.status != 403 || saver.saved != "" {
		t.Errorf("without the CSRF token: %d, saved %q", r.status, saver.saved)
	}
	if r := post(t, member, "/language", url.Values{"lang": {"fr"}, "next": {"/"}, "csrf_token": {"csrf-token-1"}}); r.status != 303 || saver.saved != "fr" ||
		saver.who == nil || *saver.who.Actor.MemberID != memberID {
		t.Errorf("with the CSRF token: %d, saved %q for %v", r.status, saver.saved, saver.who)
	}
	// A platform operator has no membership: the cookie alone remembers.
	saver.saved = ""
	op := principal(tenants.RolePlatformOperator)
	op.Actor.MemberID, op.TenantID = nil, uuid.Nil
	if r := post(t, newServer(t, pages.Deps{LocaleSaver: saver}, op), "/language", url.Values{"lang": {"th"}, "csrf_token": {"csrf-token-1"}}); r.status != 303 ||
		saver.saved != "" || !strings.Contains(r.header.Get("Set-Cookie"), "homeward_lang=th") {
		t.Errorf("operator: %d, saved %q, cookie %q", r.status, saver.saved, r.header.Get("Set-Cookie"))
	}

	// Over https the cookie is Secure.
	prod := newServer(t, pages.Deps{Config: &homeward.Config{Mode: homeward.ModeProduction, BaseURL: &url.URL{Scheme: "https", Host: "h.example"}}}, nil)
	if c := post(t, prod, "/language", url.Values{"lang": {"fr"}}).header.Get("Set-Cookie"); !strings.Contains(c, "secure") {
		t.Errorf("over https: %q", c)
	}
}

// TestNeutralPage: /leave names nothing of Homeward, loads no script, and
// speaks the reader's language.
func TestNeutralPage(t *testing.T) {
	app := newServer(t, pages.Deps{}, principal(tenants.RoleCaseManager))
	r := get(t, app, "/leave")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r, "<title>Sticky rice · Recipes</title>", "Soak the rice")
	mustNotContain(t, r, "Homeward", "<script", "AFESIP", "/logout", "csrf", "Leave quickly")
	mustContain(t, get(t, app, "/leave", "Cookie", "homeward_lang=lo"), `<html lang="lo">`, "ເຂົ້າໜຽວນຶ່ງ")
	// Every other page links to it, first.
	home := get(t, app, "/")
	if i, j := strings.Index(home.body, `href="/leave"`), strings.Index(home.body, "<a "); i < 0 || i != j+len(`<a class="leave" id="leave-quickly" `) {
		t.Errorf("the first link is not Leave quickly (%d, %d)", i, j)
	}
}

// TestEveryPageIsTranslatedAndScriptFree: no page shows a missing message,
// and none has inline script, inline style or event-handler attributes
// (the CSP would block them; the pages must not need them).
func TestEveryPageIsTranslatedAndScriptFree(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|<style|\sstyle=|\son[a-z]+=`)
	n := 0
	allPages(t, func(name string, r response) {
		n++
		if strings.Contains(r.body, "⟦") {
			t.Errorf("%s: a missing message: %s", name, r.body)
		}
		if m := inline.FindString(r.body); m != "" {
			t.Errorf("%s: inline script or style %q", name, m)
		}
	})
	if n < 200 {
		t.Errorf("only %d pages visited", n)
	}
	// Control: the pattern finds what it must.
	for _, bad := range []string{`<script>alert(1)</script>`, `<p style="x">`, `<a onclick="x">`, `<style>p{}</style>`} {
		if !inline.MatchString(bad) {
			t.Errorf("the check misses %s", bad)
		}
	}
	if inline.MatchString(`<script src="/static/app.js" defer></script>`) {
		t.Error("the check refuses a script file")
	}
}

// TestTemplatesNameOnlyKnownMessages: every message key written in a
// template exists (a key used only on a rarely shown branch is caught too).
func TestTemplatesNameOnlyKnownMessages(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`\.T "([^"]+)"`)
	found := 0
	err = fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile("templates/" + p)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			found++
			if !c.Has(m[1]) {
				t.Errorf("%s names the message %q, which does not exist", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Errorf("only %d keys found: is the pattern right?", found)
	}
}

func TestStaticAssets(t *testing.T) {
	app := newServer(t, pages.Deps{}, nil)
	home := get(t, app, "/")
	for _, name := range []string{"app.css", "app.js", "htmx.min.js"} {
		path := static.Path(name)
		if !regexp.MustCompile(`^/static/[a-z.]+\.[0-9a-f]{10}\.(css|js)$`).MatchString(path) {
			t.Errorf("%s: address %s has no content hash", name, path)
		}
		mustContain(t, home, `"`+path+`"`)
		r := get(t, app, path)
		if r.status != 200 || r.header.Get("Cache-Control") != static.CacheControl {
			t.Errorf("%s: %d Cache-Control %q", path, r.status, r.header.Get("Cache-Control"))
		}
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "css") && !strings.Contains(ct, "javascript") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: the security headers are missing", path)
		}
	}
	// Only the current content's address is served.
	for _, path := range []string{"/static/app.css", "/static/app.0000000000.css", "/static/../go.mod"} {
		if r := get(t, app, path); r.status != 404 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
}
