package tenants_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The members' follow-up mail addresses of 00013 become their contact
// addresses in 00015 (member_contacts), and back going down.

// contactFixture is two organisations, each with one member, whose
// follow-up mail addresses are written at version 14.
type contactFixture struct {
	tenants, members, identities [2]string
}

func newContactFixture() contactFixture {
	return contactFixture{
		tenants:    [2]string{"00000000-0000-7000-8000-0000000000a1", "00000000-0000-7000-8000-0000000000b1"},
		members:    [2]string{"00000000-0000-7000-8000-0000000000a2", "00000000-0000-7000-8000-0000000000b2"},
		identities: [2]string{"00000000-0000-7000-8000-0000000000a3", "00000000-0000-7000-8000-0000000000b3"},
	}
}

// TestMigration15MovesContactsSQLite: on SQLite, the addresses move to
// member_contacts and back.
func TestMigration15MovesContactsSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", tenants.SQLiteDSN(filepath.Join(t.TempDir(), "h.db")))
	must(t, err)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations/sqlite"), goose.WithDisableGlobalRegistry(true))
	must(t, err)
	_, err = p.UpTo(ctx, 14)
	must(t, err)
	f := newContactFixture()
	now := time.Now().UTC()
	for i := range 2 {
		contactsExec(t, db, `INSERT INTO tenants (id, slug, name, country, created_at, updated_at) VALUES (?, ?, 'Org', 'LA', ?, ?)`,
			f.tenants[i], "org-"+f.tenants[i][len(f.tenants[i])-2:], now, now)
		contactsExec(t, db, `INSERT INTO identities (id, issuer, subject, created_at) VALUES (?, 'https://idp.example.org', ?, ?)`,
			f.identities[i], "person-"+f.tenants[i], now)
		contactsExec(t, db, `INSERT INTO memberships (id, tenant_id, identity_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			f.members[i], f.tenants[i], f.identities[i], now, now)
		contactsExec(t, db, `INSERT INTO followup_mail_addresses (tenant_id, member_id, address, language, updated_at) VALUES (?, ?, ?, 'lo', ?)`,
			f.tenants[i], f.members[i], "m"+f.members[i][len(f.members[i])-2:]+"@example.org", now)
	}
	_, err = p.UpTo(ctx, 15)
	must(t, err)
	for i := range 2 {
		var addr, lang string
		must(t, db.QueryRowContext(ctx, `SELECT address, language FROM member_contacts WHERE tenant_id = ? AND member_id = ?`,
			f.tenants[i], f.members[i]).Scan(&addr, &lang))
		if addr != "m"+f.members[i][len(f.members[i])-2:]+"@example.org" || lang != "lo" {
			t.Errorf("after 00015: %q %q", addr, lang)
		}
	}
	if contactsTableExists(t, db, "sqlite", "followup_mail_addresses") {
		t.Error("followup_mail_addresses is still there")
	}
	_, err = p.DownTo(ctx, 14)
	must(t, err)
	if n := contactsCount(t, db, `SELECT count(*) FROM followup_mail_addresses`); n != 2 {
		t.Errorf("after going down: %d addresses, want 2", n)
	}
	if contactsTableExists(t, db, "sqlite", "member_contacts") {
		t.Error("member_contacts is still there after going down")
	}
}

// TestMigration15MovesContactsPostgres: on PostgreSQL, migrated by an owner
// that is no superuser (as in production: FORCE ROW LEVEL SECURITY binds
// it, and migrate sets no tenant), every organisation's addresses move to
// member_contacts, which is isolated afterwards, and back going down.
func TestMigration15MovesContactsPostgres(t *testing.T) {
	ctx := context.Background()
	tenanttest.Postgres(t) // skips (or fails under CI) without a server
	admin, err := sql.Open("pgx", tenanttest.ServerURL())
	must(t, err)
	defer admin.Close()
	b := make([]byte, 4)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	role, name := "hwtest_owner_"+suffix, "hwtest_contacts_"+suffix
	contactsExec(t, admin, "CREATE ROLE "+role+" LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE")
	t.Cleanup(func() { admin.Exec("DROP ROLE IF EXISTS " + role) })
	contactsExec(t, admin, "CREATE DATABASE "+name+" OWNER "+role)
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(tenanttest.ServerURL())
	must(t, err)
	u.User, u.Path = url.User(role), "/"+name
	db, err := sql.Open("pgx", u.String())
	must(t, err)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations/postgres"), goose.WithDisableGlobalRegistry(true))
	must(t, err)
	_, err = p.UpTo(ctx, 14)
	must(t, err)

	f := newContactFixture()
	now := time.Now().UTC()
	// inTenant runs q in tenant's transaction and returns the count it
	// scans, if any.
	inTenant := func(tenant, q string, args ...any) (n int) {
		t.Helper()
		tx, err := db.BeginTx(ctx, nil)
		must(t, err)
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, "SELECT set_config('app.tenant_id', $1, true)", tenant)
		must(t, err)
		rows, err := tx.QueryContext(ctx, q, args...)
		must(t, err)
		for rows.Next() {
			must(t, rows.Scan(&n))
		}
		must(t, rows.Err())
		rows.Close()
		must(t, tx.Commit())
		return n
	}
	for i := range 2 {
		contactsExec(t, db, `INSERT INTO tenants (id, slug, name, country, created_at, updated_at) VALUES ($1, $2, 'Org', 'LA', $3, $3)`,
			f.tenants[i], "org-"+f.tenants[i][len(f.tenants[i])-2:], now)
		contactsExec(t, db, `INSERT INTO identities (id, issuer, subject, created_at) VALUES ($1, 'https://idp.example.org', $2, $3)`,
			f.identities[i], "person-"+f.tenants[i], now)
		contactsExec(t, db, `INSERT INTO memberships (id, tenant_id, identity_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			f.members[i], f.tenants[i], f.identities[i], now)
		inTenant(f.tenants[i], `INSERT INTO followup_mail_addresses (tenant_id, member_id, address, language, updated_at)
			VALUES ($1, $2, $3, 'lo', $4)`, f.tenants[i], f.members[i], "m"+f.members[i][len(f.members[i])-2:]+"@example.org", now)
	}
	if n := contactsCount(t, db, `SELECT count(*) FROM followup_mail_addresses`); n != 0 {
		t.Fatalf("control: the owner sees %d addresses without a tenant, want 0 (FORCE ROW LEVEL SECURITY)", n)
	}

	_, err = p.UpTo(ctx, 15)
	must(t, err)
	for i := range 2 {
		if n := inTenant(f.tenants[i], `SELECT count(*) FROM member_contacts WHERE member_id = $1 AND address = $2 AND language = 'lo'`,
			f.members[i], "m"+f.members[i][len(f.members[i])-2:]+"@example.org"); n != 1 {
			t.Errorf("after 00015, organisation %d: %d contacts, want its member's", i, n)
		}
		if n := inTenant(f.tenants[i], `SELECT count(*) FROM member_contacts`); n != 1 {
			t.Errorf("after 00015, organisation %d sees %d contacts, want its own alone", i, n)
		}
	}
	if n := contactsCount(t, db, `SELECT count(*) FROM member_contacts`); n != 0 {
		t.Errorf("after 00015 the owner sees %d contacts without a tenant: member_contacts is not isolated", n)
	}
	var rls, force bool
	must(t, db.QueryRowContext(ctx, `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'member_contacts'`).Scan(&rls, &force))
	if !rls || !force {
		t.Errorf("member_contacts: row-level security %v, forced %v", rls, force)
	}
	if contactsTableExists(t, db, "pgx", "followup_mail_addresses") {
		t.Error("followup_mail_addresses is still there")
	}

	_, err = p.DownTo(ctx, 14)
	must(t, err)
	for i := range 2 {
		if n := inTenant(f.tenants[i], `SELECT count(*) FROM followup_mail_addresses WHERE member_id = $1`, f.members[i]); n != 1 {
			t.Errorf("after going down, organisation %d: %d addresses, want its member's", i, n)
		}
	}
	if n := contactsCount(t, db, `SELECT count(*) FROM followup_mail_addresses`); n != 0 {
		t.Errorf("after going down the owner sees %d addresses without a tenant: not isolated again", n)
	}
	if contactsTableExists(t, db, "pgx", "member_contacts") {
		t.Error("member_contacts is still there after going down")
	}
}

func contactsExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func contactsCount(t *testing.T, db *sql.DB, q string) (n int) {
	t.Helper()
	if err := db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func contactsTableExists(t *testing.T, db *sql.DB, driver, table string) bool {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if driver == "pgx" {
		q = `SELECT count(*) FROM pg_class WHERE relname = $1 AND relkind = 'r'`
	}
	var n int
	if err := db.QueryRowContext(context.Background(), q, table).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n > 0
}
