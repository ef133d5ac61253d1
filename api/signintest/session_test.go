package signintest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// signedIn returns a browser signed in as alice at the world's organisation
// and alice's membership id.
func (w *world) signedIn(t *testing.T) (*browser, uuid.UUID) {
	t.Helper()
	b := w.h.newBrowser(t)
	b.signIn(w.op, w.org.slug, "alice")
	status, p := b.whoami()
	if status != http.StatusOK {
		t.Fatalf("control: just signed in, whoami = %d", status)
	}
	return b, uuid.MustParse(p["member"].(string))
}

func TestCSRF(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	b, _ := w.signedIn(t)
	token := b.csrfToken()
	whoami := w.h.probe + "/whoami"
	origin := w.h.base

	cases := []struct {
		name   string
		form   url.Values
		header []string
		target string
		want   int
	}{
		{"control: header token, own Origin", nil, []string{"X-CSRF-Token", token, "Origin", origin}, whoami, 200},
		{"control: form token, Sec-Fetch-Site same-origin", url.Values{"csrf_token": {token}}, []string{"Sec-Fetch-Site", "same-origin"}, whoami, 200},
		{"control: token, no Origin nor Sec-Fetch-Site (not a browser)", url.Values{"csrf_token": {token}}, nil, whoami, 200},
		{"no token", nil, []string{"Origin", origin}, whoami, 403},
		{"another session's token", nil, []string{"X-CSRF-Token", tenants.RandomToken(), "Origin", origin}, whoami, 403},
		{"token in the query string only", nil, []string{"Origin", origin}, whoami + "?csrf_token=" + token, 403},
		{"token, another Origin", nil, []string{"X-CSRF-Token", token, "Origin", "https://evil.example.org"}, whoami, 403},
		{"token, Origin null", nil, []string{"X-CSRF-Token", token, "Origin", "null"}, whoami, 403},
		{"token, cross-site", url.Values{"csrf_token": {token}}, []string{"Sec-Fetch-Site", "cross-site", "Origin", origin}, whoami, 403},
		{"token, same-site (a sibling subdomain)", url.Values{"csrf_token": {token}}, []string{"Sec-Fetch-Site", "same-site"}, whoami, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := b.post(tc.target, tc.form, tc.header...); r.status != tc.want {
				t.Errorf("POST = %d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
	// A safe method needs no token.
	if r := b.get(whoami, "Origin", "https://evil.example.org"); r.status != http.StatusOK {
		t.Errorf("GET without a token = %d, want 200", r.status)
	}

	// Homeward's own cookie routes: refused without the token, the session
	// untouched; accepted with it.
	for _, target := range []string{"/logout", "/auth/switch"} {
		r := b.post(w.h.base+target, url.Values{"tenant": {w.other.slug}}, "Origin", origin)
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s without the token = %d, want 403", target, r.status)
		}
		r = b.post(w.h.base+target, url.Values{"tenant": {w.other.slug}, "csrf_token": {token}}, "Origin", "https://evil.example.org")
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s from another origin = %d, want 403", target, r.status)
		}
	}
	if status, _ := b.whoami(); status != http.StatusOK {
		t.Fatalf("refused state changes ended the session: %d", status)
	}
	if r := b.post(w.h.base+"/logout", url.Values{"csrf_token": {token}}, "Origin", origin); r.status != http.StatusSeeOther {
		t.Errorf("control: POST /logout with the token = %d %s, want 303", r.status, r.body)
	}
}

func TestLogout(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	b, member := w.signedIn(t)
	cookie := b.sessionCookie()
	token := b.csrfToken()

	r := b.post(w.h.base+"/logout", url.Values{"csrf_token": {token}}, "Origin", w.h.base)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, w.op.issuer+"/end_session?") {
		t.Fatalf("POST /logout = %d to %q, want 303 to the provider's end_session_endpoint", r.status, r.location)
	}
	q := mustQuery(t, r.location)
	if q.Get("client_id") != "homeward-a" || q.Get("post_logout_redirect_uri") != w.h.base+"/" {
		t.Errorf("end-session parameters %v", q)
	}
	// The hint is the ID token the provider issued for alice.
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, w.op.issuer)
	if err != nil {
		t.Fatal(err)
	}
	hint, err := provider.Verifier(&oidc.Config{ClientID: "homeward-a", SkipExpiryCheck: true}).Verify(ctx, q.Get("id_token_hint"))
	if err != nil || hint.Subject != w.alice.subject {
		t.Errorf("id_token_hint: %v (subject %v), want alice's ID token", err, hint)
	}
	if c := wantCookie(t, r, "__Host-homeward"); c.Value != "" || (c.MaxAge >= 0 && c.Expires.After(time.Now())) {
		t.Errorf("logout did not clear the cookie: %q", r.raw)
	}
	if got := w.h.audit(w.org); !slices.Contains(got, "auth.logout") {
		t.Errorf("audit = %v, want auth.logout", got)
	}

	// The same cookie, kept by a browser, no longer works.
	if status, _ := b.me(); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me after logout: %d, want 401", status)
	}
	b.setSessionCookie("__Host-homeward", cookie)
	if status, _ := b.me(); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with the old cookie after logout: %d, want 401", status)
	}
	// Logging out again: nothing to end, home.
	if r := b.post(w.h.base+"/logout", url.Values{"csrf_token": {token}}, "Origin", w.h.base); r.status != http.StatusSeeOther || r.location != w.h.base+"/" {
		t.Errorf("POST /logout without a live session = %d to %q, want 303 to /", r.status, r.location)
	}

	// Other sessions of the same membership live on.
	b2, member2 := w.signedIn(t)
	if member2 != member {
		t.Fatalf("a second sign-in made another membership")
	}
	b3, _ := w.signedIn(t)
	b3.post(w.h.base+"/logout", url.Values{"csrf_token": {b3.csrfToken()}}, "Origin", w.h.base)
	if status, _ := b2.whoami(); status != http.StatusOK {
		t.Errorf("logging out one browser ended another: %d", status)
	}
}

