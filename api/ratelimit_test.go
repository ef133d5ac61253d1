package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

func okRoute(v1 fiber.Router) {
	v1.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
}

// wantLimit checks that limit requests to /api/v1/ok pass and the next is
// refused, each request carrying header.
func wantLimit(t *testing.T, app *fiber.App, limit int, header ...string) {
	t.Helper()
	for i := 1; i <= limit; i++ {
		if r := get(t, app, "/api/v1/ok", header...); r.status != 200 {
			t.Fatalf("request %d of %d: %d %s", i, limit, r.status, r.body)
		}
	}
	r := get(t, app, "/api/v1/ok", header...)
	wantError(t, r, 429, `{"error":{"code":"rate_limited","message":"too many requests; wait a minute and try again"}}`)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
}

func TestRateLimitInProcess(t *testing.T) {
	app, _ := newTestServer(t, Deps{RateLimit: 3}, okRoute)
	wantLimit(t, app, 3)
	// Unknown paths count too: scanning is what the limit is for.
	wantError(t, get(t, app, "/nope"), 429,
		`{"error":{"code":"rate_limited","message":"too many requests; wait a minute and try again"}}`)
	// Probes and metrics are never limited.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := get(t, app, path); r.status != 200 {
			t.Errorf("%s after the limit: %d", path, r.status)
		}
	}
	// Without Redis, each process has its own budget.
	other, _ := newTestServer(t, Deps{RateLimit: 3}, okRoute)
	wantLimit(t, other, 3)
}

func TestRateLimitDefault(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, okRoute)
	if got := get(t, app, "/api/v1/ok").header.Get("X-RateLimit-Limit"); got != fmt.Sprint(DefaultRateLimit) {
		t.Errorf("X-RateLimit-Limit = %q, want %d", got, DefaultRateLimit)
	}
}

// testRedis connects to the Redis the tests may use: HOMEWARD_TEST_REDIS_ADDR
// or 127.0.0.1:6379. Without one the test is skipped, except in CI.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("HOMEWARD_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s: %v", addr, err)
		}
		t.Skipf("no Redis at %s (set HOMEWARD_TEST_REDIS_ADDR): %v", addr, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// randomClient is a fresh client address (IPv6 documentation range), so runs
// sharing one Redis never see each other's counts.
func randomClient() (addr string, key string) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], 0, 0, 0, 1})
	p, _ := a.Prefix(64)
	return a.String(), p.String()
}

// behindProxy trusts the test connection's address (0.0.0.0) as a proxy, so
// that X-Forwarded-For names the client.
var behindProxy = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}

func TestRateLimitInRedisIsSharedByReplicas(t *testing.T) {
	rdb := testRedis(t)
	client, key := randomClient()
	t.Cleanup(func() { rdb.Del(context.Background(), limiterKeyPrefix+key) })
	deps := Deps{RateLimit: 3, RateLimitRedis: rdb, TrustedProxies: behindProxy}
	a, logs := newTestServer(t, deps, okRoute)
	b, _ := newTestServer(t, deps, okRoute)
	xff := []string{"X-Forwarded-For", client}

	// Two requests on one replica, one on the other: the budget is spent.
	for _, app := range []*fiber.App{a, b, a} {
		if r := get(t, app, "/api/v1/ok", xff...); r.status != 200 {
			t.Fatalf("within the limit: %d %s", r.status, r.body)
		}
	}
	wantError(t, get(t, b, "/api/v1/ok", xff...), 429,
		`{"error":{"code":"rate_limited","message":"too many requests; wait a minute and try again"}}`)

	// The count is in Redis, under the client's /64, with an expiry.
	ttl, err := rdb.PTTL(context.Background(), limiterKeyPrefix+key).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("Redis key %s: ttl %v, err %v", limiterKeyPrefix+key, ttl, err)
	}
	if strings.Contains(logs.String(), "Redis does not answer") {
		t.Errorf("fell back with Redis up:\n%s", logs)
	}

	// Allowed control: another client has its own budget.
	other, otherKey := randomClient()
	t.Cleanup(func() { rdb.Del(context.Background(), limiterKeyPrefix+otherKey) })
	wantLimit(t, a, 3, "X-Forwarded-For", other)
}

