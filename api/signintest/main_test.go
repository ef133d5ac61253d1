// Package signintest drives the browser sign-in of package api end to end:
// Homeward's HTTP server on a loopback port, PostgreSQL as the app role,
// and real OpenID providers on loopback ports (a provider built on
// zitadel/oidc's pkg/op for the flow, and one that mints faulty ID tokens,
// with real discovery and keys, for the negative suite), driven by an HTTP
// client with a cookie jar, as a browser would.
package signintest

import (
	"log/slog"
	"os"
	"testing"

	"github.com/afesip/homeward/tenants/tenanttest"
)

func TestMain(m *testing.M) {
	// The example provider logs every request to the default logger.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(tenanttest.Main(m))
}
