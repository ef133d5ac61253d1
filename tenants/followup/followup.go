// Package followup is the end of the survivor's path: her reintegration
// (into her family, her home village or a city) and the follow-up visits
// social workers make for at least three years after it, until the
// follow-up is closed and the case with it.
//
// Reintegrating a case moves it from shelter to reintegrated
// (cases.MoveStage) and, in the same transaction, asks for the visit
// schedule (an outbox job, GenerateSchedule): monthly at first, then every
// few months, as the organisation's Schedule says. A daily job
// (QueueReminders) reminds the case's social workers of the visits due
// soon and overdue, in the app and by mail, once per visit and kind.
//
// Every function authorizes from the principal in the context: the case is
// opened with cases.Open (a case the member may not see is not_found), the
// followup part decides the rest (a visible case whose follow-up the
// member may not use is forbidden; a visit of a follow-up it may not read
// is not_found). What is said about the survivor (the place, notes, a
// visit's findings and risk flags) is encrypted with the case's data key,
// so erasing the case shreds it. Each action is audited in its own
// transaction, on the case (record type "case"), naming the followup part.
package followup

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Where a survivor is reintegrated.
const (
	DestinationFamily      = "family"
	DestinationHomeVillage = "home_village"
	DestinationCity        = "city"
)

// Destinations lists the destinations, the preferred first.
var Destinations = []string{DestinationFamily, DestinationHomeVillage, DestinationCity}

// Visit statuses.
const (
	VisitPlanned   = "planned"   // due on its date
	VisitDone      = "done"      // made: its date, who made it and the findings are recorded
	VisitMissed    = "missed"    // not made (she could not be found, refused, moved...)
	VisitCancelled = "cancelled" // the follow-up ended before it was due
)

// Re-trafficking risk flags a visit may raise.
const (
	RiskRecruiterContact = "recruiter_contact" // a recruiter or broker approached her or her family
	RiskDebt             = "debt"              // debt to a lender, an employer, a broker
	RiskFamilyPressure   = "family_pressure"   // the family pushes her to earn away from home
	RiskMigrationPlans   = "migration_plans"   // she plans to go abroad for work
	RiskOther            = "other"             // see the notes
)

// RiskFlags lists the risk flags.
var RiskFlags = []string{RiskRecruiterContact, RiskDebt, RiskFamilyPressure, RiskMigrationPlans, RiskOther}

// Reintegration is a case's reintegration as its follow-up sees it.
type Reintegration struct {
	ID          uuid.UUID
	CaseID      uuid.UUID
	Destination string // one of Destinations
	Date        string // YYYY-MM-DD: the day she went
	Place       string // the village, town or address
	Note        string
	RecordedBy  *uuid.UUID
	RecordedAt  time.Time
	Scheduled   bool       // the visits are generated
	EndedAt     *time.Time // the follow-up ended: closed, or she was reintegrated again
	EndedBy     *uuid.UUID
	EndReason   string // EndClosed, EndReintegratedAgain; "" while open
}

// Why a reintegration's follow-up ended.
const (
	EndClosed            = "closed"             // the follow-up was closed, and the case with it
	EndReintegratedAgain = "reintegrated_again" // she came back to a shelter and was reintegrated anew
)

// NewReintegration is a reintegration being recorded.
type NewReintegration struct {
	Destination string // one of Destinations
	Date        string // YYYY-MM-DD, not in the future
	Place       string // required
	Note        string
}

// Findings are what a visit found. Every one is encrypted with the case's
// key.
type Findings struct {
	LivingSituation string   // home, family relations, safety
	BusinessIncome  string   // the micro-enterprise, work and income
	Schooling       string   // her schooling or her children's
	RiskFlags       []string // of RiskFlags
	TrainingWanted  string   // extra training she asks for or needs
	Notes           string
}

// Visit is one follow-up visit.
type Visit struct {
	ID              uuid.UUID
	CaseID          uuid.UUID
	Reference       string // the case's: C-00042
	ReintegrationID uuid.UUID
	Seq             int    // 1 for the first visit of its reintegration
	Due             string // YYYY-MM-DD
	Status          string // VisitPlanned, VisitDone, VisitMissed, VisitCancelled
	VisitedOn       string // YYYY-MM-DD when done
	VisitedBy       *uuid.UUID
	RecordedBy      *uuid.UUID
	RecordedAt      *time.Time
	Findings        Findings
}

// Outcomes of a visit as recorded.
const (
	OutcomeDone   = VisitDone
	OutcomeMissed = VisitMissed
)

// VisitRecord is what a social worker records of a visit: made (done, on
// VisitedOn, by the member recording it, with the findings) or missed
// (with notes, if any).
type VisitRecord struct {
	Outcome   string // OutcomeDone or OutcomeMissed
	VisitedOn string // YYYY-MM-DD, for a visit done: not in the future, not before the reintegration
	Findings  Findings
}

// Overview is a case's follow-up as its page shows it.
type Overview struct {
	CaseID        uuid.UUID
	Reference     string
	Stage         cases.Stage
	CanWrite      bool           // the member writes the case's follow-up
	CanClose      bool           // and its core: closing the follow-up closes the case
	Reintegration *Reintegration // the latest; nil before the first
	Visits        []Visit        // of every reintegration, by due date
}

// DueQuery selects planned visits of the cases the member may follow: the
// overdue ones (due before today, in the organisation's time zone) and,
// when Within > 0, those due within that many days from today.
type DueQuery struct {
	Within int  // days ahead; 0: overdue only
	Mine   bool // only the member's own cases (owner or assigned)
	Limit  int  // 1 to tenants.MaxPage; 0 means tenants.DefaultPage
	Cursor string
}

// DueVisit is a visit in the due list.
type DueVisit struct {
	VisitID   uuid.UUID
	CaseID    uuid.UUID
	Reference string
	Due       string // YYYY-MM-DD
	Overdue   bool   // due before today
}

// DuePage is one page of the due list, soonest first; Next is "" on the
// last page.
type DuePage struct {
	Visits []DueVisit
	Today  string // the organisation's today the list was drawn from
	Next   string
}

// Service is the follow-up of every organisation on a store.
type Service struct {
	store *tenants.Store
	now   func() time.Time
}

// New returns the follow-up service on store.
func New(store *tenants.Store) *Service { return &Service{store: store, now: time.Now} }

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }

// principal is the context's principal acting in an organisation.
func principal(ctx context.Context) (*tenants.Principal, error) {
	return tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
}

// Audit actions, each on the case (record type "case") with the followup
// part, so the case's audit trail shows them; the schedule's change is the
// organisation's settings'.
const (
	ActionReintegrate = "followup.reintegrate"
	ActionRead        = "followup.read"
	ActionVisitDone   = "followup.visit.done"
	ActionVisitMissed = "followup.visit.missed"
	ActionClose       = "followup.close"
	ActionList        = "followup.list"
	ActionSchedule    = "followup.schedule.change"
)

const (
	recordType = "case"
	// maxPlace bounds the place, maxText a note or a finding, maxReason a
	// closure reason (the case's cas_ReasonForCaseClosure).
	maxPlace, maxText, maxReason = 500, 5000, 2000
)

// audit writes one follow-up action on a case.
func audit(tx *gorm.DB, action string, caseID uuid.UUID) error {
	return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: recordType, RecordID: caseID,
		FieldGroups: []string{tenants.CaseFollowUp}})
}

// stamp is a time as the database keeps it (microseconds, UTC).
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
