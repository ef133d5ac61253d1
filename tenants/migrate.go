package tenants

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"

	"github.com/afesip/homeward"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// migrateLock is the advisory lock that serialises migrate runs on one
// PostgreSQL database (parallel test packages, two operators, a rollout).
const migrateLock = 0x686f6d65 // "home"

// Migrate applies the embedded migrations, each in its own transaction and
// recorded in goose_db_version, so running it twice changes nothing.
//
// On PostgreSQL it runs as the owner (ownerURL) and, before the migrations,
// creates the app role named in appURL when missing (LOGIN, NOBYPASSRLS,
// owning nothing); afterwards it grants the app role what it needs and runs
// CheckSchema, failing when any table escapes tenant isolation.
// On SQLite ownerURL is ignored and appURL is the database file.
func Migrate(ctx context.Context, driver, appURL, ownerURL string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch driver {
	case homeward.DriverSQLite:
		db, err := sql.Open("sqlite", SQLiteDSN(appURL))
		if err != nil {
			return err
		}
		defer db.Close()
		return runGoose(ctx, goose.DialectSQLite3, db, "migrations/sqlite", log)
	case homeward.DriverPostgres:
		return migratePostgres(ctx, appURL, ownerURL, log)
	}
	return fmt.Errorf("unknown database driver %q", driver)
}

func runGoose(ctx context.Context, dialect goose.Dialect, db *sql.DB, dir string, log *slog.Logger) error {
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// PendingMigrations reports whether the database lacks some of the embedded
// migrations; serve, worker and scheduler refuse to start then.
func (s *Store) PendingMigrations(ctx context.Context) (bool, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	dialect, dir := goose.DialectPostgres, "migrations/postgres"
	if s.driver == homeward.DriverSQLite {
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return false, err
	}
	p, err := goose.NewProvider(dialect, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return false, err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return false, err
	}
	return current < target, nil
}

func migratePostgres(ctx context.Context, appURL, ownerURL string, log *slog.Logger) error {
	if ownerURL == "" {
		return homeward.Invalid(map[string]string{"HOMEWARD_DATABASE_OWNER_URL": "required by migrate on PostgreSQL: the connection of the role that owns the schema"})
	}
	app, err := url.Parse(appURL)
	if err != nil || app.User.Username() == "" {
		return homeward.Invalid(map[string]string{"HOMEWARD_DATABASE_URL": "expected postgres://ROLE:PASSWORD@HOST/DB"})
	}
	role := app.User.Username()
	password, _ := app.User.Password()

	db, err := sql.Open("pgx", ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect as owner: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock) //nolint:errcheck // released with the connection anyway

	var owner string
	if err := conn.QueryRowContext(ctx, "SELECT current_user").Scan(&owner); err != nil {
		return err
	}
	if owner == role {
		return homeward.Invalid(map[string]string{"HOMEWARD_DATABASE_URL": "the app role must not be the owner role given in HOMEWARD_DATABASE_OWNER_URL"})
	}
	if err := ensureAppRole(ctx, conn, role, password, log); err != nil {
		return err
	}
	if err := runGoose(ctx, goose.DialectPostgres, db, "migrations/postgres", log); err != nil {
		return err
	}
	if err := grantAppRole(ctx, conn, role); err != nil {
		return err
	}
	problems, err := CheckSchema(ctx, db, role)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("migrate: the schema breaks tenant isolation:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// ensureAppRole creates the app role when missing. Roles are shared by every
// database of the server, so two migrations of different databases may race
// to create it: the loser sees a duplicate and carries on.
func ensureAppRole(ctx context.Context, conn *sql.Conn, role, password string, log *slog.Logger) error {
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return err
	}
	stmt, args := "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', $1::text)", []any{role}
	if exists {
		if password == "" {
			return nil
		}
		stmt = "SELECT format('ALTER ROLE %I', $1::text)"
	}
	if password != "" {
		stmt = strings.TrimSuffix(stmt, "', $1::text)") + " PASSWORD %L', $1::text, $2::text)"
		args = append(args, password)
	}
	var ddl string
	if err := conn.QueryRowContext(ctx, stmt, args...).Scan(&ddl); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, ddl)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") { // duplicate_object, unique_violation
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrate: create the app role %q: %w", role, err)
	}
	if !exists {
		log.Info("created the app role", "role", role)
	}
	return nil
}

// appendOnlyTables are the tables the app role may read and add to but never
// change or delete from; CheckSchema fails when it can. Rows of audit_log
// leave only through the audit_prune function (tenants/audit_retention.go).
var appendOnlyTables = []string{"audit_log"}

// grantAppRole gives the app role the use of every table and sequence, and
// nothing more: no ownership, no DDL, no change to append-only tables.
func grantAppRole(ctx context.Context, conn *sql.Conn, role string) error {
	var ident, dbIdent string
	if err := conn.QueryRowContext(ctx, "SELECT quote_ident($1), quote_ident(current_database())", role).Scan(&ident, &dbIdent); err != nil {
		return err
	}
	stmts := []string{
		"GRANT CONNECT ON DATABASE " + dbIdent + " TO " + ident,
		"GRANT USAGE ON SCHEMA public TO " + ident,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + ident,
		"REVOKE INSERT, UPDATE, DELETE ON goose_db_version FROM " + ident,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + ident,
	}
	for _, t := range appendOnlyTables {
		stmts = append(stmts, "REVOKE UPDATE, DELETE, TRUNCATE ON "+t+" FROM "+ident)
	}
	stmts = append(stmts, auditGrants(ident)...)
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %s: %w", stmt, err)
		}
	}
	return nil
}
