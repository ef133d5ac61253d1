package signintest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The negative suite: every way a callback can be forged or replayed is
// refused (401, no session, the reason logged and audited), each beside a
// control that passes through the same provider and organisation.

// mintWorld is one Homeward with two organisations, each with its own
// minting provider.
type mintWorld struct {
	h      *homewardServer
	a, b   *mintOP
	orgA   organisation
	orgB   organisation
	others *rsa.PrivateKey // a key no provider publishes
}

func newMintWorld(t *testing.T) *mintWorld {
	t.Helper()
	h := startHomeward(t, "127.0.0.1")
	w := &mintWorld{h: h, a: startMintOP(t, "client-a", "secret-a"), b: startMintOP(t, "client-b", "secret-b")}
	w.orgA = h.addOrganisation(w.a.issuer, "client-a", "secret-a")
	w.orgB = h.addOrganisation(w.b.issuer, "client-b", "secret-b")
	var err error
	if w.others, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	return w
}

// attempt signs in at org through its minting provider with a fresh
// browser and returns the callback's answer, the browser, and what the log
// and the audit log held before the callback.
func (w *mintWorld) attempt(t *testing.T, org organisation) (reply, *browser, mark) {
	t.Helper()
	b := w.h.newBrowser(t)
	callback := b.mintCallback(org.slug)
	m := w.h.mark(org)
	return b.get(callback), b, m
}

// mark is how much the log and an organisation's audit log held.
type mark struct {
	org   organisation
	logs  int
	audit int
}

func (h *homewardServer) mark(org organisation) mark {
	m := mark{org: org, logs: len(h.logs.String())}
	if org.slug != "" {
		m.audit = len(h.audit(org))
	}
	return m
}

// wantRefused checks that the callback was refused and left no session,
// and that the refusal, with its reason, came into the log and (when the
// organisation is known, m.org) into its audit log since m.
func (h *homewardServer) wantRefused(t *testing.T, r reply, b *browser, m mark, reason string) {
	t.Helper()
	if r.status != http.StatusUnauthorized {
		t.Errorf("callback = %d %s, want 401", r.status, r.body)
	}
	if b.sessionCookie() != "" {
		t.Error("a refused callback set a session cookie")
	}
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Errorf("after a refused callback the browser is %d, want 401", status)
	}
	if logs := h.logs.String()[m.logs:]; !strings.Contains(logs, "sign-in refused") || !strings.Contains(logs, "reason="+reason+" ") {
		t.Errorf("the log does not give the reason %s:\n%s", reason, logs)
	}
	if m.org.slug != "" {
		if got := h.audit(m.org)[m.audit:]; !slices.Equal(got, []string{"auth.login_failed/" + reason}) {
			t.Errorf("audit since the attempt = %v, want [auth.login_failed/%s]", got, reason)
		}
	}
}

func (w *mintWorld) wantSignedIn(t *testing.T, r reply, b *browser, what string) {
	t.Helper()
	if r.status != http.StatusSeeOther || b.sessionCookie() == "" {
		t.Fatalf("control (%s): callback = %d %s, want 303 with a session", what, r.status, r.body)
	}
	if status, _ := b.whoami(); status != http.StatusOK {
		t.Fatalf("control (%s): signed in, but the session is %d", what, status)
	}
}

// badIDToken is a way an ID token can be wrong, the reason it is refused
// for, and how the provider m mints it.
type badIDToken struct {
	name   string
	reason string
	mint   func(m *mintOP) func(claims map[string]any) string
}

