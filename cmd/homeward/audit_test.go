package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// auditDemo seeds the demo organisations (the seed writes two audit rows in
// each: partnership.propose, the demo partnership it holds a copy of, or
// in afesip-laos one per partnership; idp.change, it points them at the
// demo identity provider; in afesip-laos also the rows of its demo cases)
// and writes
// n more audit rows for slug through the store, as the application would.
func auditDemo(t *testing.T, env map[string]string, slug string, n int) *homeward.Config {
	t.Helper()
	if code, _, errOut := runHomeward(t, env, "seed", "--demo"); code != 0 {
		t.Fatalf("seed: %s", errOut)
	}
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
	for range n {
		err := s.InTenant(ctx, tn.ID, func(tx *gorm.DB) error {
			return tenants.Audit(tx, tenants.AuditEntry{Action: "case.read", RecordType: "case", RecordID: uuid.New(), Purpose: "services"})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// rawSQLite runs statements on the demo database behind Homeward's back.
func rawSQLite(t *testing.T, cfg *homeward.Config, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", tenants.SQLiteDSN(cfg.DatabaseURL))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	env := demoEnv(t)
	cfg := auditDemo(t, env, "demo-partner-th", 2) // with the seed's two rows: 4

	code, out, errOut := runHomeward(t, env, "audit", "verify", "--tenant", "demo-partner-th")
	if code != exitOK || !strings.Contains(out, "OK: the audit chain is intact") || !strings.Contains(out, "read 4 rows") {
		t.Fatalf("clean chain: code %d\n%s%s", code, out, errOut)
	}

	// a checkpoint kept outside the database, printed and written to the data dir
	code, out, errOut = runHomeward(t, env, "audit", "checkpoint", "--tenant", "demo-partner-th", "--write")
	var cp tenants.Checkpoint
	if code != exitOK || json.Unmarshal([]byte(out), &cp) != nil || cp.Seq != 4 || cp.Slug != "demo-partner-th" {
		t.Fatalf("checkpoint: code %d %q %s", code, out, errOut)
	}
	saved := filepath.Join(t.TempDir(), "checkpoint.json")
	if err := os.WriteFile(saved, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	inDataDir := tenants.CheckpointFile(cfg.DataDir, "demo-partner-th")
	for _, f := range []string{saved, inDataDir} {
		if code, out, errOut := runHomeward(t, env, "audit", "verify", "--tenant", "demo-partner-th", "--checkpoint", f); code != exitOK {
			t.Fatalf("control against %s: code %d\n%s%s", f, code, out, errOut)
		}
	}

	// cut the last row off and move the head back: only the checkpoint tells
	rawSQLite(t, cfg,
		"DELETE FROM audit_log WHERE seq = 4 AND tenant_id = (SELECT id FROM tenants WHERE slug = 'demo-partner-th')",
		`UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_log l WHERE l.tenant_id = audit_heads.tenant_id AND l.seq = 3)
		 WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'demo-partner-th')`)
	code, out, _ = runHomeward(t, env, "audit", "verify", "--tenant", "demo-partner-th")
	if code != exitOK || !strings.Contains(out, "hint: checkpoints of demo-partner-th are kept in "+inDataDir) {
		t.Fatalf("without a checkpoint the cut is invisible, and the hint names the file: code %d\n%s", code, out)
	}
	for _, f := range []string{saved, inDataDir} {
		code, out, errOut = runHomeward(t, env, "audit", "verify", "--tenant", "demo-partner-th", "--checkpoint", f)
		if code != exitFailed || !strings.Contains(out, "TRUNCATED: seq 4: cut off the end") || !strings.Contains(errOut, "failed verification") {
			t.Fatalf("truncated tail against %s: code %d\n%s%s", f, code, out, errOut)
		}
	}

	// an altered row in another organisation, beside the control above
	auditDemo(t, env, "afesip-france", 2)
	rawSQLite(t, cfg, "UPDATE audit_log SET purpose = 'legal' WHERE seq = 1 AND tenant_id = (SELECT id FROM tenants WHERE slug = 'afesip-france')")
	code, out, _ = runHomeward(t, env, "audit", "verify", "--tenant", "afesip-france")
	if code != exitFailed || !strings.Contains(out, "ALTERED: seq 1") {
		t.Fatalf("altered row: code %d\n%s", code, out)
	}
	if code, out, errOut := runHomeward(t, env, "tenants", "add", "--slug", "partner-kh", "--name", "Partner Cambodia", "--country", "KH"); code != exitOK {
		t.Fatalf("tenants add: code %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runHomeward(t, env, "audit", "verify", "--tenant", "partner-kh"); code != exitOK || !strings.Contains(out, "no audit rows yet") {
		t.Fatalf("control, an organisation with no rows: code %d\n%s", code, out)
	}

	// usage and lookup errors
	for _, args := range [][]string{{"audit"}, {"audit", "frobnicate"}, {"audit", "verify"}, {"audit", "checkpoint"}, {"audit", "verify", "--tenant"}} {
		if code, _, _ := runHomeward(t, env, args...); code != exitUsage {
			t.Errorf("%v: code %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, errOut := runHomeward(t, env, "audit", "verify", "--tenant", "nobody-here"); code != exitFailed || !strings.Contains(errOut, `no organisation "nobody-here"`) {
		t.Fatalf("unknown organisation: code %d %s", code, errOut)
	}
	if code, _, errOut := runHomeward(t, env, "audit", "verify", "--tenant", "afesip-france", "--checkpoint", saved); code != exitFailed || !strings.Contains(errOut, "holds no checkpoint of organisation") {
		t.Fatalf("another organisation's checkpoint: code %d %s", code, errOut)
	}
	for _, sub := range []string{"verify", "checkpoint"} {
		if code, _, errOut := runHomeward(t, env, "audit", sub, "--help"); code != exitOK || !strings.Contains(errOut, "Usage: homeward audit "+sub) {
			t.Fatalf("audit %s --help: code %d %s", sub, code, errOut)
		}
	}
}
