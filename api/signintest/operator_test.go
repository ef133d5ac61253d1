package signintest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
)

// Platform operators sign in at the platform's own provider
// (HOMEWARD_OPERATOR_*) through /login?operator=1, by the same flow as an
// organisation's people, and get a session with no organisation that opens
// the platform's pages (/ops/queues, /metrics) and no organisation's data.

const (
	operatorClient = "homeward-operator"
	operatorSecret = "secret-operator"
	operatorGroup  = "platform-ops"
)

// withOperators configures the operators' provider at issuer (client
// homeward-operator, group platform-ops in the claim groups).
func withOperators(issuer *string, group string) option {
	return func(h *homewardServer, cfg *homeward.Config) {
		cfg.OperatorSignIn = &homeward.OperatorSignIn{Issuer: *issuer, ClientID: operatorClient,
			ClientSecret: operatorSecret, GroupsClaim: "groups", Group: group}
	}
}

// operatorWorld is a world (an organisation at its own provider, alice a
// caseworker there) plus the operators' provider, a zitadel provider of its
// own, where olga is in the operator group and pete is not.
type operatorWorld struct {
	*world
	ops        *zitadelOP
	olga, pete person
}

func newOperatorWorld(t *testing.T) *operatorWorld {
	t.Helper()
	ow := &operatorWorld{
		olga: person{subject: "olga-" + uuid.NewString(), username: "olga", password: "pw-olga", groups: []string{"staff", operatorGroup}},
		pete: person{subject: "pete-" + uuid.NewString(), username: "pete", password: "pw-pete", groups: []string{"staff"}},
	}
	var issuer string
	start := func(h *homewardServer, cfg *homeward.Config) {
		ow.ops = startZitadelOP(t, []person{ow.olga, ow.pete}, client{id: operatorClient, secret: operatorSecret, redirectURI: h.callbackURL()})
		issuer = ow.ops.issuer
		withOperators(&issuer, operatorGroup)(h, cfg)
	}
	ow.world = newWorldWith(t, "127.0.0.1", start)
	return ow
}

// logLine finds the log line with msg and returns its key=value pairs.
func logLine(t *testing.T, logs, msg string) map[string]string {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) {
			out := map[string]string{}
			for _, m := range regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`).FindAllStringSubmatch(line, -1) {
				out[m[1]] = strings.Trim(m[2], `"`)
			}
			return out
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return nil
}

