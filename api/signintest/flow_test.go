package signintest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// world is one Homeward with organisations signing in at one zitadel
// provider: alice is a caseworker, mallory is in no mapped group.
type world struct {
	h       *homewardServer
	op      *zitadelOP
	org     organisation // client "homeward-a"
	other   organisation // client "homeward-b", same provider
	alice   person
	mallory person
	domain  string // org's e-mail domain
}

func newWorld(t *testing.T, host string) *world {
	t.Helper()
	return newWorldWith(t, host)
}

// newWorldWith is newWorld with options for the server.
func newWorldWith(t *testing.T, host string, opts ...option) *world {
	t.Helper()
	h := startHomeward(t, host, opts...)
	w := &world{h: h,
		alice:   person{subject: "alice-" + uuid.NewString(), username: "alice", password: "pw-alice", groups: []string{"caseworkers", "volunteers"}},
		mallory: person{subject: "mallory-" + uuid.NewString(), username: "mallory", password: "pw-mallory", groups: []string{"visitors"}},
	}
	w.op = startZitadelOP(t, []person{w.alice, w.mallory},
		client{id: "homeward-a", secret: "secret-a", redirectURI: h.callbackURL()},
		client{id: "homeward-b", secret: "secret-b", redirectURI: h.callbackURL()},
		client{id: "homeward-c", secret: "secret-c", redirectURI: h.callbackURL()})
	w.domain = "org-" + uuid.NewString()[:8] + ".example.org"
	w.org = h.addOrganisation(w.op.issuer, "homeward-a", "secret-a", w.domain)
	w.other = h.addOrganisation(w.op.issuer, "homeward-b", "secret-b")
	return w
}

// wantCookie finds the Set-Cookie named name and checks the flags every
// Homeward cookie must have on a secure origin.
func wantCookie(t *testing.T, r reply, name string) *http.Cookie {
	t.Helper()
	for i, c := range r.cookies {
		if c.Name != name {
			continue
		}
		raw := r.raw[i]
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("Set-Cookie %q: want Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain", raw)
		}
		return c
	}
	t.Fatalf("no Set-Cookie %s in %q", name, r.raw)
	return nil
}

func TestSignInFlow(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	h, b := w.h, w.h.newBrowser(t)

	// GET /login?tenant=: a 302 to the provider with code flow, PKCE S256,
	// state and nonce, and the login cookie.
	loginURL := h.base + "/login?tenant=" + w.org.slug + "&next=/cases%3Fstatus%3Dopen"
	start := b.get(loginURL)
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, w.op.issuer+"/auth?") {
		t.Fatalf("GET /login = %d to %q; want 302 to the provider's authorization endpoint", start.status, start.location)
	}
	q := mustQuery(t, start.location)
	for param, want := range map[string]string{"response_type": "code", "client_id": "homeward-a",
		"redirect_uri": h.callbackURL(), "code_challenge_method": "S256"} {
		if q.Get(param) != want {
			t.Errorf("authorization request %s = %q, want %q", param, q.Get(param), want)
		}
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	for _, param := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(param)) != 43 {
			t.Errorf("authorization request %s = %q, want 43 random characters", param, q.Get(param))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are the same value")
	}
	login := wantCookie(t, start, "__Host-homeward-login")
	if login.MaxAge != 600 || strings.Contains(start.location, login.Value) {
		t.Errorf("login cookie: Max-Age %d (want 600), and its value must not travel to the provider", login.MaxAge)
	}

	// Through the provider's login page and back.
	callback := b.toCallbackFrom(w.op, loginURL, "alice")
	done := b.get(callback)
	if done.status != http.StatusSeeOther || done.location != "/cases?status=open" {
		t.Fatalf("callback = %d to %q (%s); want 303 to the page asked for", done.status, done.location, done.body)
	}
	session := wantCookie(t, done, "__Host-homeward")
	if session.MaxAge != 0 || !session.Expires.IsZero() || len(session.Value) != 43 {
		t.Errorf("session cookie %q: want a browser-session cookie (no Max-Age, no Expires) holding a 43-character id", done.raw)
	}
	if c := wantCookie(t, done, "__Host-homeward-login"); c.MaxAge >= 0 && c.Expires.After(time.Now()) {
		t.Errorf("the login cookie is not cleared at the callback: %q", done.raw)
	}

	// The session stands for alice's membership, with the mapped role.
	status, p := b.whoami()
	if status != http.StatusOK || p["tenant"] != w.org.slug || p["subject"] != w.alice.subject {
		t.Fatalf("whoami = %d %v; want alice in %s", status, p, w.org.slug)
	}
	if roles, _ := p["roles"].([]any); len(roles) != 1 || roles[0] != string(tenants.RoleCaseManager) {
		t.Errorf("roles = %v, want [case_manager] (caseworkers maps to it; volunteers maps to nothing)", p["roles"])
	}
	// GET /api/v1/me, through the server's own authentication.
	status, me := b.me()
	if tenant, _ := me["tenant"].(map[string]any); status != http.StatusOK || tenant["slug"] != w.org.slug {
		t.Errorf("GET /api/v1/me = %d %v, want 200 with %s", status, me, w.org.slug)
	}
	if roles, _ := me["roles"].([]any); len(roles) != 1 || roles[0] != string(tenants.RoleCaseManager) {
		t.Errorf("GET /api/v1/me roles = %v", me["roles"])
	}
	if !slices.Contains(h.audit(w.org), "auth.login") {
		t.Errorf("audit = %v, want auth.login", h.audit(w.org))
	}

	// Another browser has no session.
	if status, _ := h.newBrowser(t).me(); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me without the cookie: %d, want 401", status)
	}

	// A fresh session id at every sign-in; the previous one ends.
	first := b.sessionCookie()
	b.signIn(w.op, w.org.slug, "alice")
	if second := b.sessionCookie(); second == first || second == "" {
		t.Fatal("a second sign-in kept the session id")
	}
	b2 := h.newBrowser(t)
	b2.setSessionCookie("__Host-homeward", first)
	if status, _ := b2.whoami(); status != http.StatusUnauthorized {
		t.Errorf("the session before the second sign-in: %d, want 401 (ended)", status)
	}

	// Nothing personal in the log: no subject, no username, no e-mail.
	for _, personal := range []string{w.alice.subject, "alice@example.org", session.Value} {
		if strings.Contains(h.logs.String(), personal) {
			t.Errorf("the log holds %q", personal)
		}
	}
}

