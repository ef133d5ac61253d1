package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Handler does one kind of background work. It runs inside the transaction
// that marks its outbox row done: InTenant for the job's organisation (whose
// id is also in ctx, see tenants.TenantFrom), Global for platform-wide work.
// Its database changes commit with the done mark or not at all; returning an
// error rolls them back and asynq retries later. ids is what the job was
// enqueued with (tenants.Job.IDs). The error message is kept in Redis and the
// outbox: it must hold no personal data.
type Handler func(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error

// GiveUp records, in a feature's own rows, that a job of its kind was given
// up (retries exhausted, or not retried): a mail marked failed. It runs in
// the transaction that marks the outbox row dead, InTenant for the job's
// organisation, with the job's ids, the reason stored in the outbox (no
// personal data) and asynq's retry count in ctx. Its error is logged; the
// row is marked dead all the same.
type GiveUp func(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID, reason string) error

// Standalone does one kind of background work that opens its own
// transactions: a domain service's method that spans two organisations
// (Store.AcrossTenants) or otherwise cannot run inside the job's InTenant
// transaction (on SQLite that transaction holds the only write lock, so a
// second transaction from inside it would wait for itself). The worker
// checks the outbox row in a short transaction of its own (skipped when
// done), runs the work with no transaction open, then marks the row done
// in a third, conditionally (only a row still pending or enqueued moves).
//
// So the work and the done mark do not commit together: a worker that
// dies, or a second delivery of the same row running at the same moment,
// runs the work again. A Standalone must therefore write each of its
// effects once on its own, by unique keys decided in its own transactions
// (ON CONFLICT DO NOTHING, or a conditional update, with what follows
// written only by the write that took). The tenant of the job is in ctx
// (tenants.TenantFrom); ids is what the job was enqueued with. Its error
// message is stored like a Handler's: no personal data.
type Standalone func(ctx context.Context, ids map[string]uuid.UUID) error

// Registry maps job kinds ("mail:send") to their handlers. Features register
// into it before the worker starts.
type Registry struct {
	mu         sync.RWMutex
	handlers   map[string]Handler
	standalone map[string]Standalone
	giveUps    map[string]GiveUp
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{handlers: map[string]Handler{}, standalone: map[string]Standalone{}, giveUps: map[string]GiveUp{}}
}

// OnGiveUp sets what to record when a job of kind is given up. Like
// Register, a second one for the same kind panics.
func (r *Registry) OnGiveUp(kind string, g GiveUp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind == "" || g == nil {
		panic("workers: OnGiveUp needs a kind and a function")
	}
	if _, dup := r.giveUps[kind]; dup {
		panic("workers: a give-up function for " + kind + " is already registered")
	}
	r.giveUps[kind] = g
}

func (r *Registry) giveUp(kind string) (GiveUp, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	g, ok := r.giveUps[kind]
	return g, ok
}

// Register sets the handler of kind. Registering a kind twice, or a nil
// handler, is a wiring mistake and panics.
func (r *Registry) Register(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind == "" || h == nil {
		panic("workers: Register needs a kind and a handler")
	}
	r.checkNew(kind)
	r.handlers[kind] = h
}

// RegisterStandalone sets the work of kind when it opens its own
// transactions (Standalone). Like Register, a kind registered twice (in
// either way), or a nil function, panics.
func (r *Registry) RegisterStandalone(kind string, s Standalone) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind == "" || s == nil {
		panic("workers: RegisterStandalone needs a kind and a function")
	}
	r.checkNew(kind)
	r.standalone[kind] = s
}

