// Package tenanttest gives tests real databases: one throwaway PostgreSQL
// database per test package (migrated as the owner, used as the app role, so
// row-level security binds the tests as it binds production) and a fresh
// SQLite file per test.
//
// A package using Postgres must call Main from its TestMain so the database
// is dropped afterwards. When a service is unreachable the test fails under
// CI=true and is skipped otherwise (make test starts the services).
package tenanttest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// MasterKey is the master key of the test stores: random per test process.
var MasterKey = func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}()

// AppRole is the role the tests connect as: it owns nothing and cannot
// bypass row-level security (migrate creates it and CheckSchema checks it).
const AppRole = "homeward_test_app"

// Unavailable fails (under CI) or skips the test when a service it needs is
// unreachable.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is unreachable (%v); make test starts it", what, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ServerURL is the PostgreSQL server the tests use, as a superuser or owner
// able to create databases and roles (HOMEWARD_TEST_DATABASE_URL).
func ServerURL() string {
	if u := os.Getenv("HOMEWARD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisAddr is the Redis server the tests use (HOMEWARD_TEST_REDIS_ADDR),
// checked to answer.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("HOMEWARD_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Unavailable(t, "Redis at "+addr, err)
	}
	c.Close()
	return addr
}

// PG is a package's throwaway PostgreSQL database.
type PG struct {
	Name     string
	OwnerURL string // the owner (the test server's superuser)
	AppURL   string // the app role
}

var (
	pgOnce sync.Once
	pg     *PG
	pgErr  error
)

// Postgres returns the package's database, creating and migrating it on
// first use.
func Postgres(t testing.TB) *PG {
	t.Helper()
	pgOnce.Do(func() { pg, pgErr = createDatabase() })
	if pgErr != nil {
		Unavailable(t, "PostgreSQL at "+ServerURL(), pgErr)
	}
	return pg
}

func createDatabase() (*PG, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	server, err := url.Parse(ServerURL())
	if err != nil {
		return nil, err
	}
	admin, err := sql.Open("pgx", server.String())
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		return nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	pkg = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(pkg))
	name := "hwtest_" + pkg + "_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	owner, app := *server, *server
	owner.Path, app.Path = "/"+name, "/"+name
	app.User = url.User(AppRole)
	p := &PG{Name: name, OwnerURL: owner.String(), AppURL: app.String()}
	if err := tenants.Migrate(ctx, homeward.DriverPostgres, p.AppURL, p.OwnerURL, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// Main runs the package's tests and drops its database afterwards. Use it
// as: func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if pg != nil {
		admin, err := sql.Open("pgx", ServerURL())
		if err == nil {
			_, err = admin.Exec("DROP DATABASE IF EXISTS " + pg.Name + " WITH (FORCE)")
			admin.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "tenanttest: could not drop %s: %v\n", pg.Name, err)
		}
	}
	return code
}

// OpenPostgres opens a store on the package's database as the app role.
func OpenPostgres(t testing.TB) *tenants.Store {
	t.Helper()
	p := Postgres(t)
	s, err := tenants.Open(context.Background(), homeward.DriverPostgres, p.AppURL, nil, tenants.WithMasterKeys(MasterKey, nil))
	if err != nil {
		t.Fatalf("open postgres as %s: %v", AppRole, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenSQLite migrates and opens a fresh SQLite database in a test folder.
func OpenSQLite(t testing.TB) *tenants.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "homeward.db")
	MigrateSQLite(t, path)
	return OpenSQLiteFile(t, path)
}

// MigrateSQLite migrates the SQLite database at path.
func MigrateSQLite(t testing.TB, path string) {
	t.Helper()
	if err := tenants.Migrate(context.Background(), homeward.DriverSQLite, path, "", nil); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
}

// OpenSQLiteFile opens the (migrated) SQLite database at path with the test
// master key.
func OpenSQLiteFile(t testing.TB, path string) *tenants.Store {
	t.Helper()
	s, err := tenants.Open(context.Background(), homeward.DriverSQLite, path, nil, tenants.WithMasterKeys(MasterKey, nil))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Stores returns one store per database kind, for tests that must hold on
// both: name -> store.
func Stores(t *testing.T) map[string]*tenants.Store {
	t.Helper()
	return map[string]*tenants.Store{
		homeward.DriverPostgres: OpenPostgres(t),
		homeward.DriverSQLite:   OpenSQLite(t),
	}
}

// NewTenant adds an organisation with a unique slug and returns its id.
func NewTenant(t testing.TB, s *tenants.Store) uuid.UUID {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	tn, err := s.AddTenant(context.Background(), tenants.NewTenant{Slug: "t-" + hex.EncodeToString(b), Name: "Test organisation", Country: "LA"})
	if err != nil {
		t.Fatalf("add tenant: %v", err)
	}
	return tn.ID
}

// Issuer is the identity provider that NewOrg's organisations trust; Member
// signs people in with it.
const Issuer = "https://idp.homeward.test"

// NewOrg adds an organisation whose identity provider (Issuer) maps the
// group "g-ROLE" to ROLE for every organisation role, and returns its id.
func NewOrg(t testing.TB, s *tenants.Store) uuid.UUID {
	t.Helper()
	tenant := NewTenant(t, s)
	groups := map[string][]tenants.Role{}
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			groups["g-"+string(r)] = []tenants.Role{r}
		}
	}
	secret := "s3cret-" + tenant.String()
	operator := tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("tenanttest"))
	_, err := s.PutIdentityProvider(operator, tenant, tenants.IdentityProviderChange{
		Issuer: Issuer, ClientID: "client-" + tenant.String(), ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: groups,
	})
	if err != nil {
		t.Fatalf("identity provider: %v", err)
	}
	return tenant
}

// Member signs subject in to tenant (made by NewOrg) with roles and returns
// a context acting as it, and its principal.
func Member(t testing.TB, s *tenants.Store, tenant uuid.UUID, subject string, roles ...tenants.Role) (context.Context, *tenants.Principal) {
	t.Helper()
	groups := make([]string, 0, len(roles))
	for _, r := range roles {
		groups = append(groups, "g-"+string(r))
	}
	p, _, err := s.SignIn(context.Background(), tenant, Issuer, subject, groups)
	if err != nil {
		t.Fatalf("sign in %s: %v", subject, err)
	}
	return tenants.WithPrincipal(context.Background(), p), p
}