func TestLogoutWithoutEndSessionEndpointGoesHome(t *testing.T) {
	w := newMintWorld(t) // its provider publishes no end_session_endpoint
	r, b, _ := w.attempt(t, w.orgA)
	w.wantSignedIn(t, r, b, "sign-in")
	r = b.post(w.h.base+"/logout", url.Values{"csrf_token": {b.csrfToken()}}, "Origin", w.h.base)
	if r.status != http.StatusSeeOther || r.location != w.h.base+"/" {
		t.Errorf("POST /logout = %d to %q, want 303 to %s/", r.status, r.location, w.h.base)
	}
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", status)
	}
}

func TestChangesTakeEffectOnTheNextRequest(t *testing.T) {
	ctx := context.Background()

	t.Run("member disabled", func(t *testing.T) {
		w := newWorld(t, "127.0.0.1")
		b, member := w.signedIn(t)
		if status, _ := b.me(); status != http.StatusOK {
			t.Fatalf("control: GET /api/v1/me before = %d", status)
		}
		if _, err := w.h.store.SetMemberDisabled(adminCtx(w.org), member, true); err != nil {
			t.Fatal(err)
		}
		if status, _ := b.me(); status != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/me after disabling the member: %d, want 401", status)
		}
		if r := b.get(b.toCallback(w.op, w.org.slug, "alice")); r.status != http.StatusForbidden {
			t.Errorf("signing in again while disabled = %d, want 403", r.status)
		}
		// Enabling again lets the member sign in, but does not bring the
		// ended session back.
		ended := b.sessionCookie()
		if _, err := w.h.store.SetMemberDisabled(adminCtx(w.org), member, false); err != nil {
			t.Fatal(err)
		}
		again, _ := w.signedIn(t)
		if status, _ := again.whoami(); status != http.StatusOK {
			t.Errorf("control: signed in after enabling: %d, want 200", status)
		}
		b.setSessionCookie("__Host-homeward", ended)
		if status, _ := b.whoami(); status != http.StatusUnauthorized {
			t.Errorf("the session that met the disabled member, after enabling: %d, want 401", status)
		}
	})

	t.Run("roles changed", func(t *testing.T) {
		w := newWorld(t, "127.0.0.1")
		b, member := w.signedIn(t)
		roles := func() []any {
			status, p := b.whoami()
			if status != http.StatusOK {
				return nil
			}
			return p["roles"].([]any)
		}
		if _, err := w.h.store.SetMemberRoles(adminCtx(w.org), member, []tenants.Role{tenants.RoleCounsellor}, nil); err != nil {
			t.Fatal(err)
		}
		if got := roles(); !slices.Equal(got, []any{"case_manager", "counsellor"}) {
			t.Errorf("after adding counsellor: %v", got)
		}
		if _, err := w.h.store.SetMemberRoles(adminCtx(w.org), member, []tenants.Role{tenants.RoleCounsellor}, []tenants.Role{tenants.RoleCaseManager}); err != nil {
			t.Fatal(err)
		}
		if got := roles(); !slices.Equal(got, []any{"counsellor"}) {
			t.Errorf("after removing case_manager: %v", got)
		}
		if _, err := w.h.store.SetMemberRoles(adminCtx(w.org), member, nil, []tenants.Role{tenants.RoleCaseManager}); err != nil {
			t.Fatal(err)
		}
		if status, _ := b.whoami(); status != http.StatusUnauthorized {
			t.Errorf("with no role left: %d, want 401", status)
		}
	})

	t.Run("organisation suspended", func(t *testing.T) {
		w := newWorld(t, "127.0.0.1")
		b, _ := w.signedIn(t)
		inOther := w.h.newBrowser(t)
		inOther.signIn(w.op, w.other.slug, "alice")
		if status, _ := b.me(); status != http.StatusOK {
			t.Fatalf("control: GET /api/v1/me before = %d", status)
		}
		if _, err := w.h.store.SetTenantStatus(ctx, w.org.slug, tenants.StatusSuspended); err != nil {
			t.Fatal(err)
		}
		if status, _ := b.me(); status != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/me after suspending the organisation: %d, want 401", status)
		}
		if status, _ := inOther.whoami(); status != http.StatusOK {
			t.Errorf("control: a session in another organisation: %d, want 200", status)
		}
		if _, err := w.h.store.SetTenantStatus(ctx, w.org.slug, tenants.StatusActive); err != nil {
			t.Fatal(err)
		}
		if status, _ := b.whoami(); status != http.StatusUnauthorized {
			t.Errorf("after reactivating, the session that met the suspension: %d, want 401 (ended)", status)
		}
	})
}

