package handoffs

import (
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// Partnership purposes.
const (
	PurposeHandoffs   = "handoffs"   // From sends handoffs to To
	PurposeStatistics = "statistics" // From shares its anonymised statistics with To
)

// Partnership states.
const (
	PartnershipProposed  = "proposed"
	PartnershipActive    = "active"
	PartnershipDeclined  = "declined"
	PartnershipSuspended = "suspended"
	PartnershipEnded     = "ended"
)

// SharableGroups are the field groups a handoff partnership may let travel;
// the psychological group never does, and medical only with the case's
// health_sharing consent on top of sharing.
var SharableGroups = []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily, tenants.FieldGroupLegal,
	tenants.FieldGroupMedical}

// Organisation is the other side of a partnership or handoff as this side
// may know it: the public facts of the tenants table, nothing more.
type Organisation struct {
	ID      uuid.UUID
	Slug    string
	Name    string
	Country string
}

// Partnership is an agreement between two organisations, as one of them
// sees it (both hold the same id).
type Partnership struct {
	ID             uuid.UUID
	Purpose        string // PurposeHandoffs, PurposeStatistics
	From, To       Organisation
	Groups         []string // handoffs: the field groups that may travel (SharableGroups)
	Documents      bool     // handoffs: documents of those groups may travel
	AgreementRef   string   // the written data-sharing agreement's reference
	StallDays      int      // a stage unchanged this many days is a stall (reminders); 1 to 90
	StatisticsBack bool     // handoffs: To shares anonymised programme statistics with From
	State          string
	ProposedBy     uuid.UUID // the organisation that proposed it
	ProposedAt     time.Time
	DecidedAt      *time.Time // accepted or declined
	ChangedAt      time.Time  // the last change of state
	StateReason    string     // why it was declined, suspended or ended (clear text: about the agreement, not a person)
	Version        int64
}

// NewPartnership is a proposal, from the proposer's point of view.
type NewPartnership struct {
	Partner        string // the other organisation's slug
	Purpose        string
	Sending        bool // handoffs: true when the proposer sends to the partner, false when it receives from it; statistics: true when the proposer shares its statistics
	Groups         []string
	Documents      bool
	AgreementRef   string
	StallDays      int // 0: DefaultStallDays
	StatisticsBack bool
}

// DefaultStallDays is the stall threshold of a partnership that gave none.
const DefaultStallDays = 14

// Handoff states.
const (
	StateAwaitingOverride = "awaiting_override" // no sharing consent: a second person of the sender must approve; nothing has left
	StateOverrideRefused  = "override_refused"  // the override was refused: nothing left, final
	StateSent             = "sent"              // in the receiver's inbox
	StateAccepted         = "accepted"          // the receiver created its case
	StateDeclined         = "declined"          // the receiver declined, with a reason (final)
	StateWithdrawn        = "withdrawn"         // the sender withdrew before acceptance; the shared copy is shredded (final)
	StateCompleted        = "completed"         // admission done and feedback sent; kept for the record
)

// Sides of a handoff.
const (
	SideSender   = "sender"
	SideReceiver = "receiver"
)

// Sharing bases.
const (
	BasisConsent  = "consent"  // the case's sharing consent
	BasisOverride = "override" // a written reason approved by a second person of the sender
)

// Stage is one step of the handoff (doc.go's table).
type Stage string

// The stages in order.
const (
	StageIdentification  Stage = "identification"   // 1, sender
	StageInterview       Stage = "interview"        // 2, sender
	StageTracingRequest  Stage = "tracing_request"  // 3a, sender
	StageTracingResult   Stage = "tracing_result"   // 3b, receiver
	StageTravelDocuments Stage = "travel_documents" // 4, sender
	StageReturnPlan      Stage = "return_plan"      // 5, sender, receiver confirms
	StageHandover        Stage = "handover"         // 6, sender marks handed over, receiver confirms received
	StageTransitCentre   Stage = "transit_centre"   // 7, receiver
	StageAdmission       Stage = "admission"        // 8, receiver
	StageFeedback        Stage = "feedback"         // 9, receiver
)

