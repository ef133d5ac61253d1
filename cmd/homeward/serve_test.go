package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants/tenanttest"
)

// server is a running `homeward serve` started through run().
type server struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() int // cancels and returns the exit code
}

var runningAt = regexp.MustCompile(`Homeward is running at (\S+)`)

func startServe(t *testing.T, env map[string]string, base string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"homeward", "serve"}, func(k string) string { return env[k] }, s.stdout, s.stderr)
	}()
	var once sync.Once
	code := 0
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := runningAt.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url = m[1]
			if base != "" {
				s.url = base
			}
			return s
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited with %d before listening:\n%s", c, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.stderr.String())
		}
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	return getAs(t, u, "")
}

// getAs sends a GET with a bearer token ("" for none).
func getAs(t *testing.T, u, bearer string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func readyz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	code, body := get(t, base+"/readyz")
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return code, m
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestDemoServe is the README's first command: with nothing configured,
// serve migrates, seeds, runs the worker, scheduler and relay in process,
// listens only then, and keeps its data across a restart.
func TestDemoServe(t *testing.T) {
	env := demoEnv(t)
	env["HOMEWARD_ADDR"] = "127.0.0.1:0"
	s := startServe(t, env, "")

	// Listening means migrated and seeded: the organisations are there now.
	code, out, _ := runHomeward(t, env, "tenants", "list")
	for _, slug := range []string{"afesip-laos", "afesip-france", "demo-partner-th", "demo-partner-my"} {
		if code != 0 || !strings.Contains(out, slug) {
			t.Fatalf("tenants list right after serve started lacks %s:\n%s", slug, out)
		}
	}
	// A second process writes while serve runs (SQLite busy timeout, WAL).
	if code, out, errOut := runHomeward(t, env, "tenants", "add", "--slug", "partner-vn", "--name", "Partner Vietnam", "--country", "VN"); code != 0 {
		t.Fatalf("tenants add while serve runs: %d %s %s", code, out, errOut)
	}
	if c, body := get(t, s.url+"/healthz"); c != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz = %d %s", c, body)
	}
	if c, m := readyz(t, s.url); c != 200 || m["database"] != "ok" || m["redis"] != "ok" {
		t.Fatalf("/readyz = %d %v", c, m)
	}
	// The queue monitor and /metrics are for platform operators: Prometheus
	// gets a platform token from the command line, while serve runs.
	if c, _ := get(t, s.url+"/ops/queues"); c != 401 {
		t.Fatalf("demo /ops/queues without a credential = %d, want 401", c)
	}
	ops := platformToken(t, env)
	if c, _ := getAs(t, s.url+"/ops/queues", ops); c != 200 {
		t.Fatalf("demo /ops/queues = %d, want the queue monitor", c)
	}
	if c, body := get(t, s.url+"/demo-idp/.well-known/openid-configuration"); c != 200 || !strings.Contains(body, `"issuer":"`+s.url+`/demo-idp"`) {
		t.Fatalf("demo /demo-idp discovery = %d %.200s, want the demo identity provider", c, body)
	}
	// The scheduler's first job goes through outbox, relay and worker in
	// this process: the backlog drains to zero.
	eventually(t, 20*time.Second, "the in-process worker drained the outbox", func() bool {
		_, metrics := getAs(t, s.url+"/metrics", ops)
		return strings.Contains(metrics, "\nhomeward_outbox_backlog 0\n") && strings.Contains(metrics, `homeward_queue_tasks{queue="low",state="pending"} 0`)
	})
	if c := s.stop(); c != 0 {
		t.Fatalf("serve exited %d after the signal:\n%s", c, s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "demo organisations added") || !strings.Contains(s.stderr.String(), "demo organisations use the demo identity provider") {
		t.Fatalf("first start should seed and point the organisations at the demo identity provider:\n%s", s.stderr.String())
	}

	// Restart on the port the first start was given: same base URL, so
	// nothing to seed or reconfigure.
	u, _ := url.Parse(s.url)
	env["HOMEWARD_ADDR"] = u.Host
	again := startServe(t, env, "")
	if c, _ := get(t, again.url+"/healthz"); c != 200 {
		t.Fatalf("restart: /healthz = %d", c)
	}
	if strings.Contains(again.stderr.String(), "demo organisations added") || strings.Contains(again.stderr.String(), "demo identity provider") {
		t.Fatal("the second start seeded or configured again")
	}
	if _, out, _ := runHomeward(t, env, "tenants", "list"); strings.Count(out, "[demo]") != 4 || !strings.Contains(out, "partner-vn") {
		t.Fatalf("after a restart want the same 4 demo organisations:\n%s", out)
	}
	if c := again.stop(); c != 0 {
		t.Fatalf("second serve exited %d", c)
	}
}

// TestProductionServeDegrades: with Redis stopped the API keeps answering
// and /readyz stays 200 reporting degraded; with the database unreachable
// /readyz is 503 (and /healthz still 200: the process is alive).
func TestProductionServeDegrades(t *testing.T) {
	pg := tenanttest.Postgres(t)
	rds := tenanttest.StartRedisServer(t)
	proxy := startProxy(t, "127.0.0.1:5432")
	app, _ := url.Parse(pg.AppURL)
	app.Host = proxy.addr()
	port := freePort(t)

	env := productionEnvForRefusal()
	env["HOMEWARD_MODE"] = "production"
	env["HOMEWARD_DATABASE_URL"] = app.String()
	env["HOMEWARD_REDIS_URL"] = "redis://" + rds.Addr() + "/0"
	env["HOMEWARD_ADDR"] = "127.0.0.1:" + port
	base := "http://127.0.0.1:" + port
	s := startServe(t, env, base)

	if c, m := readyz(t, base); c != 200 || m["status"] != "ok" || m["redis"] != "ok" {
		t.Fatalf("all up: /readyz = %d %v", c, m)
	}
	// The queue monitor is there for platform operators only.
	if c, _ := get(t, base+"/ops/queues"); c != 401 {
		t.Fatalf("production /ops/queues without a credential = %d, want 401", c)
	}
	if c, _ := getAs(t, base+"/ops/queues", platformToken(t, env)); c != 200 {
		t.Fatalf("production /ops/queues as a platform operator = %d, want 200", c)
	}
	if c, _ := get(t, base+"/demo-idp/.well-known/openid-configuration"); c != 404 {
		t.Fatalf("production /demo-idp = %d, want 404 (demo only)", c)
	}

	rds.Stop()
	c, m := readyz(t, base)
	if c != 200 || m["redis"] != "degraded" || m["database"] != "ok" {
		t.Fatalf("Redis down: /readyz = %d %v, want 200 with redis degraded", c, m)
	}
	for i := 0; i < 3; i++ { // the API keeps answering (rate limiter falls back to per-process)
		if c, body := get(t, base+"/api/v1/cases"); c != 401 || !strings.Contains(body, `"unauthenticated"`) {
			t.Fatalf("Redis down: API answered %d %s", c, body)
		}
	}
	rds.Start()
	eventually(t, 10*time.Second, "/readyz reports Redis back", func() bool {
		c, m := readyz(t, base)
		return c == 200 && m["redis"] == "ok"
	})

	proxy.cut()
	if c, m := readyz(t, base); c != 503 || m["database"] == "ok" {
		t.Fatalf("database unreachable: /readyz = %d %v, want 503", c, m)
	}
	if c, _ := get(t, base+"/healthz"); c != 200 {
		t.Fatalf("database unreachable: /healthz = %d, want 200 (alive)", c)
	}
	if c := s.stop(); c != 0 {
		t.Fatalf("serve exited %d:\n%s", c, s.stderr.String())
	}
}

// TestProductionRefusesDemoParts: production needs a real Redis; the demo's
// in-process one lives inside serve only.
func TestProductionRefusesDemoParts(t *testing.T) {
	env := productionEnvForRefusal()
	env["HOMEWARD_MODE"] = "production"
	delete(env, "HOMEWARD_REDIS_URL")
	code, _, stderr := runHomeward(t, env, "serve")
	if code == 0 || !strings.Contains(stderr, "HOMEWARD_REDIS_URL") {
		t.Fatalf("production without Redis: %d %s", code, stderr)
	}
	env = demoEnv(t)
	if code, _, stderr := runHomeward(t, env, "worker"); code == 0 || !strings.Contains(stderr, "serve runs the worker itself") {
		t.Fatalf("demo worker without Redis: %d %s", code, stderr)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// proxy forwards TCP to a target until cut, which closes the listener and
// every connection: the database becomes unreachable, as on a network fault.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// platformToken makes a platform operator's API token with homeward tokens
// create --platform, as an operator would for Prometheus.
func platformToken(t *testing.T, env map[string]string) string {
	t.Helper()
	code, out, errOut := runHomeward(t, env, "tokens", "create", "--platform", "--name", "prometheus", "--expires", "1d")
	if code != 0 {
		t.Fatalf("tokens create --platform: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