func TestOperatorSignIn(t *testing.T) {
	w := newOperatorWorld(t)
	h, b := w.h, w.h.newBrowser(t)
	auditBefore := h.audit(w.org)

	// GET /login?operator=1: a 302 to the operators' provider, same flow.
	start := b.get(h.base + "/login?operator=1&next=/ops/queues")
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, w.ops.issuer+"/auth?") {
		t.Fatalf("GET /login?operator=1 = %d to %q; want 302 to the operators' provider", start.status, start.location)
	}
	q := mustQuery(t, start.location)
	for param, want := range map[string]string{"response_type": "code", "client_id": operatorClient,
		"redirect_uri": h.callbackURL(), "code_challenge_method": "S256", "scope": "openid"} {
		if q.Get(param) != want {
			t.Errorf("authorization request %s = %q, want %q", param, q.Get(param), want)
		}
	}
	for _, param := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(param)) != 43 {
			t.Errorf("authorization request %s = %q, want 43 random characters", param, q.Get(param))
		}
	}
	wantCookie(t, start, "__Host-homeward-login")

	done := b.get(b.toCallbackFrom(w.ops, h.base+"/login?operator=1&next=/ops/queues", "olga"))
	if done.status != http.StatusSeeOther || done.location != "/ops/queues" {
		t.Fatalf("callback = %d to %q (%s); want 303 to /ops/queues", done.status, done.location, done.body)
	}
	wantCookie(t, done, "__Host-homeward")

	// The session: platform_operator alone, no organisation, no membership.
	status, p := b.whoami()
	if status != http.StatusOK || p["tenant"] != "" || p["member"] != nil || p["subject"] != w.olga.subject {
		t.Fatalf("whoami = %d %v; want olga with no organisation and no membership", status, p)
	}
	if roles, _ := p["roles"].([]any); len(roles) != 1 || roles[0] != "platform_operator" {
		t.Errorf("roles = %v, want [platform_operator]", p["roles"])
	}
	status, me := b.me()
	if roles, _ := me["roles"].([]any); status != http.StatusOK || me["tenant"] != nil || len(roles) != 1 || roles[0] != "platform_operator" {
		t.Errorf("GET /api/v1/me = %d %v, want platform_operator and no tenant", status, me)
	}

	// The platform's pages open; an organisation's data does not.
	for _, path := range []string{"/ops/queues", "/metrics"} {
		if r := b.get(h.base + path); r.status != http.StatusOK {
			t.Errorf("GET %s as the operator = %d %.200s, want 200", path, r.status, r.body)
		}
	}
	csrf := []string{"X-CSRF-Token", b.csrfToken(), "Origin", h.base}
	for _, path := range []string{"/api/v1/members", "/api/v1/tokens", "/api/v1/settings/identity-provider"} {
		if r := b.get(h.base+path, csrf...); r.status != http.StatusForbidden {
			t.Errorf("GET %s as the operator = %d %.200s, want 403", path, r.status, r.body)
		}
	}
	if r := b.post(h.base+"/auth/switch", url.Values{"tenant": {w.org.slug}}, csrf...); r.status != http.StatusForbidden {
		t.Errorf("POST /auth/switch as the operator = %d, want 403", r.status)
	}

	// Nothing went into the organisation's audit log; the log stream has
	// the sign-in with stable keys, the identity's id and not its subject.
	if got := h.audit(w.org); !slices.Equal(got, auditBefore) {
		t.Errorf("the organisation's audit log changed: %v -> %v", auditBefore, got)
	}
	in := logLine(t, h.logs.String(), "operator signed in")
	if in["audit"] != "auth.login" || in["actor_kind"] != "operator" || uuid.Validate(in["identity"]) != nil || len(in["session"]) != 32 {
		t.Errorf("sign-in log line %v: want audit=auth.login actor_kind=operator identity=<uuid> session=<handle>", in)
	}

	// Logout ends it, here and at the operators' provider.
	cookie := b.sessionCookie()
	r := b.post(h.base+"/logout", url.Values{"csrf_token": {b.csrfToken()}}, "Origin", h.base)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, w.ops.issuer+"/end_session?") {
		t.Fatalf("POST /logout = %d to %q, want 303 to the operators' provider's end_session_endpoint", r.status, r.location)
	}
	if q := mustQuery(t, r.location); q.Get("client_id") != operatorClient || q.Get("post_logout_redirect_uri") != h.base+"/" || q.Get("id_token_hint") == "" {
		t.Errorf("end-session parameters %v", q)
	}
	for _, path := range []string{"/ops/queues", "/metrics", "/api/v1/me"} {
		if r := b.get(h.base + path); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s after logout = %d, want 401", path, r.status)
		}
	}
	b.setSessionCookie("__Host-homeward", cookie)
	if r := b.get(h.base + "/ops/queues"); r.status != http.StatusUnauthorized {
		t.Errorf("GET /ops/queues with the old cookie after logout = %d, want 401", r.status)
	}
	out := logLine(t, h.logs.String(), "operator signed out")
	if out["audit"] != "auth.logout" || out["actor_kind"] != "operator" || out["identity"] != in["identity"] || out["session"] != in["session"] {
		t.Errorf("sign-out log line %v: want audit=auth.logout, the sign-in's identity %s and session %s", out, in["identity"], in["session"])
	}

	// Nothing personal in the log: no subject, username or e-mail.
	for _, personal := range []string{w.olga.subject, "olga@example.org", cookie} {
		if strings.Contains(h.logs.String(), personal) {
			t.Errorf("the log holds %q", personal)
		}
	}
}

func TestOperatorWithoutTheGroupIsRefused(t *testing.T) {
	w := newOperatorWorld(t)
	// Control: olga, in the operator group, gets in.
	control := w.h.newBrowser(t)
	if r := control.get(control.toOperatorCallback(w.ops, "olga")); r.status != http.StatusSeeOther {
		t.Fatalf("control: olga's callback = %d %s, want 303", r.status, r.body)
	}

	b := w.h.newBrowser(t)
	mark := len(w.h.logs.String())
	r := b.get(b.toOperatorCallback(w.ops, "pete"))
	if r.status != http.StatusForbidden {
		t.Fatalf("pete's callback = %d %s, want 403", r.status, r.body)
	}
	if b.sessionCookie() != "" {
		t.Error("a refused operator sign-in set a session cookie")
	}
	if r := b.get(w.h.base + "/ops/queues"); r.status != http.StatusUnauthorized {
		t.Errorf("GET /ops/queues after the refusal = %d, want 401", r.status)
	}
	refused := logLine(t, w.h.logs.String()[mark:], "operator sign-in refused")
	if refused["audit"] != "auth.login_failed" || refused["reason"] != "no_access" || refused["actor_kind"] != "operator" {
		t.Errorf("refusal log line %v", refused)
	}
	if strings.Contains(w.h.logs.String(), w.pete.subject) {
		t.Error("the log names pete")
	}

	// An organisation's people are no operators, whatever their groups:
	// alice at the organisation's provider cannot use the operators' flow
	// (she has no account there), and her member session is refused the
	// platform's pages.
	alice, _ := w.signedIn(t)
	if status, _ := alice.me(); status != http.StatusOK {
		t.Fatalf("control: alice's session = %d", status)
	}
	for _, path := range []string{"/ops/queues", "/metrics"} {
		if r := alice.get(w.h.base + path); r.status != http.StatusForbidden {
			t.Errorf("GET %s as an organisation's member = %d, want 403", path, r.status)
		}
	}
}

