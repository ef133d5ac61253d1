package tenants_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestSchemaCheck: the real schema passes, and each way a future migration
// could escape isolation is caught. Every change is made in a transaction
// that is rolled back, so the package's database stays as migrated.
func TestSchemaCheck(t *testing.T) {
	pg := tenanttest.Postgres(t)
	db, err := sql.Open("pgx", pg.OwnerURL)
	must(t, err)
	defer db.Close()
	ctx := context.Background()

	problems, err := tenants.CheckSchema(ctx, db, tenanttest.AppRole)
	must(t, err)
	if len(problems) != 0 {
		t.Fatalf("the migrated schema should pass, got:\n%s", strings.Join(problems, "\n"))
	}

	const policy = `CREATE POLICY tenant_isolation ON probe
		USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
		WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)`
	const table = `CREATE TABLE probe (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id))`
	cases := []struct {
		name string
		ddl  []string
		role string
		want []string // substrings of the problems; none means the schema must pass
	}{
		{"isolated table passes", []string{table, "ALTER TABLE probe ENABLE ROW LEVEL SECURITY", "ALTER TABLE probe FORCE ROW LEVEL SECURITY", policy}, "", nil},
		{"no row-level security", []string{table}, "", []string{"table probe", "ENABLE ROW LEVEL SECURITY", "FORCE ROW LEVEL SECURITY", "a policy"}},
		{"enabled but not forced", []string{table, "ALTER TABLE probe ENABLE ROW LEVEL SECURITY", policy}, "", []string{"lacks FORCE ROW LEVEL SECURITY"}},
		{"policy looser than the tenant", []string{table, "ALTER TABLE probe ENABLE ROW LEVEL SECURITY", "ALTER TABLE probe FORCE ROW LEVEL SECURITY",
			`CREATE POLICY tenant_isolation ON probe USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR true) WITH CHECK (true)`}, "", []string{"a policy"}},
		{"policy for select only", []string{table, "ALTER TABLE probe ENABLE ROW LEVEL SECURITY", "ALTER TABLE probe FORCE ROW LEVEL SECURITY",
			`CREATE POLICY tenant_isolation ON probe FOR SELECT USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)`}, "", []string{"a policy"}},
		{"table without tenant_id", []string{"CREATE TABLE probe (id uuid PRIMARY KEY)"}, "", []string{"a tenant_id column", "primary key starting with tenant_id"}},
		{"primary key not led by tenant_id", []string{`CREATE TABLE probe (tenant_id uuid NOT NULL, id uuid PRIMARY KEY)`,
			"ALTER TABLE probe ENABLE ROW LEVEL SECURITY", "ALTER TABLE probe FORCE ROW LEVEL SECURITY", policy}, "", []string{"primary key starting with tenant_id"}},
		{"app role owns a table", []string{"CREATE ROLE hw_probe_owner NOLOGIN", "CREATE TABLE probe_global (id int)", "ALTER TABLE probe_global OWNER TO hw_probe_owner"}, "hw_probe_owner",
			[]string{"owns public.probe_global", "probe_global is not in tenants.GlobalTables"}},
		{"app role with BYPASSRLS", []string{"CREATE ROLE hw_probe_bypass NOLOGIN BYPASSRLS"}, "hw_probe_bypass", []string{"can bypass row-level security"}},
		{"app role inheriting a superuser", []string{"CREATE ROLE hw_probe_member NOLOGIN", "GRANT postgres TO hw_probe_member"}, "hw_probe_member", []string{"can bypass row-level security"}},
		{"plain app role passes", []string{"CREATE ROLE hw_probe_plain NOLOGIN"}, "hw_probe_plain", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			must(t, err)
			defer tx.Rollback()
			for _, ddl := range c.ddl {
				if _, err := tx.ExecContext(ctx, ddl); err != nil {
					t.Fatalf("%s: %v", ddl, err)
				}
			}
			role := c.role
			if role == "" {
				role = tenanttest.AppRole
			}
			problems, err := tenants.CheckSchema(ctx, tx, role)
			must(t, err)
			all := strings.Join(problems, "\n")
			if len(c.want) == 0 && len(problems) != 0 {
				t.Fatalf("want no problems, got:\n%s", all)
			}
			if len(c.want) > 0 && len(problems) == 0 {
				t.Fatal("want problems, the check passed")
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems do not mention %q:\n%s", w, all)
				}
			}
		})
	}
}
