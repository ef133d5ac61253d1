package workers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// TestRolledBackWriteEnqueuesNothing: the job is written in the business
// transaction, so a rolled-back change leaves no job; a committed one runs.
func TestRolledBackWriteEnqueuesNothing(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, store, sharedRedis(t))
			r.reg.Register("test:count", r.countingHandler(nil))
			tenant := tenanttest.NewTenant(t, store)
			ctx := context.Background()

			rolledBackCase, rolledBackJob := uuid.New(), uuid.Nil
			boom := errors.New("the business write failed")
			err := store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
				must(t, tenants.PutSetting(tx, "business", "change"))
				var err error
				rolledBackJob, err = tenants.Enqueue(tx, tenants.Job{Kind: "test:count", Queue: r.queue, IDs: map[string]uuid.UUID{"case": rolledBackCase}})
				must(t, err)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			committedCase := uuid.New()
			committedJob := r.job(tenant, "test:count", map[string]uuid.UUID{"case": committedCase})

			if _, ok := r.row(rolledBackJob); ok {
				t.Fatal("the outbox row of a rolled-back write exists")
			}
			n, err := r.relay.RunOnce(ctx)
			must(t, err)
			if n != 1 {
				t.Fatalf("the relay sent %d tasks, want 1 (the committed write's only)", n)
			}
			shutdown := r.startWorker()
			// allowed control: the committed write's job ran
			r.waitStatus(committedJob, tenants.OutboxDone)
			if got := r.effects(tenant, committedCase); got != 1 {
				t.Fatalf("committed job's effect count = %d, want 1", got)
			}
			shutdown()
			if c := r.calls.of(rolledBackCase); c != 0 {
				t.Fatalf("the handler ran %d times for the rolled-back write", c)
			}
		})
	}
}

// TestExactlyOnceWithTwoRelays: two relays claim and re-send the same rows
// at once; every job's effect commits exactly once.
func TestExactlyOnceWithTwoRelays(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, store, sharedRedis(t))
			r.reg.Register("test:count", r.countingHandler(nil))
			tenant := tenanttest.NewTenant(t, store)

			const jobs = 10
			cases := make([]uuid.UUID, jobs)
			rows := make([]uuid.UUID, jobs)
			for i := range cases {
				cases[i] = uuid.New()
				rows[i] = r.job(tenant, "test:count", map[string]uuid.UUID{"case": cases[i]})
			}
			// Both relays send every row again every 50ms while no worker
			// runs: each re-send meets the task already queued.
			a, b := r.newRelay(), r.newRelay()
			a.RedeliverAfter, b.RedeliverAfter = 50*time.Millisecond, 50*time.Millisecond
			a.Interval, b.Interval = 10*time.Millisecond, 10*time.Millisecond
			stopA, stopB := r.runRelay(a), r.runRelay(b)
			for _, id := range rows {
				eventually(t, 20*time.Second, func() bool { m, _ := r.row(id); return m.Attempts >= 3 },
					func() string { return "the relays did not send every row again" })
			}
			queued, err := r.insp.GetQueueInfo(r.queue)
			must(t, err)
			if queued.Size != jobs {
				t.Fatalf("%d tasks in the queue after many sends of %d rows, want %d", queued.Size, jobs, jobs)
			}

			shutdown := r.startWorker()
			for _, id := range rows {
				r.waitStatus(id, tenants.OutboxDone)
			}
			// Keep both relays running a while past RedeliverAfter with the
			// rows done: they must find nothing to send.
			n, err := a.RunOnce(context.Background())
			must(t, err)
			if n != 0 {
				t.Fatalf("a relay sent %d done rows", n)
			}
			stopA()
			stopB()

			// A stale relay's late send (the row read before it was done, the
			// task finished since) reaches the worker, which skips it.
			m, _ := r.row(rows[0])
			eventually(t, 20*time.Second, func() bool { // asynq drops the finished task just after the commit
				_, err := r.insp.GetTaskInfo(r.queue, m.ID.String())
				return errors.Is(err, asynq.ErrTaskNotFound)
			}, func() string { return "the first delivery stayed in the queue" })
			stale := asynq.NewTaskWithHeaders(m.Kind, []byte(m.Payload), map[string]string{
				workers.HeaderOutbox: m.ID.String(), workers.HeaderTenant: tenant.String()})
			_, err = r.client.Enqueue(stale, asynq.TaskID(m.ID.String()), asynq.Queue(r.queue))
			must(t, err)
			eventually(t, 20*time.Second, func() bool {
				_, err := r.insp.GetTaskInfo(r.queue, m.ID.String())
				return errors.Is(err, asynq.ErrTaskNotFound)
			}, func() string { return "the stale task was not consumed" })
			shutdown()

			for i, c := range cases {
				if got := r.effects(tenant, c); got != 1 {
					t.Errorf("job %d: effect committed %d times, want exactly 1", i, got)
				}
				got := r.calls.of(c)
				if got != 1 {
					t.Errorf("job %d: handler called %d times, want 1", i, got)
				}
			}
		})
	}
}