// checkNew panics when kind has a handler already (r.mu held).
func (r *Registry) checkNew(kind string) {
	_, dup := r.handlers[kind]
	if _, alone := r.standalone[kind]; dup || alone {
		panic("workers: a handler for " + kind + " is already registered")
	}
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	kinds := make([]string, 0, len(r.handlers)+len(r.standalone))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	for k := range r.standalone {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// lookup finds kind's work: a Handler, or else a Standalone.
func (r *Registry) lookup(kind string) (Handler, Standalone, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.handlers[kind]; ok {
		return h, nil, true
	}
	s, ok := r.standalone[kind]
	return nil, s, ok
}

// DefaultQueues are the queues a worker serves, with their weights.
func DefaultQueues() map[string]int { return map[string]int{"critical": 6, "default": 3, "low": 1} }

// Worker defaults, used when the field is zero.
const (
	DefaultConcurrency     = 10
	DefaultShutdownTimeout = 25 * time.Second // inside Kubernetes' default 30 s grace period
	DefaultPollInterval    = time.Second
)

// WorkerConfig is what NewWorker needs. Store, Redis and Registry are
// required.
type WorkerConfig struct {
	Store    *tenants.Store
	Redis    asynq.RedisConnOpt
	Registry *Registry
	Logger   *slog.Logger

	// Concurrency is how many tasks run at once.
	Concurrency int
	// Queues maps queue names to weights; nil means DefaultQueues.
	Queues map[string]int
	// RetryDelay decides the pause before a failed task runs again; nil is
	// asynq's exponential backoff.
	RetryDelay asynq.RetryDelayFunc
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// handing them back to Redis.
	ShutdownTimeout time.Duration
	// PollInterval is how often empty queues and due retries are checked.
	PollInterval time.Duration
}

// Worker is the asynq server running registered handlers on outbox tasks.
type Worker struct {
	srv      *asynq.Server
	store    *tenants.Store
	registry *Registry
	log      *slog.Logger
}

// NewWorker builds a worker; Start begins processing.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Store == nil || cfg.Redis == nil || cfg.Registry == nil {
		return nil, errors.New("workers: a worker needs a Store, a Redis connection and a Registry")
	}
	w := &Worker{store: cfg.Store, registry: cfg.Registry, log: cfg.Logger}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if len(cfg.Queues) == 0 {
		cfg.Queues = DefaultQueues()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	w.srv = asynq.NewServer(cfg.Redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   cfg.Queues,
		RetryDelayFunc:           cfg.RetryDelay,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.PollInterval,
		ErrorHandler:             asynq.ErrorHandlerFunc(w.handleError),
		Logger:                   asynqLogger{w.log.With("component", "asynq")},
		LogLevel:                 asynqLevel(w.log),
	})
	return w, nil
}

// Start begins processing in the background.
func (w *Worker) Start() error { return w.srv.Start(w) }

// Run starts the worker and shuts it down gracefully when ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Shutdown()
	return nil
}

// Shutdown stops taking tasks, waits up to ShutdownTimeout for running ones
// (a task still running then goes back to Redis and runs again later) and
// closes the worker's Redis connections.
func (w *Worker) Shutdown() { w.srv.Shutdown() }

// ProcessTask implements asynq.Handler: the tenant middleware, then the
// outbox bookkeeping around the registered handler.
func (w *Worker) ProcessTask(ctx context.Context, task *asynq.Task) error {
	return TenantMiddleware(asynq.HandlerFunc(w.runOutboxTask)).ProcessTask(ctx, task)
}

// TenantMiddleware puts the organisation named by the task's HeaderTenant
// into the context (tenants.WithTenant). A header that is not an id drops
// the task without retry: it did not come from the relay, which will send
// the row again.
func TenantMiddleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		if v, ok := task.Headers()[HeaderTenant]; ok {
			id, err := uuid.Parse(v)
			if err != nil || id == uuid.Nil {
				return fmt.Errorf("the tenant header is not an organisation id: %w", asynq.RevokeTask)
			}
			ctx = tenants.WithTenant(ctx, id)
		}
		return next.ProcessTask(ctx, task)
	})
}

