package demoidp

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
)

type healthy struct{}

func (healthy) Ping(context.Context) error { return nil }

// serveApp mounts p on Homeward's own server (api.NewServer, as serve does)
// and serves it on ln.
func serveApp(t *testing.T, cfg *homeward.Config, p *Provider, ln net.Listener) {
	t.Helper()
	deps := api.Deps{Config: cfg, Database: healthy{}}
	if p != nil {
		deps.DemoIdentityProvider = p
	}
	app := api.NewServer(deps)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
}

// TestSignInThroughHomewardsServer: mounted on the serve app (fiber, its
// middleware and its Content-Security-Policy), the provider serves the
// whole sign-in, and the ID token verifies.
func TestSignInThroughHomewardsServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := demoConfig(t, base)
	p, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveApp(t, cfg, p, ln)
	s := &idpServer{p, base}

	// The provider's page and its stylesheet, under Homeward's CSP.
	page := fetch(t, http.DefaultClient, http.MethodGet, base+Path, nil)
	if page.status != http.StatusOK || page.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET %s: %d, CSP %q", Path, page.status, page.header.Get("Content-Security-Policy"))
	}
	if css := fetch(t, http.DefaultClient, http.MethodGet, base+Path+stylePath, nil); css.status != http.StatusOK || css.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("stylesheet: %d %q", css.status, css.header.Get("Content-Type"))
	}

	rp := newRelyingParty(t, s, "demo-partner-my")
	browser := newBrowser(t)
	si := newSignIn()
	form := openLogin(t, browser, rp, si)
	code, _ := choose(t, browser, form, "demo-partner-my.village_volunteer")
	tok, err := rp.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(si.verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: "demo-partner-my"}).Verify(context.Background(), raw)
	if err != nil || idt.Subject != "demo-partner-my.village_volunteer" || idt.Nonce != si.nonce {
		t.Fatalf("ID token: %v %+v", err, idt)
	}
}

// TestNotMountedInProduction: a production server does not route /demo-idp
// even when given a handler; the demo server given the same does (control).
func TestNotMountedInProduction(t *testing.T) {
	for _, mode := range []string{homeward.ModeDemo, homeward.ModeProduction} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		cfg := demoConfig(t, base)
		p, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Mode = mode
		serveApp(t, cfg, p, ln)
		want := map[string]int{homeward.ModeDemo: http.StatusOK, homeward.ModeProduction: http.StatusNotFound}[mode]
		for _, path := range []string{Path, Path + "/.well-known/openid-configuration", Path + "/keys"} {
			if got := fetch(t, http.DefaultClient, http.MethodGet, base+path, nil); got.status != want {
				t.Errorf("%s: GET %s = %d, want %d", mode, path, got.status, want)
			}
		}
	}
}

