package shelters

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/cases"
)

// shelterRow is a row of shelters.
type shelterRow struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Name      string
	Province  string
	District  string
	Capacity  int
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (shelterRow) TableName() string { return "shelters" }

func (r *shelterRow) shelter(occupancy, waiting int) Shelter {
	return Shelter{ID: r.ID, Name: r.Name, Province: r.Province, District: r.District, Capacity: r.Capacity,
		Active: r.Active, Occupancy: occupancy, Waiting: waiting, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// admissionRow is a row of case_admissions: a case's admission file.
type admissionRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	ReferralSource   *string
	GirlAcceptedOn   *string
	GirlRecordedBy   *uuid.UUID `gorm:"type:uuid"`
	GirlRecordedAt   *time.Time
	FamilyAcceptedBy *string
	FamilyAcceptedOn *string
	FamilyRecordedBy *uuid.UUID `gorm:"type:uuid"`
	FamilyRecordedAt *time.Time
	WaitingShelterID *uuid.UUID `gorm:"type:uuid"`
	WaitingSince     *time.Time
}

func (admissionRow) TableName() string { return "case_admissions" }

func (r *admissionRow) girl() *Acceptance {
	if r.GirlAcceptedOn == nil {
		return nil
	}
	return &Acceptance{By: ByGirl, On: *r.GirlAcceptedOn, RecordedBy: r.GirlRecordedBy, RecordedAt: r.GirlRecordedAt.UTC()}
}

func (r *admissionRow) family() *Acceptance {
	if r.FamilyAcceptedOn == nil {
		return nil
	}
	return &Acceptance{By: *r.FamilyAcceptedBy, On: *r.FamilyAcceptedOn, RecordedBy: r.FamilyRecordedBy,
		RecordedAt: r.FamilyRecordedAt.UTC()}
}

// placementRow is a row of shelter_placements: one stay.
type placementRow struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID    uuid.UUID `gorm:"type:uuid"`
	ShelterID uuid.UUID `gorm:"type:uuid"`
	Arrival   string
	PlacedOn  string
	PlacedBy  *uuid.UUID `gorm:"type:uuid"`
	PlacedAt  time.Time
	EndedOn   *string
	EndReason *string
	EndedBy   *uuid.UUID `gorm:"type:uuid"`
	EndedAt   *time.Time
}

func (placementRow) TableName() string { return "shelter_placements" }

func (r *placementRow) placement(name string) Placement {
	p := Placement{ID: r.ID, ShelterID: r.ShelterID, ShelterName: name, Arrival: r.Arrival, PlacedOn: r.PlacedOn,
		PlacedBy: r.PlacedBy, EndedBy: r.EndedBy}
	if r.EndedOn != nil {
		p.EndedOn, p.EndReason = *r.EndedOn, *r.EndReason
	}
	return p
}

var errNoShelter = homeward.Errorf(homeward.ENOTFOUND, "no such shelter")

// stamp is a moment as the database keeps it.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Cases as the lists count them: occupancy and waiting lists read only
// the clear columns of the cases table (their liveness and stage), so that
// an erased or anonymised case takes no bed and waits for none, and a case
// that moved on from intake (referred, closed) leaves the waiting list.

// intakeCases selects the ids of the live cases at intake: those that may
// wait for a bed.
func intakeCases(tx *gorm.DB) *gorm.DB {
	return cases.LiveCases(tx, nil).Where("stage = ?", cases.StageIntake)
}

// shelterFor reads a shelter of the organisation (not_found otherwise),
// locked (PostgreSQL) when lock is set so that beds are counted and taken
// by one transaction at a time.
func shelterFor(tx *gorm.DB, id uuid.UUID, lock bool) (*shelterRow, error) {
	q := tx.Where("id = ?", id)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row shelterRow
	if err := q.Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errNoShelter
		}
		return nil, err
	}
	return &row, nil
}

// occupancy counts the open stays of live cases per shelter (ids nil: all).
func occupancy(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	q := tx.Model(&placementRow{}).Select("shelter_id AS id, count(*) AS n").
		Where("ended_on IS NULL AND case_id IN (?)", cases.LiveCases(tx, nil))
	if ids != nil {
		q = q.Where("shelter_id IN ?", ids)
	}
	return counts(q.Group("shelter_id"))
}

// waitingCounts counts the cases waiting per shelter (ids nil: all).
func waitingCounts(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	q := tx.Model(&admissionRow{}).Select("waiting_shelter_id AS id, count(*) AS n").
		Where("waiting_shelter_id IS NOT NULL AND case_id IN (?)", intakeCases(tx))
	if ids != nil {
		q = q.Where("waiting_shelter_id IN ?", ids)
	}
	return counts(q.Group("waiting_shelter_id"))
}

func counts(q *gorm.DB) (map[uuid.UUID]int, error) {
	var rows []struct {
		ID uuid.UUID
		N  int
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// waitingRows is a shelter's waiting list in order: first come, first
// placed.
func waitingRows(tx *gorm.DB, shelterID uuid.UUID) ([]admissionRow, error) {
	var rows []admissionRow
	err := tx.Where("waiting_shelter_id = ? AND case_id IN (?)", shelterID, intakeCases(tx)).
		Order("waiting_since, case_id").Find(&rows).Error
	return rows, err
}

// position is where caseID stands on the waiting list rows (1 is next), or
// 0 when it is not on it.
func position(rows []admissionRow, caseID uuid.UUID) int {
	for i, r := range rows {
		if r.CaseID == caseID {
			return i + 1
		}
	}
	return 0
}

// caseNumbers are the numbers of cases, for their references.
func caseNumbers(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	var rows []struct {
		ID     uuid.UUID
		Number int64
	}
	if err := tx.Session(&gorm.Session{NewDB: true}).Table("cases").Select("id, number").
		Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Number
	}
	return out, nil
}

// shelterNames are the names of shelters by id.
func shelterNames(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	var rows []shelterRow
	if err := tx.Select("tenant_id", "id", "name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
