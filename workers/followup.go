package workers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/web/emails"
	"github.com/afesip/homeward/web/i18n"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// Follow-up's background work (tenants/followup): the visit schedule of a
// reintegration, generated once by the job its reintegration enqueued; and
// every day, per organisation, the reminders of the visits due soon and
// overdue, each written once per visit and kind.
const (
	KindFollowUpRemindAll = "followup:remind_all" // platform-wide: one followup:remind per organisation
	KindFollowUpRemind    = "followup:remind"     // an organisation's reminders
)

// FollowUpPeriodicJobs is follow-up's part of the schedule.
func FollowUpPeriodicJobs() []PeriodicJob {
	return []PeriodicJob{{Kind: KindFollowUpRemindAll, Queue: "low", Every: 24 * time.Hour}}
}

// RegisterFollowUpJobs registers the schedule and reminder handlers. Each
// runs in its job's transaction, so what it writes commits with the job's
// done mark or not at all; followup.GenerateSchedule and
// followup.QueueReminders say why a second run writes nothing.
func RegisterFollowUpJobs(r *Registry, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.Register(followup.KindSchedule, func(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error {
		n, err := followup.GenerateSchedule(tx, ids["reintegration"])
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			return fmt.Errorf("%s: %w", homeward.ErrorMessage(err), asynq.SkipRetry)
		}
		if err == nil && n > 0 {
			tenant, _ := tenants.TenantFrom(ctx)
			log.InfoContext(ctx, "follow-up visits scheduled", "tenant", tenant.String(), "visits", n)
		}
		return err
	})
	r.Register(KindFollowUpRemindAll, fanOut(KindFollowUpRemind))
	r.Register(KindFollowUpRemind, func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		n, err := followup.QueueReminders(tx, time.Now())
		if err == nil && n > 0 {
			tenant, _ := tenants.TenantFrom(ctx)
			log.InfoContext(ctx, "follow-up reminders queued", "tenant", tenant.String(), "reminders", n)
		}
		return err
	})
}

// messages are the date formats of the mails' languages (web/i18n).
var messages = sync.OnceValues(i18n.Load)

// followUpReminderMail fills a reminder mail: the case's reference and the
// visit's due date in the mail's language (Buddhist Era in Thai and Lao).
func followUpReminderMail(tx *gorm.DB, ids map[string]uuid.UUID, lang string, d *emails.Data) error {
	m, err := followup.ReminderMailOf(tx, ids)
	if err != nil {
		return err
	}
	catalogue, err := messages()
	if err != nil {
		return err
	}
	d.CaseReference, d.Date = m.Reference, catalogue.Locale(lang).Date(m.Due)
	return nil
}
