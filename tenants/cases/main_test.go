package cases_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

const testIssuer = "https://idp.cases.test"

func operatorCtx() context.Context {
	return tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
}

// newOrg adds an organisation whose provider maps the group "g-ROLE" to
// ROLE for every organisation role.
func newOrg(t testing.TB, s *tenants.Store) uuid.UUID {
	t.Helper()
	tenant := tenanttest.NewTenant(t, s)
	groups := map[string][]tenants.Role{}
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			groups["g-"+string(r)] = []tenants.Role{r}
		}
	}
	secret := "s3cret-" + tenant.String()
	_, err := s.PutIdentityProvider(operatorCtx(), tenant, tenants.IdentityProviderChange{
		Issuer: testIssuer, ClientID: "client-" + tenant.String(), ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: groups,
	})
	if err != nil {
		t.Fatalf("identity provider: %v", err)
	}
	return tenant
}

// member signs subject in to tenant with roles and returns a context acting
// as it, and its principal.
func member(t testing.TB, s *tenants.Store, tenant uuid.UUID, subject string, roles ...tenants.Role) (context.Context, *tenants.Principal) {
	t.Helper()
	groups := make([]string, 0, len(roles))
	for _, r := range roles {
		groups = append(groups, "g-"+string(r))
	}
	p, _, err := s.SignIn(context.Background(), tenant, testIssuer, subject, groups)
	if err != nil {
		t.Fatalf("sign in %s: %v", subject, err)
	}
	return tenants.WithPrincipal(context.Background(), p), p
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
