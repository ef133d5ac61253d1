package workers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
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

func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// testLogger discards, unless HOMEWARD_TEST_LOG=1 asks to see the workers'
// lines on stderr.
func testLogger() *slog.Logger {
	if os.Getenv("HOMEWARD_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sharedRedis is the test Redis; every test keeps to queues of its own.
func sharedRedis(t *testing.T) asynq.RedisConnOpt {
	return asynq.RedisClientOpt{Addr: tenanttest.RedisAddr(t)}
}

// rig is one test's relay and worker on its own queue, so tests sharing the
// package's PostgreSQL database and the Redis server never take each
// other's jobs.
type rig struct {
	t      *testing.T
	store  *tenants.Store
	opt    asynq.RedisConnOpt
	queue  string
	reg    *workers.Registry
	client *asynq.Client
	insp   *asynq.Inspector
	relay  *workers.Relay
	calls  *calls
}

func newRig(t *testing.T, store *tenants.Store, opt asynq.RedisConnOpt) *rig {
	t.Helper()
	r := &rig{
		t: t, store: store, opt: opt,
		queue:  "hwtest_" + randomHex(6),
		reg:    workers.NewRegistry(),
		client: asynq.NewClient(opt),
		insp:   asynq.NewInspector(opt),
		calls:  &calls{n: map[uuid.UUID]int{}},
	}
	r.relay = r.newRelay()
	t.Cleanup(func() {
		r.insp.DeleteQueue(r.queue, true)
		r.insp.Close()
		r.client.Close()
	})
	return r
}

// newRelay returns another relay on the rig's queue and client.
func (r *rig) newRelay() *workers.Relay {
	return &workers.Relay{
		Store: r.store, Client: r.client, Inspector: r.insp, Logger: testLogger(),
		Queues: []string{r.queue}, Interval: 20 * time.Millisecond, RedeliverAfter: time.Minute, MaxRetry: 5,
	}
}

// runRelay runs relay.Run until the test ends or stop is called.
func (r *rig) runRelay(relay *workers.Relay) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := relay.Run(ctx); err != nil {
			r.t.Errorf("relay.Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	r.t.Cleanup(stop)
	return stop
}

// startWorker starts a worker serving the rig's queue; shutdown stops it
// (also at the end of the test).
func (r *rig) startWorker() (shutdown func()) {
	r.t.Helper()
	w, err := workers.NewWorker(workers.WorkerConfig{
		Store: r.store, Redis: r.opt, Registry: r.reg, Logger: testLogger(),
		Concurrency: 4, Queues: map[string]int{r.queue: 1},
		RetryDelay:      func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		ShutdownTimeout: 3 * time.Second, PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		r.t.Fatal(err)
	}
	var once sync.Once
	shutdown = func() { once.Do(w.Shutdown) }
	r.t.Cleanup(shutdown)
	return shutdown
}

// job writes an outbox row for kind in tenant's transaction (uuid.Nil: a
// platform-wide job) and returns its id.
func (r *rig) job(tenant uuid.UUID, kind string, ids map[string]uuid.UUID) uuid.UUID {
	r.t.Helper()
	var id uuid.UUID
	write := func(tx *gorm.DB) (err error) {
		id, err = tenants.Enqueue(tx, tenants.Job{Kind: kind, Queue: r.queue, IDs: ids})
		return err
	}
	var err error
	if tenant == uuid.Nil {
		err = r.store.Global(context.Background(), write)
	} else {
		err = r.store.InTenant(context.Background(), tenant, write)
	}
	if err != nil {
		r.t.Fatalf("enqueue %s: %v", kind, err)
	}
	return id
}

// row reads an outbox row; ok is false when it does not exist.
func (r *rig) row(id uuid.UUID) (m tenants.OutboxMessage, ok bool) {
	r.t.Helper()
	err := r.store.Global(context.Background(), func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&m).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, false
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return m, true
}

// waitStatus polls until the row has status.
func (r *rig) waitStatus(id uuid.UUID, status string) tenants.OutboxMessage {
	r.t.Helper()
	var m tenants.OutboxMessage
	eventually(r.t, 20*time.Second, func() bool {
		m, _ = r.row(id)
		return m.Status == status
	}, func() string {
		return fmt.Sprintf("outbox row %s is %q (%q), want %q", id, m.Status, m.LastError, status)
	})
	return m
}

// countingHandler counts its calls per "case" id in memory and its committed
// effects in the tenant's settings; fail decides, per call, whether to fail
// after writing the effect.
func (r *rig) countingHandler(fail func(ctx context.Context) error) workers.Handler {
	return func(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error {
		r.calls.add(ids["case"])
		key := "effect:" + ids["case"].String()
		v, _, err := tenants.SettingValue(tx, key)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(v)
		if err := tenants.PutSetting(tx, key, strconv.Itoa(n+1)); err != nil {
			return err
		}
		if fail != nil {
			return fail(ctx)
		}
		return nil
	}
}

// effects is how many times the handler's change to caseID committed.
func (r *rig) effects(tenant, caseID uuid.UUID) int {
	r.t.Helper()
	var v string
	err := r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		v, _, err = tenants.SettingValue(tx, "effect:"+caseID.String())
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	n, _ := strconv.Atoi(v)
	return n
}

type calls struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

func (c *calls) add(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[id]++
}

func (c *calls) of(id uuid.UUID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
