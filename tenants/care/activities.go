package care

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Life skills and group activities: an activity (yoga, a dance class, an
// outing, a civics or gender session...) belongs to no case; several cases
// attend it, and each attendance is a record of that case's support part.
// Who may use the support part of some case (all, or their own) may list
// activities; who may write it may hold one. A member sees the attendance
// of the cases whose support part it may read, and nothing of the others,
// not even how many they are.

// ActivityTypes are the kinds of group activity.
var ActivityTypes = []string{"life_skills", "yoga", "dance", "crafts", "outing", "civics", "gender", "sport", "other"}

// Activity is one group activity; Attendance is filled by Activity alone.
type Activity struct {
	ID         uuid.UUID
	Type       string // ActivityTypes
	Date       string // YYYY-MM-DD
	Topic      string
	CreatedBy  *uuid.UUID
	CreatedAt  time.Time
	Attendance []Attendee
}

// Attendee is a case that attended an activity.
type Attendee struct {
	CaseID     uuid.UUID
	Reference  string
	RecordedAt time.Time
}

// NewActivity is an activity being recorded.
type NewActivity struct {
	Type, Date, Topic string
}

// ActivityPage is a page of activities, the latest held first; Next is ""
// on the last page.
type ActivityPage struct {
	Activities []Activity
	Next       string
}

// CaseActivities is the activities a case attended, the latest first.
type CaseActivities struct {
	Case       *cases.Ref
	Activities []Activity
}

// Audit actions of activities. An activity names no case: its own rows
// have the record type "activity"; attendance names the case.
const (
	ActionActivityCreate   = "care.activity.create"
	ActionActivityRead     = "care.activity.read"
	ActionAttendanceRecord = "care.attendance.record"
	ActionAttendanceRemove = "care.attendance.remove"
	ActionActivitiesRead   = "care.activities.read"
)

const activityCursor = "activities1"

type activityRow struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID    uuid.UUID `gorm:"type:uuid"`
	ActivityType string
	HeldOn       string
	Topic        tenants.Secret
	CreatedBy    *uuid.UUID `gorm:"type:uuid"`
	CreatedAt    time.Time
}

func (activityRow) TableName() string { return "care_activities" }

func (r *activityRow) activity() Activity {
	return Activity{ID: r.ID, Type: r.ActivityType, Date: r.HeldOn, Topic: r.Topic.Text(), CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC()}
}

type attendanceRow struct {
	TenantID   uuid.UUID  `gorm:"type:uuid;primaryKey"`
	ActivityID uuid.UUID  `gorm:"type:uuid;primaryKey"`
	CaseID     uuid.UUID  `gorm:"type:uuid;primaryKey"`
	RecordedBy *uuid.UUID `gorm:"type:uuid"`
	RecordedAt time.Time
}

func (attendanceRow) TableName() string { return "care_attendance" }

var (
	errNoActivity         = homeward.Errorf(homeward.ENOTFOUND, "no such activity")
	errActivitiesNotYours = homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow this on group activities")
)

// activityPrincipal is the context's principal when it may read (write
// false) or hold (write true) group activities: the support part of some
// case.
func activityPrincipal(ctx context.Context, write bool) (*tenants.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.CaseScope(tenants.CaseSupport, write) == tenants.ScopeNone {
		return nil, errActivitiesNotYours
	}
	return p, nil
}

