// Package cases is the survivor's case file: the HTCDS-named record every
// other feature uses, its consent per purpose, its field groups, its audit,
// its search, its erasure and retention, and its exports.
//
// Every function authorizes from the principal in the context
// (tenants.PrincipalFrom) against the organisation's permission table
// (tenants.Principal.CaseScope per field group, "own" meaning the cases the
// member owns or is assigned to), runs inside the organisation's
// transaction (tenants.Store.InTenant), and writes its audit row in that
// same transaction. A case the principal may not see at all is not_found,
// exactly like a case that does not exist; a field group it may not read is
// left out on the server.
package cases

import (
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// Stage is where the survivor is on her path (docs: domain reference).
type Stage string

const (
	StageIntake       Stage = "intake"       // identified, acceptance and consent being gathered
	StageShelter      Stage = "shelter"      // admitted, receiving services and training
	StageReintegrated Stage = "reintegrated" // back with family, village or city; follow-up running
	StageClosed       Stage = "closed"       // follow-up finished or case ended (reason recorded)
	StageReferred     Stage = "referred"     // handed over to another organisation
)

// Stages lists the stages in path order.
var Stages = []Stage{StageIntake, StageShelter, StageReintegrated, StageClosed, StageReferred}

// HTCDS cas_Status values.
const (
	StatusActive         = "Active"
	StatusFollowUp       = "FollowUp"
	StatusClosed         = "Closed"
	StatusClosedReferred = "ClosedReferred"
)

// Status is the HTCDS cas_Status the stage stands for.
func (s Stage) Status() string {
	switch s {
	case StageReintegrated:
		return StatusFollowUp
	case StageClosed:
		return StatusClosed
	case StageReferred:
		return StatusClosedReferred
	}
	return StatusActive
}

// Access is what the principal may do with a part of a case it can see.
type Access string

const (
	AccessRead  Access = "r"
	AccessWrite Access = "rw"
)

// Case is one case as the principal may see it. Values holds only the
// fields of the groups in Access (never a hidden group's, not even empty),
// in their stored forms (see Field.Normalize); a field without a value is
// absent.
type Case struct {
	ID             uuid.UUID
	Number         int64  // per organisation, from 1
	Reference      string // the human-friendly number: "C-00042"
	Stage          Stage
	Version        int64       // increases with every change; send it back to update
	OwnerID        *uuid.UUID  // the member who owns the case (cas_CaseOwner)
	Assigned       []uuid.UUID // members assigned besides the owner
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastActivityAt time.Time
	ClosedAt       *time.Time
	Access         map[string]Access // part (field group or tenants.CaseConsent) → access, visible parts only
	Values         map[string]any
	Events         []Event   // trafficking events (core)
	Consent        []Consent // the current state per purpose, when the consent part is visible
}

// Status is the case's HTCDS cas_Status.
func (c *Case) Status() string { return c.Stage.Status() }

// Event is one trafficking event (HTCDS hte_*), part of the case core.
type Event struct {
	Type        string // hte_Type: Recruitment, Transit, Exploitation
	Date        string // hte_Date, YYYY-MM-DD, may be empty
	City        string // hte_City
	Country     string // hte_Country
	Description string // hte_Description
}

// NewCase is an intake: the fields known so far (a first name, a birth
// date and a gender are enough), events, and consent already given.
type NewCase struct {
	Values   map[string]any // client values, checked by NormalizeValues and the principal's write access
	Events   []Event
	Consents []NewConsent
	// Stage is where a seeded case already is on the path (SeedCases only:
	// synthetic and demo data must show every stage); "" is intake. Create
	// always starts a case at intake and refuses any other stage: a case
	// moves on with Update, which checks each move.
	Stage Stage
}

// Patch is a change to a case. Only the keys present in Values change
// (nil clears a field); Events, when not nil, replaces the list; Stage,
// when set, moves the case (closing needs cas_ReasonForCaseClosure).
// Version, when not 0, must equal the case's version (else conflict: someone
// changed it meanwhile).
type Patch struct {
	Values  map[string]any
	Events  *[]Event
	Stage   *Stage
	Version int64
}

// Query selects a page of cases, most recent activity first.
type Query struct {
	Limit        int    // 1 to tenants.MaxPage; 0 means tenants.DefaultPage
	Cursor       string // Next of the previous page of the same query
	Q            string // a first name, second name, full name, birth date (YYYY-MM-DD or DD/MM/YYYY) or case number; exact match
	Stage        Stage  // only this stage
	Status       string // only this cas_Status
	AssignedToMe bool   // only cases the principal owns or is assigned to
}

// Summary is a case in a list: its core and, when the principal may read
// the identity group, the names and birth date.
type Summary struct {
	ID             uuid.UUID
	Number         int64
	Reference      string
	Stage          Stage
	OwnerID        *uuid.UUID
	LastActivityAt time.Time
	FirstName      string // "" without identity access
	SecondName     string
	Birthdate      string
	IdentityShown  bool // the principal may read the identity group
}

// Page is one page of cases; Next is "" on the last page.
type Page struct {
	Cases []Summary
	Next  string
}

// Purpose is what a consent is given for (docs: domain reference).
type Purpose string

const (
	PurposeServices      Purpose = "services"        // admission and care
	PurposeSharing       Purpose = "sharing"         // sharing with another organisation
	PurposeFamilyTracing Purpose = "family_tracing"  //
	PurposeStatistics    Purpose = "statistics"      // anonymised reporting
	PurposeHealthSharing Purpose = "health_sharing"  // the medical group may leave the organisation (on top of sharing)
	PurposeHIVSTITesting Purpose = "hiv_sti_testing" //
)

// Purposes lists every consent purpose.
var Purposes = []Purpose{PurposeServices, PurposeSharing, PurposeFamilyTracing, PurposeStatistics,
	PurposeHealthSharing, PurposeHIVSTITesting}

// Who gave a consent, and on what basis.
const (
	GivenByGirl     = "girl"
	GivenByFamily   = "family"
	GivenByGuardian = "guardian"

	BasisSignedForm     = "signed_form"
	BasisRecordedVerbal = "recorded_verbal"
)

// NewConsent is a consent being recorded.
type NewConsent struct {
	Purpose Purpose
	GivenBy string // GivenByGirl, GivenByFamily, GivenByGuardian
	GivenOn string // YYYY-MM-DD, not in the future
	Basis   string // BasisSignedForm, BasisRecordedVerbal
}

// Consent is one consent record: given, and perhaps withdrawn since.
type Consent struct {
	ID               uuid.UUID
	Purpose          Purpose
	GivenBy          string
	GivenOn          string
	Basis            string
	RecordedBy       *uuid.UUID // member
	RecordedAt       time.Time
	WithdrawnAt      *time.Time
	WithdrawnBy      *uuid.UUID
	WithdrawalReason string // decrypted; empty when none
}

// Active reports whether the consent stands (given and not withdrawn).
func (c Consent) Active() bool { return c.WithdrawnAt == nil }

// Comment is one case comment (HTCDS cco_CaseComment), part of the core.
type Comment struct {
	ID        uuid.UUID
	AuthorID  *uuid.UUID // member
	Text      string
	CreatedAt time.Time
}

// CommentPage is one page of comments, oldest first.
type CommentPage struct {
	Comments []Comment
	Next     string
}

// Erasure reasons: coded, so that what survives erasure holds no personal
// data; a note may add detail and is erased with the case.
const (
	ErasureConsentWithdrawn = "consent_withdrawn"
	ErasureSubjectRequest   = "data_subject_request"
	ErasureCreatedInError   = "created_in_error"
	ErasureDuplicate        = "duplicate"
	ErasureOther            = "other"
)

// ErasureReasons lists the erasure reasons.
var ErasureReasons = []string{ErasureConsentWithdrawn, ErasureSubjectRequest, ErasureCreatedInError,
	ErasureDuplicate, ErasureOther}

// Erasure states.
const (
	ErasureRequested = "requested"
	ErasureApproved  = "approved" // done: the case's data key is shredded
	ErasureCancelled = "cancelled"
)

// Erasure is a request to erase a case, approved by a second person.
type Erasure struct {
	ID          uuid.UUID
	CaseID      uuid.UUID
	Reference   string // the case's number survives erasure (it names no one)
	Reason      string // one of ErasureReasons
	Note        string // decrypted while the case exists
	State       string
	RequestedBy *uuid.UUID
	RequestedAt time.Time
	DecidedBy   *uuid.UUID
	DecidedAt   *time.Time
}

// Retention is the organisation's retention rule: closed cases are
// anonymised Years after closure (0: kept until erased by hand).
type Retention struct {
	Years int
}

// DefaultRetentionYears is the retention of an organisation that chose none.
const DefaultRetentionYears = 10

// RetentionCandidate is a closed case that the retention rule will
// anonymise on Due.
type RetentionCandidate struct {
	ID        uuid.UUID
	Reference string
	ClosedAt  time.Time
	Due       time.Time
}

// Service is the case files of every organisation on a store.
type Service struct {
	store *tenants.Store
	now   func() time.Time
}

// New returns the case service on store.
func New(store *tenants.Store) *Service {
	return &Service{store: store, now: time.Now}
}

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }
