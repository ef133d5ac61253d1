package followup

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Reminder kinds: a visit due within the schedule's RemindDaysBefore, and a
// visit past its due date and not recorded.
const (
	ReminderDueSoon = "due_soon"
	ReminderOverdue = "overdue"
)

// The reminders' in-app notification kinds (tenants.NotificationKinds), the
// record they link to (tenants.NotificationRecordTypes), and their mail
// templates (web/emails). A mail names the case by its reference and the
// visit by its due date: never the survivor.
const (
	NotifyVisitDue     = "followup:visit_due"
	NotifyVisitOverdue = "followup:visit_overdue"
	RecordTypeVisit    = "followup_visit"
	MailVisitDue       = "followup:visit_due"
	MailVisitOverdue   = "followup:visit_overdue"
)

// QueueReminders is the work of an organisation's daily reminder job, in
// its transaction: for each planned visit of a followed case (live, at
// reintegrated, its reintegration open) that is overdue or due within the
// schedule's RemindDaysBefore, not yet reminded of that kind, it writes a
// reminder row and, for each recipient, an in-app notification and (when
// the recipient gave a contact address: tenants.ContactOf) a mail in the
// contact's language, both through the outbox. It
// returns how many reminders it wrote.
//
// Once per visit and kind: the row is unique per (visit, kind) and
// inserted with ON CONFLICT DO NOTHING; the notifications and mails are
// written only by the insert that took, in the same transaction, which
// commits with the job's done mark. So a second run finds the row and
// writes nothing, and a worker that dies midway leaves no row and no
// message: the job runs again and writes them once.
//
// The recipients are the case's assigned social workers (enabled members
// holding the role); when it has none, its owner.
func QueueReminders(tx *gorm.DB, now time.Time) (int, error) {
	sc, err := scheduleOf(tx)
	if err != nil {
		return 0, err
	}
	day, err := tenants.Today(tx, now)
	if err != nil {
		return 0, err
	}
	todayISO := day.Format(time.DateOnly)
	var visits []visitRow
	err = pendingVisits(tx, nil).Select("tenant_id", "id", "case_id", "due_on").
		Where("due_on <= ?", day.AddDate(0, 0, sc.RemindDaysBefore).Format(time.DateOnly)).
		Order("due_on, id").Find(&visits).Error
	if err != nil {
		return 0, err
	}
	staff := map[uuid.UUID][]uuid.UUID{}
	written := 0
	for _, v := range visits {
		kind, notice, template := ReminderDueSoon, NotifyVisitDue, MailVisitDue
		if v.DueOn < todayISO {
			kind, notice, template = ReminderOverdue, NotifyVisitOverdue, MailVisitOverdue
		}
		to, ok := staff[v.CaseID]
		if !ok {
			if to, err = recipients(tx, v.CaseID); err != nil {
				return written, err
			}
			staff[v.CaseID] = to
		}
		res := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "visit_id"}, {Name: "kind"}},
			DoNothing: true,
		}).Create(&reminderRow{ID: uuid.Must(uuid.NewV7()), VisitID: v.ID, Kind: kind, Recipients: len(to),
			CreatedAt: stamp(now)})
		if res.Error != nil {
			return written, res.Error
		}
		if res.RowsAffected == 0 {
			continue // reminded already
		}
		written++
		for _, member := range to {
			if err := tenants.Tell(tx, member, tenants.Notice{Kind: notice, RecordType: RecordTypeVisit, RecordID: v.ID,
				Template: template, MailIDs: map[string]uuid.UUID{"visit": v.ID}}); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// recipients are whom a case's reminders go to: its assigned social
// workers, else its owner (when an enabled member).
func recipients(tx *gorm.DB, caseID uuid.UUID) ([]uuid.UUID, error) {
	db := tx.Session(&gorm.Session{NewDB: true})
	var assigned []uuid.UUID
	if err := db.Model(&assignmentRow{}).Where("case_id = ?", caseID).Order("member_id").
		Pluck("member_id", &assigned).Error; err != nil {
		return nil, err
	}
	social, err := tenants.MembersHolding(tx, assigned, tenants.RoleSocialWorker)
	if err != nil || len(social) > 0 {
		return social, err
	}
	var c caseStaffRow
	if err := db.Select("tenant_id", "id", "owner_member_id").Where("id = ?", caseID).Take(&c).Error; err != nil {
		return nil, err
	}
	if c.OwnerMemberID == nil {
		return nil, nil
	}
	return tenants.MembersHolding(tx, []uuid.UUID{*c.OwnerMemberID})
}

// ReminderMail is what a reminder mail shows: the case's reference and the
// visit's due date, nothing else.
type ReminderMail struct {
	Reference string
	Due       time.Time
}

// ReminderMailOf reads what a reminder mail about visit ids["visit"]
// shows, in the send's transaction (the mail worker's).
func ReminderMailOf(tx *gorm.DB, ids map[string]uuid.UUID) (ReminderMail, error) {
	var v visitRow
	err := tx.Select("tenant_id", "id", "case_id", "due_on").Where("id = ?", ids["visit"]).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ReminderMail{}, homeward.Errorf(homeward.ENOTFOUND, "no visit %s", ids["visit"])
	}
	if err != nil {
		return ReminderMail{}, err
	}
	nums, err := numbers(tx, []uuid.UUID{v.CaseID})
	if err != nil {
		return ReminderMail{}, err
	}
	due, err := time.Parse(time.DateOnly, v.DueOn)
	if err != nil {
		return ReminderMail{}, fmt.Errorf("followup: visit %s: %w", v.ID, err)
	}
	return ReminderMail{Reference: cases.Reference(nums[v.CaseID]), Due: due}, nil
}
