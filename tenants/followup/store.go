package followup

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// reintegrationRow is a row of reintegrations; place and note are
// encrypted with the case's key.
type reintegrationRow struct {
	TenantID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID         uuid.UUID `gorm:"type:uuid"`
	DataKeyID      uuid.UUID `gorm:"type:uuid"`
	Destination    string
	ReintegratedOn string
	Place          tenants.Secret
	Note           tenants.Secret
	RecordedBy     *uuid.UUID `gorm:"type:uuid"`
	RecordedAt     time.Time
	ScheduleAt     *time.Time
	EndedAt        *time.Time
	EndedBy        *uuid.UUID `gorm:"type:uuid"`
	EndReason      *string
}

func (reintegrationRow) TableName() string { return "reintegrations" }

func (r *reintegrationRow) reintegration() *Reintegration {
	out := &Reintegration{ID: r.ID, CaseID: r.CaseID, Destination: r.Destination, Date: r.ReintegratedOn,
		Place: r.Place.Text(), Note: r.Note.Text(), RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC(),
		Scheduled: r.ScheduleAt != nil, EndedAt: utcPtr(r.EndedAt), EndedBy: r.EndedBy}
	if r.EndReason != nil {
		out.EndReason = *r.EndReason
	}
	return out
}

// visitRow is a row of followup_visits; the findings are encrypted with
// the case's key (the risk flags as a JSON list).
type visitRow struct {
	TenantID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID              uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID          uuid.UUID `gorm:"type:uuid"`
	ReintegrationID uuid.UUID `gorm:"type:uuid"`
	DataKeyID       uuid.UUID `gorm:"type:uuid"`
	Seq             int
	DueOn           string
	Status          string
	VisitedOn       *string
	VisitedBy       *uuid.UUID `gorm:"type:uuid"`
	RecordedBy      *uuid.UUID `gorm:"type:uuid"`
	RecordedAt      *time.Time
	LivingSituation tenants.Secret
	BusinessIncome  tenants.Secret
	Schooling       tenants.Secret
	RiskFlags       tenants.Secret
	TrainingWanted  tenants.Secret
	Notes           tenants.Secret
}

func (visitRow) TableName() string { return "followup_visits" }

func (r *visitRow) visit(number int64) Visit {
	v := Visit{ID: r.ID, CaseID: r.CaseID, Reference: cases.Reference(number), ReintegrationID: r.ReintegrationID,
		Seq: r.Seq, Due: r.DueOn, Status: r.Status, VisitedBy: r.VisitedBy, RecordedBy: r.RecordedBy,
		RecordedAt: utcPtr(r.RecordedAt),
		Findings: Findings{LivingSituation: r.LivingSituation.Text(), BusinessIncome: r.BusinessIncome.Text(),
			Schooling: r.Schooling.Text(), TrainingWanted: r.TrainingWanted.Text(), Notes: r.Notes.Text(), RiskFlags: []string{}}}
	if r.VisitedOn != nil {
		v.VisitedOn = *r.VisitedOn
	}
	if flags := r.RiskFlags.Text(); flags != "" {
		_ = json.Unmarshal([]byte(flags), &v.Findings.RiskFlags) // written by RecordVisit: a JSON list
	}
	return v
}

// reminderRow is a row of followup_reminders: one reminder about a visit.
type reminderRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	VisitID    uuid.UUID `gorm:"type:uuid"`
	Kind       string
	Recipients int
	CreatedAt  time.Time
}

func (reminderRow) TableName() string { return "followup_reminders" }

// The case files' tables are tenants/cases'; the lists here read clear
// columns of them to name the cases and their staff, and select the cases
// with cases.LiveCases (live, and "own": the member owns the case or is
// assigned to it).

// caseStaffRow is what the lists and reminders read of a case.
type caseStaffRow struct {
	TenantID      uuid.UUID  `gorm:"type:uuid;primaryKey"`
	ID            uuid.UUID  `gorm:"type:uuid;primaryKey"`
	Number        int64      //
	OwnerMemberID *uuid.UUID `gorm:"type:uuid"`
}

func (caseStaffRow) TableName() string { return "cases" }

// assignmentRow is a row of case_assignments.
type assignmentRow struct {
	TenantID uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	MemberID uuid.UUID `gorm:"type:uuid;primaryKey"`
}

func (assignmentRow) TableName() string { return "case_assignments" }

// followedCases selects the ids of the live cases at reintegrated, only
// those member owns or is assigned to when member is not nil
// (cases.LiveCases: the case files' rule).
func followedCases(tx *gorm.DB, member *uuid.UUID) *gorm.DB {
	return cases.LiveCases(tx, member).Where("stage = ?", cases.StageReintegrated)
}

// pendingVisits selects the visits still to make of the followed cases
// (followedCases of member): planned, their follow-up not ended. These
// are what the due list, the reminders and the dashboard call due or
// overdue.
func pendingVisits(tx *gorm.DB, member *uuid.UUID) *gorm.DB {
	return tx.Model(&visitRow{}).Where("status = ? AND case_id IN (?)", VisitPlanned, followedCases(tx, member)).
		Where("reintegration_id IN (?)", tx.Session(&gorm.Session{NewDB: true}).Model(&reintegrationRow{}).
			Select("id").Where("ended_at IS NULL"))
}

// numbers reads the case numbers of ids.
func numbers(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	out := map[uuid.UUID]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []caseStaffRow
	if err := tx.Session(&gorm.Session{NewDB: true}).Select("tenant_id", "id", "number").Where("id IN ?", ids).
		Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Number
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