// TestOperatorSignInOff: without an operators' provider, /login?operator=1
// is 404 and the chooser offers no operator link; with one (the control)
// it offers it.
func TestOperatorSignInOff(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	b := w.h.newBrowser(t)
	if r := b.get(w.h.base + "/login?operator=1"); r.status != http.StatusNotFound {
		t.Errorf("GET /login?operator=1 without an operators' provider = %d, want 404", r.status)
	}
	if r := b.get(w.h.base + "/login"); strings.Contains(r.body, "operator=1") {
		t.Error("the chooser links the operators' sign-in, which is off")
	}
	ow := newOperatorWorld(t)
	ob := ow.h.newBrowser(t)
	if r := ob.get(ow.h.base + "/login"); !strings.Contains(r.body, `href="/login?operator=1"`) {
		t.Errorf("control: the chooser does not link the operators' sign-in:\n%s", r.body)
	}
	if r := ob.get(ow.h.base + "/login?operator=1&tenant=" + ow.org.slug); r.status != http.StatusUnprocessableEntity {
		t.Errorf("GET /login?operator=1&tenant= = %d, want 422", r.status)
	}
}

// TestOperatorCallbackRefusesBadIDTokens: the operators' callback checks
// the ID token exactly as an organisation's: each faulty token of the
// negative suite is refused (401, no session, the reason logged), beside a
// control through the same provider; so are a forged state and a replay.
func TestOperatorCallbackRefusesBadIDTokens(t *testing.T) {
	ops := startMintOP(t, operatorClient, operatorSecret)
	// The minting provider's tokens carry the group caseworkers.
	h := startHomeward(t, "127.0.0.1", withOperators(&ops.issuer, "caseworkers"))
	w := &mintWorld{h: h, a: ops, b: startMintOP(t, "client-b", "secret-b")}
	w.orgB = h.addOrganisation(w.b.issuer, "client-b", "secret-b")
	var err error
	if w.others, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	attempt := func(t *testing.T) (reply, *browser, mark) {
		t.Helper()
		b := h.newBrowser(t)
		callback := b.mintCallbackFrom(h.base + "/login?operator=1")
		m := h.mark(organisation{})
		return b.get(callback), b, m
	}
	wantOperator := func(t *testing.T, r reply, b *browser) {
		t.Helper()
		w.wantSignedIn(t, r, b, "a good token")
		if _, p := b.whoami(); p["tenant"] != "" || p["subject"] != "mint-person" {
			t.Fatalf("control: signed in as %v, want the operator", p)
		}
	}
	for _, tc := range badIDTokens(w) {
		t.Run(tc.name, func(t *testing.T) {
			ops.setMint(ops.sign)
			r, b, _ := attempt(t)
			wantOperator(t, r, b)

			ops.setMint(tc.mint(ops))
			r, b, m := attempt(t)
			h.wantRefused(t, r, b, m, tc.reason)
		})
	}
	ops.setMint(ops.sign)

	t.Run("state mismatch, then the attempt is used up", func(t *testing.T) {
		b := h.newBrowser(t)
		callback := b.mintCallbackFrom(h.base + "/login?operator=1")
		q := mustQuery(t, callback)
		q.Set("state", strings.Repeat("x", 43))
		m := h.mark(organisation{})
		h.wantRefused(t, b.get(h.callbackURL()+"?"+q.Encode()), b, m, "state_mismatch")
		m = h.mark(organisation{})
		h.wantRefused(t, b.get(callback), b, m, "no_login_attempt")
	})
	t.Run("an organisation's attempt does not become an operator's", func(t *testing.T) {
		// B's provider signs B's member in (control), and its genuine
		// token never opens an operator's session.
		b := h.newBrowser(t)
		if r := b.get(b.mintCallback(w.orgB.slug)); r.status != http.StatusSeeOther {
			t.Fatalf("control: B's sign-in = %d %s", r.status, r.body)
		}
		if _, p := b.whoami(); p["tenant"] != w.orgB.slug {
			t.Errorf("B's member signed in as %v", p)
		}
		if r := b.get(h.base + "/ops/queues"); r.status != http.StatusForbidden {
			t.Errorf("GET /ops/queues as B's member = %d, want 403", r.status)
		}
	})
	t.Run("operator sessions end when operators sign in elsewhere", func(t *testing.T) {
		r, b, _ := attempt(t)
		wantOperator(t, r, b)
		// The same database behind a server whose operators' provider is
		// another (the package's tests share one database; the browser's
		// cookie belongs to the host, whatever the port): the session
		// names an identity of the former provider.
		other := "https://operators.elsewhere.example.org"
		h2 := startHomeward(t, "127.0.0.1", withOperators(&other, "caseworkers"))
		if r := b.get(h2.base + "/ops/queues"); r.status != http.StatusUnauthorized {
			t.Errorf("GET /ops/queues with a session of the former operators' provider = %d, want 401", r.status)
		}
		if status, _ := b.whoami(); status != http.StatusUnauthorized {
			t.Errorf("that session afterwards, on the first server = %d, want 401 (ended)", status)
		}
	})
}