func TestSessionTimeouts(t *testing.T) {
	w := newWorld(t, "127.0.0.1")

	t.Run("idle", func(t *testing.T) {
		defer w.h.clock.Reset()
		b, _ := w.signedIn(t)
		for i := range 3 {
			w.h.clock.Advance(tenants.SessionIdleTimeout - time.Minute)
			if status, _ := b.me(); status != http.StatusOK {
				t.Fatalf("used every 29 minutes (%d): %d, want 200", i+1, status)
			}
		}
		w.h.clock.Advance(tenants.SessionIdleTimeout)
		if status, _ := b.me(); status != http.StatusUnauthorized {
			t.Errorf("after 30 minutes idle: %d, want 401", status)
		}
	})

	t.Run("absolute", func(t *testing.T) {
		defer w.h.clock.Reset()
		b, _ := w.signedIn(t)
		var used time.Duration
		for used+25*time.Minute < tenants.SessionAbsoluteTimeout {
			w.h.clock.Advance(25 * time.Minute)
			used += 25 * time.Minute
			if status, _ := b.whoami(); status != http.StatusOK {
				t.Fatalf("busy, %v after sign-in: %d, want 200", used, status)
			}
		}
		w.h.clock.Advance(tenants.SessionAbsoluteTimeout - used)
		if status, _ := b.me(); status != http.StatusUnauthorized {
			t.Errorf("12 hours after sign-in, however busy: %d, want 401", status)
		}
	})
}

