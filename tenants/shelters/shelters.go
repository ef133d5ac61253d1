// Package shelters is an organisation's shelters and the admission of a
// survivor into them: how she was referred, her acceptance and her
// family's or guardian's, admission into a shelter with a free bed (or a
// place on its waiting list when it is full), transfers between shelters,
// discharge, and the history of her stays.
//
// Shelters are organisation data (tenants.PermSheltersRead and
// PermSheltersWrite). Admission is part of a case's core: each function
// opens the case for the principal (cases.Open; a case it may not see is
// not_found), needs core write to record anything, and writes the change,
// any stage move (cases.MoveStage) and its audit row in one transaction.
//
// Admission is refused (conflict, naming each missing piece:
// "acceptance_girl", "acceptance_family", "consent_services") until the
// girl and her family or guardian have accepted and the case has a
// standing services consent. A shelter's beds go to the waiting list in
// order: a case is placed only while the shelter has more free beds than
// cases waiting ahead of her; otherwise she goes on (or stays on) its
// waiting list, and staff admit her again when a bed frees. Nothing is
// placed behind anyone's back: freeing a bed only shows who is next.
package shelters

import (
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Limits of a shelter's fields.
const (
	MaxCapacity = 500
	maxName     = 200
	maxPlace    = 100
)

// Shelter is one of the organisation's shelters, with its beds taken and
// the cases waiting for one.
type Shelter struct {
	ID        uuid.UUID
	Name      string
	Province  string
	District  string
	Capacity  int
	Active    bool // takes admissions and transfers
	Occupancy int  // girls placed there now
	Waiting   int  // cases on its waiting list
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Free is the number of beds not taken (never below 0).
func (s Shelter) Free() int { return max(0, s.Capacity-s.Occupancy) }

// NewShelter is a shelter being added. The place is a province and a
// district, never a street address: the list is read by many.
type NewShelter struct {
	Name, Province, District string
	Capacity                 int
	Active                   bool
}

// ShelterChange changes the fields that are not nil.
type ShelterChange struct {
	Name, Province, District *string
	Capacity                 *int
	Active                   *bool
}

// Waiting is a case on a shelter's waiting list.
type Waiting struct {
	CaseID    uuid.UUID
	Reference string // the case's number: a waiting list names no one
	Since     time.Time
	Position  int // 1 is next
}

// Referral sources: how the case came to the organisation (its
// cas_ReferringOrganisation, the partner's name, is a field of the case).
const (
	SourceBarOutreach    = "bar_outreach"
	SourcePartnerHandoff = "partner_handoff"
	SourcePolice         = "police"
	SourceFamily         = "family"
	SourceOther          = "other"
)

// ReferralSources lists the referral sources.
var ReferralSources = []string{SourceBarOutreach, SourcePartnerHandoff, SourcePolice, SourceFamily, SourceOther}

// Who accepts: the girl, and her family or a guardian.
const (
	ByGirl     = cases.GivenByGirl
	ByFamily   = cases.GivenByFamily
	ByGuardian = cases.GivenByGuardian
)

// AcceptedBy lists who may accept.
var AcceptedBy = []string{ByGirl, ByFamily, ByGuardian}

// What an admission still lacks, as a refused admission names it.
const (
	MissingGirl    = "acceptance_girl"
	MissingFamily  = "acceptance_family"
	MissingConsent = "consent_services"
)

// How a stay in a shelter began.
const (
	ArrivalAdmission = "admission"
	ArrivalTransfer  = "transfer"
)

// Discharge reasons, and the end of a stay by transfer.
const (
	EndTransfer           = "transfer"
	DischargeReintegrated = "reintegrated"     // back with family, village or city
	DischargeReferred     = "referred"         // handed over to another organisation
	DischargeLeft         = "left_voluntarily" // she left of her own will
	DischargeOther        = "other"
)

// DischargeReasons lists the reasons of a discharge.
var DischargeReasons = []string{DischargeReintegrated, DischargeReferred, DischargeLeft, DischargeOther}

// Acceptance is one party's acceptance of the admission.
type Acceptance struct {
	By         string // ByGirl, ByFamily or ByGuardian
	On         string // YYYY-MM-DD
	RecordedBy *uuid.UUID
	RecordedAt time.Time
}

// NewAcceptance is an acceptance being recorded.
type NewAcceptance struct {
	By string // ByGirl, ByFamily or ByGuardian
	On string // YYYY-MM-DD, not in the future
}

// Placement is one stay in a shelter.
type Placement struct {
	ID          uuid.UUID
	ShelterID   uuid.UUID
	ShelterName string
	Arrival     string // ArrivalAdmission or ArrivalTransfer
	PlacedOn    string
	PlacedBy    *uuid.UUID
	EndedOn     string // "" while she stays
	EndReason   string // EndTransfer or one of DischargeReasons
	EndedBy     *uuid.UUID
}

// Current reports whether she is there now.
func (p Placement) Current() bool { return p.EndedOn == "" }

// WaitingFor is the shelter a case waits for.
type WaitingFor struct {
	ShelterID   uuid.UUID
	ShelterName string
	Since       time.Time
	Position    int // 1 is next
}

// Admission is a case's admission as the principal sees it.
type Admission struct {
	CaseID          uuid.UUID
	Reference       string
	Stage           cases.Stage
	ReferralSource  string      // "" until she is admitted or waits, or a feature that brought her in recorded it (RecordReferral)
	Girl            *Acceptance // nil until recorded
	Family          *Acceptance // the family's or the guardian's
	ServicesConsent bool        // a standing services consent
	Missing         []string    // what admission still needs (MissingGirl, ...), in that order
	Waiting         *WaitingFor // on a waiting list
	Current         *Placement  // the stay going on
	Placements      []Placement // every stay, oldest first
	CanWrite        bool        // the principal may record on the case's core
}

// Admit places a case at intake in a shelter.
type Admit struct {
	ShelterID      uuid.UUID
	ReferralSource string // one of ReferralSources
	AdmittedOn     string // YYYY-MM-DD, not in the future
}

// Transfer moves a placed case to another shelter.
type Transfer struct {
	ShelterID     uuid.UUID
	TransferredOn string // YYYY-MM-DD, not before the stay began, not in the future
}

// Discharge ends a placed case's stay.
type Discharge struct {
	DischargedOn string // YYYY-MM-DD, not before the stay began, not in the future
	Reason       string // one of DischargeReasons
}

// Audit actions. A shelter's are on the shelter; an admission's on the
// case (its core), so they are in the case's audit trail.
const (
	ActionShelterCreate = "shelter.create"
	ActionShelterUpdate = "shelter.update"
	ActionAdmissionRead = "case.admission.read"
	ActionAcceptance    = "case.acceptance.record"
	ActionAdmit         = "case.admit"
	ActionWait          = "case.admission.wait"
	ActionWaitCancel    = "case.admission.wait_cancel"
	ActionTransfer      = "case.transfer"
	ActionDischarge     = "case.discharge"
)

const (
	recordTypeShelter = "shelter"
	recordTypeCase    = "case"
)

// Service is the shelters and admissions of every organisation on a store.
type Service struct {
	store *tenants.Store
	now   func() time.Time
}

// New returns the service on store.
func New(store *tenants.Store) *Service { return &Service{store: store, now: time.Now} }

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }
