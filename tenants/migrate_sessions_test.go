package tenants

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestMigration8KeepsSessions: on SQLite, 00008 rebuilds login_attempts and
// sessions (SQLite cannot drop NOT NULL): the members' sessions and sign-ins
// in progress of a database at version 7 are still there afterwards, and
// again after going back down (which drops the operators' rows alone).
func TestMigration8KeepsSessions(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "h.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	hash := func(b byte) []byte { h := make([]byte, 32); h[0] = b; return h }
	token := RandomToken()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO tenants (id, slug, name, country, created_at, updated_at) VALUES ('t1', 'org', 'Org', 'LA', ?, ?)`, now, now)
	exec(`INSERT INTO identities (id, issuer, subject, created_at) VALUES ('i1', 'https://idp.example.org', 'alice', ?)`, now)
	exec(`INSERT INTO memberships (id, tenant_id, identity_id, created_at, updated_at) VALUES ('m1', 't1', 'i1', ?, ?)`, now, now)
	exec(`INSERT INTO sessions (id_hash, tenant_id, membership_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, 't1', 'm1', ?, ?, ?, ?)`, hash(1), token, now, now, now.Add(time.Hour))
	exec(`INSERT INTO login_attempts (id_hash, tenant_id, state, nonce, code_verifier, created_at, expires_at)
		VALUES (?, 't1', ?, ?, ?, ?, ?)`, hash(2), token, token, token, now, now.Add(time.Hour))

	count := func(q string) (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM sessions WHERE tenant_id = 't1' AND membership_id = 'm1' AND identity_id IS NULL`); n != 1 {
		t.Fatalf("after 00008: %d member sessions, want the one from before", n)
	}
	if n := count(`SELECT count(*) FROM login_attempts WHERE tenant_id = 't1' AND operator = 0`); n != 1 {
		t.Fatalf("after 00008: %d sign-ins in progress, want the one from before", n)
	}
	// An operator's session and attempt, then back down: only they go.
	exec(`INSERT INTO sessions (id_hash, identity_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, 'i1', ?, ?, ?, ?)`, hash(3), token, now, now, now.Add(time.Hour))
	exec(`INSERT INTO login_attempts (id_hash, operator, state, nonce, code_verifier, created_at, expires_at)
		VALUES (?, 1, ?, ?, ?, ?, ?)`, hash(4), token, token, token, now, now.Add(time.Hour))
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM sessions`); n != 1 {
		t.Fatalf("after going down: %d sessions, want the member's alone", n)
	}
	if n := count(`SELECT count(*) FROM login_attempts`); n != 1 {
		t.Fatalf("after going down: %d attempts, want the organisation's alone", n)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
