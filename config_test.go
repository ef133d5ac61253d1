package homeward_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afesip/homeward"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var goodKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func production() map[string]string {
	return map[string]string{
		"HOMEWARD_MODE":         "production",
		"HOMEWARD_BASE_URL":     "https://homeward.example.org",
		"HOMEWARD_DATABASE_URL": "postgres://homeward_app:pw@db.example.org/homeward",
		"HOMEWARD_REDIS_URL":    "redis://redis.example.org:6379/0",
		"HOMEWARD_MASTER_KEY":   goodKey,
		"HOMEWARD_SMTP_URL":     "smtp://user:pw@mail.example.org:587",
		"HOMEWARD_MAIL_FROM":    "Homeward <no-reply@example.org>",
	}
}

func TestProductionConfig(t *testing.T) {
	cfg, warnings, err := homeward.LoadConfig(envOf(production()))
	if err != nil {
		t.Fatalf("valid production config refused: %v", err)
	}
	if cfg.Demo() || cfg.DatabaseDriver != homeward.DriverPostgres || len(cfg.MasterKey) != 32 || len(warnings) != 0 {
		t.Fatalf("cfg = %+v, warnings %v", cfg, warnings)
	}
	env := production()
	env["HOMEWARD_TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.7"
	if cfg, _, err := homeward.LoadConfig(envOf(env)); err != nil || len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1].String() != "192.168.1.7/32" {
		t.Fatalf("trusted proxies: %v %v", err, cfg)
	}
	if cfg.Addr != "127.0.0.1:8080" {
		t.Fatalf("default address = %q", cfg.Addr)
	}
	// documents: the data folder by default (one server), or S3-compatible storage
	if abs, _ := filepath.Abs(filepath.Join(cfg.DataDir, "documents")); cfg.BlobURL != "file://"+filepath.ToSlash(abs) {
		t.Fatalf("default blob URL = %q", cfg.BlobURL)
	}
	env = production()
	env["HOMEWARD_BLOB_URL"] = "s3://homeward-documents?endpoint=https://s3.example.org&region=eu-west-3&use_path_style=true"
	if cfg, _, err := homeward.LoadConfig(envOf(env)); err != nil || cfg.BlobURL != env["HOMEWARD_BLOB_URL"] {
		t.Fatalf("s3 blob URL: %v %v", err, cfg)
	}
}

// TestConfigErrorsNameTheVariable: each bad value is refused with the
// variable's name and what it expects; the valid baseline above is the control.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		variable, value, reason string
	}{
		{"HOMEWARD_MODE", "staging", `expected "demo" or "production"`},
		{"HOMEWARD_ADDR", "8080", "host:port"},
		{"HOMEWARD_BASE_URL", "http://homeward.example.org", "https"},
		{"HOMEWARD_DATABASE_URL", "mysql://x@y/z", "postgres://"},
		{"HOMEWARD_DATABASE_URL", "", "required in production"},
		{"HOMEWARD_REDIS_URL", "", "required in production"},
		{"HOMEWARD_REDIS_URL", "http://redis", "redis://"},
		{"HOMEWARD_MASTER_KEY", "", "required in production"},
		{"HOMEWARD_MASTER_KEY", "not base64!", "base64"},
		{"HOMEWARD_MASTER_KEY", base64.StdEncoding.EncodeToString([]byte("short")), "got 5 bytes"},
		{"HOMEWARD_MASTER_KEY_PREVIOUS", "@@", "base64"},
		{"HOMEWARD_SMTP_URL", "mail.example.org:25", "smtp://"},
		{"HOMEWARD_MAIL_FROM", "not an address", "e-mail address"},
		{"HOMEWARD_LOG_LEVEL", "loud", "debug, info, warn or error"},
		{"HOMEWARD_TRUSTED_PROXIES", "10.0.0.0/8, not-an-ip", "CIDR ranges"},
		{"HOMEWARD_BLOB_URL", "file://var/lib/homeward/documents", "three slashes"},
		{"HOMEWARD_BLOB_URL", "mem://", "s3://BUCKET"},
		{"HOMEWARD_BLOB_URL", "gs://bucket", "file:///ABSOLUTE/PATH"},
	}
	for _, c := range cases {
		t.Run(c.variable+"="+c.value, func(t *testing.T) {
			env := production()
			env[c.variable] = c.value
			_, _, err := homeward.LoadConfig(envOf(env))
			if err == nil {
				t.Fatal("accepted")
			}
			he, ok := err.(*homeward.Error)
			if !ok || he.Code != homeward.EINVALID {
				t.Fatalf("err = %v, want an invalid *homeward.Error", err)
			}
			if !strings.Contains(he.Fields[c.variable], c.reason) {
				t.Fatalf("reason for %s = %q, want it to mention %q (all: %v)", c.variable, he.Fields[c.variable], c.reason, he.Fields)
			}
			if len(he.Fields) != 1 {
				t.Fatalf("only %s is wrong, got %v", c.variable, he.Fields)
			}
		})
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(goodKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := production()
	delete(env, "HOMEWARD_MASTER_KEY")
	env["HOMEWARD_MASTER_KEY_FILE"] = keyFile
	cfg, _, err := homeward.LoadConfig(envOf(env))
	if err != nil || string(cfg.MasterKey) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("key from file: %v", err)
	}

	env["HOMEWARD_MASTER_KEY_FILE"] = filepath.Join(dir, "missing")
	_, _, err = homeward.LoadConfig(envOf(env))
	if he, ok := err.(*homeward.Error); !ok || !strings.Contains(he.Fields["HOMEWARD_MASTER_KEY_FILE"], "readable file") {
		t.Fatalf("missing file: err = %v", err)
	}

	env["HOMEWARD_MASTER_KEY_FILE"] = keyFile
	env["HOMEWARD_MASTER_KEY"] = goodKey
	_, _, err = homeward.LoadConfig(envOf(env))
	if he, ok := err.(*homeward.Error); !ok || !strings.Contains(he.Fields["HOMEWARD_MASTER_KEY"], "not both") {
		t.Fatalf("both set: err = %v", err)
	}
}

func TestDemoConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"HOMEWARD_DATA_DIR": dir}
	cfg, warnings, err := homeward.LoadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Demo() || cfg.DatabaseDriver != homeward.DriverSQLite || cfg.DatabaseURL != filepath.Join(dir, "homeward.db") {
		t.Fatalf("demo defaults: %+v", cfg)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "generated a master key") {
		t.Fatalf("first start should warn about the generated key: %v", warnings)
	}
	if fi, err := os.Stat(cfg.MasterKeyFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, warnings, err := homeward.LoadConfig(envOf(env))
	if err != nil || string(again.MasterKey) != string(cfg.MasterKey) || len(warnings) != 0 {
		t.Fatalf("second start must reuse the key silently: %v %v", err, warnings)
	}
	if cfg.BaseURL.String() != "http://127.0.0.1:8080" {
		t.Fatalf("demo base URL = %s", cfg.BaseURL)
	}
	if cfg.BlobURL != "file://"+filepath.ToSlash(filepath.Join(dir, "documents")) {
		t.Fatalf("demo blob URL = %q, want the documents folder of the data dir", cfg.BlobURL)
	}
	// demo mode may not be named by production-only values: sqlite is refused in production
	env = production()
	env["HOMEWARD_DATABASE_URL"] = "sqlite:/tmp/x.db"
	if _, _, err := homeward.LoadConfig(envOf(env)); err == nil {
		t.Fatal("production accepted SQLite")
	}
}