// badIDTokens are the faulty ID tokens every sign-in must refuse; w.b is
// another provider (another organisation's) and w.others a key nobody
// publishes.
func badIDTokens(w *mintWorld) []badIDToken {
	noneToken := func(claims map[string]any) string {
		head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
		body, _ := json.Marshal(claims)
		return base64.RawURLEncoding.EncodeToString(head) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
	}
	return []badIDToken{
		{"wrong issuer", "wrong_issuer", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string { c["iss"] = "https://evil.example.org"; return m.sign(c) }
		}},
		{"another organisation's issuer, signed with this provider's key", "wrong_issuer", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string { c["iss"] = w.b.issuer; return m.sign(c) }
		}},
		{"another organisation's provider's genuine token", "bad_signature", func(*mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				c["iss"], c["aud"], c["azp"] = w.b.issuer, "client-b", "client-b"
				return w.b.sign(c)
			}
		}},
		{"wrong audience", "wrong_audience", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				c["aud"], c["azp"] = "another-client", "another-client"
				return m.sign(c)
			}
		}},
		{"several audiences, issued to another", "wrong_audience", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				c["aud"], c["azp"] = []string{m.clientID, "another-client"}, "another-client"
				return m.sign(c)
			}
		}},
		{"expired", "token_expired", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				c["iat"], c["exp"] = time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-time.Minute).Unix()
				return m.sign(c)
			}
		}},
		{"bad signature", "bad_signature", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string { return signWith(w.others, m.keyID, "RS256", c) }
		}},
		{"bad signature, tampered claims", "bad_signature", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				parts := strings.Split(m.sign(c), ".")
				c["sub"] = "someone-else"
				body, _ := json.Marshal(c)
				return parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2]
			}
		}},
		{"alg none", "bad_signature", func(*mintOP) func(map[string]any) string { return noneToken }},
		{"nonce mismatch", "nonce_mismatch", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string {
				c["nonce"] = "another-sign-in-s-nonce-0123456789abcdefghij"
				return m.sign(c)
			}
		}},
		{"nonce missing", "nonce_mismatch", func(m *mintOP) func(map[string]any) string {
			return func(c map[string]any) string { delete(c, "nonce"); return m.sign(c) }
		}},
	}
}

func TestCallbackRefusesBadIDTokens(t *testing.T) {
	w := newMintWorld(t)
	cases := badIDTokens(w)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Control: the same provider's good token signs in.
			w.a.setMint(w.a.sign)
			r, b, _ := w.attempt(t, w.orgA)
			w.wantSignedIn(t, r, b, "a good token")

			w.a.setMint(tc.mint(w.a))
			r, b, m := w.attempt(t, w.orgA)
			w.h.wantRefused(t, r, b, m, tc.reason)
		})
	}
	w.a.setMint(w.a.sign)

	// Organisation B's own provider, its own token: B is fine with it.
	r, b, _ := w.attempt(t, w.orgB)
	w.wantSignedIn(t, r, b, "organisation B's own provider")
	if status, p := b.whoami(); status != http.StatusOK || p["tenant"] != w.orgB.slug {
		t.Errorf("signed in at B as %v", p)
	}
}