func TestSwitchOrganisation(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	// alice is a member of both organisations (she signed in to each once).
	w.h.newBrowser(t).signIn(w.op, w.other.slug, "alice")
	b, _ := w.signedIn(t)
	before := b.sessionCookie()
	token := b.csrfToken()

	// Not a member (mallory never got into a third organisation): refused.
	third := w.h.addOrganisation(w.op.issuer, "homeward-c", "secret-c")
	if r := b.post(w.h.base+"/auth/switch", url.Values{"tenant": {third.slug}, "csrf_token": {token}}, "Origin", w.h.base); r.status != http.StatusForbidden {
		t.Errorf("switching to an organisation alice is no member of = %d, want 403", r.status)
	}
	if status, p := b.whoami(); status != http.StatusOK || p["tenant"] != w.org.slug {
		t.Fatalf("a refused switch changed the session: %d %v", status, p)
	}

	r := b.post(w.h.base+"/auth/switch", url.Values{"tenant": {w.other.slug}, "csrf_token": {token}}, "Origin", w.h.base)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /auth/switch = %d %s, want 303", r.status, r.body)
	}
	wantCookie(t, r, "__Host-homeward")
	if status, p := b.whoami(); status != http.StatusOK || p["tenant"] != w.other.slug || p["subject"] != w.alice.subject {
		t.Errorf("after switching: %d %v, want alice in %s", status, p, w.other.slug)
	}
	if after := b.sessionCookie(); after == before {
		t.Error("switching kept the session id")
	}
	old := w.h.newBrowser(t)
	old.setSessionCookie("__Host-homeward", before)
	if status, _ := old.whoami(); status != http.StatusUnauthorized {
		t.Errorf("the session before the switch: %d, want 401", status)
	}
	if !slices.Contains(w.h.audit(w.other), "auth.switch") {
		t.Errorf("audit of %s = %v, want auth.switch", w.other.slug, w.h.audit(w.other))
	}

	// An organisation that moved to another provider since: sign in there.
	if _, err := w.h.store.PutIdentityProvider(operatorCtx(), w.org.id, tenants.IdentityProviderChange{
		Issuer: "https://new-idp.example.org", ClientID: "homeward-a", GroupsClaim: "groups",
		GroupRoles: map[string][]tenants.Role{"caseworkers": {tenants.RoleCaseManager}},
	}); err != nil {
		t.Fatal(err)
	}
	r = b.post(w.h.base+"/auth/switch", url.Values{"tenant": {w.org.slug}, "csrf_token": {b.csrfToken()}}, "Origin", w.h.base)
	if r.status != http.StatusSeeOther || r.location != "/login?tenant="+w.org.slug {
		t.Errorf("switching to an organisation with another provider = %d to %q, want 303 to its /login", r.status, r.location)
	}
}

// TestPlainHTTPAwayFromLocalhost: a demo served over plain HTTP on a name
// other than localhost cannot use Secure cookies; it falls back to a cookie
// named homeward without Secure (still HttpOnly, SameSite=Lax, Path=/) and
// says so at startup.
func TestPlainHTTPAwayFromLocalhost(t *testing.T) {
	w := newWorld(t, "homeward.test")
	if !strings.Contains(w.h.logs.String(), "sign-in cookies are not Secure") {
		t.Error("no warning at startup")
	}
	b := w.h.newBrowser(t)
	start := b.get(w.h.base + "/login?tenant=" + w.org.slug)
	r := b.get(b.toCallback(w.op, w.org.slug, "alice"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("callback = %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		reply reply
		name  string
	}{{start, "homeward-login"}, {r, "homeward"}} {
		var found *http.Cookie
		for _, ck := range c.reply.cookies {
			if ck.Name == c.name {
				found = ck
			}
		}
		if found == nil || found.Secure || !found.HttpOnly || found.SameSite != http.SameSiteLaxMode || found.Path != "/" {
			t.Errorf("Set-Cookie %q: want %s, not Secure, HttpOnly, SameSite=Lax, Path=/", c.reply.raw, c.name)
		}
	}
	if status, _ := b.whoami(); status != http.StatusOK {
		t.Fatalf("signed in over plain HTTP: %d", status)
	}
	if r := b.post(w.h.base+"/logout", url.Values{"csrf_token": {b.csrfToken()}}, "Origin", "http://evil.example.org"); r.status != http.StatusForbidden {
		t.Errorf("logout from another origin = %d, want 403", r.status)
	}
	if r := b.post(w.h.base+"/logout", url.Values{"csrf_token": {b.csrfToken()}}, "Origin", w.h.base); r.status != http.StatusSeeOther {
		t.Errorf("logout from the base URL's origin = %d, want 303", r.status)
	}
}
