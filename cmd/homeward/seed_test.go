package main

import (
	"context"
	"strings"
	"testing"

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

// TestSeedDemoCases: seed --demo gives afesip-laos its dozen demo cases
// once; the second run adds none.
func TestSeedDemoCases(t *testing.T) {
	env := demoEnv(t)
	code, out, errOut := runHomeward(t, env, "seed", "--demo")
	if code != 0 || !strings.Contains(out, "added 12 demo cases to afesip-laos") {
		t.Fatalf("seed: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runHomeward(t, env, "seed", "--demo")
	if code != 0 || strings.Contains(out, "demo cases") {
		t.Fatalf("second seed: exit %d\n%s%s", code, out, errOut)
	}
	if got := caseCounts(t, env, "afesip-laos", "afesip-france"); got["afesip-laos"] != 12 || got["afesip-france"] != 0 {
		t.Fatalf("cases after two seeds: %v, want 12 in afesip-laos and none elsewhere", got)
	}
}
