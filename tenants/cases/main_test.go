package cases_test

import (
	"context"
	"os"
	"testing"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// The organisation and member fixtures every tenant package's tests share.
var (
	newOrg = tenanttest.NewOrg
	member = tenanttest.Member
)

func operatorCtx() context.Context {
	return tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}