// StageInfo is what the table says of a stage.
type StageInfo struct {
	Stage    Stage
	Number   string   // "1", "2", "3a", ...
	Owner    string   // SideSender or SideReceiver
	Confirm  bool     // the other side confirms it (5, 6)
	Expected []string // the documents it expects (keys: interview_record, tracing_request, assessment_report, travel_document, return_plan, handover_record, transit_intake, escort_record, feedback_report)
}

// Stages is the table, in order.
var Stages = []StageInfo{
	{StageIdentification, "1", SideSender, false, nil},
	{StageInterview, "2", SideSender, false, []string{"interview_record"}},
	{StageTracingRequest, "3a", SideSender, false, []string{"tracing_request"}},
	{StageTracingResult, "3b", SideReceiver, false, []string{"assessment_report"}},
	{StageTravelDocuments, "4", SideSender, false, []string{"travel_document"}},
	{StageReturnPlan, "5", SideSender, true, []string{"return_plan"}},
	{StageHandover, "6", SideSender, true, []string{"handover_record"}},
	{StageTransitCentre, "7", SideReceiver, false, []string{"transit_intake"}},
	{StageAdmission, "8", SideReceiver, false, []string{"escort_record"}},
	{StageFeedback, "9", SideReceiver, false, []string{"feedback_report"}},
}

// Stage entry actions.
const (
	ActionDone    = "done"    // the owner records the stage
	ActionConfirm = "confirm" // the other side confirms it (return plan, handover)
	ActionReopen  = "reopen"  // the owner goes back to this stage, with a reason
)

// StageEntry is one line of the timeline, as this side sees it.
type StageEntry struct {
	ID         uuid.UUID
	Stage      Stage
	Action     string
	On         string     // YYYY-MM-DD, the date of the event
	Note       string     // decrypted: this side's copy
	Reason     string     // reopen
	BySide     string     // SideSender or SideReceiver
	RecordedBy *uuid.UUID // the member, only when this side recorded it
	RecordedAt time.Time
}

// Handoff is a handoff as one side sees it.
type Handoff struct {
	ID             uuid.UUID
	Reference      string // "H-00001": numbered per sender, the same on both sides
	Side           string // this organisation's side
	PartnershipID  uuid.UUID
	Partner        Organisation // the other side
	State          string
	Stage          Stage      // the last stage recorded ("" before any)
	Confirmed      bool       // the last stage, when it needs the other side's confirmation, has it
	CaseID         *uuid.UUID // this side's case: the sender's the handoff came from; the receiver's created on acceptance
	Fields         []string   // the field names the sender chose (both sides see the names)
	Groups         []string   // their groups
	Basis          string     // BasisConsent or BasisOverride
	SharingStopped bool       // the sender stopped sharing further updates (or its sharing consent was withdrawn)
	StartedBy      *uuid.UUID // the member, sender side only
	CreatedAt      time.Time
	SentAt         *time.Time
	DecidedAt      *time.Time // accepted or declined
	DeclineReason  string
	WithdrawnAt    *time.Time
	StageChangedAt time.Time    // for stalls and the dashboard
	Timeline       []StageEntry // Get only
	Shared         *SharedCopy  // Get only, receiver side, while not withdrawn or declined
	Override       *Override    // Get only, sender side, when an override was asked
	Version        int64
}

// SharedCopy is what the receiver holds of the sender's case: the chosen
// fields, decrypted from the receiver's own copy.
type SharedCopy struct {
	Values    map[string]any // catalogue field name → value, only the chosen fields
	Documents []SharedDocument
}

// SharedDocument is a document the sender shared: a copy in the receiver's
// document storage, under the receiver's keys.
type SharedDocument struct {
	ID          uuid.UUID // the receiver's document id
	Group       string
	FileName    string
	ContentType string
	Size        int64
}

// Override is a request to send without the sharing consent.
type Override struct {
	Reason      string // decrypted, sender side only
	RequestedBy uuid.UUID
	RequestedAt time.Time
	DecidedBy   *uuid.UUID
	DecidedAt   *time.Time
	Approved    bool
}

// NewHandoff starts a handoff from a case of the sender's organisation.
type NewHandoff struct {
	PartnershipID  uuid.UUID
	CaseID         uuid.UUID   // the case; the short intake form creates one first (Service.StartFromIntake)
	Fields         []string    // catalogue field names (tenants/cases fields.go), each in a group the partnership lets travel
	Documents      []uuid.UUID // the case's documents to share, each of a group the partnership lets travel (and Documents allowed)
	OverrideReason string      // without the sharing consent: the written reason; a second person approves before anything leaves
	Note           string      // a first note for the receiver (stage 1)
}

