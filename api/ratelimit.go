package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/redis/go-redis/v9"

	homeward "github.com/afesip/homeward"
)

// rateLimit answers 429 rate_limited once a client has made perMinute
// requests in the current minute. With rdb the count is shared by every
// replica; without it, or while it fails, each process counts on its own.
//
// Known limits of fiber v2's limiter: it reads and writes the count in two
// steps, so replicas racing on one client may undercount a little, and it
// holds one process-wide lock across those steps, which is why the Redis
// calls below have a short timeout and a failing Redis is skipped for a while.
func rateLimit(perMinute int, rdb redis.UniversalClient, trusted []netip.Prefix, logger *slog.Logger) fiber.Handler {
	cfg := limiter.Config{
		Max:        perMinute,
		Expiration: time.Minute,
		KeyGenerator: func(c *fiber.Ctx) string {
			return clientKey(c, trusted)
		},
		LimitReached: func(*fiber.Ctx) error {
			return homeward.Errorf(homeward.ERATELIMITED, "too many requests; wait a minute and try again")
		},
	}
	if rdb != nil {
		cfg.Storage = newLimiterStore(rdb, logger)
	}
	return limiter.New(cfg)
}

// clientKey is whom the rate limit counts: the connection's address or, when
// that is a trusted proxy, the right-most X-Forwarded-For address that is not
// itself a trusted proxy. Addresses further left are whatever the client
// claimed and are never believed. IPv6 clients are counted by /64, the block
// one subscriber usually holds. The key is not logged.
func clientKey(c *fiber.Ctx, trusted []netip.Prefix) string {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr = addr.Unmap()
	if isTrusted(addr, trusted) {
		var hops []string
		for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
			hops = append(hops, strings.Split(string(h), ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				break
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// parseHop reads one X-Forwarded-For entry; some proxies add the port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

const (
	limiterKeyPrefix = "homeward:ratelimit:"
	// redisOpTimeout bounds each Redis call: a healthy Redis answers in a
	// millisecond, and the limiter holds its lock while waiting.
	redisOpTimeout = 100 * time.Millisecond
	// redisRetryAfter is how long a failing Redis is left alone before the
	// next attempt, so an outage costs one timeout per interval, not one per
	// request.
	redisRetryAfter = 5 * time.Second
)

// limiterStore is the limiter's fiber.Storage: Redis while it answers, an
// in-process store while it does not. It warns once when Redis stops
// answering and says when it answers again.
type limiterStore struct {
	redis  redis.UniversalClient
	memory *memoryStore
	logger *slog.Logger

	mu        sync.Mutex
	down      bool      // the last Redis call failed
	nextProbe time.Time // while down, when to try Redis again
}

func newLimiterStore(rdb redis.UniversalClient, logger *slog.Logger) *limiterStore {
	return &limiterStore{redis: rdb, memory: newMemoryStore(), logger: logger}
}

// useRedis reports whether to try Redis for this call.
func (s *limiterStore) useRedis() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down || !time.Now().Before(s.nextProbe)
}

// outcome records how a Redis call went and logs the changes of state.
func (s *limiterStore) outcome(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil && s.down:
		s.down = false
		s.logger.Info("rate limiter: Redis answers again; counting is shared across replicas")
	case err != nil:
		if !s.down {
			s.logger.Warn("rate limiter: Redis does not answer; counting per process until it does",
				"error", err.Error())
		}
		s.down = true
		s.nextProbe = time.Now().Add(redisRetryAfter)
	}
}

func (s *limiterStore) Get(key string) ([]byte, error) {
	if s.useRedis() {
		ctx, cancel := context.WithTimeout(context.Background(), redisOpTimeout)
		defer cancel()
		val, err := s.redis.Get(ctx, limiterKeyPrefix+key).Bytes()
		if errors.Is(err, redis.Nil) {
			val, err = nil, nil
		}
		s.outcome(err)
		if err == nil {
			return val, nil
		}
	}
	return s.memory.Get(key)
}

func (s *limiterStore) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	if s.useRedis() {
		ctx, cancel := context.WithTimeout(context.Background(), redisOpTimeout)
		defer cancel()
		err := s.redis.Set(ctx, limiterKeyPrefix+key, val, exp).Err()
		s.outcome(err)
		if err == nil {
			return nil
		}
	}
	return s.memory.Set(key, val, exp)
}

func (s *limiterStore) Delete(key string) error {
	_ = s.memory.Delete(key)
	if !s.useRedis() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisOpTimeout)
	defer cancel()
	err := s.redis.Del(ctx, limiterKeyPrefix+key).Err()
	s.outcome(err)
	return err
}

// Reset forgets every count: only this store's keys, never the whole Redis
// database, which asynq shares.
func (s *limiterStore) Reset() error {
	_ = s.memory.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := s.redis.Scan(ctx, 0, limiterKeyPrefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		if err := s.redis.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// Close releases the in-process store only: the Redis client belongs to the
// caller.
func (s *limiterStore) Close() error {
	return s.memory.Close()
}

// memoryStore is a fiber.Storage in this process's memory.
type memoryStore struct {
	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep time.Time
}

type memoryEntry struct {
	val     []byte
	expires time.Time // zero: never
}

func newMemoryStore() *memoryStore {
	return &memoryStore{entries: map[string]memoryEntry{}, lastSweep: time.Now()}
}

func (m *memoryStore) Get(key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || (!e.expires.IsZero() && !time.Now().Before(e.expires)) {
		return nil, nil
	}
	return bytes.Clone(e.val), nil
}

func (m *memoryStore) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	now := time.Now()
	e := memoryEntry{val: bytes.Clone(val)}
	if exp > 0 {
		e.expires = now.Add(exp)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = e
	// Sweep now and then rather than run a goroutine: counts expire within
	// a minute, so this keeps the map to about a minute's clients.
	if now.Sub(m.lastSweep) > time.Minute {
		for k, e := range m.entries {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				delete(m.entries, k)
			}
		}
		m.lastSweep = now
	}
	return nil
}

func (m *memoryStore) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

func (m *memoryStore) Reset() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = map[string]memoryEntry{}
	return nil
}

func (m *memoryStore) Close() error { return m.Reset() }