// runOutboxTask runs the handler of task in the transaction that marks its
// outbox row done (a Standalone: between two transactions of its own).
func (w *Worker) runOutboxTask(ctx context.Context, task *asynq.Task) error {
	taskID, _ := asynq.GetTaskID(ctx)
	rowID, err := uuid.Parse(taskID)
	if err != nil || task.Headers()[HeaderOutbox] != taskID {
		// Every job goes through the outbox (the write and its job cannot
		// diverge); a task enqueued some other way is refused.
		return fmt.Errorf("the task does not come from the outbox: %w", asynq.RevokeTask)
	}
	h, alone, ok := w.registry.lookup(task.Type())
	if !ok {
		return fmt.Errorf("no handler for kind %q: %w", task.Type(), asynq.SkipRetry)
	}
	if alone != nil {
		return w.runStandalone(ctx, task, rowID, alone)
	}
	return w.inJobTx(ctx, func(tx *gorm.DB) error {
		ids, settled, err := w.openRow(ctx, tx, task, rowID, true)
		if err != nil || settled {
			return err
		}
		if err := h(ctx, tx, ids); err != nil {
			return err
		}
		return markDone(tx, rowID)
	})
}

// runStandalone checks the row, runs s with no transaction open, and marks
// the row done (Standalone says why s must write its effects once itself).
func (w *Worker) runStandalone(ctx context.Context, task *asynq.Task, rowID uuid.UUID, s Standalone) error {
	var (
		ids     map[string]uuid.UUID
		settled bool
	)
	err := w.inJobTx(ctx, func(tx *gorm.DB) (err error) {
		ids, settled, err = w.openRow(ctx, tx, task, rowID, false)
		return err
	})
	if err != nil || settled {
		return err
	}
	if err := s(ctx, ids); err != nil {
		return err
	}
	return w.inJobTx(ctx, func(tx *gorm.DB) error { return markDone(tx, rowID) })
}

// inJobTx runs fn in the job's transaction: InTenant for the organisation
// in ctx (TenantMiddleware), else Global.
func (w *Worker) inJobTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if tenant, ok := tenants.TenantFrom(ctx); ok {
		return w.store.InTenant(ctx, tenant, fn)
	}
	return w.store.Global(ctx, fn)
}

// openRow reads task's outbox row in tx, the job's transaction for the
// organisation in ctx (locked until commit on
// PostgreSQL when lock is set) and checks that the task matches it. It
// returns the job's ids, or settled when the row is done or dead already
// (a delivery again: its work is settled, nothing to do).
func (w *Worker) openRow(ctx context.Context, tx *gorm.DB, task *asynq.Task, rowID uuid.UUID, lock bool) (map[string]uuid.UUID, bool, error) {
	tenant, inTenant := tenants.TenantFrom(ctx)
	q := tx
	if lock && w.store.Driver() == homeward.DriverPostgres {
		// Held until commit: a redelivery of the same row waits here and
		// then finds it done.
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row tenants.OutboxMessage
	err := q.Where("id = ?", rowID).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, false, fmt.Errorf("no outbox row for the task: %w", asynq.RevokeTask)
	case err != nil:
		return nil, false, fmt.Errorf("load the outbox row: %w", err)
	}
	switch row.Status {
	case tenants.OutboxDone, tenants.OutboxDead:
		return nil, true, nil
	}
	switch {
	case row.Kind != task.Type(),
		inTenant != (row.TenantID != nil),
		inTenant && *row.TenantID != tenant:
		return nil, false, fmt.Errorf("the task does not match its outbox row: %w", asynq.RevokeTask)
	}
	var ids map[string]uuid.UUID
	if err := json.Unmarshal([]byte(row.Payload), &ids); err != nil {
		return nil, false, fmt.Errorf("the outbox payload is not a JSON object of ids: %w", asynq.SkipRetry)
	}
	return ids, false, nil
}

// markDone records that a row's work is done. Only a row still pending or
// enqueued moves: a Standalone's late second run leaves a dead mark as it is.
func markDone(tx *gorm.DB, id uuid.UUID) error {
	return tx.Model(&tenants.OutboxMessage{}).
		Where("id = ? AND status IN ?", id, []string{tenants.OutboxPending, tenants.OutboxEnqueued}).
		Updates(map[string]any{"status": tenants.OutboxDone, "done_at": time.Now().UTC(), "last_error": ""}).Error
}

