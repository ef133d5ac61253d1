package demoidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// sharedKey is one signing key for the whole package's tests (an RSA key
// takes a while to make, more so under -race): each test's data folder gets
// a copy, except where a test is about making the key.
var sharedKey struct {
	once sync.Once
	pem  []byte
	err  error
}

func demoConfig(t *testing.T, base string) *homeward.Config {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	dir := t.TempDir()
	sharedKey.once.Do(func() {
		keyDir, err := os.MkdirTemp("", "demoidp-key-")
		if err != nil {
			sharedKey.err = err
			return
		}
		defer os.RemoveAll(keyDir)
		if _, sharedKey.err = loadOrCreateKey(filepath.Join(keyDir, KeyFile)); sharedKey.err == nil {
			sharedKey.pem, sharedKey.err = os.ReadFile(filepath.Join(keyDir, KeyFile))
		}
	})
	if sharedKey.err != nil {
		t.Fatal(sharedKey.err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), sharedKey.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return &homeward.Config{Mode: homeward.ModeDemo, BaseURL: u, DataDir: dir, MasterKey: key}
}

// idpServer is the provider mounted at Path on an httptest server, whose
// address is BASE_URL.
type idpServer struct {
	*Provider
	base string
}

func startProvider(t *testing.T) *idpServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p, err := New(demoConfig(t, base), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, p)
	mux.Handle(Path+"/", p)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &idpServer{p, base}
}

// newBrowser is a browser with its own cookies that follows redirects until
// Homeward's callback, which it does not call (the test reads the code from
// the redirect instead).
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == CallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// relyingParty is Homeward's side of a sign-in: the organisation's settings
// as the provider gives them, the discovered provider and the OAuth config.
type relyingParty struct {
	idp      tenants.IdentityProvider
	provider *gooidc.Provider
	oauth    oauth2.Config
}

func newRelyingParty(t *testing.T, s *idpServer, slug string) *relyingParty {
	t.Helper()
	idp, ok := s.IdentityProvider(slug)
	if !ok {
		t.Fatalf("no client %s", slug)
	}
	provider, err := gooidc.NewProvider(context.Background(), idp.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &relyingParty{idp: idp, provider: provider, oauth: oauth2.Config{
		ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: s.base + CallbackPath, Scopes: idp.Scopes,
	}}
}

// signIn is one sign-in started by the relying party.
type signIn struct {
	state, nonce, verifier string
}

func newSignIn() signIn {
	return signIn{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
}

func (rp *relyingParty) authURL(si signIn) string {
	return rp.oauth.AuthCodeURL(si.state, oauth2.S256ChallengeOption(si.verifier), gooidc.Nonce(si.nonce))
}

type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func fetch(t *testing.T, browser *http.Client, method, target string, form url.Values) page {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = browser.PostForm(target, form)
	} else {
		resp, err = browser.Get(target)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Request.URL, resp.Header, string(b)}
}

// loginForm is what the login page offers, read from its HTML.
type loginForm struct {
	action, method, requestID string
	accounts                  []string // the radio buttons' values
	labelled                  bool     // every radio button has its label
	scripts                   int
}

func parseLoginForm(t *testing.T, body string) loginForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var f loginForm
	ids, labels := map[string]bool{}, map[string]bool{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		attr := func(name string) string {
			for _, a := range n.Attr {
				if a.Key == name {
					return a.Val
				}
			}
			return ""
		}
		switch n.Data {
		case "script":
			f.scripts++
		case "form":
			f.action, f.method = attr("action"), attr("method")
		case "label":
			labels[attr("for")] = true
		case "input":
			switch {
			case attr("type") == "hidden" && attr("name") == fieldRequest:
				f.requestID = attr("value")
			case attr("type") == "radio" && attr("name") == fieldAccount:
				f.accounts = append(f.accounts, attr("value"))
				ids[attr("id")] = true
			}
		}
	}
	f.labelled = len(ids) == len(f.accounts) && len(ids) > 0
	for id := range ids {
		f.labelled = f.labelled && labels[id]
	}
	return f
}

