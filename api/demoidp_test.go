package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestDemoIdentityProviderMountedInDemoOnly: in demo mode every path under
// /demo-idp reaches the provider, GET and POST, with its prefix (the
// provider's issuer includes it); in production none does, though the
// handler is given.
func TestDemoIdentityProviderMountedInDemoOnly(t *testing.T) {
	demo, _ := newTestServer(t, Deps{DemoIdentityProvider: stubIdentityProvider}, nil)
	prod, _ := newTestServer(t, Deps{Config: prodConfig(), DemoIdentityProvider: stubIdentityProvider}, nil)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/demo-idp"},
		{http.MethodGet, "/demo-idp/.well-known/openid-configuration"},
		{http.MethodGet, "/demo-idp/login"},
		{http.MethodPost, "/demo-idp/oauth/token"},
		{http.MethodPost, "/demo-idp/login"},
	} {
		r := do(t, demo, tc.method, tc.path, strings.NewReader("a=b"), "Content-Type", "application/x-www-form-urlencoded")
		if r.status != http.StatusOK || r.body != tc.method+" "+tc.path {
			t.Errorf("demo: %s %s = %d %q, want the provider's answer", tc.method, tc.path, r.status, r.body)
		}
		r = do(t, prod, tc.method, tc.path, strings.NewReader("a=b"), "Content-Type", "application/x-www-form-urlencoded")
		if r.status != http.StatusNotFound || !strings.Contains(r.body, `"not_found"`) {
			t.Errorf("production: %s %s = %d %q, want 404 not_found", tc.method, tc.path, r.status, r.body)
		}
	}
}