func TestRateLimitFallsBackWhenRedisIsDown(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })

	app, logs := newTestServer(t, Deps{RateLimit: 3, RateLimitRedis: rdb}, okRoute)
	wantLimit(t, app, 3) // passes only if nothing answered 500
	wantError(t, get(t, app, "/api/v1/ok"), 429,
		`{"error":{"code":"rate_limited","message":"too many requests; wait a minute and try again"}}`)
	if n := strings.Count(logs.String(), "Redis does not answer"); n != 1 {
		t.Errorf("warned %d times during one outage, want once:\n%s", n, logs)
	}
}

func TestLimiterStoreRecovers(t *testing.T) {
	rdb := testRedis(t)
	logs := &logBuffer{}
	s := newLimiterStore(rdb, newTextLogger(logs))
	key := fmt.Sprintf("test-%d", time.Now().UnixNano())
	t.Cleanup(func() { rdb.Del(context.Background(), limiterKeyPrefix+key) })

	// While marked down, counts go to memory and Redis is left alone.
	s.outcome(fmt.Errorf("simulated outage"))
	if err := s.Set(key, []byte("in memory"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(context.Background(), limiterKeyPrefix+key).Result(); n != 0 {
		t.Errorf("wrote to Redis during the outage")
	}
	if v, _ := s.Get(key); string(v) != "in memory" {
		t.Errorf("Get during the outage = %q", v)
	}

	// Once the retry interval has passed, Redis is used again.
	s.mu.Lock()
	s.nextProbe = time.Now().Add(-time.Second)
	s.mu.Unlock()
	if err := s.Set(key, []byte("in redis"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.Get(context.Background(), limiterKeyPrefix+key).Result(); v != "in redis" {
		t.Errorf("after recovery Redis holds %q", v)
	}
	if !strings.Contains(logs.String(), "Redis answers again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}

	// Reset removes this store's keys only.
	other := fmt.Sprintf("homeward:test-unrelated-%d", time.Now().UnixNano())
	rdb.Set(context.Background(), other, "keep", time.Minute)
	t.Cleanup(func() { rdb.Del(context.Background(), other) })
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(context.Background(), limiterKeyPrefix+key).Result(); n != 0 {
		t.Errorf("Reset left the limiter's key")
	}
	if n, _ := rdb.Exists(context.Background(), other).Result(); n != 1 {
		t.Errorf("Reset removed a key that is not the limiter's")
	}
}

func TestMemoryStoreExpires(t *testing.T) {
	m := newMemoryStore()
	_ = m.Set("live", []byte("1"), time.Minute)
	_ = m.Set("dead", []byte("2"), time.Nanosecond)
	_ = m.Set("forever", []byte("3"), 0)
	time.Sleep(time.Millisecond)
	for key, want := range map[string]string{"live": "1", "dead": "", "forever": "3", "missing": ""} {
		if got, err := m.Get(key); err != nil || string(got) != want {
			t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}

func TestRateLimitKeyTrustsOnlyConfiguredProxies(t *testing.T) {
	limited := `{"error":{"code":"rate_limited","message":"too many requests; wait a minute and try again"}}`

	// Behind a trusted proxy, each forwarded client has its own budget.
	app, _ := newTestServer(t, Deps{RateLimit: 1, TrustedProxies: behindProxy}, okRoute)
	wantLimit(t, app, 1, "X-Forwarded-For", "198.51.100.7")
	wantLimit(t, app, 1, "X-Forwarded-For", "198.51.100.8")
	// Addresses left of the proxy's entry are the client's claims: a client
	// prepending a fresh address is still the same client.
	wantError(t, get(t, app, "/api/v1/ok", "X-Forwarded-For", "203.0.113.9, 198.51.100.7"), 429, limited)
	// One IPv6 subscriber's /64 is one client.
	wantLimit(t, app, 1, "X-Forwarded-For", "2001:db8:1:2::1")
	wantError(t, get(t, app, "/api/v1/ok", "X-Forwarded-For", "2001:db8:1:2::ffff"), 429, limited)

	// Without trusted proxies, X-Forwarded-For is ignored: a client cannot
	// escape the limit by inventing addresses.
	direct, _ := newTestServer(t, Deps{RateLimit: 1}, okRoute)
	wantLimit(t, direct, 1, "X-Forwarded-For", "198.51.100.7")
	wantError(t, get(t, direct, "/api/v1/ok", "X-Forwarded-For", "198.51.100.8"), 429, limited)
}