func TestCallbackRefusesForgedOrReplayedState(t *testing.T) {
	w := newMintWorld(t)

	// Control: an untouched callback signs in.
	r, b, _ := w.attempt(t, w.orgA)
	w.wantSignedIn(t, r, b, "untouched callback")

	t.Run("state mismatch", func(t *testing.T) {
		b := w.h.newBrowser(t)
		callback := b.mintCallback(w.orgA.slug)
		q := mustQuery(t, callback)
		q.Set("state", strings.Repeat("x", 43))
		m := w.h.mark(w.orgA)
		r := b.get(w.h.callbackURL() + "?" + q.Encode())
		w.h.wantRefused(t, r, b, m, "state_mismatch")
		// The attempt is used up: the genuine state no longer works either.
		m = w.h.mark(organisation{})
		r = b.get(callback)
		w.h.wantRefused(t, r, b, m, "no_login_attempt")
	})

	t.Run("state from another browser", func(t *testing.T) {
		victim, attacker := w.h.newBrowser(t), w.h.newBrowser(t)
		callback := victim.mintCallback(w.orgA.slug)
		attacker.mintCallback(w.orgA.slug) // an attempt of its own, other state
		m := w.h.mark(w.orgA)
		r := attacker.get(callback)
		w.h.wantRefused(t, r, attacker, m, "state_mismatch")

		// Without any login cookie at all.
		if r := victim.get(victim.mintCallback(w.orgA.slug)); r.status != http.StatusSeeOther {
			t.Fatalf("control: the victim's own fresh callback = %d", r.status)
		}
		stranger := w.h.newBrowser(t)
		m = w.h.mark(organisation{})
		r = stranger.get(victim.mintCallback(w.orgA.slug))
		w.h.wantRefused(t, r, stranger, m, "no_login_attempt")
	})

	t.Run("replayed callback", func(t *testing.T) {
		b := w.h.newBrowser(t)
		callback := b.mintCallback(w.orgA.slug)
		if r := b.get(callback); r.status != http.StatusSeeOther {
			t.Fatalf("control: first use = %d %s", r.status, r.body)
		}
		// A second browser that kept a copy of the login cookie replays
		// the whole callback: the attempt is single use.
		thief := w.h.newBrowser(t)
		u, _ := url.Parse(w.h.base)
		loginCookie := &http.Cookie{Name: "__Host-homeward-login", Value: "copied", Path: "/"}
		thief.jar.SetCookies(u, []*http.Cookie{loginCookie})
		m := w.h.mark(organisation{})
		r := thief.get(callback)
		w.h.wantRefused(t, r, thief, m, "no_login_attempt")
		// And the same browser again (its login cookie was cleared).
		r = b.get(callback)
		if r.status != http.StatusUnauthorized {
			t.Errorf("the callback replayed in the same browser = %d, want 401", r.status)
		}
	})

	t.Run("expired attempt", func(t *testing.T) {
		b := w.h.newBrowser(t)
		callback := b.mintCallback(w.orgA.slug)
		w.h.clock.Advance(11 * time.Minute)
		defer w.h.clock.Reset()
		m := w.h.mark(organisation{})
		r := b.get(callback)
		w.h.wantRefused(t, r, b, m, "no_login_attempt")
	})

	t.Run("provider error", func(t *testing.T) {
		b := w.h.newBrowser(t)
		q := mustQuery(t, b.mintCallback(w.orgA.slug))
		m := w.h.mark(w.orgA)
		r := b.get(w.h.callbackURL() + "?" + url.Values{"state": {q.Get("state")}, "error": {"access_denied"}}.Encode())
		w.h.wantRefused(t, r, b, m, "provider_denied")
	})

	t.Run("issuer parameter of another provider", func(t *testing.T) {
		b := w.h.newBrowser(t)
		q := mustQuery(t, b.mintCallback(w.orgA.slug))
		q.Set("iss", w.b.issuer)
		m := w.h.mark(w.orgA)
		r := b.get(w.h.callbackURL() + "?" + q.Encode())
		w.h.wantRefused(t, r, b, m, "wrong_issuer")
	})
}

// TestReplayedCodeIsRefused uses the real provider: a code redeemed once
// is refused the second time, and a stolen code cannot be redeemed in
// another browser's sign-in (its PKCE verifier does not match).
func TestReplayedCodeIsRefused(t *testing.T) {
	w := newWorld(t, "127.0.0.1")
	victim := w.h.newBrowser(t)
	callback := victim.toCallback(w.op, w.org.slug, "alice")
	code := mustQuery(t, callback).Get("code")
	if r := victim.get(callback); r.status != http.StatusSeeOther {
		t.Fatalf("control: the victim's sign-in = %d %s", r.status, r.body)
	}

	// The attacker starts a sign-in of its own (state and verifier of its
	// own) and puts the victim's code in its callback.
	attacker := w.h.newBrowser(t)
	own := mustQuery(t, attacker.toCallback(w.op, w.org.slug, "mallory"))
	r := attacker.get(w.h.callbackURL() + "?" + url.Values{"code": {code}, "state": {own.Get("state")}}.Encode())
	if r.status != http.StatusUnauthorized || attacker.sessionCookie() != "" {
		t.Fatalf("a replayed code = %d %s, want 401 and no session", r.status, r.body)
	}
	if !slices.Contains(w.h.audit(w.org), "auth.login_failed/code_exchange_failed") {
		t.Errorf("audit = %v, want auth.login_failed/code_exchange_failed", w.h.audit(w.org))
	}

	// A code not yet redeemed, stolen before the victim used it: still the
	// attacker's verifier does not match the victim's challenge.
	victim2 := w.h.newBrowser(t)
	fresh := mustQuery(t, victim2.toCallback(w.op, w.org.slug, "alice")).Get("code")
	attacker2 := w.h.newBrowser(t)
	own = mustQuery(t, attacker2.toCallback(w.op, w.org.slug, "mallory"))
	r = attacker2.get(w.h.callbackURL() + "?" + url.Values{"code": {fresh}, "state": {own.Get("state")}}.Encode())
	if r.status != http.StatusUnauthorized || attacker2.sessionCookie() != "" {
		t.Fatalf("a stolen, unused code = %d %s, want 401 and no session", r.status, r.body)
	}
}
