package tenants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/afesip/homeward"
	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the one way into the database. Tenant-owned rows are reached only
// through InTenant (or AcrossTenants); global tables through Global.
type Store struct {
	db      *gorm.DB
	driver  string
	keyring *Keyring // nil: encrypted fields, documents and the audit chain refuse to work
}

// Open connects to the database. On PostgreSQL, dsn is the app role's URL; on
// SQLite it is the path of the database file, created when missing.
func Open(ctx context.Context, driver, dsn string, log *slog.Logger, opts ...Option) (*Store, error) {
	var dialector gorm.Dialector
	switch driver {
	case homeward.DriverPostgres:
		dialector = postgres.Open(dsn)
	case homeward.DriverSQLite:
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("create the database folder: %w", err)
		}
		dialector = sqlite.Open(SQLiteDSN(dsn))
	default:
		return nil, fmt.Errorf("unknown database driver %q", driver)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 newGormLogger(log),
		TranslateError:         true,
		SkipDefaultTransaction: true, // every write is already inside InTenant or Global
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	switch driver {
	case homeward.DriverPostgres:
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	case homeward.DriverSQLite:
		// Transactions start IMMEDIATE (see SQLiteDSN), so writers queue on the
		// busy timeout instead of failing; a few connections let reads overlap.
		sqlDB.SetMaxOpenConns(4)
	}
	if err := registerTenantCallbacks(db); err != nil {
		return nil, err
	}
	s := &Store{db: db, driver: driver}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// SQLiteDSN turns a file path into the DSN Homeward uses: the pragmas are in
// the DSN so that every pooled connection gets them; WAL lets readers run
// beside a writer, the busy timeout lets a second process (homeward tenants
// add while serve runs) wait for the lock, and IMMEDIATE transactions take the
// write lock at BEGIN so a transaction never fails half-way on an upgrade.
// (No _time_format: the driver stops reading options after it, and its
// default is the format we want.)
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Driver returns homeward.DriverPostgres or homeward.DriverSQLite.
func (s *Store) Driver() string { return s.driver }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// txTenant marks a transaction opened by InTenant; only this package sets it,
// so no caller can make the callbacks believe it is inside a tenant.
type txTenantKey struct{}

type txTenant struct{ id uuid.UUID }

func txTenantFrom(ctx context.Context) (uuid.UUID, bool) {
	if ctx == nil {
		return uuid.Nil, false
	}
	t, ok := ctx.Value(txTenantKey{}).(txTenant)
	return t.id, ok && t.id != uuid.Nil
}

// TxTenant is the organisation of tx, a transaction of InTenant: ErrNoTenant
// outside one. A subquery built for another statement (db.Where("x IN (?)",
// sub)) should name it itself, as BlindIndexMatches and cases.LiveCases do:
// its conditions are its own, whatever becomes of the statement around it.
func TxTenant(tx *gorm.DB) (uuid.UUID, error) {
	if tid, ok := txTenantFrom(tx.Statement.Context); ok {
		return tid, nil
	}
	return uuid.Nil, ErrNoTenant
}

// InTenant runs fn in one transaction on behalf of tenantID: on PostgreSQL it
// sets app.tenant_id for this transaction only, so row-level security limits
// every statement to the tenant; the GORM callbacks add the same condition on
// both databases. The transaction commits when fn returns nil.
func (s *Store) InTenant(ctx context.Context, tenantID uuid.UUID, fn func(tx *gorm.DB) error) error {
	if tenantID == uuid.Nil {
		return errors.New("tenants: InTenant needs a tenant id")
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tx, err := s.enterTenant(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		return fn(tx)
	})
}

// enterTenant points an open transaction at tenantID.
func (s *Store) enterTenant(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID) (*gorm.DB, error) {
	if s.driver == homeward.DriverPostgres {
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", tenantID.String()).Error; err != nil {
			return nil, fmt.Errorf("tenants: set tenant: %w", err)
		}
	}
	ctx = context.WithValue(ctx, txTenantKey{}, txTenant{tenantID})
	if s.keyring != nil {
		ctx = context.WithValue(ctx, keyringKey{}, s.keyring)
	}
	return tx.WithContext(ctx), nil
}

// Global runs fn in one transaction with no tenant: only the tables of
// GlobalTables can be reached; a statement on a tenant-owned table fails.
func (s *Store) Global(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx = context.WithValue(ctx, txTenantKey{}, txTenant{})
	return s.db.WithContext(ctx).Transaction(fn)
}

// TenantStep is one part of work spanning organisations: fn runs on behalf of
// Tenant, seeing only that tenant's rows.
type TenantStep struct {
	Tenant uuid.UUID
	Fn     func(tx *gorm.DB) error
}

// AcrossTenants is the one function through which work spans two
// organisations (a repatriation handoff, a partnership). The caller must have
// checked, in the domain layer, that the organisations may share this work.
// The steps run in order in a single transaction, each with the tenant
// setting switched to its own tenant, so each still sees only its own rows;
// an error in any step rolls every step back.
func (s *Store) AcrossTenants(ctx context.Context, steps ...TenantStep) error {
	if len(steps) == 0 {
		return errors.New("tenants: AcrossTenants needs at least one step")
	}
	for _, st := range steps {
		if st.Tenant == uuid.Nil || st.Fn == nil {
			return errors.New("tenants: every step needs a tenant and a function")
		}
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, st := range steps {
			ttx, err := s.enterTenant(ctx, tx, st.Tenant)
			if err != nil {
				return err
			}
			if err := st.Fn(ttx); err != nil {
				return err
			}
		}
		return nil
	})
}

// newGormLogger logs slow statements and errors with placeholders only, never
// the values bound to them (they may be personal data).
func newGormLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		return logger.Discard
	}
	return logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	})
}
