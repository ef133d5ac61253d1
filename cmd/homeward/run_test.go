package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runHomeward runs the program as a user would, with env as its whole
// environment, and returns its exit code and output.
func runHomeward(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	code = run(context.Background(), append([]string{"homeward"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func demoEnv(t *testing.T) map[string]string {
	return map[string]string{"HOMEWARD_DATA_DIR": filepath.Join(t.TempDir(), "data")}
}

func TestConfigurationErrorsExitNamingTheVariable(t *testing.T) {
	cases := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"HOMEWARD_MODE": "production"}, "HOMEWARD_DATABASE_URL"},
		{map[string]string{"HOMEWARD_MODE": "prod"}, "HOMEWARD_MODE"},
		{map[string]string{"HOMEWARD_ADDR": "nowhere"}, "HOMEWARD_ADDR"},
		{map[string]string{"HOMEWARD_MASTER_KEY": "c2hvcnQ="}, "HOMEWARD_MASTER_KEY"},
		{map[string]string{"HOMEWARD_DATABASE_URL": "postgres://app@db/h", "HOMEWARD_REDIS_URL": "redis://r:6379"}, "HOMEWARD_MASTER_KEY"},
	}
	for _, c := range cases {
		for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"tenants", "list"}} {
			t.Run(c.variable+"/"+strings.Join(cmd, "_"), func(t *testing.T) {
				env := demoEnv(t)
				for k, v := range c.env {
					env[k] = v
				}
				code, _, stderr := runHomeward(t, env, cmd...)
				if code == 0 {
					t.Fatal("exit code 0 with a bad configuration")
				}
				if !strings.Contains(stderr, c.variable+":") {
					t.Fatalf("stderr does not name %s:\n%s", c.variable, stderr)
				}
			})
		}
	}
	// the control: the same command with a good configuration succeeds
	code, out, stderr := runHomeward(t, demoEnv(t), "tenants", "list")
	if code != 0 || !strings.Contains(out, "no organisations yet") {
		t.Fatalf("control: code %d, out %q, err %q", code, out, stderr)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runHomeward(t, demoEnv(t), c.name, "--help")
			if code != 0 || !strings.Contains(out+errOut, "Usage: homeward "+c.name) {
				t.Fatalf("code %d, output:\n%s%s", code, out, errOut)
			}
		})
	}
	if code, _, errOut := runHomeward(t, demoEnv(t), "frobnicate"); code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d, %s", code, errOut)
	}
	if code, out, _ := runHomeward(t, demoEnv(t), "version"); code != 0 || !strings.HasPrefix(out, "homeward ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestOperatorCommands(t *testing.T) {
	env := demoEnv(t)
	code, out, errOut := runHomeward(t, env, "seed", "--demo")
	if code != 0 || !strings.Contains(out, "added afesip-laos") {
		t.Fatalf("seed: %d %s %s", code, out, errOut)
	}
	if code, out, _ = runHomeward(t, env, "seed", "--demo"); code != 0 || !strings.Contains(out, "already present") {
		t.Fatalf("second seed: %d %s", code, out)
	}
	if code, out, _ = runHomeward(t, env, "tenants", "add", "--slug", "partner-kh", "--name", "Partner Cambodia", "--country", "kh"); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	code, _, errOut = runHomeward(t, env, "tenants", "add", "--slug", "partner-kh", "--name", "Again", "--country", "KH")
	if code == 0 || !strings.Contains(errOut, "slug: already taken") {
		t.Fatalf("duplicate add: %d %s", code, errOut)
	}
	code, _, errOut = runHomeward(t, env, "tenants", "add", "--slug", "X", "--country", "Cambodia")
	if code != exitUsage || !strings.Contains(errOut, "name: required") || !strings.Contains(errOut, "country:") || !strings.Contains(errOut, "slug:") {
		t.Fatalf("invalid add: %d %s", code, errOut)
	}
	if code, out, _ = runHomeward(t, env, "tenants", "suspend", "partner-kh"); code != 0 || !strings.Contains(out, "suspended") {
		t.Fatalf("suspend: %d %s", code, out)
	}
	if code, _, errOut = runHomeward(t, env, "tenants", "suspend", "nobody-here"); code == 0 || !strings.Contains(errOut, `no organisation "nobody-here"`) {
		t.Fatalf("suspend unknown: %d %s", code, errOut)
	}
	code, out, _ = runHomeward(t, env, "tenants", "list")
	if code != 0 || !strings.Contains(out, "partner-kh") || !strings.Contains(out, "suspended") || !strings.Contains(out, "afesip-france") {
		t.Fatalf("list: %d\n%s", code, out)
	}

	prod := map[string]string{"HOMEWARD_MODE": "production"}
	for k, v := range productionEnvForRefusal() {
		prod[k] = v
	}
	if code, _, errOut = runHomeward(t, prod, "seed", "--demo"); code == 0 || !strings.Contains(errOut, "refused in production") {
		t.Fatalf("seed in production: %d %s", code, errOut)
	}
}

// productionEnvForRefusal is a complete production configuration whose
// services are never contacted (the command refuses before).
func productionEnvForRefusal() map[string]string {
	return map[string]string{
		"HOMEWARD_BASE_URL":     "https://homeward.example.org",
		"HOMEWARD_DATABASE_URL": "postgres://homeward_app@127.0.0.1:1/none",
		"HOMEWARD_REDIS_URL":    "redis://127.0.0.1:1/0",
		"HOMEWARD_MASTER_KEY":   "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HOMEWARD_SMTP_URL":     "smtp://u:p@127.0.0.1:1",
		"HOMEWARD_MAIL_FROM":    "no-reply@example.org",
	}
}

func TestKeysRotate(t *testing.T) {
	env := demoEnv(t)
	if code, _, errOut := runHomeward(t, env, "seed", "--demo"); code != 0 {
		t.Fatalf("seed: %s", errOut)
	}
	if code, _, errOut := runHomeward(t, env, "keys", "rotate"); code != exitUsage || !strings.Contains(errOut, "HOMEWARD_MASTER_KEY_PREVIOUS:") {
		t.Fatalf("rotate without the previous key: %d %s", code, errOut)
	}
	// the demo key file holds the current key; rotate to a new one
	old, err := os.ReadFile(filepath.Join(env["HOMEWARD_DATA_DIR"], "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	env["HOMEWARD_MASTER_KEY_PREVIOUS"] = strings.TrimSpace(string(old))
	env["HOMEWARD_MASTER_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	code, out, errOut := runHomeward(t, env, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "re-wrapped") {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
}
