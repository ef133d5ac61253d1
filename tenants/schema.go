package tenants

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Querier is what CheckSchema reads the catalogue through: *sql.DB,
// *sql.Conn or *sql.Tx (tests check a schema change inside a transaction
// they roll back).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CheckSchema lists every way the PostgreSQL schema escapes tenant isolation:
// a table neither in GlobalTables nor tenant-owned (tenant_id first in its
// primary key, row-level security enabled and forced, a tenant_isolation
// policy for all commands with USING and WITH CHECK on app.tenant_id), and an
// app role that owns anything or can bypass row-level security (itself or
// through a role it belongs to), or can rewrite the audit trail (change or
// delete rows of an append-only table, move a chain's anchor). An empty list
// means the schema is sound.
func CheckSchema(ctx context.Context, db Querier, appRole string) ([]string, error) {
	var problems []string

	rows, err := db.QueryContext(ctx, `
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
       COALESCE((SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE i.indrelid = c.oid AND i.indisprimary), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("schema check: %w", err)
	}
	type table struct {
		name               string
		rls, force, tenant bool
		firstPrimaryKeyCol string
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.rls, &t.force, &t.tenant, &t.firstPrimaryKeyCol); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	policies := map[string]bool{}
	prows, err := db.QueryContext(ctx, `
SELECT tablename, cmd, COALESCE(qual, ''), COALESCE(with_check, '')
FROM pg_policies WHERE schemaname = 'public' AND permissive = 'PERMISSIVE'`)
	if err != nil {
		return nil, fmt.Errorf("schema check: %w", err)
	}
	for prows.Next() {
		var table, cmd, using, check string
		if err := prows.Scan(&table, &cmd, &using, &check); err != nil {
			prows.Close()
			return nil, err
		}
		if cmd == "ALL" && isTenantCondition(using) && isTenantCondition(check) {
			policies[table] = true
		}
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, err
	}

	for _, t := range tables {
		if isGlobal(t.name) {
			continue
		}
		var missing []string
		if !t.tenant {
			missing = append(missing, "a tenant_id column")
		}
		if t.firstPrimaryKeyCol != "tenant_id" {
			missing = append(missing, "a primary key starting with tenant_id")
		}
		if !t.rls {
			missing = append(missing, "ENABLE ROW LEVEL SECURITY")
		}
		if !t.force {
			missing = append(missing, "FORCE ROW LEVEL SECURITY")
		}
		if !policies[t.name] {
			missing = append(missing, "a policy FOR ALL with USING and WITH CHECK on tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid")
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("table %s is not in tenants.GlobalTables and lacks %s", t.name, strings.Join(missing, ", ")))
		}
	}

	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", appRole).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return append(problems, fmt.Sprintf("the app role %s does not exist", appRole)), nil
	}
	var owned []string
	orows, err := db.QueryContext(ctx, `
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE pg_has_role($1, c.relowner, 'USAGE') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`, appRole)
	if err != nil {
		return nil, err
	}
	for orows.Next() {
		var name string
		if err := orows.Scan(&name); err != nil {
			orows.Close()
			return nil, err
		}
		owned = append(owned, name)
	}
	orows.Close()
	sort.Strings(owned)
	if len(owned) > 0 {
		problems = append(problems, fmt.Sprintf("the app role %s owns %s: it must own nothing, or row-level security does not bind it", appRole, strings.Join(owned, ", ")))
	}
	var bypass []string
	brows, err := db.QueryContext(ctx, `
SELECT r.rolname FROM pg_roles r WHERE (r.rolbypassrls OR r.rolsuper) AND pg_has_role($1, r.oid, 'MEMBER') ORDER BY 1`, appRole)
	if err != nil {
		return nil, err
	}
	for brows.Next() {
		var name string
		if err := brows.Scan(&name); err != nil {
			brows.Close()
			return nil, err
		}
		bypass = append(bypass, name)
	}
	brows.Close()
	if len(bypass) > 0 {
		problems = append(problems, fmt.Sprintf("the app role %s can bypass row-level security (BYPASSRLS or superuser through %s)", appRole, strings.Join(bypass, ", ")))
	}
	appendOnly, err := checkAppendOnly(ctx, db, appRole)
	if err != nil {
		return nil, err
	}
	return append(problems, appendOnly...), nil
}

// tenantCondition is the policy expression as PostgreSQL prints it back.
const tenantCondition = "(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)"

// isTenantCondition accepts exactly the tenant condition, nothing looser
// (an added "OR true" must not pass).
func isTenantCondition(expr string) bool {
	return strings.Join(strings.Fields(expr), " ") == tenantCondition
}
