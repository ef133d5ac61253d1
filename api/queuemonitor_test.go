package api

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	homeward "github.com/afesip/homeward"
)

// newQueueMonitor builds the real asynqmon handler. Its Redis is never
// reached by the pages checked here, so it points at a closed port.
func newQueueMonitor(t *testing.T) *asynqmon.HTTPHandler {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	h := asynqmon.New(asynqmon.Options{
		RootPath:     "/ops/queues",
		RedisConnOpt: asynq.RedisClientOpt{Addr: addr},
		ReadOnly:     true,
	})
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func TestQueueMonitorInDemoWithItsOwnCSP(t *testing.T) {
	app, logs := newTestServer(t, Deps{QueueMonitor: newQueueMonitor(t)}, nil)

	r := get(t, app, "/ops/queues")
	if r.status != 200 || !strings.Contains(r.body, `<div id="root">`) {
		t.Fatalf("GET /ops/queues = %d %.200s", r.status, r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	scripts := inlineScript.FindAllStringSubmatch(r.body, -1)
	if len(scripts) != 2 {
		t.Fatalf("asynqmon's page has %d inline scripts, want 2: review its CSP", len(scripts))
	}
	for _, s := range scripts {
		sum := sha256.Sum256([]byte(s[1]))
		if hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, hash) {
			t.Errorf("the CSP does not allow the page's inline script %.60q: %s", s[1], csp)
		}
	}
	scriptSrc := csp[strings.Index(csp, "script-src"):]
	scriptSrc = scriptSrc[:strings.Index(scriptSrc, ";")]
	for _, broad := range []string{"unsafe-inline", "unsafe-eval", "https:", "*"} {
		if strings.Contains(scriptSrc, broad) {
			t.Errorf("the queue monitor's script-src allows %q: %s", broad, scriptSrc)
		}
	}
	if strings.Contains(csp, "googleapis") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("queue monitor CSP: %s", csp)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the other security headers are missing: %v", r.header)
	}
	if strings.Contains(logs.String(), "queue monitor:") {
		t.Errorf("unexpected warning:\n%s", logs)
	}

	// Its script files are served too.
	if r := get(t, app, "/ops/queues/manifest.json"); r.status != 200 {
		t.Errorf("GET /ops/queues/manifest.json = %d", r.status)
	}

	// Nothing but GET reaches it, whatever its own ReadOnly says.
	wantError(t, do(t, app, http.MethodPost, "/ops/queues/api/queues/default:pause", nil), 404,
		`{"error":{"code":"not_found","message":"no such resource"}}`)
	wantError(t, do(t, app, http.MethodDelete, "/ops/queues/api/queues/default", nil), 404,
		`{"error":{"code":"not_found","message":"no such resource"}}`)

	// Other pages keep the strict nonce policy.
	if csp := get(t, app, "/healthz").header.Get("Content-Security-Policy"); !strings.Contains(csp, "'nonce-") ||
		strings.Contains(csp, "sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the queue monitor's CSP leaked to other routes: %s", csp)
	}
}

// TestQueueMonitorForOperatorsOnly: in both modes the monitor is mounted for
// platform operators; anyone else is refused before it (401 anonymous, 403
// an organisation's member).
func TestQueueMonitorForOperatorsOnly(t *testing.T) {
	for _, cfg := range []*homeward.Config{prodConfig(), demoConfig()} {
		monitor := newQueueMonitor(t)
		ops, _ := newTestServer(t, Deps{Config: cfg, QueueMonitor: monitor}, nil)
		if r := get(t, ops, "/ops/queues/manifest.json"); r.status != 200 {
			t.Errorf("%s: operator: GET /ops/queues/manifest.json = %d, want 200", cfg.Mode, r.status)
		}
		nobody, _ := newTestServer(t, Deps{Config: cfg, QueueMonitor: monitor, Sessions: anonymous}, nil)
		worker, _ := newTestServer(t, Deps{Config: cfg, QueueMonitor: monitor, Sessions: sessionOf{caseWorker}}, nil)
		for _, path := range []string{"/ops/queues", "/ops/queues/api/queues"} {
			r := get(t, nobody, path)
			wantError(t, r, 401, `{"error":{"code":"unauthenticated","message":"sign in first"}}`)
			if r.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer: %v", path, r.header)
			}
			wantError(t, get(t, worker, path), 403, `{"error":{"code":"forbidden","message":"your roles do not allow this"}}`)
		}
	}
}

func TestQueueMonitorWithWrongRootPathWarns(t *testing.T) {
	h := asynqmon.New(asynqmon.Options{RootPath: "/monitor", RedisConnOpt: asynq.RedisClientOpt{Addr: "127.0.0.1:1"}})
	t.Cleanup(func() { _ = h.Close() })
	_, logs := newTestServer(t, Deps{QueueMonitor: h}, nil)
	if !strings.Contains(logs.String(), "queue monitor: its page has no inline scripts") {
		t.Errorf("no warning for a monitor mounted under the wrong root:\n%s", logs)
	}
}
