package workers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/afesip/homeward/tenants"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"gorm.io/gorm"
)

// QueueMonitor is asynqmon, read-only, rooted at rootPath ("/ops/queues").
// Task payloads and results are shown as their length only. The handler
// also implements io.Closer, closing its Redis connections.
func QueueMonitor(opt asynq.RedisConnOpt, rootPath string) http.Handler {
	return asynqmon.New(asynqmon.Options{
		RootPath:         rootPath,
		RedisConnOpt:     opt,
		ReadOnly:         true,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(redact),
		ResultFormatter:  asynqmon.ResultFormatterFunc(redact),
	})
}

// redact shows that a task carries bytes, never what they are.
func redact(_ string, b []byte) string { return fmt.Sprintf("[redacted: %d bytes]", len(b)) }

// Stats feeds /metrics: tasks per queue and state, and the outbox backlog.
type Stats struct {
	store     *tenants.Store
	inspector *asynq.Inspector
}

// NewStats reads queues through opt and the outbox through store; Close
// releases its Redis connections.
func NewStats(store *tenants.Store, opt asynq.RedisConnOpt) *Stats {
	return &Stats{store: store, inspector: asynq.NewInspector(opt)}
}

// Close closes the Redis connections.
func (s *Stats) Close() error { return s.inspector.Close() }

// QueueSizes returns queue -> state -> number of tasks.
func (s *Stats) QueueSizes(ctx context.Context) (map[string]map[string]int, error) {
	type result struct {
		sizes map[string]map[string]int
		err   error
	}
	// The inspector takes no context; the caller's deadline is kept by not
	// waiting for it past ctx.
	ch := make(chan result, 1)
	go func() {
		sizes, err := s.queueSizes()
		ch <- result{sizes, err}
	}()
	select {
	case r := <-ch:
		return r.sizes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Stats) queueSizes() (map[string]map[string]int, error) {
	queues, err := s.inspector.Queues()
	if err != nil {
		return nil, err
	}
	sizes := make(map[string]map[string]int, len(queues))
	var errs []error
	for _, q := range queues {
		info, err := s.inspector.GetQueueInfo(q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sizes[q] = map[string]int{
			"pending":     info.Pending,
			"active":      info.Active,
			"scheduled":   info.Scheduled,
			"retry":       info.Retry,
			"archived":    info.Archived,
			"completed":   info.Completed,
			"aggregating": info.Aggregating,
		}
	}
	if len(sizes) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sizes, nil
}

// OutboxBacklog counts outbox rows not yet done: pending or enqueued.
func (s *Stats) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Global(ctx, func(tx *gorm.DB) error {
		return tx.Model(&tenants.OutboxMessage{}).
			Where("status IN ?", []string{tenants.OutboxPending, tenants.OutboxEnqueued}).Count(&n).Error
	})
	return n, err
}
