package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/tenants"
)

func TestPanicAnswers500AndServerKeepsServing(t *testing.T) {
	app, logs := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/panic", func(*fiber.Ctx) error { panic("secret panic value") })
		v1.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("fine") })
	})

	r := get(t, app, "/api/v1/panic")
	wantError(t, r, 500, `{"error":{"code":"internal","message":"internal error"}}`)
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Request-Id") == "" {
		t.Errorf("the panic response lacks the usual headers: %v", r.header)
	}
	out := logs.String()
	if !strings.Contains(out, "secret panic value") || !strings.Contains(out, "runtime/debug.Stack") {
		t.Errorf("the log lacks the panic and its stack:\n%s", out)
	}
	if !strings.Contains(out, "route=/api/v1/panic status=500") {
		t.Errorf("the access log missed the panicking request:\n%s", out)
	}

	// Allowed control: the server still answers afterwards.
	if r := get(t, app, "/api/v1/ok"); r.status != 200 || r.body != "fine" {
		t.Errorf("after a panic: %d %s", r.status, r.body)
	}
}

var nonceInCSP = regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'; style-src 'self' 'nonce-([A-Za-z0-9+/=]+)'`)

func TestSecurityHeaders(t *testing.T) {
	deps := Deps{}
	routes := func(v1 fiber.Router) {
		v1.Get("/nonce", func(c *fiber.Ctx) error { return c.SendString(CSPNonce(c)) })
	}
	demo, _ := newTestServer(t, deps, routes)

	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-store",
	}
	nonces := map[string]bool{}
	for _, path := range []string{"/api/v1/nonce", "/api/v1/nonce", "/does-not-exist"} {
		r := get(t, demo, path)
		for name, value := range want {
			if got := r.header.Get(name); got != value {
				t.Errorf("%s: %s = %q, want %q", path, name, got, value)
			}
		}
		if !strings.Contains(r.header.Get("Permissions-Policy"), "camera=()") {
			t.Errorf("%s: Permissions-Policy = %q", path, r.header.Get("Permissions-Policy"))
		}
		csp := r.header.Get("Content-Security-Policy")
		m := nonceInCSP.FindStringSubmatch(csp)
		if m == nil || m[1] != m[2] {
			t.Fatalf("%s: CSP without one nonce for scripts and styles: %q", path, csp)
		}
		for _, part := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'",
			"frame-ancestors 'none'", "form-action 'self'", "img-src 'self' data:"} {
			if !strings.Contains(csp, part) {
				t.Errorf("%s: CSP lacks %q: %s", path, part, csp)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows unsafe-inline: %s", path, csp)
		}
		if path == "/api/v1/nonce" && r.body != m[1] {
			t.Errorf("CSPNonce = %q, but the CSP says %q", r.body, m[1])
		}
		nonces[m[1]] = true
		// HSTS only in production: demo runs on http://localhost.
		if hsts := r.header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s: demo mode sends HSTS %q", path, hsts)
		}
	}
	if len(nonces) != 3 {
		t.Errorf("nonces repeat across responses: %v", nonces)
	}

	deps.Config = prodConfig()
	prod, _ := newTestServer(t, deps, routes)
	for _, path := range []string{"/api/v1/nonce", "/does-not-exist"} {
		if hsts := get(t, prod, path).header.Get("Strict-Transport-Security"); hsts != "max-age=63072000; includeSubDomains" {
			t.Errorf("%s: production HSTS = %q", path, hsts)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	app, _ := newTestServer(t, Deps{Config: prodConfig()}, func(v1 fiber.Router) {
		v1.Post("/upload", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"bytes": len(c.Body())}) })
	})
	// An oversized body is refused from its Content-Length, before any of
	// it is read (refuseLargeBodies, limitBodies), and the connection
	// closed: a client still writing the body may see a reset. So send the
	// headers on a raw connection and read the answer.
	base := listen(t, app)
	post := func(n int) response {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/upload HTTP/1.1\r\nHost: homeward.test\r\n"+
			"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", n)
		if n <= BodyLimit {
			if _, err := conn.Write(make([]byte, n)); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("POST %d bytes: %v", n, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	}

	// Allowed control: exactly the limit passes.
	if r := post(BodyLimit); r.status != 200 || r.body != `{"bytes":1048576}` {
		t.Fatalf("a body at the limit: %d %s", r.status, r.body)
	}
	r := post(BodyLimit + 1)
	wantError(t, r, 413, `{"error":{"code":"too_large","message":"request entity too large"}}`)
	// Refused before routing, yet with the security headers.
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Strict-Transport-Security"} {
		if r.header.Get(h) == "" {
			t.Errorf("the 413 response lacks %s", h)
		}
	}
}

