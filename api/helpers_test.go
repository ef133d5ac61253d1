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

	homeward "github.com/afesip/homeward"
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

// newTestServer builds the server with deps (filling in a demo config and a
// healthy database when unset) and extra /api/v1 routes, capturing its log.
func newTestServer(t *testing.T, deps Deps, v1 func(fiber.Router)) (*fiber.App, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if deps.Logger == nil {
		deps.Logger = newTextLogger(logs)
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
