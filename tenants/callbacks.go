package tenants

import (
	"errors"
	"reflect"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// Errors of the tenant callbacks: each is a programming error, never a user's.
var (
	ErrNoTenant    = errors.New("tenants: statement on a tenant-owned table outside InTenant")
	ErrOtherTenant = errors.New("tenants: row belongs to another tenant")
)

// registerTenantCallbacks installs the application-side isolation layer: the
// only one on SQLite, the second one on PostgreSQL (under row-level security).
// Raw SQL (tx.Raw, tx.Exec) is not rewritten; on PostgreSQL the policies still
// apply to it, on SQLite code must not use raw SQL on tenant-owned tables.
func registerTenantCallbacks(db *gorm.DB) error {
	cb := db.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register("homeward:tenant_stamp", stampTenant),
		cb.Query().Before("gorm:query").Register("homeward:tenant_scope", scopeToTenant),
		cb.Row().Before("gorm:row").Register("homeward:tenant_scope", scopeToTenant),
		cb.Update().Before("gorm:update").Register("homeward:tenant_scope", scopeToTenant),
		cb.Delete().Before("gorm:delete").Register("homeward:tenant_scope", scopeToTenant),
		// Field encryption (encrypted.go) runs once the tenant is settled.
		cb.Create().Before("gorm:create").After("homeward:tenant_stamp").Register("homeward:encrypt", encryptBeforeWrite),
		cb.Update().Before("gorm:update").After("homeward:tenant_scope").Register("homeward:encrypt", encryptBeforeWrite),
		cb.Query().After("gorm:query").Register("homeward:decrypt", decryptAfterQuery),
		cb.Delete().After("gorm:delete").Register("homeward:blind_index_drop", dropBlindIndexAfterDelete),
	)
}

// tenantOwned reports whether the statement addresses a tenant-owned table
// through GORM's builder (raw SQL has no table and is left to the database).
func tenantOwned(db *gorm.DB) bool {
	st := db.Statement
	return st.SQL.Len() == 0 && st.Table != "" && !isGlobal(st.Table)
}

func scopeToTenant(db *gorm.DB) {
	if db.Error != nil || !tenantOwned(db) {
		return
	}
	tid, ok := txTenantFrom(db.Statement.Context)
	if !ok {
		_ = db.AddError(ErrNoTenant)
		return
	}
	// GORM refuses an update or delete without conditions; the tenant
	// condition added below must not turn such a mistake into "all rows of the
	// tenant", so the check is made here first.
	if isWrite(db) && !db.AllowGlobalUpdate && !hasWhere(db) && !hasPrimaryKey(db) {
		_ = db.AddError(gorm.ErrMissingWhereClause)
		return
	}
	db.Statement.AddClause(clause.Where{Exprs: []clause.Expression{
		clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "tenant_id"}, Value: tid},
	}})
}

func isWrite(db *gorm.DB) bool {
	_, upd := db.Statement.Clauses["UPDATE"]
	_, del := db.Statement.Clauses["DELETE"]
	// The UPDATE/DELETE clauses are built inside gorm:update and gorm:delete,
	// after this callback; BuildClauses tells which processor is running.
	for _, c := range db.Statement.BuildClauses {
		if c == "UPDATE" || c == "DELETE" {
			return true
		}
	}
	return upd || del
}

func hasWhere(db *gorm.DB) bool {
	w, ok := db.Statement.Clauses["WHERE"]
	if !ok {
		return false
	}
	where, ok := w.Expression.(clause.Where)
	return !ok || len(where.Exprs) > 0
}

// hasPrimaryKey reports whether the model addressed carries its id, from
// which GORM builds the condition of an update or delete.
func hasPrimaryKey(db *gorm.DB) bool {
	st := db.Statement
	if st.Schema == nil {
		return false
	}
	rv := reflect.Indirect(st.ReflectValue)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		if rv.Len() == 0 {
			return false
		}
		rv = reflect.Indirect(rv.Index(0))
	}
	if rv.Kind() != reflect.Struct {
		return false
	}
	for _, f := range st.Schema.PrimaryFields {
		if f.DBName == "tenant_id" {
			continue
		}
		if _, zero := f.ValueOf(st.Context, rv); !zero {
			return true
		}
	}
	return false
}

// stampTenant sets tenant_id on every new row of a tenant-owned table and
// refuses a row that names another tenant.
func stampTenant(db *gorm.DB) {
	if db.Error != nil || !tenantOwned(db) {
		return
	}
	st := db.Statement
	tid, ok := txTenantFrom(st.Context)
	if !ok {
		_ = db.AddError(ErrNoTenant)
		return
	}
	var field *schema.Field
	if st.Schema != nil {
		field = st.Schema.LookUpField("tenant_id")
	}
	if field == nil {
		_ = db.AddError(errors.New("tenants: rows of tenant-owned table " + st.Table + " must be created from a model with a TenantID field"))
		return
	}
	stamp := func(rv reflect.Value) {
		rv = reflect.Indirect(rv)
		if rv.Kind() != reflect.Struct {
			_ = db.AddError(errors.New("tenants: cannot stamp tenant on " + rv.Kind().String()))
			return
		}
		v, zero := field.ValueOf(st.Context, rv)
		if zero {
			if err := field.Set(st.Context, rv, tid); err != nil {
				_ = db.AddError(err)
			}
			return
		}
		if !sameTenant(v, tid) {
			_ = db.AddError(ErrOtherTenant)
		}
	}
	switch rv := st.ReflectValue; rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			stamp(rv.Index(i))
		}
	default:
		stamp(rv)
	}
}

func sameTenant(v any, tid uuid.UUID) bool {
	switch x := v.(type) {
	case uuid.UUID:
		return x == tid
	case *uuid.UUID:
		return x != nil && *x == tid
	}
	return false
}