// A compressed body would be inflated by fiber's c.Body() with no limit (a
// small gzip bomb becomes gigabytes): it is refused, naming the header.
func TestCompressedBodiesAreRefused(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Post("/echo", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"bytes": len(c.Body())}) })
	})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(make([]byte, 4<<20)); err != nil { // 4 MiB of zeros: about 4 KiB compressed
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Allowed controls: the same request uncompressed, and "identity".
	if r := do(t, app, "POST", "/api/v1/echo", strings.NewReader(`{"a":1}`), "Content-Type", "application/json"); r.status != 200 || r.body != `{"bytes":7}` {
		t.Fatalf("an uncompressed body: %d %s", r.status, r.body)
	}
	if r := do(t, app, "POST", "/api/v1/echo", strings.NewReader(`{"a":1}`), "Content-Type", "application/json",
		"Content-Encoding", "identity"); r.status != 200 {
		t.Fatalf("Content-Encoding identity: %d %s", r.status, r.body)
	}
	r := do(t, app, "POST", "/api/v1/echo", bytes.NewReader(gz.Bytes()), "Content-Type", "application/json",
		"Content-Encoding", "gzip")
	wantError(t, r, 400, `{"error":{"code":"invalid","message":"compressed request bodies are not accepted",`+
		`"fields":{"Content-Encoding":"send the body uncompressed (no Content-Encoding)"}}}`)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestRequestID(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, nil)

	// Allowed control: a well-formed incoming id is kept and echoed.
	if got := get(t, app, "/healthz", "X-Request-Id", "lb-2024.07_abc-XYZ").header.Get("X-Request-Id"); got != "lb-2024.07_abc-XYZ" {
		t.Errorf("a safe incoming id came back as %q", got)
	}
	if got := get(t, app, "/healthz").header.Get("X-Request-Id"); !uuidPattern.MatchString(got) {
		t.Errorf("no incoming id: generated %q, want a UUID", got)
	}
	for _, bad := range []string{
		`abc" level=ERROR msg="forged`,
		"<script>alert(1)</script>",
		strings.Repeat("a", 65),
		"name=Ana%20Somchai",
	} {
		got := get(t, app, "/healthz", "X-Request-Id", bad).header.Get("X-Request-Id")
		if got == bad || !uuidPattern.MatchString(got) {
			t.Errorf("malicious id %q came back as %q, want a fresh UUID", bad, got)
		}
	}
}

// TestRequestIDReachesTheDomain: handlers pass c.UserContext() to the
// domain, whose audit rows record the same id the client sees.
func TestRequestIDReachesTheDomain(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/whoami", func(c *fiber.Ctx) error { return c.SendString(tenants.RequestIDFrom(c.UserContext())) })
	})
	r := get(t, app, "/api/v1/whoami", "X-Request-Id", "trace-42")
	if r.body != "trace-42" || r.header.Get("X-Request-Id") != "trace-42" {
		t.Fatalf("the domain saw %q for request id trace-42", r.body)
	}
	r = get(t, app, "/api/v1/whoami")
	if r.body == "" || r.body != r.header.Get("X-Request-Id") {
		t.Fatalf("generated id %q, domain saw %q", r.header.Get("X-Request-Id"), r.body)
	}
}

func TestAccessLogHasRoutePatternsOnly(t *testing.T) {
	app, logs := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/items/:id", func(c *fiber.Ctx) error { return c.SendString("item") })
	})

	get(t, app, "/api/v1/items/case-4711?name=Secret", "Cookie", "session=cookie-secret", "User-Agent", "agent-secret")
	get(t, app, "/api/v1/x?name=Secret")
	get(t, app, "/api/v1/items/case-4711?name=Secret", "Authorization", "Bearer token-secret") // refused: 401
	out := logs.String()

	// Allowed control: the lines are there, with the pattern and outcome.
	for _, want := range []string{
		`msg=request method=GET route=/api/v1/items/:id status=200`,
		`msg=request method=GET route=unmatched status=404`,
		"duration=", "bytes=4", "request_id=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"Secret", "case-4711", "/api/v1/x", "cookie-secret", "token-secret",
		"agent-secret", "0.0.0.0"} {
		if strings.Contains(out, leak) {
			t.Errorf("access log leaks %q:\n%s", leak, out)
		}
	}
}

func TestMetricsUseRoutePatterns(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/items/:id", func(c *fiber.Ctx) error { return c.SendString("item") })
	})
	get(t, app, "/api/v1/items/case-4711")
	get(t, app, "/api/v1/items/case-4712")
	get(t, app, "/random/scanner/path")

	r := get(t, app, "/metrics")
	if r.status != 200 {
		t.Fatalf("/metrics = %d", r.status)
	}
	for _, want := range []string{
		`homeward_http_requests_total{method="GET",route="/api/v1/items/:id",status="200"} 2`,
		`homeward_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`homeward_http_request_duration_seconds_count{method="GET",route="/api/v1/items/:id"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, leak := range []string{"case-4711", "/random/scanner"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("/metrics has a raw path %q in a label", leak)
		}
	}
}