// TestFailingHandlerIsRetried: the first attempt writes its effect and
// fails (rolled back), the retry succeeds: one effect, row done.
func TestFailingHandlerIsRetried(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	r.reg.Register("test:flaky", r.countingHandler(func(ctx context.Context) error {
		if n, _ := asynq.GetRetryCount(ctx); n == 0 {
			return errors.New("transient failure")
		}
		return nil
	}))
	tenant := tenanttest.NewTenant(t, store)
	c := uuid.New()
	id := r.job(tenant, "test:flaky", map[string]uuid.UUID{"case": c})
	r.runRelay(r.relay)
	r.startWorker()
	m := r.waitStatus(id, tenants.OutboxDone)
	if r.calls.of(c) != 2 {
		t.Fatalf("handler called %d times, want 2 (a failure, then the retry)", r.calls.of(c))
	}
	if got := r.effects(tenant, c); got != 1 {
		t.Fatalf("effect committed %d times, want 1: the failed attempt must roll back", got)
	}
	if m.DoneAt == nil || m.LastError != "" {
		t.Fatalf("done row = %+v", m)
	}
}

// TestGivenUpJobsEndDead: a handler that always fails, and a kind nobody
// handles, end dead with a reason; their effects never commit. The control
// job on the same worker is done.
func TestGivenUpJobsEndDead(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	r.relay.MaxRetry = 2
	r.reg.Register("test:broken", r.countingHandler(func(context.Context) error { return errors.New("always fails") }))
	r.reg.Register("test:count", r.countingHandler(nil))
	tenant := tenanttest.NewTenant(t, store)
	broken, unknown, fine := uuid.New(), uuid.New(), uuid.New()
	brokenJob := r.job(tenant, "test:broken", map[string]uuid.UUID{"case": broken})
	unknownJob := r.job(tenant, "test:nobody_handles", map[string]uuid.UUID{"case": unknown})
	fineJob := r.job(tenant, "test:count", map[string]uuid.UUID{"case": fine})
	r.runRelay(r.relay)
	r.startWorker()

	m := r.waitStatus(brokenJob, tenants.OutboxDead)
	if !strings.Contains(m.LastError, "gave up after 3 attempts") || !strings.Contains(m.LastError, "always fails") {
		t.Fatalf("last_error = %q", m.LastError)
	}
	if strings.Contains(m.LastError, broken.String()) {
		t.Fatal("last_error holds the payload")
	}
	if c := r.calls.of(broken); c != 3 {
		t.Fatalf("handler called %d times, want 3 (MaxRetry 2)", c)
	}
	if got := r.effects(tenant, broken); got != 0 {
		t.Fatalf("a failing handler's effect committed %d times", got)
	}
	m = r.waitStatus(unknownJob, tenants.OutboxDead)
	if !strings.Contains(m.LastError, "no handler") {
		t.Fatalf("unknown kind: last_error = %q", m.LastError)
	}
	if m.Attempts != 1 {
		t.Fatalf("unknown kind sent %d times", m.Attempts)
	}
	// allowed control
	r.waitStatus(fineJob, tenants.OutboxDone)
	if got := r.effects(tenant, fine); got != 1 {
		t.Fatalf("control effect = %d", got)
	}
	// a dead row is never sent again
	r.relay.RedeliverAfter = time.Millisecond
	n, err := r.relay.RunOnce(context.Background())
	must(t, err)
	if n != 0 {
		t.Fatalf("the relay sent %d dead or done rows", n)
	}
}

