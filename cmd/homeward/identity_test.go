package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"gorm.io/gorm"
)

// openDemoStore opens the store behind env as the commands do.
func openDemoStore(t *testing.T, env map[string]string) *tenants.Store {
	t.Helper()
	cfg, _, err := homeward.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := tenants.Open(context.Background(), cfg.DatabaseDriver, cfg.DatabaseURL, nil, tenants.WithMasterKeys(cfg.MasterKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTenantsSetIDPCommand(t *testing.T) {
	env := demoEnv(t)
	env["USER"] = "ops-anna"
	if code, _, errOut := runHomeward(t, env, "tenants", "add", "--slug", "ngo-one", "--name", "NGO One", "--country", "TH"); code != 0 {
		t.Fatal(errOut)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runHomeward(t, env, "tenants", "set-idp", "ngo-one", "--issuer", "https://login.ngo-one.org/realms/staff",
		"--client-id", "homeward", "--client-secret-file", secretFile, "--groups-claim", "groups",
		"--map", "case-managers=case_manager", "--map", "/org/admins=tenant_admin,auditor", "--email-domain", "ngo-one.org")
	if code != exitOK || !strings.Contains(out, "ngo-one signs in with https://login.ngo-one.org/realms/staff as client homeward (client secret set)") ||
		!strings.Contains(out, "/org/admins -> tenant_admin, auditor") {
		t.Fatalf("set-idp: %d\n%s%s", code, out, errOut)
	}
	s := openDemoStore(t, env)
	tn, err := s.TenantBySlug(context.Background(), "ngo-one")
	if err != nil {
		t.Fatal(err)
	}
	var actors []tenants.Actor
	err = s.InTenant(context.Background(), tn.ID, func(tx *gorm.DB) error {
		idp, err := tenants.IdentityProviderOf(tx)
		if err != nil {
			return err
		}
		if idp.ClientSecret != "s3cret" || !slices.Equal(idp.EmailDomains, []string{"ngo-one.org"}) ||
			!slices.Equal(idp.RolesFor([]string{"/org/admins"}), []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleAuditor}) {
			t.Errorf("stored provider: %+v", idp)
		}
		page, err := tenants.ListAudit(tx, tenants.AuditQuery{})
		for _, e := range page.Entries {
			if e.Action == "idp.change" {
				actors = append(actors, e.Actor)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(actors) != 1 || actors[0].Kind != tenants.ActorOperator || actors[0].Subject != "ops-anna" {
		t.Errorf("idp.change audited as %+v", actors)
	}

	// Refused: a role that is none, the platform role, a map without a role.
	for _, bad := range [][]string{
		{"--map", "staff=chief"},
		{"--map", "ops=platform_operator"},
		{"--map", "staff"},
	} {
		args := append([]string{"tenants", "set-idp", "ngo-one", "--issuer", "https://login.ngo-one.org/realms/staff", "--client-id", "homeward"}, bad...)
		if code, _, errOut := runHomeward(t, env, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, errOut)
		}
	}
	if code, _, errOut := runHomeward(t, env, "tenants", "set-idp", "nobody", "--issuer", "https://x.org", "--client-id", "c", "--map", "a=auditor"); code != exitFailed ||
		!strings.Contains(errOut, `no organisation "nobody"`) {
		t.Errorf("unknown organisation: %d %s", code, errOut)
	}
}

func TestTokensCommand(t *testing.T) {
	env := demoEnv(t)
	if code, _, errOut := runHomeward(t, env, "tenants", "add", "--slug", "ngo-two", "--name", "NGO Two", "--country", "MY"); code != 0 {
		t.Fatal(errOut)
	}
	lastLine := func(out string) string {
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		return lines[len(lines)-1]
	}
	code, out, errOut := runHomeward(t, env, "tokens", "create", "--tenant", "ngo-two", "--role", "auditor", "--role", "finance_officer",
		"--name", "monthly report", "--expires", "30d")
	if code != exitOK {
		t.Fatalf("create: %d %s", code, errOut)
	}
	orgToken := lastLine(out)
	s := openDemoStore(t, env)
	p, err := s.AuthenticateAPIToken(context.Background(), orgToken)
	if err != nil || p.TenantSlug != "ngo-two" || !slices.Equal(p.Roles, []tenants.Role{tenants.RoleFinanceOfficer, tenants.RoleAuditor}) {
		t.Fatalf("the printed token (%q): %+v %v\n%s", orgToken, p, err, out)
	}

	code, out, errOut = runHomeward(t, env, "tokens", "create", "--platform", "--name", "prometheus")
	if code != exitOK {
		t.Fatalf("create --platform: %d %s", code, errOut)
	}
	platformToken := lastLine(out)
	p, err = s.AuthenticateAPIToken(context.Background(), platformToken)
	if err != nil || p.TenantID.String() != "00000000-0000-0000-0000-000000000000" || !p.Can(tenants.PermOperations) {
		t.Fatalf("platform token: %+v %v", p, err)
	}

	// Revoked by id: gone (and the organisation's token still works).
	m := regexp.MustCompile(`, id ([0-9a-f-]{36})\.`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %q", out)
	}
	if code, out, errOut := runHomeward(t, env, "tokens", "revoke", m[1]); code != exitOK || !strings.Contains(out, "is revoked") {
		t.Fatalf("revoke %s: %d %s%s", m[1], code, out, errOut)
	}
	if _, err := s.AuthenticateAPIToken(context.Background(), platformToken); homeward.ErrorCode(err) != homeward.EUNAUTHENTICATED {
		t.Errorf("revoked platform token: %v", err)
	}
	if _, err := s.AuthenticateAPIToken(context.Background(), orgToken); err != nil {
		t.Errorf("control: the organisation's token: %v", err)
	}

	for _, bad := range [][]string{
		{"tokens", "create", "--name", "x", "--role", "auditor"},                                          // neither --tenant nor --platform
		{"tokens", "create", "--tenant", "ngo-two", "--platform", "--name", "x"},                          // both
		{"tokens", "create", "--tenant", "ngo-two", "--name", "x", "--role", "auditor", "--expires", "x"}, // bad expiry
		{"tokens", "create", "--tenant", "ngo-two", "--name", "x", "--role", "auditor", "--expires", "400d"},
		{"tokens", "create", "--tenant", "ngo-two", "--name", "x", "--role", "platform_operator"},
		{"tokens", "create", "--tenant", "ngo-two", "--name", "x"}, // no role
		{"tokens"},
	} {
		if code, _, errOut := runHomeward(t, env, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, errOut)
		}
	}
}
