package workers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/afesip/homeward"
	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// DemoRedis is the in-process Redis-compatible server of demo mode
// (miniredis). It keeps its data in memory only: after a restart it is empty,
// and the outbox's redelivery puts back whatever was queued.
type DemoRedis struct {
	srv  *miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// demoClockTick is how often the demo server's clock is moved forward.
const demoClockTick = 250 * time.Millisecond

// StartDemoRedis starts an in-process server on a free port of 127.0.0.1. It
// stops when ctx ends or Close is called. Demo mode only: it is neither
// durable nor shared between processes.
func StartDemoRedis(ctx context.Context) (*DemoRedis, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("workers: start the demo Redis: %w", err)
	}
	d := &DemoRedis{srv: srv, stop: make(chan struct{}), done: make(chan struct{})}
	srv.SetTime(time.Now())
	go d.clock(ctx)
	return d, nil
}

// clock advances the server's clock with the real one: miniredis expires keys
// only when told time has passed, and asynq relies on expiring keys (server
// heartbeats, leases).
func (d *DemoRedis) clock(ctx context.Context) {
	defer close(d.done)
	t := time.NewTicker(demoClockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			d.srv.Close()
			return
		case <-d.stop:
			d.srv.Close()
			return
		case now := <-t.C:
			d.srv.SetTime(now)
			d.srv.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Addr is the server's host:port.
func (d *DemoRedis) Addr() string { return d.srv.Addr() }

// ConnOpt is how asynq reaches the server.
func (d *DemoRedis) ConnOpt() asynq.RedisConnOpt { return asynq.RedisClientOpt{Addr: d.Addr()} }

// Close stops the server; its data is gone.
func (d *DemoRedis) Close() {
	d.once.Do(func() { close(d.stop) })
	<-d.done
}

// ParseRedisURL turns HOMEWARD_REDIS_URL (redis:// or rediss://) into asynq's
// connection options.
func ParseRedisURL(url string) (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		// The URL may hold a password: name the problem, not the value.
		return nil, errors.New("workers: expected a redis://[:PASSWORD@]HOST:PORT/DB or rediss:// URL")
	}
	return opt, nil
}

// NewRedisClient opens a go-redis client on the same server as opt, for
// health checks and the rate limiter. The caller closes it.
func NewRedisClient(opt asynq.RedisConnOpt) (redis.UniversalClient, error) {
	c, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("workers: unsupported Redis connection option %T", opt)
	}
	return c, nil
}

// OpenRedis returns the Redis the configuration names. In demo mode without
// HOMEWARD_REDIS_URL it starts the in-process server; stop is then its Close
// (a no-op otherwise). Production without a URL is refused.
func OpenRedis(ctx context.Context, cfg *homeward.Config) (opt asynq.RedisConnOpt, stop func(), err error) {
	switch {
	case cfg.RedisURL != "":
		opt, err := ParseRedisURL(cfg.RedisURL)
		return opt, func() {}, err
	case !cfg.Demo():
		return nil, nil, errors.New("workers: HOMEWARD_REDIS_URL is required in production; the in-process Redis is for demo mode only")
	}
	d, err := StartDemoRedis(ctx)
	if err != nil {
		return nil, nil, err
	}
	return d.ConnOpt(), d.Close, nil
}

// RedisPinger reports whether Redis answers (for /readyz).
type RedisPinger struct{ Client redis.UniversalClient }

// Ping sends PING.
func (p RedisPinger) Ping(ctx context.Context) error { return p.Client.Ping(ctx).Err() }
