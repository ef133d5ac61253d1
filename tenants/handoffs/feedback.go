package handoffs

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Feedback is structured and non-identifying (a status, a day, whether
// follow-up continues): no free text travels back. It is mirrored like
// the timeline, and the sender is told.

var feedbackStatuses = []string{FeedbackInShelter, FeedbackReintegrated, FeedbackClosed, FeedbackLostContact}

func (r *feedbackRow) feedback() Feedback {
	return Feedback{ID: r.ID, Status: r.Status, On: r.OnDate, FollowUpContinues: r.FollowUpContinues,
		Automatic: r.Automatic, CreatedAt: r.CreatedAt.UTC()}
}

// admitted reports whether the receiver has recorded the admission (the
// handoff's stage is admission or past it).
func admitted(row *handoffRow) bool {
	return stageIndex(row.stageOf()) >= stageIndex(StageAdmission)
}

// SendFeedback sends reintegration feedback to the sender (receiver side).
func (s *Service) SendFeedback(ctx context.Context, id uuid.UUID, f Feedback) (*Feedback, error) {
	if !slices.Contains(feedbackStatuses, f.Status) {
		return nil, homeward.Invalid(map[string]string{"status": "one of in_shelter, reintegrated, closed, lost_contact"})
	}
	p, own, err := s.prepare(ctx, id, SideReceiver, func(a access) bool { return a.write }, "send feedback on")
	if err != nil {
		return nil, err
	}
	if (own.State != StateAccepted && own.State != StateCompleted) || !admitted(own) {
		return nil, stateConflict(own, "given feedback before the admission")
	}
	now := stamp(s.now())
	row := feedbackRow{ID: uuid.Must(uuid.NewV7()), HandoffID: id, Status: f.Status,
		FollowUpContinues: f.FollowUpContinues, RecordedBy: p.Actor.MemberID, CreatedAt: now}
	err = s.mirror(ctx, own, func(tx *gorm.DB) error {
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		row.OnDate, err = parseDay("on", f.On, day)
		return err
	}, func(tx *gorm.DB, _ *handoffRow) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return audit(tx, ActionFeedback, id, nil)
	}, func(tx *gorm.DB, h *handoffRow) error {
		mirrored := row
		mirrored.TenantID, mirrored.RecordedBy = uuid.Nil, nil
		if err := tx.Create(&mirrored).Error; err != nil {
			return err
		}
		if err := audit(tx, ActionFeedback, id, nil); err != nil {
			return err
		}
		_, err := notice(tx, h, NoticeFeedback)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := row.feedback()
	return &out, nil
}

// FeedbackOf lists a handoff's feedback, newest first.
func (s *Service) FeedbackOf(ctx context.Context, id uuid.UUID) ([]Feedback, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []Feedback{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if _, _, err := visible(tx, p, id, false, false); err != nil {
			return err
		}
		var rows []feedbackRow
		if err := tx.Where("handoff_id = ?", id).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			out = append(out, rows[i].feedback())
		}
		return audit(tx, ActionRead, id, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// automaticStatus is the feedback the receiver's case stands for: at a
// shelter (or not yet placed) in_shelter; reintegrated with follow-up
// continuing; closed (or referred on) closed.
func automaticStatus(stage cases.Stage) (string, bool) {
	switch stage {
	case cases.StageReintegrated:
		return FeedbackReintegrated, true
	case cases.StageClosed, cases.StageReferred:
		return FeedbackClosed, false
	}
	return FeedbackInShelter, false
}

// monthsBetween is how many whole months lie from a to b (dates).
func monthsBetween(a, b time.Time) int {
	m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		m--
	}
	return m
}

// SendDueFeedback is the work of a receiving organisation's daily
// feedback job (JobFeedback): for each handoff it received and admitted,
// once every FeedbackEveryMonths after the admission's day, automatic
// feedback derived from its case's stage goes to the sender (mirrored, the
// sender told). Once per period, even when run twice or at once: the
// feedback's id derives from the handoff and the period, both rows are
// inserted with ON CONFLICT DO NOTHING (unique per handoff and period),
// and only the insert that took writes anything else. A period
// missed (the job did not run) is not sent late: only the current one. It
// returns how many it sent.
func (s *Service) SendDueFeedback(ctx context.Context, tenantID uuid.UUID) (int, error) {
	ctx = tenants.WithActor(ctx, tenants.SystemActor)
	now := stamp(s.now())
	type due struct {
		row    handoffRow
		period int
		status string
		cont   bool
		on     string
	}
	var dues []due
	err := s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		var rows []handoffRow
		if err := tx.Select(clearHandoffColumns).Where("side = ? AND state IN ? AND case_id IS NOT NULL",
			SideReceiver, []string{StateAccepted, StateCompleted}).Order("id").Find(&rows).Error; err != nil {
			return err
		}
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if !admitted(&r) {
				continue
			}
			var ons []string
			if err := tx.Model(&stageEntryRow{}).Where("handoff_id = ? AND stage = ? AND action = ?", r.ID,
				string(StageAdmission), ActionDone).Order("recorded_at DESC").Limit(1).Pluck("on_date", &ons).Error; err != nil {
				return err
			}
			if len(ons) == 0 {
				continue
			}
			admittedOn, err := time.Parse(time.DateOnly, ons[0])
			if err != nil {
				continue
			}
			period := monthsBetween(admittedOn, day) / FeedbackEveryMonths
			if period < 1 {
				continue
			}
			var n int64
			if err := tx.Model(&feedbackRow{}).Where("handoff_id = ? AND period = ?", r.ID, period).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			ref, err := cases.RefOf(tx, *r.CaseID)
			if homeward.ErrorCode(err) == homeward.ENOTFOUND {
				continue // erased: nothing to tell
			}
			if err != nil {
				return err
			}
			status, cont := automaticStatus(ref.Stage)
			dues = append(dues, due{row: r, period: period, status: status, cont: cont, on: day.Format(time.DateOnly)})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range dues {
		period := d.period
		fb := feedbackRow{ID: uuid.NewSHA1(d.row.ID, []byte("feedback/period/"+strconv.Itoa(period))), HandoffID: d.row.ID,
			Status: d.status, OnDate: d.on, FollowUpContinues: d.cont, Automatic: true, Period: &period, CreatedAt: now}
		took := false
		// The sender's step first, as in every change of a handoff (the
		// audit chains' heads are locked in the same order); the insert
		// there decides, and the receiver's follows it (both are written
		// together, so both or neither exist).
		sender := tenants.TenantStep{Tenant: d.row.PartnerTenantID, Fn: func(tx *gorm.DB) error {
			tx = tenants.AsPartner(tx, tenantID)
			h, err := loadHandoff(tx, fb.HandoffID, false, false)
			if err != nil {
				return err
			}
			row := fb
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if took = res.RowsAffected == 1; !took {
				return nil
			}
			if err := audit(tx, ActionFeedback, fb.HandoffID, nil); err != nil {
				return err
			}
			_, err = notice(tx, h, NoticeFeedback)
			return err
		}}
		receiver := tenants.TenantStep{Tenant: tenantID, Fn: func(tx *gorm.DB) error {
			if !took {
				return nil
			}
			row := fb
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return err
			}
			return audit(tx, ActionFeedback, fb.HandoffID, nil)
		}}
		if err := s.across(ctx, sender, receiver); err != nil {
			return sent, err
		}
		if took {
			sent++
		}
	}
	return sent, nil
}