// TestOperatorSignInConfig: the platform operators' provider is optional;
// once its issuer is set the client id and the group are required, the
// groups claim defaults to groups, the secret may come from a file, and
// nothing of it may be set without the issuer. Each refusal names its
// variable beside a valid control.
func TestOperatorSignInConfig(t *testing.T) {
	// Control: unset, no operator sign-in.
	if cfg, _, err := homeward.LoadConfig(envOf(production())); err != nil || cfg.OperatorSignIn != nil {
		t.Fatalf("unset: %v %+v", err, cfg.OperatorSignIn)
	}
	operator := func() map[string]string {
		env := production()
		env["HOMEWARD_OPERATOR_ISSUER"] = "https://login.example.org/realms/operators"
		env["HOMEWARD_OPERATOR_CLIENT_ID"] = "homeward-operators"
		env["HOMEWARD_OPERATOR_CLIENT_SECRET"] = "s3cret"
		env["HOMEWARD_OPERATOR_GROUP"] = "homeward-platform-operators"
		return env
	}
	cfg, _, err := homeward.LoadConfig(envOf(operator()))
	if err != nil {
		t.Fatalf("valid operator sign-in refused: %v", err)
	}
	want := homeward.OperatorSignIn{Issuer: "https://login.example.org/realms/operators", ClientID: "homeward-operators",
		ClientSecret: "s3cret", GroupsClaim: "groups", Group: "homeward-platform-operators"}
	if cfg.OperatorSignIn == nil || *cfg.OperatorSignIn != want {
		t.Fatalf("operator sign-in = %+v, want %+v", cfg.OperatorSignIn, want)
	}
	// A public client (no secret) and another groups claim.
	env := operator()
	delete(env, "HOMEWARD_OPERATOR_CLIENT_SECRET")
	env["HOMEWARD_OPERATOR_GROUPS_CLAIM"] = "roles"
	if cfg, _, err := homeward.LoadConfig(envOf(env)); err != nil || cfg.OperatorSignIn.ClientSecret != "" || cfg.OperatorSignIn.GroupsClaim != "roles" {
		t.Fatalf("public client, roles claim: %v %+v", err, cfg)
	}
	// The secret from a file.
	file := filepath.Join(t.TempDir(), "operator-secret")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = operator()
	delete(env, "HOMEWARD_OPERATOR_CLIENT_SECRET")
	env["HOMEWARD_OPERATOR_CLIENT_SECRET_FILE"] = file
	if cfg, _, err := homeward.LoadConfig(envOf(env)); err != nil || cfg.OperatorSignIn.ClientSecret != "from-a-file" {
		t.Fatalf("secret from a file: %v %+v", err, cfg)
	}
	// Demo mode accepts a plain-http issuer (a provider on the same host).
	demo := map[string]string{"HOMEWARD_DATA_DIR": t.TempDir(), "HOMEWARD_OPERATOR_ISSUER": "http://idp.internal:8081/realms/ops",
		"HOMEWARD_OPERATOR_CLIENT_ID": "homeward", "HOMEWARD_OPERATOR_GROUP": "ops"}
	if cfg, _, err := homeward.LoadConfig(envOf(demo)); err != nil || cfg.OperatorSignIn == nil || cfg.OperatorSignIn.Issuer != demo["HOMEWARD_OPERATOR_ISSUER"] {
		t.Fatalf("demo with an http issuer: %v", err)
	}

	cases := []struct {
		name     string
		change   map[string]string // "" deletes
		variable string
		reason   string
	}{
		{"http issuer in production", map[string]string{"HOMEWARD_OPERATOR_ISSUER": "http://login.example.org"}, "HOMEWARD_OPERATOR_ISSUER", "https URL"},
		{"issuer not a URL", map[string]string{"HOMEWARD_OPERATOR_ISSUER": "login.example.org"}, "HOMEWARD_OPERATOR_ISSUER", "https URL"},
		{"issuer with a query", map[string]string{"HOMEWARD_OPERATOR_ISSUER": "https://login.example.org/?realm=ops"}, "HOMEWARD_OPERATOR_ISSUER", "no query"},
		{"no client id", map[string]string{"HOMEWARD_OPERATOR_CLIENT_ID": ""}, "HOMEWARD_OPERATOR_CLIENT_ID", "required"},
		{"no group", map[string]string{"HOMEWARD_OPERATOR_GROUP": ""}, "HOMEWARD_OPERATOR_GROUP", "required"},
		{"bad groups claim", map[string]string{"HOMEWARD_OPERATOR_GROUPS_CLAIM": "my groups"}, "HOMEWARD_OPERATOR_GROUPS_CLAIM", "claim name"},
		{"client without issuer", map[string]string{"HOMEWARD_OPERATOR_ISSUER": ""}, "HOMEWARD_OPERATOR_ISSUER", "HOMEWARD_OPERATOR_CLIENT_ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := operator()
			for k, v := range c.change {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			_, _, err := homeward.LoadConfig(envOf(env))
			he, ok := err.(*homeward.Error)
			if !ok || he.Code != homeward.EINVALID {
				t.Fatalf("err = %v, want an invalid *homeward.Error", err)
			}
			if !strings.Contains(he.Fields[c.variable], c.reason) || len(he.Fields) != 1 {
				t.Fatalf("fields = %v, want only %s mentioning %q", he.Fields, c.variable, c.reason)
			}
		})
	}
	// The group alone, without anything else: the issuer is what is missing.
	env = production()
	env["HOMEWARD_OPERATOR_GROUP"] = "ops"
	if _, _, err := homeward.LoadConfig(envOf(env)); err == nil || !strings.Contains(err.(*homeward.Error).Fields["HOMEWARD_OPERATOR_ISSUER"], "HOMEWARD_OPERATOR_GROUP") {
		t.Fatalf("a group without an issuer: %v", err)
	}
}