// handleError logs every failure and, when asynq gives the task up (retries
// exhausted, or SkipRetry), marks its outbox row dead with a short reason.
func (w *Worker) handleError(ctx context.Context, task *asynq.Task, err error) {
	taskID, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	attrs := []any{"kind", task.Type(), "task_id", taskID, "queue", queue, "retried", retried, "error", err.Error()}
	if t, ok := task.Headers()[HeaderTenant]; ok {
		attrs = append(attrs, "tenant", t)
	}
	var reason string
	switch {
	case errors.Is(err, asynq.RevokeTask):
		w.log.Error("background task dropped", attrs...)
		return
	case errors.Is(err, asynq.SkipRetry):
		reason = "not retried: " + err.Error()
	case retried >= maxRetry:
		reason = fmt.Sprintf("gave up after %d attempts: %s", retried+1, err.Error())
	default:
		w.log.Warn("background task failed; it will be retried", attrs...)
		return
	}
	w.log.Error("background task given up", attrs...)
	rowID, perr := uuid.Parse(taskID)
	if perr != nil {
		return
	}
	// The task's own context may have ended (a deadline): the dead mark
	// still has to be written.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch err := w.recordGiveUp(dctx, task, rowID, reason); {
	case err == nil:
		return
	case !errors.Is(err, errNoGiveUp):
		// Marked dead below all the same; the feature's row keeps its state.
		w.log.Error("could not record a given-up task in its feature's rows", "task_id", taskID, "error", err.Error())
	}
	if err := w.store.Global(dctx, func(tx *gorm.DB) error { return markDead(tx, rowID, reason) }); err != nil {
		// The row stays enqueued; the relay's redelivery finds the archived
		// task (Relay.Inspector) and marks it dead then.
		w.log.Error("could not mark an outbox row dead", "task_id", taskID, "error", err.Error())
	}
}

// recordGiveUp marks the row dead and, in the same transaction, runs the
// kind's GiveUp. Without a GiveUp (or a tenant) it returns errNoGiveUp and
// the caller marks the row dead alone.
func (w *Worker) recordGiveUp(ctx context.Context, task *asynq.Task, rowID uuid.UUID, reason string) error {
	g, ok := w.registry.giveUp(task.Type())
	tenant, err := uuid.Parse(task.Headers()[HeaderTenant])
	if !ok || err != nil || tenant == uuid.Nil {
		return errNoGiveUp
	}
	var ids map[string]uuid.UUID
	if err := json.Unmarshal(task.Payload(), &ids); err != nil {
		return fmt.Errorf("the payload is not a JSON object of ids: %w", err)
	}
	ctx = tenants.WithTenant(ctx, tenant)
	return w.store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		var row tenants.OutboxMessage
		if err := tx.Where("id = ?", rowID).Take(&row).Error; err != nil {
			return err
		}
		if row.Status != tenants.OutboxPending && row.Status != tenants.OutboxEnqueued {
			return nil // settled already
		}
		if row.TenantID == nil || *row.TenantID != tenant || row.Kind != task.Type() {
			return errors.New("the task does not match its outbox row")
		}
		if err := markDead(tx, rowID, reason); err != nil {
			return err
		}
		return g(ctx, tx, ids, shortError(reason))
	})
}

// errNoGiveUp: the task's kind records nothing of its own when given up.
var errNoGiveUp = errors.New("no give-up function")

// asynqLogger writes asynq's log lines to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Fatal is what asynq calls when it cannot go on; like its own logger, it
// exits.
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}

// asynqLevel lets asynq skip building lines slog would drop.
func asynqLevel(l *slog.Logger) asynq.LogLevel {
	ctx := context.Background()
	switch {
	case l.Enabled(ctx, slog.LevelDebug):
		return asynq.DebugLevel
	case l.Enabled(ctx, slog.LevelInfo):
		return asynq.InfoLevel
	case l.Enabled(ctx, slog.LevelWarn):
		return asynq.WarnLevel
	}
	return asynq.ErrorLevel
}
