package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"gorm.io/gorm"
)

// caseCounts opens the command's database as the application does and
// counts the cases of each organisation named.
func caseCounts(t *testing.T, env map[string]string, slugs ...string) map[string]int {
	t.Helper()
	cfg, _, err := homeward.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := tenants.Open(ctx, cfg.DatabaseDriver, cfg.DatabaseURL, nil, tenants.WithMasterKeys(cfg.MasterKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]int{}
	for _, slug := range slugs {
		tn, err := s.TenantBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = s.InTenant(ctx, tn.ID, func(tx *gorm.DB) error {
			return tx.Raw("SELECT count(*) FROM cases WHERE tenant_id = ?", tn.ID).Scan(&n).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		out[slug] = n
	}
	return out
}

// TestSeedSyntheticCases: the synthetic seed adds its organisations once
// and spreads the cases over them, on SQLite (demo mode) and on PostgreSQL
// (production, confirmed for load tests).
func TestSeedSyntheticCases(t *testing.T) {
	pg := tenanttest.Postgres(t)
	production := productionEnvForRefusal()
	production["HOMEWARD_MODE"] = "production"
	production["HOMEWARD_DATABASE_URL"] = pg.AppURL
	envs := map[string]struct {
		env  map[string]string
		args []string
	}{
		"sqlite":   {demoEnv(t), nil},
		"postgres": {production, []string{"--production-load-test"}},
	}
	for name, c := range envs {
		t.Run(name, func(t *testing.T) {
			seed := func(args ...string) (string, string) {
				t.Helper()
				code, out, errOut := runHomeward(t, c.env, append(append([]string{"seed"}, args...), c.args...)...)
				if code != 0 {
					t.Fatalf("seed %v: exit %d\n%s%s", args, code, out, errOut)
				}
				return out, errOut
			}
			out, errOut := seed("--synthetic-cases", "31", "--tenants", "2")
			if !strings.Contains(out, "added synthetic-01\nadded synthetic-02\n") || !strings.Contains(out, "seeded 31 synthetic cases into synthetic-01 … synthetic-02 in ") ||
				!strings.Contains(out, "cases/s)") {
				t.Fatalf("first seed's output:\n%s", out)
			}
			// stderr is not a terminal here: a line per tenth, not a bar.
			if !strings.Contains(errOut, "31 of 31 synthetic cases (100%)\n") {
				t.Fatalf("first seed's progress:\n%s", errOut)
			}
			if got := caseCounts(t, c.env, "synthetic-01", "synthetic-02"); got["synthetic-01"] != 16 || got["synthetic-02"] != 15 {
				t.Fatalf("cases after the first seed: %v, want 16 and 15", got)
			}
			// Again: the organisations are reused, the cases added.
			out, _ = seed("--synthetic-cases", "4", "--tenants", "2")
			if strings.Contains(out, "added synthetic") {
				t.Fatalf("the second seed added organisations again:\n%s", out)
			}
			if got := caseCounts(t, c.env, "synthetic-01", "synthetic-02"); got["synthetic-01"] != 18 || got["synthetic-02"] != 17 {
				t.Fatalf("cases after the second seed: %v, want 18 and 17", got)
			}
		})
	}

	// Production without the confirmation is refused before anything is written.
	code, _, errOut := runHomeward(t, production, "seed", "--synthetic-cases", "5", "--tenants", "3")
	if code != exitFailed || !strings.Contains(errOut, "refused in production") || !strings.Contains(errOut, "--production-load-test") {
		t.Fatalf("production without --production-load-test: exit %d\n%s", code, errOut)
	}
	if code, out, _ := runHomeward(t, production, "tenants", "list"); code != 0 || strings.Contains(out, "synthetic-03") {
		t.Fatalf("the refused seed added an organisation: exit %d\n%s", code, out)
	}
}

// TestSeedRefusesBadArguments: each bad value exits 2 naming its flag
// (the control is TestSeedSyntheticCases, where good values succeed).
func TestSeedRefusesBadArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--synthetic-cases", "0"}, "synthetic-cases"},
		{[]string{"--synthetic-cases", "-3"}, "synthetic-cases"},
		{[]string{"--synthetic-cases", "many"}, "synthetic-cases"},
		{[]string{"--synthetic-cases", "10", "--tenants", "0"}, "tenants"},
		{[]string{"--synthetic-cases", "10", "--tenants", "-1"}, "tenants"},
		{[]string{"--synthetic-cases", "10", "--tenants", "two"}, "tenants"},
		{[]string{"--tenants", "2"}, "synthetic-cases"},                                               // --tenants alone: which seed?
		{[]string{"--demo", "--synthetic-cases", "10"}, "synthetic-cases"},                            // one seed at a time
		{[]string{"--demo", "--tenants", "2"}, "tenants"},                                             // --tenants belongs to the synthetic seed
		{[]string{}, "synthetic-cases"},                                                               // nothing asked
		{[]string{"--synthetic-cases", "10", "--tenants", "1000"}, "tenants"},                         // over the limit
		{[]string{"--synthetic-cases", "10000001"}, "synthetic-cases"},                                // over the limit
		{[]string{"--synthetic-cases", "10", "--production-load-test=maybe"}, "production-load-test"}, // not a boolean
	} {
		env := demoEnv(t)
		code, out, errOut := runHomeward(t, env, append([]string{"seed"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.flag) {
			t.Errorf("seed %v: exit %d, want %d naming %s\n%s%s", c.args, code, exitUsage, c.flag, out, errOut)
		}
		if code, out, _ := runHomeward(t, env, "tenants", "list"); code != 0 || strings.Contains(out, "synthetic") {
			t.Errorf("seed %v added an organisation:\n%s", c.args, out)
		}
	}
}

// demoCounts opens the command's database as the application does and
// answers each counting query (its one argument the organisation's id)
// for the organisation slug.
func demoCounts(t *testing.T, env map[string]string, slug string, queries map[string]string) map[string]int {
	t.Helper()
	cfg, _, err := homeward.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := tenants.Open(ctx, cfg.DatabaseDriver, cfg.DatabaseURL, nil, tenants.WithMasterKeys(cfg.MasterKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tn, err := s.TenantBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	err = s.InTenant(ctx, tn.ID, func(tx *gorm.DB) error {
		for name, q := range queries {
			var n int
			if err := tx.Raw(q, tn.ID).Scan(&n).Error; err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			out[name] = n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// demoPathQueries count what the demo seed adds beyond the case files: the
// starter kit (requested, approved by another member, disbursed), the
// reintegrated cases and their scheduled visits, one recorded and one
// overdue.
var demoPathQueries = map[string]string{
	"kits": "SELECT count(*) FROM kits WHERE tenant_id = ?",
	"disbursed kits by two people": `SELECT count(*) FROM kits WHERE tenant_id = ? AND state = 'disbursed'
		AND requested_by IS NOT NULL AND decided_by IS NOT NULL AND requested_by <> decided_by AND disbursed_by IS NOT NULL`,
	"kit items":                   "SELECT count(*) FROM kit_items WHERE tenant_id = ?",
	"reintegrated cases":          "SELECT count(*) FROM cases WHERE tenant_id = ? AND stage = 'reintegrated'",
	"reintegrations":              "SELECT count(*) FROM reintegrations WHERE tenant_id = ?",
	"scheduled":                   "SELECT count(*) FROM reintegrations WHERE tenant_id = ? AND schedule_at IS NOT NULL",
	"visits":                      "SELECT count(*) FROM followup_visits WHERE tenant_id = ?",
	"visits done":                 "SELECT count(*) FROM followup_visits WHERE tenant_id = ? AND status = 'done' AND visited_by IS NOT NULL",
	"cases with a visit done":     "SELECT count(DISTINCT case_id) FROM followup_visits WHERE tenant_id = ? AND status = 'done'",
	"visits overdue":              "SELECT count(*) FROM followup_visits WHERE tenant_id = ? AND status = 'planned' AND due_on < '" + time.Now().UTC().Format(time.DateOnly) + "'",
	"cases with an overdue visit": "SELECT count(DISTINCT case_id) FROM followup_visits WHERE tenant_id = ? AND status = 'planned' AND due_on < '" + time.Now().UTC().Format(time.DateOnly) + "'",
}

// demoPartnershipQueries count an organisation's copies of the demo
// partnerships.
var demoPartnershipQueries = map[string]string{
	"active":         "SELECT count(*) FROM partnerships WHERE tenant_id = ? AND state = 'active'",
	"handoffs in":    "SELECT count(*) FROM partnerships WHERE to_tenant_id = tenant_id AND tenant_id = ? AND purpose = 'handoffs' AND statistics_back AND documents",
	"statistics out": "SELECT count(*) FROM partnerships WHERE from_tenant_id = tenant_id AND tenant_id = ? AND purpose = 'statistics'",
}

// TestSeedDemoCases: seed --demo gives afesip-laos its dozen demo cases
// once, one of them with a starter kit (requested by the social worker,
// approved by the case manager, disbursed) and two reintegrated with their
// follow-up schedules (one visit recorded, one overdue); the second run
// adds none of it again.
func TestSeedDemoCases(t *testing.T) {
	env := demoEnv(t)
	code, out, errOut := runHomeward(t, env, "seed", "--demo")
	if code != 0 || !strings.Contains(out, "added 12 demo cases to afesip-laos") || !strings.Contains(out, "added 3 demo partnerships") {
		t.Fatalf("seed: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runHomeward(t, env, "seed", "--demo")
	if code != 0 || strings.Contains(out, "demo cases") || strings.Contains(out, "partnerships") {
		t.Fatalf("second seed: exit %d\n%s%s", code, out, errOut)
	}
	if got := caseCounts(t, env, "afesip-laos", "afesip-france"); got["afesip-laos"] != 12 || got["afesip-france"] != 0 {
		t.Fatalf("cases after two seeds: %v, want 12 in afesip-laos and none elsewhere", got)
	}
	got := demoCounts(t, env, "afesip-laos", demoPathQueries)
	want := map[string]int{"kits": 1, "disbursed kits by two people": 1, "kit items": 3, "reintegrated cases": 2,
		"reintegrations": 2, "scheduled": 2, "visits done": 1, "cases with a visit done": 1, "visits overdue": 1,
		"cases with an overdue visit": 1}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("after two seeds, %s: %d, want %d", name, got[name], n)
		}
	}
	// Two schedules of the default rule (16 visits each).
	if got["visits"] != 32 {
		t.Errorf("after two seeds, %d visits scheduled, want 32", got["visits"])
	}
	// Another demo organisation gets none of it.
	if other := demoCounts(t, env, "afesip-france", demoPathQueries); other["kits"] != 0 || other["reintegrations"] != 0 {
		t.Errorf("afesip-france after the seeds: %v", other)
	}
	// The demo partnerships, once, each held by both its organisations:
	// demo-partner-th and demo-partner-my send handoffs to afesip-laos,
	// which shares its statistics with afesip-france.
	for slug, want := range map[string]map[string]int{
		"afesip-laos":     {"active": 3, "handoffs in": 2, "statistics out": 1},
		"afesip-france":   {"active": 1, "handoffs in": 0, "statistics out": 0},
		"demo-partner-th": {"active": 1, "handoffs in": 0, "statistics out": 0},
		"demo-partner-my": {"active": 1, "handoffs in": 0, "statistics out": 0},
	} {
		got := demoCounts(t, env, slug, demoPartnershipQueries)
		for name, n := range want {
			if got[name] != n {
				t.Errorf("after two seeds, %s holds %d %s partnerships, want %d", slug, got[name], name, n)
			}
		}
	}
}