// TestAnswersMatchTheOpenAPIDocument: the provider's real answers, through
// the serve app, are what api/openapi.yaml says of /demo-idp (the api
// package's route check only sees a stand-in).
func TestAnswersMatchTheOpenAPIDocument(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := demoConfig(t, base)
	p, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveApp(t, cfg, p, ln)
	s := &idpServer{p, base}

	// The pages and the stylesheet are documented as strings.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	loader := openapi3.NewLoader()
	docPage := fetch(t, http.DefaultClient, http.MethodGet, base+"/api/v1/openapi.yaml", nil)
	doc, err := loader.LoadFromData([]byte(docPage.body))
	if err != nil {
		t.Fatal(err)
	}
	validate := func(method, path string, pg page) error {
		t.Helper()
		template, params := Path+"/{path}", map[string]string{"path": strings.TrimPrefix(path, Path+"/")}
		if path == Path {
			template, params = Path, nil
		}
		item := doc.Paths.Value(template)
		if item == nil || item.GetOperation(method) == nil {
			t.Fatalf("%s %s is not documented", method, template)
		}
		req := httptest.NewRequest(method, path, nil)
		input := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: &routers.Route{
				Spec: doc, Path: template, PathItem: item, Method: method, Operation: item.GetOperation(method)}},
			Status:  pg.status,
			Header:  pg.header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		input.SetBodyBytes([]byte(pg.body))
		return openapi3filter.ValidateResponse(context.Background(), input)
	}
	check := func(method, path string, pg page) {
		t.Helper()
		if err := validate(method, path, pg); err != nil {
			t.Errorf("%s %s %d does not match the document: %v\n%.200s", method, path, pg.status, err, pg.body)
		}
	}
	// Control: an undocumented status, and a token error that is not
	// JSON, are refused.
	if validate(http.MethodGet, Path+"/keys", page{status: 418, header: http.Header{}}) == nil ||
		validate(http.MethodPost, Path+"/oauth/token", page{status: 401, header: http.Header{"Content-Type": {"application/json"}}, body: `{"no":"error"}`}) == nil {
		t.Fatal("control: the validation passes anything")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, want int) page {
		t.Helper()
		pg := fetch(t, noFollow, http.MethodGet, base+path, nil)
		if pg.status != want {
			t.Fatalf("GET %s = %d, want %d", path, pg.status, want)
		}
		check(http.MethodGet, strings.SplitN(path, "?", 2)[0], pg)
		return pg
	}
	post := func(c *http.Client, path string, form url.Values, want int) page {
		t.Helper()
		pg := fetch(t, c, http.MethodPost, base+path, form)
		if pg.status != want {
			t.Fatalf("POST %s = %d, want %d: %.200s", path, pg.status, want, pg.body)
		}
		check(http.MethodPost, path, pg)
		return pg
	}

	get(Path, 200)
	get(Path+"/.well-known/openid-configuration", 200)
	get(Path+"/keys", 200)
	get(Path+stylePath, 200)
	get(Path+"/no-such-endpoint", 404)
	get(Path+"/userinfo", 401)
	get(Path+"/login?authRequestID=unknown", 400)
	rp := newRelyingParty(t, s, "afesip-laos")
	bad := *rp
	bad.oauth.RedirectURL = base + "/elsewhere"
	get(strings.TrimPrefix(bad.authURL(newSignIn()), base), 400)
	get(strings.TrimPrefix(rp.authURL(newSignIn()), base), 302)

	browser := newBrowser(t)
	browser.CheckRedirect = noFollow.CheckRedirect
	si := newSignIn()
	authorize := fetch(t, browser, http.MethodGet, rp.authURL(si), nil)
	login := fetch(t, browser, http.MethodGet, authorize.header.Get("Location"), nil)
	check(http.MethodGet, Path+loginPath, login)
	form := parseLoginForm(t, login.body)
	post(newBrowser(t), Path+loginPath, url.Values{fieldRequest: {form.requestID}, fieldAccount: {"afesip-laos.auditor"}}, 403)
	post(browser, Path+loginPath, url.Values{fieldRequest: {form.requestID}, fieldAccount: {"afesip-france.auditor"}}, 422)
	done := post(browser, Path+loginPath, url.Values{fieldRequest: {form.requestID}, fieldAccount: {"afesip-laos.auditor"}}, 303)
	callback := fetch(t, noFollow, http.MethodGet, done.header.Get("Location"), nil)
	check(http.MethodGet, Path+"/authorize/callback", callback)
	loc, _ := url.Parse(callback.header.Get("Location"))
	code := loc.Query().Get("code")

	token := func(secret, verifier string, want int) {
		t.Helper()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rp.oauth.RedirectURL},
			"code_verifier": {verifier}, "client_id": {"afesip-laos"}, "client_secret": {secret}}
		post(http.DefaultClient, Path+"/oauth/token", form, want)
	}
	token("wrong", si.verifier, 401)
	token(rp.idp.ClientSecret, "wrong-verifier-wrong-verifier-wrong-verifier-123", 400)
	token(rp.idp.ClientSecret, si.verifier, 200)
}
