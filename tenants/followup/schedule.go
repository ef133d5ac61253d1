package followup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// KindSchedule is the job that generates a reintegration's visits
// (GenerateSchedule); Reintegrate enqueues it.
const KindSchedule = "followup:schedule"

// Schedule is an organisation's follow-up rule: a visit every month for
// MonthlyMonths months after the reintegration, then every ThenEveryMonths
// months until Years years after it; reminders go RemindDaysBefore days
// before a visit is due.
type Schedule struct {
	MonthlyMonths    int `json:"monthly_months"`
	ThenEveryMonths  int `json:"then_every_months"`
	Years            int `json:"years"`
	RemindDaysBefore int `json:"remind_days_before"`
}

// DefaultSchedule is AFESIP's practice: monthly for six months, then
// quarterly, for three years; a reminder a week before.
var DefaultSchedule = Schedule{MonthlyMonths: 6, ThenEveryMonths: 3, Years: 3, RemindDaysBefore: 7}

// The schedule's limits. Follow-up lasts at least three years (the
// domain's minimum); ten is a generous ceiling.
const (
	MinYears, MaxYears = 3, 10
	MaxEveryMonths     = 12
	MaxRemindDays      = 30
)

// scheduleSetting is the organisation setting holding the Schedule (JSON).
const scheduleSetting = "followup_schedule"

// validate names each wrong field.
func (sc Schedule) validate() error {
	fe := homeward.FieldErrors{}
	if sc.Years < MinYears || sc.Years > MaxYears {
		fe.Add("years", fmt.Sprintf("a whole number of years from %d to %d", MinYears, MaxYears))
	}
	if sc.MonthlyMonths < 0 || sc.MonthlyMonths > sc.Years*12 {
		fe.Add("monthly_months", "a whole number of months from 0 to the follow-up's length")
	}
	if sc.ThenEveryMonths < 1 || sc.ThenEveryMonths > MaxEveryMonths {
		fe.Add("then_every_months", fmt.Sprintf("a whole number of months from 1 to %d", MaxEveryMonths))
	}
	if sc.RemindDaysBefore < 1 || sc.RemindDaysBefore > MaxRemindDays {
		fe.Add("remind_days_before", fmt.Sprintf("a whole number of days from 1 to %d", MaxRemindDays))
	}
	return fe.Err()
}

// DueDates are the visits' due dates after a reintegration on day:
// monthly, then every ThenEveryMonths months, up to Years years after it.
// A month later than the 31st is the month's last day.
func (sc Schedule) DueDates(day time.Time) []time.Time {
	var out []time.Time
	end := sc.Years * 12
	for m := 1; m <= min(sc.MonthlyMonths, end); m++ {
		out = append(out, addMonths(day, m))
	}
	for m := sc.MonthlyMonths + sc.ThenEveryMonths; m <= end; m += sc.ThenEveryMonths {
		out = append(out, addMonths(day, m))
	}
	return out
}

// addMonths is day plus n calendar months, kept within the month reached
// (31 January + 1 month is 28 or 29 February, not 2 March).
func addMonths(day time.Time, n int) time.Time {
	y, m, d := day.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// scheduleOf reads the organisation's schedule in its transaction; a
// damaged setting falls back to the default, never to no follow-up.
func scheduleOf(tx *gorm.DB) (Schedule, error) {
	v, ok, err := tenants.SettingValue(tx.Session(&gorm.Session{NewDB: true}), scheduleSetting)
	if err != nil || !ok {
		return DefaultSchedule, err
	}
	var sc Schedule
	if json.Unmarshal([]byte(v), &sc) != nil || sc.validate() != nil {
		return DefaultSchedule, nil
	}
	return sc, nil
}

// Schedule is the organisation's follow-up rule (settings.read).
func (s *Service) Schedule(ctx context.Context) (Schedule, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsRead)
	if err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		out, err = scheduleOf(tx)
		return err
	})
	return out, err
}

// SetSchedule changes the follow-up rule (settings.write), audited
// followup.schedule.change. Schedules already generated keep their dates:
// the rule applies to reintegrations recorded from now on.
func (s *Service) SetSchedule(ctx context.Context, sc Schedule) (Schedule, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsWrite)
	if err != nil {
		return Schedule{}, err
	}
	if err := sc.validate(); err != nil {
		return Schedule{}, err
	}
	value, err := json.Marshal(sc)
	if err != nil {
		return Schedule{}, err
	}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := tenants.PutSetting(tx, scheduleSetting, string(value)); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionSchedule, RecordType: "settings"})
	})
	if err != nil {
		return Schedule{}, err
	}
	return sc, nil
}

// GenerateSchedule is the work of a followup:schedule job, in the job's
// transaction (the organisation's): it writes the visits of the
// reintegration by the organisation's schedule and marks the reintegration
// scheduled, and returns how many visits it wrote. It writes them once:
//
//   - the mark and the visits commit together with the job's done mark, so
//     a worker that dies midway leaves nothing, and the job runs again;
//   - a run that finds the reintegration marked writes nothing: the mark is
//     set by a conditional update, so of two runs at once (PostgreSQL) the
//     second waits for the first's row lock and then finds it set;
//   - each visit is unique per reintegration and due date, inserted with
//     ON CONFLICT DO NOTHING, the last line should the rest ever fail.
//
// A reintegration whose follow-up already ended gets no visits.
func GenerateSchedule(tx *gorm.DB, reintegrationID uuid.UUID) (int, error) {
	var r reintegrationRow
	err := tx.Where("id = ?", reintegrationID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, homeward.Errorf(homeward.ENOTFOUND, "no reintegration %s", reintegrationID)
	}
	if err != nil || r.EndedAt != nil {
		return 0, err
	}
	now := stamp(time.Now())
	res := tx.Model(&reintegrationRow{}).Where("id = ? AND schedule_at IS NULL", r.ID).Update("schedule_at", now)
	if res.Error != nil || res.RowsAffected == 0 {
		return 0, res.Error
	}
	sc, err := scheduleOf(tx)
	if err != nil {
		return 0, err
	}
	day, err := time.Parse(time.DateOnly, r.ReintegratedOn)
	if err != nil {
		return 0, fmt.Errorf("followup: reintegration %s has no date: %w", r.ID, err)
	}
	dates := sc.DueDates(day)
	rows := make([]visitRow, len(dates))
	for i, d := range dates {
		rows[i] = visitRow{ID: uuid.Must(uuid.NewV7()), CaseID: r.CaseID, ReintegrationID: r.ID, DataKeyID: r.CaseID,
			Seq: i + 1, DueOn: d.Format(time.DateOnly), Status: VisitPlanned}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	res = tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "reintegration_id"}, {Name: "due_on"}},
		DoNothing: true,
	}).Create(&rows)
	return int(res.RowsAffected), res.Error
}