// CreateActivity records a group activity (the support part's writers)
// and the attendance of the cases in attended (each as SetAttendance
// records it), all or nothing, audited care.activity.create. It returns
// the activity as Activity does.
func (s *Service) CreateActivity(ctx context.Context, na NewActivity, attended ...uuid.UUID) (*Activity, error) {
	p, err := activityPrincipal(ctx, true)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if !slices.Contains(ActivityTypes, na.Type) {
		fe.Add("type", "one of "+strings.Join(ActivityTypes, ", "))
	}
	day, reason := cases.Field{Name: "date", Kind: cases.KindDate, Past: true}.Normalize(na.Date, now)
	if reason == "" && day == nil {
		reason = "required: the day it was held, as YYYY-MM-DD"
	}
	if reason != "" {
		fe.Add("date", reason)
	}
	topic, reason := cases.Field{Name: "topic", Kind: cases.KindText, Max: maxText}.Normalize(na.Topic, now)
	if reason == "" && topic == nil {
		reason = "required: what it was about"
	}
	if reason != "" {
		fe.Add("topic", reason)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	row := activityRow{ID: uuid.Must(uuid.NewV7()), ActivityType: na.Type, HeldOn: day.(string),
		Topic: tenants.NewSecret(topic.(string)), CreatedBy: p.Actor.MemberID, CreatedAt: now}
	row.DataKeyID = row.ID
	var out Activity
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		for _, caseID := range attended {
			if err := attend(tx, p, row.ID, caseID, true, now); err != nil {
				return err
			}
		}
		var err error
		if out, err = activityFor(tx, p, row.ID); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionActivityCreate, RecordType: "activity", RecordID: row.ID,
			FieldGroups: []string{tenants.CaseSupport}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Activities lists the organisation's group activities, the latest held
// first, without their attendance (the support part's readers).
func (s *Service) Activities(ctx context.Context, limit int, cursor string) (*ActivityPage, error) {
	p, err := activityPrincipal(ctx, false)
	if err != nil {
		return nil, err
	}
	fe := homeward.FieldErrors{}
	limit = tenants.PageLimit(limit, fe)
	var after uuid.UUID
	if cursor != "" {
		var ok bool
		if after, ok = tenants.DecodeListCursor(activityCursor, cursor, ""); !ok {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	page := &ActivityPage{Activities: []Activity{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		q := tx.Model(&activityRow{})
		if cursor != "" {
			var last activityRow
			if err := tx.Select("tenant_id", "id", "held_on").Where("id = ?", after).Take(&last).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return homeward.Invalid(map[string]string{"cursor": tenants.BadCursor})
				}
				return err
			}
			q = q.Where("held_on < ? OR (held_on = ? AND id < ?)", last.HeldOn, last.HeldOn, last.ID)
		}
		var rows []activityRow
		if err := q.Order("held_on DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			page.Next = tenants.EncodeListCursor(activityCursor, rows[len(rows)-1].ID, "")
		}
		for i := range rows {
			page.Activities = append(page.Activities, rows[i].activity())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// Activity returns one activity with the attendance of the cases whose
// support part the principal may read, audited care.activity.read.
func (s *Service) Activity(ctx context.Context, id uuid.UUID) (*Activity, error) {
	p, err := activityPrincipal(ctx, false)
	if err != nil {
		return nil, err
	}
	var out Activity
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var err error
		if out, err = activityFor(tx, p, id); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionActivityRead, RecordType: "activity", RecordID: id,
			FieldGroups: []string{tenants.CaseSupport}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// activityFor is activity id with the attendance p may see.
func activityFor(tx *gorm.DB, p *tenants.Principal, id uuid.UUID) (Activity, error) {
	var row activityRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Activity{}, errNoActivity
		}
		return Activity{}, err
	}
	out := row.activity()
	out.Attendance = []Attendee{}
	var rows []attendanceRow
	if err := tx.Where("activity_id = ?", id).Order("recorded_at, case_id").Find(&rows).Error; err != nil {
		return Activity{}, err
	}
	for _, a := range rows {
		ref, err := cases.Open(tx, p, a.CaseID, false)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND || err == nil && !ref.CanRead(tenants.CaseSupport) {
			continue // a case the member may not see: its attendance is not the member's to know
		}
		if err != nil {
			return Activity{}, err
		}
		out.Attendance = append(out.Attendance, Attendee{CaseID: a.CaseID, Reference: ref.Reference, RecordedAt: a.RecordedAt.UTC()})
	}
	return out, nil
}

// SetAttendance records that a case attended an activity, or (attended
// false) takes the record back (write access to the case's support part),
// audited care.attendance.record or care.attendance.remove; it returns the
// activity as Activity does. Recording it twice, or taking back what was
// not recorded, changes nothing and is not audited again.
func (s *Service) SetAttendance(ctx context.Context, activityID, caseID uuid.UUID, attended bool) (*Activity, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out Activity
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := attend(tx, p, activityID, caseID, attended, now); err != nil {
			return err
		}
		var err error
		out, err = activityFor(tx, p, activityID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// attend records (or takes back) case caseID's attendance at activity
// activityID for p, who must write the case's support part: the case is
// opened first, so that a case p may not see is not_found whatever the
// activity. A change moves the case's last activity and is audited.
func attend(tx *gorm.DB, p *tenants.Principal, activityID, caseID uuid.UUID, attended bool, now time.Time) error {
	ref, err := cases.Open(tx, p, caseID, true)
	if err != nil {
		return err
	}
	if err := ref.Need(tenants.CaseSupport, true); err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&activityRow{}).Where("id = ?", activityID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errNoActivity
	}
	mine := "activity_id = ? AND case_id = ?"
	var changed int64
	if attended {
		if err := tx.Model(&attendanceRow{}).Where(mine, activityID, caseID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := tx.Create(&attendanceRow{ActivityID: activityID, CaseID: caseID, RecordedBy: p.Actor.MemberID,
				RecordedAt: now}).Error; err != nil {
				return err
			}
			changed = 1
		}
	} else {
		res := tx.Where(mine, activityID, caseID).Delete(&attendanceRow{})
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected
	}
	if changed == 0 {
		return nil
	}
	if err := cases.Touch(tx, caseID, now); err != nil {
		return err
	}
	action := ActionAttendanceRecord
	if !attended {
		action = ActionAttendanceRemove
	}
	return audit(tx, action, caseID, tenants.CaseSupport)
}

// CaseActivities lists the activities a case attended, the latest held
// first (read access to its support part: forbidden without it), audited
// care.activities.read.
func (s *Service) CaseActivities(ctx context.Context, caseID uuid.UUID) (*CaseActivities, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := &CaseActivities{Activities: []Activity{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseSupport, false); err != nil {
			return err
		}
		out.Case = ref
		attended := tx.Model(&attendanceRow{}).Select("activity_id").Where("case_id = ?", caseID)
		var rows []activityRow
		if err := tx.Where("id IN (?)", attended).Order("held_on DESC, id DESC").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			out.Activities = append(out.Activities, rows[i].activity())
		}
		return audit(tx, ActionActivitiesRead, caseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
