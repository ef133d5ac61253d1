package workers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// KindOutboxPrune deletes outbox rows done more than PruneAfter ago.
const KindOutboxPrune = "outbox:prune"

// PruneAfter is how long done outbox rows are kept (for operators looking
// into what ran). Dead rows are kept until someone deals with them.
const PruneAfter = 7 * 24 * time.Hour

// PeriodicJob is platform-wide work written to the outbox once per period.
type PeriodicJob struct {
	Kind  string
	Queue string // "" is "default"
	Every time.Duration
}

// DefaultPeriodicJobs is the schedule of homeward scheduler.
func DefaultPeriodicJobs() []PeriodicJob {
	jobs := []PeriodicJob{{Kind: KindOutboxPrune, Queue: "low", Every: time.Hour}}
	jobs = append(jobs, AuditPeriodicJobs()...)
	jobs = append(jobs, DocumentPeriodicJobs()...)
	jobs = append(jobs, FollowUpPeriodicJobs()...)
	jobs = append(jobs, HandoffPeriodicJobs()...)
	return append(jobs, CasePeriodicJobs()...)
}

// RegisterPlatformJobs registers the handlers of the platform's own periodic
// jobs.
func RegisterPlatformJobs(r *Registry) {
	r.Register(KindOutboxPrune, PruneOutbox)
}

// PruneOutbox is the handler of KindOutboxPrune.
func PruneOutbox(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
	cutoff := time.Now().UTC().Add(-PruneAfter)
	return tx.Where("status = ? AND done_at < ?", tenants.OutboxDone, cutoff).Delete(&tenants.OutboxMessage{}).Error
}

// periodNamespace names the deterministic ids of periodic jobs.
var periodNamespace = uuid.MustParse("6f1d2b0e-8f4c-4b7e-9a51-2c3d8e0f7a19")

// PeriodID is the outbox id of kind's job for the period starting at start:
// every scheduler computes the same one, so the period is enqueued once
// however many schedulers run.
func PeriodID(kind string, start time.Time) uuid.UUID {
	return uuid.NewSHA1(periodNamespace, []byte(kind+"@"+start.UTC().Format(time.RFC3339Nano)))
}

// Scheduler writes each periodic job into the outbox once per period (the
// current time in UTC truncated to Every: hourly jobs start on the hour,
// daily ones at midnight UTC); the relay sends it on. Two schedulers at once
// write each period once.
type Scheduler struct {
	Store *tenants.Store
	Jobs  []PeriodicJob
	// Interval is how often the schedule is checked (default a minute):
	// a period starts at most this late.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// RunOnce writes the current period's job of every periodic job not yet
// written.
func (s *Scheduler) RunOnce(ctx context.Context) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	return s.Store.Global(ctx, func(tx *gorm.DB) error {
		for _, j := range s.Jobs {
			if j.Every <= 0 {
				return fmt.Errorf("workers: periodic job %s needs a positive period", j.Kind)
			}
			start := t.Truncate(j.Every)
			if _, err := tenants.Enqueue(tx, tenants.Job{Kind: j.Kind, Queue: j.Queue, ID: PeriodID(j.Kind, start)}); err != nil {
				return fmt.Errorf("workers: schedule %s: %w", j.Kind, err)
			}
		}
		return nil
	})
}

// Run checks the schedule every Interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	every := s.Interval
	if every <= 0 {
		every = time.Minute
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		err := s.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			log.Error("scheduler: could not write periodic jobs", "error", err.Error())
		case err == nil && failing:
			log.Info("scheduler: periodic jobs written again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