func TestSignInWithoutAMappedGroupIsRefused(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	b := w.h.newBrowser(t)
	// Control: alice, in a mapped group, gets in.
	w.h.newBrowser(t).signIn(w.op, w.org.slug, "alice")

	r := b.get(b.toCallback(w.op, w.org.slug, "mallory"))
	if r.status != http.StatusForbidden {
		t.Fatalf("mallory's callback = %d %s, want 403", r.status, r.body)
	}
	if b.sessionCookie() != "" {
		t.Error("a refused sign-in set a session cookie")
	}
	if got := w.h.audit(w.org); !slices.Contains(got, "auth.login_failed/no_role") {
		t.Errorf("audit = %v, want auth.login_failed/no_role", got)
	}
}

func TestOrganisationSuspendedDuringSignIn(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	// Control: a sign-in that completes.
	w.h.newBrowser(t).signIn(w.op, w.org.slug, "alice")

	b := w.h.newBrowser(t)
	callback := b.toCallback(w.op, w.org.slug, "alice")
	if _, err := w.h.store.SetTenantStatus(context.Background(), w.org.slug, tenants.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if r := b.get(callback); r.status != http.StatusForbidden || b.sessionCookie() != "" {
		t.Fatalf("callback after the organisation was suspended = %d %s, want 403 and no session", r.status, r.body)
	}
	if got := w.h.audit(w.org); !slices.Contains(got, "auth.login_failed/suspended") {
		t.Errorf("audit = %v, want auth.login_failed/suspended", got)
	}
}

func TestOrganisationChooser(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	b := w.h.newBrowser(t)

	page := b.get(w.h.base + "/login")
	if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /login = %d %s, want the chooser page", page.status, page.header.Get("Content-Type"))
	}
	for _, org := range []organisation{w.org, w.other} {
		if !strings.Contains(page.body, `href="/login?tenant=`+org.slug+`"`) {
			t.Errorf("the chooser does not link %s:\n%s", org.slug, page.body)
		}
	}
	if strings.Contains(page.body, "<script") {
		t.Error("the chooser has a script")
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(page.body, `<style nonce="`) || !strings.Contains(csp, "'nonce-") {
		t.Error("the chooser's style does not carry the response's CSP nonce")
	}

	// A suspended organisation is not offered, and cannot be signed in to.
	_, err := w.h.store.SetTenantStatus(context.Background(), w.other.slug, tenants.StatusSuspended)
	if err != nil {
		t.Fatal(err)
	}
	if page := b.get(w.h.base + "/login"); strings.Contains(page.body, w.other.slug) || !strings.Contains(page.body, w.org.slug) {
		t.Errorf("after suspending %s the chooser shows:\n%s", w.other.slug, page.body)
	}
	if r := b.get(w.h.base + "/login?tenant=" + w.other.slug); r.status != http.StatusForbidden {
		t.Errorf("GET /login of a suspended organisation = %d, want 403", r.status)
	}
	if r := b.get(w.h.base + "/login?tenant=no-such-org"); r.status != http.StatusNotFound {
		t.Errorf("GET /login of an unknown organisation = %d, want 404", r.status)
	}

	// From an e-mail address: its domain finds the organisation.
	email := "someone@" + strings.ToUpper(w.domain)
	r := b.get(w.h.base + "/login?email=" + url.QueryEscape(email))
	if r.status != http.StatusFound || r.location != "/login?"+(url.Values{"email": {email}, "tenant": {w.org.slug}}).Encode() {
		t.Errorf("GET /login?email= of a configured domain = %d to %q, want 302 to its organisation", r.status, r.location)
	}
	r = b.get(w.h.base + "/login?email=" + url.QueryEscape("someone@elsewhere.example.org"))
	if r.status != http.StatusOK || !strings.Contains(r.body, "No organisation") || !strings.Contains(r.body, w.org.slug) {
		t.Errorf("GET /login?email= of an unknown domain = %d, want the chooser with a note:\n%s", r.status, r.body)
	}
	// ... and goes on to the provider as login_hint.
	r = b.get(w.h.base + "/login?tenant=" + w.org.slug + "&email=" + url.QueryEscape("someone@"+w.domain))
	if q := mustQuery(t, r.location); q.Get("login_hint") != "someone@"+w.domain {
		t.Errorf("login_hint = %q", q.Get("login_hint"))
	}

	// Only a local page to land on afterwards.
	for _, next := range []string{"https://evil.example.org/", "//evil.example.org/x", "/\\evil.example.org"} {
		bb := w.h.newBrowser(t)
		r := bb.get(bb.toCallbackFrom(w.op, w.h.base+"/login?tenant="+w.org.slug+"&next="+url.QueryEscape(next), "alice"))
		if r.status != http.StatusSeeOther || r.location != "/" {
			t.Errorf("next=%q: callback sends the browser to %q, want /", next, r.location)
		}
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return u.Query()
}
