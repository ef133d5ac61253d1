package workers_test

import (
	"context"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// TestTwoSchedulersWriteEachPeriodOnce: schedulers running at once (a
// rollout) compute the same outbox id for a period, so it is written once;
// the next period is a new row.
func TestTwoSchedulersWriteEachPeriodOnce(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			kind := "test_" + randomHex(4) + ":tick"
			now := time.Date(2031, 5, 6, 10, 17, 0, 0, time.UTC)
			newScheduler := func() *workers.Scheduler {
				return &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{{Kind: kind, Queue: "idle_" + randomHex(4), Every: time.Hour}},
					Now: func() time.Time { return now }}
			}
			a, b := newScheduler(), newScheduler()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, s := range []*workers.Scheduler{a, b} {
				wg.Go(func() { errs[i] = s.RunOnce(context.Background()) })
			}
			wg.Wait()
			must(t, errs[0])
			must(t, errs[1])
			must(t, b.RunOnce(context.Background()))

			rows := func() (ms []tenants.OutboxMessage) {
				must(t, store.Global(context.Background(), func(tx *gorm.DB) error {
					return tx.Where("kind = ?", kind).Order("created_at").Find(&ms).Error
				}))
				return ms
			}
			got := rows()
			if len(got) != 1 {
				t.Fatalf("two schedulers wrote %d rows for one period, want 1", len(got))
			}
			if want := workers.PeriodID(kind, time.Date(2031, 5, 6, 10, 0, 0, 0, time.UTC)); got[0].ID != want || got[0].TenantID != nil {
				t.Fatalf("period row = %+v, want id %v and no tenant", got[0], want)
			}
			// allowed control: the next period is written
			now = now.Add(time.Hour)
			must(t, a.RunOnce(context.Background()))
			if got := rows(); len(got) != 2 {
				t.Fatalf("next period: %d rows, want 2", len(got))
			}
		})
	}
}

// TestPruneOutbox runs outbox:prune the way production does (scheduler,
// relay, worker): done rows older than a week go; recent done rows, dead
// and pending rows stay.
func TestPruneOutbox(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	workers.RegisterPlatformJobs(r.reg)

	idle := "idle_" + randomHex(6) // no relay serves it: the seeded rows stay as written
	old := time.Now().UTC().Add(-workers.PruneAfter - 24*time.Hour)
	recent := time.Now().UTC().Add(-time.Hour)
	seed := func(status string, created time.Time, done *time.Time) uuid.UUID {
		m := &tenants.OutboxMessage{ID: uuid.New(), Kind: "test:seeded", Queue: idle, Payload: "{}", Status: status, CreatedAt: created, DoneAt: done}
		must(t, store.Global(context.Background(), func(tx *gorm.DB) error { return tx.Create(m).Error }))
		return m.ID
	}
	oldDone := seed(tenants.OutboxDone, old, &old)
	recentDone := seed(tenants.OutboxDone, old, &recent)
	oldPending := seed(tenants.OutboxPending, old, nil)
	oldDead := seed(tenants.OutboxDead, old, nil)

	// A period of its own, so that another run of this test on the same
	// database (go test -count) schedules a prune of its own.
	period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(1_000_000)) * time.Hour)
	s := &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{{Kind: workers.KindOutboxPrune, Queue: r.queue, Every: time.Hour}},
		Now: func() time.Time { return period.Add(17 * time.Minute) }}
	must(t, s.RunOnce(context.Background()))
	r.runRelay(r.relay)
	r.startWorker()
	r.waitStatus(workers.PeriodID(workers.KindOutboxPrune, period), tenants.OutboxDone)

	if _, ok := r.row(oldDone); ok {
		t.Error("a row done more than a week ago was kept")
	}
	for name, id := range map[string]uuid.UUID{"recent done": recentDone, "old pending": oldPending, "old dead": oldDead} {
		if _, ok := r.row(id); !ok {
			t.Errorf("the %s row was pruned", name)
		}
	}
}
