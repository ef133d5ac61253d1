package signintest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// clock is the sessions' clock, moved by the tests instead of sleeping.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// Reset puts the clock back to the real time.
func (c *clock) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = 0
}

// logBuffer collects the server's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// homewardServer is Homeward's HTTP server, as serve runs it, on a loopback
// port, with the sign-in under test.
type homewardServer struct {
	t      *testing.T
	store  *tenants.Store
	base   string // HOMEWARD_BASE_URL
	signIn *api.SignIn
	clock  *clock
	logs   *logBuffer
	probe  string // the principal probe's base URL (see startHomeward)
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// option adjusts the configuration of a server about to start (its base
// URL, h.base, is known): a platform operators' provider, for one.
type option func(h *homewardServer, cfg *homeward.Config)

// startHomeward runs the server. host is the base URL's host name
// ("127.0.0.1", or a name such as homeward.test that the browsers resolve
// to the loopback address). The queue monitor is mounted at /ops/queues and
// /metrics served, both for platform operators, as serve does.
//
// Beside it runs a principal probe on another loopback port: it answers
// GET and POST /whoami with what SignIn.Principal (the session resolver
// the API's authentication calls for cookies) makes of the request, as
// JSON, 401 when anonymous, the error's status when it refuses. Cookies
// belong to a host, not a port, so a browser sends Homeward's cookie there
// too.
func startHomeward(t *testing.T, host string, opts ...option) *homewardServer {
	t.Helper()
	store := tenanttest.OpenPostgres(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base := &url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port))}
	cfg := &homeward.Config{Mode: homeward.ModeDemo, BaseURL: base}
	h := &homewardServer{t: t, store: store, base: base.String(), clock: &clock{}, logs: &logBuffer{}}
	for _, o := range opts {
		o(h, cfg)
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.signIn, err = api.NewSignIn(store, cfg, log, api.SignInOptions{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	monitor := asynqmon.New(asynqmon.Options{RootPath: "/ops/queues", ReadOnly: true,
		RedisConnOpt: asynq.RedisClientOpt{Addr: "127.0.0.1:1"}}) // its page needs no Redis
	t.Cleanup(func() { monitor.Close() })
	app := api.NewServer(api.Deps{Logger: log, Config: cfg, Database: store, Store: store,
		SignIn: h.signIn, Sessions: h.signIn, RateLimit: 1_000_000, QueueMonitor: monitor})
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })

	probe := fiber.New(fiber.Config{DisableStartupMessage: true})
	probe.All("/whoami", func(c *fiber.Ctx) error {
		p, err := h.signIn.Principal(c)
		switch {
		case err != nil:
			status := http.StatusInternalServerError
			switch homeward.ErrorCode(err) {
			case homeward.EFORBIDDEN:
				status = http.StatusForbidden
			case homeward.EUNAUTHENTICATED:
				status = http.StatusUnauthorized
			}
			return c.Status(status).SendString(homeward.ErrorCode(err))
		case p == nil:
			return c.Status(http.StatusUnauthorized).SendString("anonymous")
		}
		return c.JSON(map[string]any{"tenant": p.TenantSlug, "roles": p.Roles, "subject": p.Actor.Subject,
			"member": p.Actor.MemberID, "session": p.SessionID, "csrf": p.CSRFToken})
	})
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go probe.Listener(pln)
	t.Cleanup(func() { probe.Shutdown() })
	h.probe = "http://" + net.JoinHostPort(host, strconv.Itoa(pln.Addr().(*net.TCPAddr).Port))

	dialer := &net.Dialer{Timeout: 5 * time.Second}
	h.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if hh, p, err := net.SplitHostPort(addr); err == nil && hh == host {
			addr = net.JoinHostPort("127.0.0.1", p)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return h
}

// callbackURL is the redirect URI every provider is given.
func (h *homewardServer) callbackURL() string { return h.base + "/auth/callback" }

// organisation is a test organisation with its provider settings.
type organisation struct {
	id   uuid.UUID
	slug string
	name string
}

// addOrganisation adds an organisation whose provider is issuer (client
// id, secret), mapping the group caseworkers to case_manager and admins to
// tenant_admin.
func (h *homewardServer) addOrganisation(issuer, clientID, secret string, emailDomains ...string) organisation {
	h.t.Helper()
	id := tenanttest.NewTenant(h.t, h.store)
	t, err := h.store.TenantByID(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	_, err = h.store.PutIdentityProvider(operatorCtx(), id, tenants.IdentityProviderChange{
		Issuer: issuer, ClientID: clientID, ClientSecret: &secret, Scopes: []string{"openid", "profile"},
		GroupsClaim: "groups", EmailDomains: emailDomains,
		GroupRoles: map[string][]tenants.Role{
			"caseworkers": {tenants.RoleCaseManager},
			"admins":      {tenants.RoleTenantAdmin},
		},
	})
	if err != nil {
		h.t.Fatalf("set the identity provider: %v", err)
	}
	return organisation{id: id, slug: t.Slug, name: t.Name}
}

func operatorCtx() context.Context {
	return tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
}

// adminCtx acts as a tenant admin of the organisation (another member).
func adminCtx(org organisation) context.Context {
	admin := uuid.New()
	return tenants.WithPrincipal(context.Background(), &tenants.Principal{
		Actor:    tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://admins.example.org", Subject: "admin", MemberID: &admin},
		TenantID: org.id, TenantSlug: org.slug, Roles: []tenants.Role{tenants.RoleTenantAdmin},
	})
}

// audit lists the organisation's audit actions, oldest first, with their
// purpose ("auth.login_failed/state_mismatch").
func (h *homewardServer) audit(org organisation) []string {
	h.t.Helper()
	var out []string
	err := h.store.InTenant(context.Background(), org.id, func(tx *gorm.DB) error {
		page, err := tenants.ListAudit(tx, tenants.AuditQuery{Limit: 200})
		if err != nil {
			return err
		}
		for i := len(page.Entries) - 1; i >= 0; i-- {
			a := page.Entries[i].Action
			if p := page.Entries[i].Purpose; p != "" {
				a += "/" + p
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// ---------------------------------------------------------------------------
// A browser: an HTTP client with a cookie jar that follows redirects, except
// into Homeward's callback, which tests call themselves to see its answer.

type browser struct {
	t      *testing.T
	h      *homewardServer
	jar    *cookiejar.Jar
	follow *http.Client // follows redirects, stopping before the callback
	single *http.Client // never follows
}

// newBrowser is a browser with an empty cookie jar, failing t on errors.
func (h *homewardServer) newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{DialContext: h.dial}
	t.Cleanup(transport.CloseIdleConnections)
	callback, _ := url.Parse(h.callbackURL())
	b := &browser{t: t, h: h, jar: jar}
	b.follow = &http.Client{Jar: jar, Transport: transport, Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == callback.Host && req.URL.Path == callback.Path {
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	b.single = &http.Client{Jar: jar, Transport: transport, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

type reply struct {
	status   int
	header   http.Header
	body     string
	location string
	cookies  []*http.Cookie // Set-Cookie, as sent
	raw      []string       // Set-Cookie lines
}

func (b *browser) do(c *http.Client, req *http.Request) reply {
	b.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location"),
		cookies: resp.Cookies(), raw: resp.Header.Values("Set-Cookie")}
}

// get requests target without following redirects.
func (b *browser) get(target string, header ...string) reply {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	setHeaders(req, header)
	return b.do(b.single, req)
}

// post sends a form without following redirects.
func (b *browser) post(target string, form url.Values, header ...string) reply {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setHeaders(req, header)
	return b.do(b.single, req)
}

func setHeaders(req *http.Request, header []string) {
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
}

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// toCallback starts a sign-in at the organisation and signs in at the
// zitadel provider as username; it returns the callback URL the provider
// sends the browser to (not yet visited).
func (b *browser) toCallback(op *zitadelOP, slug, username string) string {
	b.t.Helper()
	return b.toCallbackFrom(op, b.h.base+"/login?tenant="+url.QueryEscape(slug), username)
}

// toOperatorCallback starts a platform operator's sign-in and signs in at
// the zitadel provider (the operators') as username; it returns the
// callback URL the provider sends the browser to (not yet visited).
func (b *browser) toOperatorCallback(op *zitadelOP, username string) string {
	b.t.Helper()
	return b.toCallbackFrom(op, b.h.base+"/login?operator=1", username)
}

// toCallbackFrom is toCallback starting at a given /login URL.
func (b *browser) toCallbackFrom(op *zitadelOP, login, username string) string {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, login, nil)
	page := b.do(b.follow, req)
	m := formID.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		b.t.Fatalf("the provider's login page: %d %s", page.status, page.body)
	}
	p := op.people[username]
	form := url.Values{"id": {m[1]}, "username": {p.username}, "password": {p.password}}
	req, _ = http.NewRequest(http.MethodPost, op.issuer+"/login/username", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	back := b.do(b.follow, req)
	if back.status != http.StatusFound || !strings.HasPrefix(back.location, b.h.callbackURL()+"?") {
		b.t.Fatalf("the provider did not send the browser back: %d %s %s", back.status, back.location, back.body)
	}
	return back.location
}

// mintCallback starts a sign-in at the organisation of a minting provider
// and returns the callback URL it sends the browser to.
func (b *browser) mintCallback(slug string) string {
	b.t.Helper()
	return b.mintCallbackFrom(b.h.base + "/login?tenant=" + url.QueryEscape(slug))
}

// mintCallbackFrom is mintCallback starting at a given /login URL.
func (b *browser) mintCallbackFrom(login string) string {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, login, nil)
	back := b.do(b.follow, req)
	if back.status != http.StatusFound || !strings.HasPrefix(back.location, b.h.callbackURL()+"?") {
		b.t.Fatalf("the provider did not send the browser back: %d %s %s", back.status, back.location, back.body)
	}
	return back.location
}

// signIn signs in at the organisation through the zitadel provider and
// returns the callback's answer.
func (b *browser) signIn(op *zitadelOP, slug, username string) reply {
	b.t.Helper()
	r := b.get(b.toCallback(op, slug, username))
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s at %s: %d %s", username, slug, r.status, r.body)
	}
	return r
}

// whoami is the principal the browser's cookie stands for (the probe):
// its status and, when signed in, the principal.
func (b *browser) whoami() (int, map[string]any) {
	b.t.Helper()
	r := b.get(b.h.probe + "/whoami")
	if r.status != http.StatusOK {
		return r.status, nil
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		b.t.Fatalf("whoami: %v: %s", err, r.body)
	}
	return r.status, p
}

// me is GET /api/v1/me through the whole server (its authentication
// middleware resolves the cookie): the status and, when 200, the body.
func (b *browser) me() (int, map[string]any) {
	b.t.Helper()
	r := b.get(b.h.base + "/api/v1/me")
	if r.status != http.StatusOK {
		return r.status, nil
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		b.t.Fatalf("/api/v1/me: %v: %s", err, r.body)
	}
	return r.status, body
}

// sessionCookie is the browser's session cookie value ("" when none).
func (b *browser) sessionCookie() string {
	for _, name := range []string{"__Host-homeward", "homeward"} {
		u, _ := url.Parse(b.h.base)
		for _, c := range b.jar.Cookies(u) {
			if c.Name == name {
				return c.Value
			}
		}
	}
	return ""
}

// setSessionCookie puts a session cookie back, as a browser that kept a
// copy would.
func (b *browser) setSessionCookie(name, value string) {
	u, _ := url.Parse(b.h.base)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true}})
}

// csrfToken is the browser's session's CSRF token (as a page would carry
// it, from the principal).
func (b *browser) csrfToken() string {
	b.t.Helper()
	status, p := b.whoami()
	if status != http.StatusOK {
		b.t.Fatalf("whoami: %d, want a session", status)
	}
	return p["csrf"].(string)
}
