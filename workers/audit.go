package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// The audit chain's background work (tenants/audit.go): every hour each
// organisation's chain head is written outside the database as a
// checkpoint, and every day rows older than the organisation's retention
// are pruned. Each is a platform-wide periodic job that fans out one job per
// organisation, which then runs inside InTenant.
const (
	KindAuditCheckpointAll = "audit:checkpoint_all" // platform-wide: one audit:checkpoint per organisation
	KindAuditCheckpoint    = "audit:checkpoint"     // an organisation's checkpoint
	KindAuditPruneAll      = "audit:prune_all"      // platform-wide: one audit:prune per organisation
	KindAuditPrune         = "audit:prune"          // an organisation's retention prune
)

// AuditPeriodicJobs is the audit chain's part of the schedule.
func AuditPeriodicJobs() []PeriodicJob {
	return []PeriodicJob{
		{Kind: KindAuditCheckpointAll, Queue: "low", Every: time.Hour},
		{Kind: KindAuditPruneAll, Queue: "low", Every: 24 * time.Hour},
	}
}

// RegisterAuditJobs registers the handlers of the audit jobs. Checkpoints
// go to log (keys tenant, slug, seq, head) and, when dataDir is set, are
// appended to tenants.CheckpointFile(dataDir, slug).
func RegisterAuditJobs(r *Registry, dataDir string, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.Register(KindAuditCheckpointAll, fanOut(KindAuditCheckpoint))
	r.Register(KindAuditPruneAll, fanOut(KindAuditPrune))
	r.Register(KindAuditCheckpoint, func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		cp, err := tenants.AuditHead(tx)
		if err != nil || cp.Seq == 0 {
			return err // nothing audited yet: nothing to hold on to
		}
		log.InfoContext(ctx, "audit checkpoint", "tenant", cp.Tenant.String(), "slug", cp.Slug, "seq", cp.Seq, "head", cp.Head)
		if dataDir == "" {
			return nil
		}
		_, err = tenants.AppendCheckpoint(dataDir, cp)
		return err
	})
	r.Register(KindAuditPrune, func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		tenant, _ := tenants.TenantFrom(ctx)
		rep, err := tenants.PruneAudit(tx)
		if errors.Is(err, tenants.ErrAuditPruneRefused) {
			// Evidence of tampering is kept: an operator must look.
			log.ErrorContext(ctx, "audit prune refused: the rows due for pruning do not verify", "tenant", tenant.String())
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		if err != nil {
			return err
		}
		if rep.Pruned > 0 {
			log.InfoContext(ctx, "audit rows pruned", "tenant", tenant.String(), "rows", rep.Pruned, "anchor", rep.Anchor)
		}
		return nil
	})
}

// fanOut is the handler of a platform-wide job that writes kind once for
// every organisation, on the queue it runs on. The rows' ids derive from its
// own outbox id, so running it again writes nothing twice.
func fanOut(kind string) Handler {
	return func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		taskID, _ := asynq.GetTaskID(ctx)
		id, err := uuid.Parse(taskID)
		if err != nil {
			return fmt.Errorf("%s fan-out needs its outbox id: %w", kind, asynq.SkipRetry)
		}
		queue, _ := asynq.GetQueueName(ctx)
		_, err = tenants.EnqueueForEachTenant(tx, tenants.Job{Kind: kind, Queue: queue, ID: id})
		return err
	}
}
