package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Task headers set by the relay and read by the worker.
const (
	// HeaderTenant is the organisation the task acts for; absent for
	// platform-wide work.
	HeaderTenant = "homeward-tenant"
	// HeaderOutbox is the outbox row the task comes from (also its task id).
	HeaderOutbox = "homeward-outbox"
)

// Relay defaults, used when the field is zero.
const (
	DefaultBatchSize      = 100
	DefaultRedeliverAfter = 10 * time.Minute
	DefaultRelayInterval  = time.Second
	DefaultMaxRetry       = 10
)

// enqueueTimeout bounds one call to Redis, so an unreachable server never
// keeps the relay's transaction (and, on SQLite, the write lock) for long.
const enqueueTimeout = 3 * time.Second

// ErrQueueUnreachable wraps the error of RunOnce when Redis did not take a
// task: the rows wait in the outbox and a later run sends them.
var ErrQueueUnreachable = errors.New("workers: the queue is unreachable")

// Relay hands committed outbox rows to asynq. Several relays may run at once
// (two schedulers during a rollout): rows are claimed with FOR UPDATE SKIP
// LOCKED on PostgreSQL (SQLite has one writer at a time), the task id is the
// outbox id so a second enqueue of the same row is refused by asynq, and the
// worker skips rows already done. Use it through a pointer; Run and RunOnce
// may be called from several goroutines.
type Relay struct {
	Store  *tenants.Store
	Client *asynq.Client
	// Inspector, when set, lets a redelivery notice a task that asynq
	// archived while the database could not be told, and mark its row dead
	// instead of sending it again forever.
	Inspector *asynq.Inspector
	Logger    *slog.Logger

	// Queues, when set, limits the relay to rows of these queues.
	Queues []string
	// BatchSize is the most rows claimed per transaction.
	BatchSize int
	// RedeliverAfter is how long a row may stay enqueued but not done before
	// it is enqueued again (a Redis that lost its data, a lost task). A task
	// still in Redis is not duplicated: asynq refuses its id.
	RedeliverAfter time.Duration
	// Interval is the pause between runs of Run.
	Interval time.Duration
	// MaxRetry is how many times asynq retries a failing task before it is
	// archived and its row marked dead.
	MaxRetry int

	queueDown atomic.Bool
	dbDown    atomic.Bool
}

func (r *Relay) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return DefaultBatchSize
}

func (r *Relay) redeliverAfter() time.Duration {
	if r.RedeliverAfter > 0 {
		return r.RedeliverAfter
	}
	return DefaultRedeliverAfter
}

func (r *Relay) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultRelayInterval
}

