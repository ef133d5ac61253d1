package tenants_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
)

func TestMigrateTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	t.Run(homeward.DriverPostgres, func(t *testing.T) {
		pg := tenanttest.Postgres(t)
		before := gooseVersions(t, "pgx", pg.OwnerURL)
		must(t, tenants.Migrate(ctx, homeward.DriverPostgres, pg.AppURL, pg.OwnerURL, nil))
		if after := gooseVersions(t, "pgx", pg.OwnerURL); after != before || before == 0 {
			t.Fatalf("recorded migrations: %d before, %d after a second run", before, after)
		}
		s := tenanttest.OpenPostgres(t)
		pending, err := s.PendingMigrations(ctx)
		if err != nil || pending {
			t.Fatalf("pending = %v, %v after migrate", pending, err)
		}
	})
	t.Run(homeward.DriverSQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		must(t, tenants.Migrate(ctx, homeward.DriverSQLite, path, "", nil))
		before := gooseVersions(t, "sqlite", tenants.SQLiteDSN(path))
		must(t, tenants.Migrate(ctx, homeward.DriverSQLite, path, "", nil))
		if after := gooseVersions(t, "sqlite", tenants.SQLiteDSN(path)); after != before || before == 0 {
			t.Fatalf("recorded migrations: %d before, %d after a second run", before, after)
		}
	})
}

// TestMigrateInParallel: three migrate runs on one fresh database at once
// (parallel test packages, two operators) all succeed and apply each
// migration once.
func TestMigrateInParallel(t *testing.T) {
	ctx := context.Background()
	pg := tenanttest.Postgres(t)
	admin, err := sql.Open("pgx", tenanttest.ServerURL())
	must(t, err)
	defer admin.Close()
	name := "hwtest_parallel_" + uuid.NewString()[:8]
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name)
	must(t, err)
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	owner, _ := url.Parse(pg.OwnerURL)
	app, _ := url.Parse(pg.AppURL)
	owner.Path, app.Path = "/"+name, "/"+name

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tenants.Migrate(ctx, homeward.DriverPostgres, app.String(), owner.String(), nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate run %d: %v", i, err)
		}
	}
	if got, want := gooseVersions(t, "pgx", owner.String()), gooseVersions(t, "pgx", pg.OwnerURL); got != want {
		t.Fatalf("parallel runs recorded %d migrations, want %d", got, want)
	}
}

func TestMigrateRefusesTheOwnerAsAppRole(t *testing.T) {
	pg := tenanttest.Postgres(t)
	err := tenants.Migrate(context.Background(), homeward.DriverPostgres, pg.OwnerURL, pg.OwnerURL, nil)
	if homeward.ErrorCode(err) != homeward.EINVALID {
		t.Fatalf("owner as app role: err = %v, want invalid", err)
	}
	err = tenants.Migrate(context.Background(), homeward.DriverPostgres, pg.AppURL, "", nil)
	if homeward.ErrorCode(err) != homeward.EINVALID {
		t.Fatalf("no owner URL: err = %v, want invalid", err)
	}
}

// gooseVersions counts the applied migrations recorded by goose.
func gooseVersions(t *testing.T, driver, dsn string) (n int) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	must(t, err)
	defer db.Close()
	must(t, db.QueryRow("SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&n))
	return n
}
