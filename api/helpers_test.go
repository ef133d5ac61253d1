package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// pinger answers Ping with err.
type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func demoConfig() *homeward.Config { return &homeward.Config{Mode: homeward.ModeDemo} }
func prodConfig() *homeward.Config { return &homeward.Config{Mode: homeward.ModeProduction} }

// logBuffer collects log output safely across the server's goroutines.
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

// newTestServer builds the server with deps (filling in a demo config, a
// healthy database and, unless deps.Sessions says otherwise, a platform
// operator's session so that /metrics and /ops/queues answer) and extra
// /api/v1 routes, capturing its log. Give Sessions: anonymous to test
// without a principal.
func newTestServer(t *testing.T, deps Deps, v1 func(fiber.Router)) (*fiber.App, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if deps.Logger == nil {
		deps.Logger = newTextLogger(logs)
	}
	if deps.Sessions == nil {
		deps.Sessions = sessionOf{operator}
	}
	if deps.Config == nil {
		deps.Config = demoConfig()
	}
	if deps.Database == nil {
		deps.Database = pinger{}
	}
	app := newServer(deps, v1)
	t.Cleanup(func() { _ = app.Shutdown() })
	return app, logs
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// listen serves app on a free local port and returns its base URL.
func listen(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	return "http://" + ln.Addr().String()
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request through the whole fiber stack, as a real connection.
func do(t *testing.T, app *fiber.App, method, target string, body io.Reader, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func get(t *testing.T, app *fiber.App, target string, header ...string) response {
	t.Helper()
	return do(t, app, http.MethodGet, target, nil, header...)
}

// wantError checks an error response's status and its exact body.
func wantError(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type = %q, want JSON", r.header.Get("Content-Type"))
	}
	if r.body != body {
		t.Errorf("body = %s\nwant   %s", r.body, body)
	}
}

// decode parses a JSON body into a map for field-by-field checks.
func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	return m
}

// sessionOf is a SessionResolver whose every request is signed in as p
// (nil: anonymous).
type sessionOf struct{ p *tenants.Principal }

func (s sessionOf) Principal(*fiber.Ctx) (*tenants.Principal, error) { return s.p, nil }

var (
	// anonymous: no session at all.
	anonymous = sessionOf{}
	// operator is a platform operator, of no organisation.
	operator = &tenants.Principal{
		Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://idp.test", Subject: "operator"},
		Roles: []tenants.Role{tenants.RolePlatformOperator}, Locale: "en",
	}
	// caseWorker is a social worker of some organisation.
	caseWorker = &tenants.Principal{
		Actor:    tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://idp.test", Subject: "worker"},
		TenantID: uuid.MustParse("0191e4a0-0000-7000-8000-000000000001"), TenantSlug: "test-org", TenantName: "Test organisation",
		Roles: []tenants.Role{tenants.RoleSocialWorker}, Locale: "en",
	}
)