func (r *Relay) maxRetry() int {
	if r.MaxRetry > 0 {
		return r.MaxRetry
	}
	return DefaultMaxRetry
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run relays until ctx ends, every Interval, and at once again after a full
// batch. Failures are logged by RunOnce, once per outage; Run keeps going.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval())
	defer t.Stop()
	for {
		claimed, _, err := r.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && claimed == r.batchSize() {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce relays one batch in one transaction and returns how many rows it
// handed to the queue. When Redis fails it stops, keeps the rows already sent
// and returns an error wrapping ErrQueueUnreachable; the others stay pending.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	_, sent, err := r.runOnce(ctx)
	return sent, err
}

func (r *Relay) runOnce(ctx context.Context) (claimed, sent int, err error) {
	if r.Store == nil || r.Client == nil {
		return 0, 0, errors.New("workers: a Relay needs a Store and a Client")
	}
	var queueErr error
	err = r.Store.Global(ctx, func(tx *gorm.DB) error {
		rows, err := r.claim(tx)
		if err != nil {
			return err
		}
		claimed = len(rows)
		for i := range rows {
			m := &rows[i]
			switch ok, err := r.send(ctx, tx, m); {
			case err == nil:
				if ok {
					sent++
				}
			case errors.Is(err, ErrQueueUnreachable):
				queueErr = err
				return nil // commit the rows already sent
			default:
				return err
			}
		}
		return nil
	})
	switch {
	case err != nil:
		if !r.dbDown.Swap(true) {
			r.logger().Error("outbox relay: the database failed; jobs wait", "error", err.Error())
		}
		return claimed, sent, fmt.Errorf("workers: relay: %w", err)
	case r.dbDown.Swap(false):
		r.logger().Info("outbox relay: the database answers again")
	}
	if queueErr != nil {
		if !r.queueDown.Swap(true) {
			r.logger().Warn("outbox relay: the queue is unreachable; jobs wait in the outbox", "error", queueErr.Error())
		}
		return claimed, sent, queueErr
	}
	if sent > 0 && r.queueDown.Swap(false) {
		r.logger().Info("outbox relay: the queue answers again")
	}
	return claimed, sent, nil
}

// claim selects the due rows: pending, or enqueued longer ago than
// RedeliverAfter, oldest first, locked against other relays on PostgreSQL.
func (r *Relay) claim(tx *gorm.DB) ([]tenants.OutboxMessage, error) {
	stale := time.Now().UTC().Add(-r.redeliverAfter())
	q := tx.Where("(status = ? OR (status = ? AND enqueued_at < ?))", tenants.OutboxPending, tenants.OutboxEnqueued, stale)
	if len(r.Queues) > 0 {
		q = q.Where("queue IN ?", r.Queues)
	}
	q = q.Order("created_at").Limit(r.batchSize())
	if r.Store.Driver() == homeward.DriverPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var rows []tenants.OutboxMessage
	return rows, q.Find(&rows).Error
}

// send enqueues one row and records the outcome in tx. It reports whether
// the row is now in the queue (false: it was marked dead instead).
func (r *Relay) send(ctx context.Context, tx *gorm.DB, m *tenants.OutboxMessage) (bool, error) {
	if strings.TrimSpace(m.Kind) == "" || strings.TrimSpace(m.Queue) == "" {
		return false, markDead(tx, m.ID, "not a valid task: the kind and the queue are required")
	}
	headers := map[string]string{HeaderOutbox: m.ID.String()}
	if m.TenantID != nil {
		headers[HeaderTenant] = m.TenantID.String()
	}
	task := asynq.NewTaskWithHeaders(m.Kind, []byte(m.Payload), headers)
	ectx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	_, err := r.Client.EnqueueContext(ectx, task,
		asynq.TaskID(m.ID.String()), asynq.Queue(m.Queue), asynq.MaxRetry(r.maxRetry()))
	switch {
	case err == nil:
	case errors.Is(err, asynq.ErrTaskIDConflict):
		// Already in Redis (queued, running, retrying or archived): sent.
		if archived, lastErr := r.archived(m); archived {
			return false, markDead(tx, m.ID, "archived by the queue: "+lastErr)
		}
	default:
		return false, fmt.Errorf("%w: %w", ErrQueueUnreachable, err)
	}
	return true, tx.Model(&tenants.OutboxMessage{}).Where("id = ?", m.ID).Updates(map[string]any{
		"status":      tenants.OutboxEnqueued,
		"enqueued_at": time.Now().UTC(),
		"attempts":    gorm.Expr("attempts + 1"),
	}).Error
}

// archived reports whether a row being sent again has a task asynq gave up
// on: the worker's dead mark was lost (the database failed at that moment).
func (r *Relay) archived(m *tenants.OutboxMessage) (bool, string) {
	if r.Inspector == nil || m.Status != tenants.OutboxEnqueued {
		return false, ""
	}
	info, err := r.Inspector.GetTaskInfo(m.Queue, m.ID.String())
	if err != nil || info.State != asynq.TaskStateArchived {
		return false, ""
	}
	return true, info.LastErr
}

// markDead records that a row's work was given up.
func markDead(tx *gorm.DB, id uuid.UUID, reason string) error {
	return tx.Model(&tenants.OutboxMessage{}).
		Where("id = ? AND status IN ?", id, []string{tenants.OutboxPending, tenants.OutboxEnqueued}).
		Updates(map[string]any{"status": tenants.OutboxDead, "last_error": shortError(reason)}).Error
}

// maxErrorLen bounds outbox.last_error.
const maxErrorLen = 500

// shortError keeps the first line of a message, at most maxErrorLen bytes of
// valid UTF-8.
func shortError(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
	}
	return strings.ToValidUTF8(s, "")
}
