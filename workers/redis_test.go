package workers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// TestRedisRestart runs a private redis-server and kills it. While it is
// down a committed job waits in the outbox and the relay reports the error;
// when it is back the same relay delivers the job. A job that was in Redis
// when Redis restarted empty is sent again after RedeliverAfter.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	srv := tenanttest.StartRedisServer(t)
	r := newRig(t, store, asynq.RedisClientOpt{Addr: srv.Addr(), DialTimeout: time.Second})
	r.relay.RedeliverAfter = time.Second
	r.reg.Register("test:count", r.countingHandler(nil))
	tenant := tenanttest.NewTenant(t, store)
	r.runRelay(r.relay)
	shutdown := r.startWorker()

	// allowed control: with Redis up a job runs
	before := uuid.New()
	r.waitStatus(r.job(tenant, "test:count", map[string]uuid.UUID{"case": before}), tenants.OutboxDone)

	srv.Stop()
	during := uuid.New()
	duringJob := r.job(tenant, "test:count", map[string]uuid.UUID{"case": during})
	// The relay's loop keeps running; a run of the same relay beside it
	// reports the outage once it gets the row (the loop may hold it, locked,
	// for a moment).
	var n int
	var err error
	eventually(t, 10*time.Second, func() bool {
		n, err = r.relay.RunOnce(context.Background())
		return err != nil
	}, func() string { return "the relay reported no error with Redis down" })
	if !errors.Is(err, workers.ErrQueueUnreachable) || n != 0 {
		t.Fatalf("relay with Redis down: sent %d, err = %v; want 0 and ErrQueueUnreachable", n, err)
	}
	if m, _ := r.row(duringJob); m.Status != tenants.OutboxPending || m.Attempts != 0 {
		t.Fatalf("job written while Redis is down: %s after %d sends, want pending", m.Status, m.Attempts)
	}

	srv.Start()
	r.waitStatus(duringJob, tenants.OutboxDone)
	if r.effects(tenant, during) != 1 {
		t.Fatal("the job written while Redis was down did not run once")
	}

	// A job reaches Redis but no worker takes it before Redis restarts empty.
	shutdown()
	lost := uuid.New()
	lostJob := r.job(tenant, "test:count", map[string]uuid.UUID{"case": lost})
	r.waitStatus(lostJob, tenants.OutboxEnqueued)
	srv.Stop()
	srv.Start()
	if q, err := r.insp.GetQueueInfo(r.queue); err == nil && q.Size != 0 {
		t.Fatalf("the restarted Redis holds %d tasks, want none", q.Size)
	}
	r.startWorker()
	m := r.waitStatus(lostJob, tenants.OutboxDone)
	if m.Attempts < 2 {
		t.Fatalf("the lost job was sent %d times, want it sent again", m.Attempts)
	}
	if r.effects(tenant, lost) != 1 {
		t.Fatal("the job lost by Redis did not run once")
	}
}

// TestDemoRedis: the in-process server expires keys as time passes and
// carries the whole outbox path on SQLite, as demo mode runs it.
func TestDemoRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	demo, err := workers.StartDemoRedis(ctx)
	must(t, err)
	t.Cleanup(demo.Close)

	rc, err := workers.NewRedisClient(demo.ConnOpt())
	must(t, err)
	defer rc.Close()
	must(t, workers.RedisPinger{Client: rc}.Ping(ctx))
	must(t, rc.Set(ctx, "expiring", "x", 300*time.Millisecond).Err())
	must(t, rc.Set(ctx, "lasting", "x", 0).Err())
	eventually(t, 10*time.Second, func() bool { return rc.Exists(ctx, "expiring").Val() == 0 },
		func() string { return "a key with a TTL never expired on the demo Redis" })
	if rc.Exists(ctx, "lasting").Val() != 1 {
		t.Fatal("allowed control: a key without a TTL vanished")
	}

	store := tenanttest.OpenSQLite(t)
	r := newRig(t, store, demo.ConnOpt())
	r.reg.Register("test:count", r.countingHandler(nil))
	tenant := tenanttest.NewTenant(t, store)
	c := uuid.New()
	id := r.job(tenant, "test:count", map[string]uuid.UUID{"case": c})
	r.runRelay(r.relay)
	r.startWorker()
	r.waitStatus(id, tenants.OutboxDone)
	if r.effects(tenant, c) != 1 {
		t.Fatal("the job did not run once on the demo Redis")
	}
}

func TestOpenRedis(t *testing.T) {
	ctx := context.Background()
	opt, stop, err := workers.OpenRedis(ctx, &homeward.Config{Mode: homeward.ModeDemo})
	must(t, err)
	rc, err := workers.NewRedisClient(opt)
	must(t, err)
	must(t, rc.Ping(ctx).Err())
	rc.Close()
	stop()

	if _, _, err := workers.OpenRedis(ctx, &homeward.Config{Mode: homeward.ModeProduction}); err == nil {
		t.Fatal("production without HOMEWARD_REDIS_URL started a Redis")
	}
	opt, stop, err = workers.OpenRedis(ctx, &homeward.Config{Mode: homeward.ModeProduction, RedisURL: "redis://:secret@redis.internal:6379/2"})
	must(t, err)
	stop()
	if c, ok := opt.(asynq.RedisClientOpt); !ok || c.Addr != "redis.internal:6379" || c.DB != 2 || c.Password != "secret" {
		t.Fatalf("parsed %#v", opt)
	}
	_, err = workers.ParseRedisURL("http://:hunter2@x")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad URL: err = %v, want an error that does not repeat the password", err)
	}
}
