package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

// TestErrorPagesOutsideTheAPI: with the pages mounted, an error outside the
// API answers a browser (Accept naming text/html, or none) with the pages'
// error page, same status; the API, the probes and the metrics keep the
// JSON body whoever asks, and so does a client asking for JSON. Without
// pages, everything is JSON.
func TestErrorPagesOutsideTheAPI(t *testing.T) {
	pageRoutes := func(v1 fiber.Router) {
		v1.Get("/boom", func(*fiber.Ctx) error { return errors.New("secret detail") })
	}
	app, _ := newTestServer(t, Deps{Pages: stubPages{}, Sessions: anonymous}, pageRoutes)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	for _, tc := range []struct {
		path, accept string
		status       int
		html         bool
	}{
		{"/no/such/page", browser, 404, true},
		{"/no/such/page", "", 404, true},
		{"/no/such/page", "*/*", 404, true},
		{"/no/such/page", "application/json", 404, false},
		{"/no/such/page", "application/json, text/html;q=0.5", 404, false},
		{"/api/v1/no/such/thing", browser, 404, false},
		{"/api/v1/boom", browser, 500, false},
		{"/api", browser, 404, false},
		{"/metrics", browser, 401, false},
		{"/ops/queues/api/queues", browser, 404, false},
	} {
		r := get(t, app, tc.path, "Accept", tc.accept)
		if r.status != tc.status {
			t.Errorf("%s (Accept %q): %d, want %d", tc.path, tc.accept, r.status, tc.status)
		}
		isHTML := strings.HasPrefix(r.header.Get("Content-Type"), "text/html")
		if isHTML != tc.html {
			t.Errorf("%s (Accept %q): Content-Type %q, body %s", tc.path, tc.accept, r.header.Get("Content-Type"), r.body)
		}
		if tc.html && !strings.Contains(r.body, "not_found") {
			t.Errorf("%s: the page does not name the code: %s", tc.path, r.body)
		}
		if !tc.html && !strings.Contains(r.body, `{"error":{"code":"`) {
			t.Errorf("%s: not the JSON error: %s", tc.path, r.body)
		}
		// The security headers are there either way.
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: security headers missing: %v", tc.path, r.header)
		}
	}
	// The page gets the status, code and request id; never the detail.
	app2, _ := newTestServer(t, Deps{Pages: failingHome{}, Sessions: anonymous}, nil)
	r := get(t, app2, "/", "Accept", browser)
	if r.status != 500 || !strings.Contains(r.body, "500 internal "+r.header.Get("X-Request-Id")) || strings.Contains(r.body, "secret") {
		t.Errorf("internal: %d %s", r.status, r.body)
	}
	r = get(t, app2, "/leave")
	if r.status != 403 || !strings.Contains(r.body, "403 forbidden") || strings.Contains(r.body, "secret") {
		t.Errorf("forbidden: %d %s", r.status, r.body)
	}

	// Without pages, the JSON body everywhere.
	bare, _ := newTestServer(t, Deps{Sessions: anonymous}, nil)
	wantError(t, do(t, bare, http.MethodGet, "/no/such/page", nil, "Accept", browser), 404,
		`{"error":{"code":"not_found","message":"no such resource"}}`)
}

// failingHome is the pages with a home page that fails, as on a database
// error; a page's own refusal comes through the same way.
type failingHome struct{ stubPages }

func (failingHome) Home(*fiber.Ctx) error { return errors.New("secret detail") }
func (failingHome) Leave(*fiber.Ctx) error {
	return homeward.Errorf(homeward.EFORBIDDEN, "secret reason")
}

// failingPages draws no error page: the JSON body is the fallback.
type failingPages struct{ stubPages }

func (failingPages) ErrorPage(*fiber.Ctx, PageError) error { return errors.New("template broken") }

func TestErrorPageFailureFallsBackToJSON(t *testing.T) {
	app, logs := newTestServer(t, Deps{Pages: failingPages{}, Sessions: anonymous}, nil)
	wantError(t, get(t, app, "/no/such/page", "Accept", "text/html"), 404, `{"error":{"code":"not_found","message":"no such resource"}}`)
	if !strings.Contains(logs.String(), "template broken") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
}
