package workers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/web/emails"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// Repatriation handoffs' background work (tenants/handoffs): every day,
// per organisation, the reminders of the handoff stages stalled past
// their partnership's threshold (handoffs.JobStalled) and the receivers'
// automatic reintegration feedback when due (handoffs.JobFeedback); and,
// when a case's sharing consent is withdrawn (cases.KindConsentWithdrawn),
// its handoffs stopped on both sides and the partner told.
//
// Each calls a method of the handoffs service that opens its own
// transactions (the feedback and the stop span both organisations:
// Store.AcrossTenants), so they run as Standalone work, outside the job's
// transaction: each effect is written once by the service itself (unique
// keys with ON CONFLICT DO NOTHING, or the sender's row locked and
// checked), and the notices only by the write that took, so a second run,
// or a run again after a worker died between the service's commit and the
// done mark, writes nothing twice.
const (
	KindHandoffsStalledAll  = "handoffs:stalled_all"  // platform-wide: one handoffs:stalled per organisation
	KindHandoffsFeedbackAll = "handoffs:feedback_all" // platform-wide: one handoffs:feedback per organisation
)

// HandoffPeriodicJobs is handoffs' part of the schedule.
func HandoffPeriodicJobs() []PeriodicJob {
	return []PeriodicJob{
		{Kind: KindHandoffsStalledAll, Queue: "low", Every: 24 * time.Hour},
		{Kind: KindHandoffsFeedbackAll, Queue: "low", Every: 24 * time.Hour},
	}
}

// RegisterHandoffJobs registers the handoffs' jobs on svc (the handoffs
// service of the worker's store).
func RegisterHandoffJobs(r *Registry, svc *handoffs.Service, log *slog.Logger) {
	if svc == nil {
		panic("workers: RegisterHandoffJobs needs the handoffs service")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.Register(KindHandoffsStalledAll, fanOut(handoffs.JobStalled))
	r.Register(KindHandoffsFeedbackAll, fanOut(handoffs.JobFeedback))
	r.RegisterStandalone(handoffs.JobStalled, func(ctx context.Context, _ map[string]uuid.UUID) error {
		tenant, err := jobTenant(ctx, handoffs.JobStalled)
		if err != nil {
			return err
		}
		n, err := svc.RemindStalled(ctx, tenant)
		if n > 0 {
			log.InfoContext(ctx, "stalled handoffs reminded", "tenant", tenant.String(), "reminders", n)
		}
		return err
	})
	r.RegisterStandalone(handoffs.JobFeedback, func(ctx context.Context, _ map[string]uuid.UUID) error {
		tenant, err := jobTenant(ctx, handoffs.JobFeedback)
		if err != nil {
			return err
		}
		n, err := svc.SendDueFeedback(ctx, tenant)
		if n > 0 {
			log.InfoContext(ctx, "automatic handoff feedback sent", "tenant", tenant.String(), "feedback", n)
		}
		return err
	})
	r.RegisterStandalone(cases.KindConsentWithdrawn, func(ctx context.Context, ids map[string]uuid.UUID) error {
		tenant, err := jobTenant(ctx, cases.KindConsentWithdrawn)
		if err != nil {
			return err
		}
		purpose, ok := cases.PurposeOfID(ids["purpose"])
		if !ok || ids["case"] == uuid.Nil {
			return fmt.Errorf("%s names no case or no known purpose: %w", cases.KindConsentWithdrawn, asynq.SkipRetry)
		}
		if purpose != cases.PurposeSharing {
			return nil // nothing here depends on the other purposes
		}
		n, err := svc.SharingConsentWithdrawn(ctx, tenant, ids["case"])
		if n > 0 {
			log.InfoContext(ctx, "handoffs stopped: the sharing consent was withdrawn", "tenant", tenant.String(), "handoffs", n)
		}
		return err
	})
}

// jobTenant is the organisation a per-organisation job runs for (the
// relay's tenant header, put into ctx by TenantMiddleware).
func jobTenant(ctx context.Context, kind string) (uuid.UUID, error) {
	tenant, ok := tenants.TenantFrom(ctx)
	if !ok {
		return uuid.Nil, fmt.Errorf("%s is an organisation's job: %w", kind, asynq.SkipRetry)
	}
	return tenant, nil
}

// handoffMail fills a handoff mail: the handoff's reference ("H-00001"),
// the same on both sides, never a name or a value.
func handoffMail(tx *gorm.DB, ids map[string]uuid.UUID, _ string, d *emails.Data) error {
	ref, err := handoffs.MailReference(tx, ids)
	if err != nil {
		return err
	}
	d.CaseReference = ref
	return nil
}