// openLogin starts a sign-in in browser and returns the login page's form.
func openLogin(t *testing.T, browser *http.Client, rp *relyingParty, si signIn) loginForm {
	t.Helper()
	p := fetch(t, browser, http.MethodGet, rp.authURL(si), nil)
	if p.status != http.StatusOK || p.url.Path != Path+loginPath {
		t.Fatalf("authorize: %d at %s, want the login page: %.300s", p.status, p.url, p.body)
	}
	return parseLoginForm(t, p.body)
}

// choose posts the login form with subject and returns the code and state
// the provider sent to Homeward's callback.
func choose(t *testing.T, browser *http.Client, f loginForm, subject string) (code, state string) {
	t.Helper()
	p := fetch(t, browser, http.MethodPost, f.action, url.Values{fieldRequest: {f.requestID}, fieldAccount: {subject}})
	if p.status != http.StatusFound {
		t.Fatalf("login as %s: %d at %s, want a redirect to the callback: %.300s", subject, p.status, p.url, p.body)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil || loc.Path != CallbackPath || loc.Query().Get("code") == "" {
		t.Fatalf("login as %s: redirected to %q, want %s with a code", subject, p.header.Get("Location"), CallbackPath)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

// TestConstructorRefusesProduction: the provider exists in demo mode only.
func TestConstructorRefusesProduction(t *testing.T) {
	cfg := demoConfig(t, "https://homeward.example.org")
	if p, err := New(cfg, nil); err != nil || p == nil {
		t.Fatalf("control: demo mode: %v", err)
	}
	cfg.Mode = homeward.ModeProduction
	p, err := New(cfg, nil)
	var he *homeward.Error
	if p != nil || !errors.As(err, &he) || he.Code != homeward.EFORBIDDEN {
		t.Fatalf("production: got %v, %v; want a forbidden error and no provider", p, err)
	}
}

// TestDiscoveryAndKeys: the discovery document names this issuer and its
// endpoints (end session included), PKCE S256 and the groups claim; the
// JWKS has the one RS256 signing key.
func TestDiscoveryAndKeys(t *testing.T) {
	s := startProvider(t)
	if want := s.base + "/demo-idp"; s.Issuer() != want {
		t.Fatalf("issuer %s, want %s", s.Issuer(), want)
	}
	var disco struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		EndSession    string   `json:"end_session_endpoint"`
		Userinfo      string   `json:"userinfo_endpoint"`
		PKCE          []string `json:"code_challenge_methods_supported"`
		Claims        []string `json:"claims_supported"`
		ResponseTypes []string `json:"response_types_supported"`
	}
	getJSON(t, s.Issuer()+"/.well-known/openid-configuration", &disco)
	if disco.Issuer != s.Issuer() {
		t.Errorf("issuer %q, want %q", disco.Issuer, s.Issuer())
	}
	for name, endpoint := range map[string]string{"authorization": disco.Authorization, "token": disco.Token,
		"jwks": disco.JWKS, "end_session": disco.EndSession, "userinfo": disco.Userinfo} {
		if !strings.HasPrefix(endpoint, s.Issuer()+"/") {
			t.Errorf("%s endpoint %q is not under the issuer", name, endpoint)
		}
	}
	if !slices.Contains(disco.PKCE, "S256") || !slices.Contains(disco.Claims, GroupsClaim) || !slices.Contains(disco.ResponseTypes, "code") {
		t.Errorf("PKCE %v, claims %v, response types %v", disco.PKCE, disco.Claims, disco.ResponseTypes)
	}

	var jwks struct {
		Keys []struct{ Kty, Kid, Alg, Use string } `json:"keys"`
	}
	getJSON(t, disco.JWKS, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Use != "sig" || jwks.Keys[0].Kid != s.storage.key.id {
		t.Errorf("JWKS %+v, want the one RS256 key %s", jwks.Keys, s.storage.key.id)
	}
}

func getJSON(t *testing.T, target string, v any) {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
}

// TestSignInWithCodeAndPKCE drives a whole sign-in as a browser and as
// Homeward would: the login page, a code, the exchange, and an ID token
// verified with go-oidc (issuer, audience, nonce, groups). Each refusal
// (wrong secret, wrong PKCE verifier, replayed code, another audience) sits
// beside the request that passes.
func TestSignInWithCodeAndPKCE(t *testing.T) {
	s := startProvider(t)
	rp := newRelyingParty(t, s, "afesip-laos")
	ctx := context.Background()

	browser := newBrowser(t)
	si := newSignIn()
	form := openLogin(t, browser, rp, si)
	code, state := choose(t, browser, form, "afesip-laos.case_manager")
	if state != si.state {
		t.Fatalf("state %q, want %q", state, si.state)
	}

	wrongSecret := rp.oauth
	wrongSecret.ClientSecret = "not-the-secret"
	_, err := wrongSecret.Exchange(ctx, code, oauth2.VerifierOption(si.verifier))
	expectOAuthError(t, "wrong client secret", err, http.StatusUnauthorized, "invalid_client")

	_, err = rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	expectOAuthError(t, "wrong PKCE verifier", err, http.StatusBadRequest, "invalid_grant")

	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(si.verifier))
	if err != nil {
		t.Fatalf("control: the exchange with the right secret and verifier: %v", err)
	}
	_, err = rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(si.verifier))
	expectOAuthError(t, "replayed code", err, http.StatusBadRequest, "invalid_grant")

	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: "afesip-laos"}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	var claims struct {
		Groups []string `json:"groups"`
		Name   string   `json:"name"`
		Locale string   `json:"locale"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Issuer != s.Issuer() || !slices.Equal(idt.Audience, []string{"afesip-laos"}) || idt.Subject != "afesip-laos.case_manager" ||
		idt.Nonce != si.nonce || !slices.Equal(claims.Groups, []string{"afesip-laos:case_manager"}) {
		t.Errorf("ID token: iss %s aud %v sub %s nonce %s groups %v", idt.Issuer, idt.Audience, idt.Subject, idt.Nonce, claims.Groups)
	}
	if claims.Name != "Demo case manager (AFESIP Laos)" || claims.Locale != "lo" {
		t.Errorf("ID token: name %q locale %q", claims.Name, claims.Locale)
	}
	if roles := rp.idp.GroupRoles[claims.Groups[0]]; !slices.Equal(roles, []tenants.Role{tenants.RoleCaseManager}) {
		t.Errorf("the organisation's settings map %s to %v", claims.Groups[0], roles)
	}
	if _, err := rp.provider.Verifier(&gooidc.Config{ClientID: "afesip-france"}).Verify(ctx, raw); err == nil {
		t.Error("the ID token verified for another organisation's client")
	}

	// The access token is a JWT of the same issuer that the userinfo
	// endpoint accepts, with the groups too.
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != "afesip-laos.case_manager" {
		t.Fatalf("userinfo: %v %+v", err, info)
	}

	// Logout at the provider: back to Homeward's registered page; any
	// other address is refused.
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := rp.provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	logout := func(postLogout string) page {
		q := url.Values{"id_token_hint": {raw}, "client_id": {"afesip-laos"}, "post_logout_redirect_uri": {postLogout}, "state": {"bye"}}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		return fetch(t, noFollow, http.MethodGet, meta.EndSession+"?"+q.Encode(), nil)
	}
	if p := logout(s.base + "/"); p.status != http.StatusFound || p.header.Get("Location") != s.base+"/?state=bye" {
		t.Errorf("end session: %d to %q, want a redirect to %s/", p.status, p.header.Get("Location"), s.base)
	}
	if p := logout("https://elsewhere.example/"); p.status != http.StatusBadRequest {
		t.Errorf("end session to another site: %d %q, want 400", p.status, p.header.Get("Location"))
	}
}

func expectOAuthError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != status || re.ErrorCode != code {
		t.Errorf("%s: got %v, want %d %s", what, err, status, code)
	}
}

// TestAuthorizeRefusals: an unregistered redirect URI and a request without
// PKCE S256 are refused, beside the same request that passes.
func TestAuthorizeRefusals(t *testing.T) {
	s := startProvider(t)
	rp := newRelyingParty(t, s, "afesip-france")
	browser := newBrowser(t)

	openLogin(t, browser, rp, newSignIn()) // control

	for _, redirect := range []string{s.base + "/auth/elsewhere", "https://attacker.example" + CallbackPath} {
		other := *rp
		other.oauth.RedirectURL = redirect
		p := fetch(t, browser, http.MethodGet, other.authURL(newSignIn()), nil)
		if p.status != http.StatusBadRequest || p.url.Path != Path+"/authorize" {
			t.Errorf("redirect URI %s: %d at %s, want 400 at authorize", redirect, p.status, p.url)
		}
	}

	// Without PKCE: the error goes back to the (registered) callback.
	p := fetch(t, browser, http.MethodGet, rp.oauth.AuthCodeURL("st", gooidc.Nonce("n")), nil)
	loc, _ := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusFound || loc == nil || loc.Path != CallbackPath || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("without PKCE: %d to %q, want invalid_request at the callback", p.status, p.header.Get("Location"))
	}
	// Another client's id is not a client here.
	other := *rp
	other.oauth.ClientID = "no-such-organisation"
	if p := fetch(t, browser, http.MethodGet, other.authURL(newSignIn()), nil); p.status != http.StatusBadRequest {
		t.Errorf("unknown client: %d at %s, want 400", p.status, p.url)
	}
}

// TestLoginPageListsTheOrganisationsAccounts: for each client the page
// offers exactly its organisation's accounts (the operator's client, the
// operator alone), as labelled radio buttons in a form posted to the
// provider, without any script, marked as demo sign-in.
func TestLoginPageListsTheOrganisationsAccounts(t *testing.T) {
	s := startProvider(t)
	roles := len(tenants.Roles) - 1 // every role but the platform operator
	for _, slug := range []string{"afesip-laos", "afesip-france", "demo-partner-th", "demo-partner-my", OperatorClientID} {
		t.Run(slug, func(t *testing.T) {
			rp := newRelyingParty(t, s, slug)
			browser := newBrowser(t)
			p := fetch(t, browser, http.MethodGet, rp.authURL(newSignIn()), nil)
			if p.status != http.StatusOK {
				t.Fatalf("login page: %d", p.status)
			}
			f := parseLoginForm(t, p.body)

			var want []string
			org := slug
			if slug == OperatorClientID {
				org = ""
				want = []string{OperatorSubject}
			} else {
				for _, r := range tenants.Roles {
					if r != tenants.RolePlatformOperator {
						want = append(want, slug+"."+string(r))
					}
				}
				if len(want) != roles {
					t.Fatalf("want %d accounts", roles)
				}
			}
			for _, a := range AccountsOf(org) {
				if a.Group != strings.ReplaceAll(a.Subject, ".", ":") && org != "" {
					t.Errorf("account %s has group %s", a.Subject, a.Group)
				}
			}
			if !slices.Equal(f.accounts, want) {
				t.Errorf("accounts offered %v, want %v", f.accounts, want)
			}
			if f.scripts != 0 || strings.Contains(strings.ToLower(p.body), "<script") {
				t.Error("the page has a script")
			}
			if !f.labelled {
				t.Error("a radio button has no label")
			}
			if f.method != "post" || f.action != s.Issuer()+loginPath || f.requestID == "" {
				t.Errorf("form method %q action %q request %q", f.method, f.action, f.requestID)
			}
			if !strings.Contains(p.body, "Demo sign-in — demo data only") || !strings.Contains(p.body, `name="viewport"`) {
				t.Error("the page is not marked as demo sign-in, or has no viewport")
			}
			if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestLoginFormRefusals: the form completes a sign-in only from the
// browser that was shown the page (its SameSite cookie), and only with an
// account of the client's organisation; beside each, the post that passes.
func TestLoginFormRefusals(t *testing.T) {
	s := startProvider(t)
	rp := newRelyingParty(t, s, "demo-partner-th")
	browser := newBrowser(t)
	form := openLogin(t, browser, rp, newSignIn())
	post := func(b *http.Client, subject string) page {
		return fetch(t, b, http.MethodPost, form.action, url.Values{fieldRequest: {form.requestID}, fieldAccount: {subject}})
	}

	// Another browser (a cross-site post carries no cookie either).
	if p := post(newBrowser(t), "demo-partner-th.lawyer"); p.status != http.StatusForbidden {
		t.Errorf("another browser: %d, want 403", p.status)
	}
	// Another organisation's account, the operator, no account.
	for _, subject := range []string{"afesip-laos.lawyer", OperatorSubject, ""} {
		if p := post(browser, subject); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Choose one of the accounts listed") {
			t.Errorf("account %q: %d, want 422 and the page again", subject, p.status)
		}
	}
	// Control: the same browser, an account of the organisation.
	code, _ := choose(t, browser, form, "demo-partner-th.lawyer")
	if code == "" {
		t.Fatal("no code")
	}
	// Once complete, the sign-in cannot be completed again.
	if p := post(browser, "demo-partner-th.auditor"); p.status != http.StatusBadRequest {
		t.Errorf("second completion: %d, want 400", p.status)
	}
}

// TestSigningKeyPersists: the key is made once, kept 0600 in the data
// folder, and used again after a restart (same key id); the client secrets
// follow the master key.
func TestSigningKeyPersists(t *testing.T) {
	cfg := demoConfig(t, "http://localhost:8080")
	if err := os.Remove(filepath.Join(cfg.DataDir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	first, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(cfg.DataDir, KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", err, info)
	}
	second, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.storage.key.id != second.storage.key.id || !first.storage.key.key.Equal(second.storage.key.key) {
		t.Error("the second start has another key")
	}
	a, _ := first.IdentityProvider("afesip-laos")
	b, _ := second.IdentityProvider("afesip-laos")
	if a.ClientSecret != b.ClientSecret || len(a.ClientSecret) < 40 {
		t.Errorf("client secrets %q and %q", a.ClientSecret, b.ClientSecret)
	}
	c, _ := second.IdentityProvider("afesip-france")
	cfg.MasterKey = make([]byte, 32)
	third, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := third.IdentityProvider("afesip-laos")
	if c.ClientSecret == a.ClientSecret || d.ClientSecret == a.ClientSecret {
		t.Error("client secrets are shared between clients or survive a new master key")
	}
}

// TestConfigureOrganisations, on a demo's own store (SQLite, through
// Store.PutIdentityProvider): every demo organisation gets this provider's
// settings, secret included; a second start changes nothing; settings
// naming a real provider are left alone, those of a demo provider at another
// address replaced; a missing organisation is skipped.
func TestConfigureOrganisations(t *testing.T) {
	ctx := context.Background()
	store := tenanttest.OpenSQLite(t)
	if _, err := store.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	idps := TenantStore(store)
	p, err := New(demoConfig(t, "http://localhost:8080"), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := p.ConfigureOrganisations(ctx, idps)
	if err != nil || len(changed) != 4 {
		t.Fatalf("first start: %v %v", changed, err)
	}
	for _, org := range tenants.DemoOrganisations {
		want, _ := p.IdentityProvider(org.Slug)
		got, err := idps.IdentityProviderOf(ctx, org.Slug)
		if err != nil || got == nil || !sameSettings(*got, want) {
			t.Errorf("%s: settings %+v (%v), want %+v", org.Slug, got, err, want)
		}
	}
	laos, _ := idps.IdentityProviderOf(ctx, "afesip-laos")
	if laos.Issuer != "http://localhost:8080/demo-idp" || laos.ClientID != "afesip-laos" || laos.GroupsClaim != "groups" ||
		len(laos.GroupRoles) != len(tenants.Roles)-1 || !slices.Equal(laos.GroupRoles["afesip-laos:lawyer"], []tenants.Role{tenants.RoleLawyer}) {
		t.Errorf("afesip-laos settings %+v", laos)
	}
	if changed, err := p.ConfigureOrganisations(ctx, idps); err != nil || len(changed) != 0 {
		t.Errorf("second start changed %v (%v)", changed, err)
	}

	// AFESIP Laos moves to its own Keycloak; the demo moves to port 9090.
	laosID, _ := store.TenantBySlug(ctx, "afesip-laos")
	secret := "keycloak-secret"
	operator := tenants.WithPrincipal(ctx, tenants.OperatorPrincipal("test"))
	if _, err := store.PutIdentityProvider(operator, laosID.ID, tenants.IdentityProviderChange{
		Issuer: "https://keycloak.example.org/realms/laos", ClientID: "homeward", ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: map[string][]tenants.Role{"staff": {tenants.RoleSocialWorker}},
	}); err != nil {
		t.Fatal(err)
	}
	moved, err := New(demoConfig(t, "http://localhost:9090"), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, err = moved.ConfigureOrganisations(ctx, idps)
	if err != nil || !slices.Equal(changed, []string{"afesip-france", "demo-partner-th", "demo-partner-my"}) {
		t.Errorf("after the move: changed %v (%v), want all but afesip-laos", changed, err)
	}
	if got, _ := idps.IdentityProviderOf(ctx, "afesip-laos"); got.Issuer != "https://keycloak.example.org/realms/laos" || got.ClientSecret != secret {
		t.Errorf("a real provider's settings were replaced: %+v", got)
	}
	if got, _ := idps.IdentityProviderOf(ctx, "afesip-france"); got.Issuer != "http://localhost:9090/demo-idp" {
		t.Errorf("afesip-france still at %s", got.Issuer)
	}

	// A store with one demo organisation only.
	partial := tenanttest.OpenSQLite(t)
	if _, err := partial.AddTenant(ctx, tenants.DemoOrganisations[1].NewTenant); err != nil {
		t.Fatal(err)
	}
	if changed, err := p.ConfigureOrganisations(ctx, TenantStore(partial)); err != nil || !slices.Equal(changed, []string{"afesip-france"}) {
		t.Errorf("partial store: changed %v (%v)", changed, err)
	}
}

// TestOperatorClient: the operator's client signs in the operator alone,
// whose group maps to platform_operator.
func TestOperatorClient(t *testing.T) {
	s := startProvider(t)
	rp := newRelyingParty(t, s, OperatorClientID)
	browser := newBrowser(t)
	si := newSignIn()
	form := openLogin(t, browser, rp, si)
	code, _ := choose(t, browser, form, OperatorSubject)
	tok, err := rp.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(si.verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: OperatorClientID}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Groups []string }
	_ = idt.Claims(&claims)
	if idt.Subject != OperatorSubject || !slices.Equal(claims.Groups, []string{OperatorGroup}) ||
		!slices.Equal(rp.idp.GroupRoles[OperatorGroup], []tenants.Role{tenants.RolePlatformOperator}) || len(rp.idp.GroupRoles) != 1 {
		t.Errorf("operator: sub %s groups %v map %v", idt.Subject, claims.Groups, rp.idp.GroupRoles)
	}
}

// TestOperatorSignInSettings: the operators' provider settings demo serve
// uses are the operator client's, with the group its ID tokens carry
// (TestOperatorClient) and that maps to platform_operator.
func TestOperatorSignInSettings(t *testing.T) {
	s := startProvider(t)
	o := s.OperatorSignIn()
	idp, ok := s.IdentityProvider(OperatorClientID)
	if !ok || o.Issuer != idp.Issuer || o.ClientID != OperatorClientID || o.ClientSecret != idp.ClientSecret ||
		o.GroupsClaim != idp.GroupsClaim || !slices.Equal(idp.GroupRoles[o.Group], []tenants.Role{tenants.RolePlatformOperator}) {
		t.Errorf("operator sign-in %+v, operator client %+v", o, idp)
	}
}