// TestTenantReachesHandler: the organisation travels in a task header into
// the handler's context, and the handler's transaction sees only that
// organisation's rows. A platform-wide job has no tenant and no tenant rows.
func TestTenantReachesHandler(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	ctx := context.Background()
	a, b := tenanttest.NewTenant(t, store), tenanttest.NewTenant(t, store)
	must(t, store.PutSettings(ctx, a, map[string]string{"mine": "a"}))
	must(t, store.PutSettings(ctx, b, map[string]string{"secret": "b"}))

	type seen struct {
		tenant   uuid.UUID
		ok       bool
		settings map[string]string
		err      error
	}
	var mu sync.Mutex
	got := map[string]seen{}
	record := func(kind string) workers.Handler {
		return func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
			var s seen
			s.tenant, s.ok = tenants.TenantFrom(ctx)
			s.settings, s.err = tenants.Settings(tx)
			mu.Lock()
			got[kind] = s
			mu.Unlock()
			if s.ok {
				return tenants.PutSetting(tx, "seen", "yes")
			}
			return nil
		}
	}
	r.reg.Register("test:whoami", record("tenant"))
	r.reg.Register("test:platform", record("platform"))
	tenantJob := r.job(a, "test:whoami", nil)
	platformJob := r.job(uuid.Nil, "test:platform", nil)
	r.runRelay(r.relay)
	r.startWorker()
	r.waitStatus(tenantJob, tenants.OutboxDone)
	r.waitStatus(platformJob, tenants.OutboxDone)

	mu.Lock()
	defer mu.Unlock()
	s := got["tenant"]
	if !s.ok || s.tenant != a {
		t.Fatalf("handler's context tenant = %v %v, want %v", s.tenant, s.ok, a)
	}
	if s.err != nil || s.settings["mine"] != "a" {
		t.Fatalf("allowed control: the handler did not see its own tenant's settings: %v %v", s.settings, s.err)
	}
	if _, leaked := s.settings["secret"]; leaked || len(s.settings) != 1 {
		t.Fatalf("the handler of tenant A saw %v", s.settings)
	}
	var inA, inB bool
	must(t, store.InTenant(ctx, a, func(tx *gorm.DB) (err error) { _, inA, err = tenants.SettingValue(tx, "seen"); return err }))
	must(t, store.InTenant(ctx, b, func(tx *gorm.DB) (err error) { _, inB, err = tenants.SettingValue(tx, "seen"); return err }))
	if !inA || inB {
		t.Fatalf("the handler's write landed in A: %v, in B: %v; want A only", inA, inB)
	}

	p := got["platform"]
	if p.ok {
		t.Fatalf("a platform-wide job's context names tenant %v", p.tenant)
	}
	if !errors.Is(p.err, tenants.ErrNoTenant) {
		t.Fatalf("a platform-wide job reading tenant rows: err = %v, want ErrNoTenant", p.err)
	}
}

// TestOnlyOutboxTasksRun: a task put into Redis without an outbox row is
// dropped; the outbox job beside it runs.
func TestOnlyOutboxTasksRun(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	r.reg.Register("test:count", r.countingHandler(nil))
	tenant := tenanttest.NewTenant(t, store)
	forged, real := uuid.New(), uuid.New()
	payload := []byte(`{"case":"` + forged.String() + `"}`)
	_, err := r.client.Enqueue(asynq.NewTaskWithHeaders("test:count", payload, map[string]string{workers.HeaderTenant: tenant.String()}),
		asynq.Queue(r.queue))
	must(t, err)
	id := r.job(tenant, "test:count", map[string]uuid.UUID{"case": real})
	r.runRelay(r.relay)
	r.startWorker()
	r.waitStatus(id, tenants.OutboxDone)
	eventually(t, 20*time.Second, func() bool {
		q, err := r.insp.GetQueueInfo(r.queue)
		return err == nil && q.Size == 0
	}, func() string { return "the task without an outbox row stayed queued" })
	if r.calls.of(forged) != 0 || r.effects(tenant, forged) != 0 {
		t.Fatal("a task without an outbox row ran")
	}
	if r.effects(tenant, real) != 1 {
		t.Fatal("allowed control: the outbox job did not run")
	}
}

// TestArchivedTaskFoundOnRedelivery: when the dead mark was lost (the row
// still says enqueued but asynq archived the task), the redelivery marks
// the row dead instead of sending it again forever. A row whose task is
// still queued stays enqueued.
func TestArchivedTaskFoundOnRedelivery(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	tenant := tenanttest.NewTenant(t, store)
	archived := r.job(tenant, "test:count", nil)
	queued := r.job(tenant, "test:count", nil)
	n, err := r.relay.RunOnce(context.Background())
	must(t, err)
	if n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	must(t, r.insp.ArchiveTask(r.queue, archived.String()))
	r.relay.RedeliverAfter = time.Millisecond
	time.Sleep(5 * time.Millisecond) // let RedeliverAfter pass; not an assertion
	_, err = r.relay.RunOnce(context.Background())
	must(t, err)
	if m, _ := r.row(archived); m.Status != tenants.OutboxDead || m.LastError == "" {
		t.Fatalf("row of the archived task = %s %q, want dead", m.Status, m.LastError)
	}
	if m, _ := r.row(queued); m.Status != tenants.OutboxEnqueued || m.Attempts != 2 {
		t.Fatalf("row of the queued task = %s after %d sends, want enqueued after 2", m.Status, m.Attempts)
	}
}