// StageChange is one side recording a stage.
type StageChange struct {
	Stage     Stage
	Action    string // ActionDone, ActionConfirm, ActionReopen
	On        string // YYYY-MM-DD, not in the future; "" means today
	Note      string
	Reason    string      // required to reopen
	Documents []uuid.UUID // documents of this side's case to attach (shared like NewHandoff.Documents)
}

// Query selects a page of handoffs, most recent change first.
type Query struct {
	Box    string // "incoming" (receiver side), "outgoing" (sender side), "" both
	State  string
	Limit  int
	Cursor string
}

// Page is one page of handoffs.
type Page struct {
	Handoffs []Handoff
	Next     string
}

// Message is one message of the shared thread, as this side sees it.
type Message struct {
	ID        uuid.UUID
	FromSide  string
	AuthorID  *uuid.UUID // only when this side wrote it
	Text      string     // decrypted: this side's copy
	Document  *SharedDocument
	CreatedAt time.Time
}

// MessagePage is one page of the thread, oldest first.
type MessagePage struct {
	Messages []Message
	Next     string
}

// Feedback statuses: structured, non-identifying reintegration feedback
// from the receiver to the sender.
const (
	FeedbackInShelter    = "in_shelter"
	FeedbackReintegrated = "reintegrated"
	FeedbackClosed       = "closed"
	FeedbackLostContact  = "lost_contact"
)

// Feedback is one reintegration feedback.
type Feedback struct {
	ID                uuid.UUID
	Status            string
	On                string // YYYY-MM-DD
	FollowUpContinues bool
	Automatic         bool // sent by the scheduled job from the receiver's case
	CreatedAt         time.Time
}

// Audit actions (record type RecordType).
const (
	RecordType = "handoff"

	ActionPartnershipPropose = "partnership.propose"
	ActionPartnershipDecide  = "partnership.decide"
	ActionPartnershipChange  = "partnership.change" // suspend, resume, end

	ActionStart          = "handoff.start"
	ActionOverrideDecide = "handoff.override"
	ActionSend           = "handoff.send"    // sender side: what left (groups, never values)
	ActionReceive        = "handoff.receive" // receiver side
	ActionRead           = "handoff.read"
	ActionAccept         = "handoff.accept"
	ActionDecline        = "handoff.decline"
	ActionWithdraw       = "handoff.withdraw"
	ActionStopSharing    = "handoff.stop_sharing"
	ActionStage          = "handoff.stage"
	ActionMessage        = "handoff.message"
	ActionThreadRead     = "handoff.thread_read"
	ActionDocumentRead   = "handoff.document_read" // a copy this side holds, downloaded (Service.Document)
	ActionFeedback       = "handoff.feedback"
)

// Notification kinds (tenants.NotificationKinds) and mail templates
// (web/emails) share these names: "handoff:<event>".
const (
	NoticeReceived       = "handoff:received"        // to the receiver: a new handoff in the inbox
	NoticeOverrideAsked  = "handoff:override_asked"  // to the sender's approvers
	NoticeAccepted       = "handoff:accepted"        // to the sender
	NoticeDeclined       = "handoff:declined"        // to the sender
	NoticeWithdrawn      = "handoff:withdrawn"       // to the receiver
	NoticeStage          = "handoff:stage"           // to the other side: a stage recorded, confirmed or reopened
	NoticeMessage        = "handoff:message"         // to the other side: a message in the thread
	NoticeFeedback       = "handoff:feedback"        // to the sender
	NoticeStalled        = "handoff:stalled"         // to the side that owns the next step
	NoticeSharingStopped = "handoff:sharing_stopped" // to the receiver
	NoticePartnership    = "handoff:partnership"     // to the other organisation's admins: proposed, accepted, declined, suspended, resumed, ended
)

// Background jobs (workers).
const (
	JobStalled  = "handoffs:stalled"  // daily per organisation: reminders for stages stalled past the threshold, once per stage
	JobFeedback = "handoffs:feedback" // daily per organisation: automatic feedback when due
)

// FeedbackEvery is how often the receiver's automatic feedback goes to the
// sender after admission.
const FeedbackEveryMonths = 3
