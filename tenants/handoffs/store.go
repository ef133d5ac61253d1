package handoffs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// How a handoff is stored (migration 00017_handoffs): every row below
// lives in one organisation's tenant. handoffRow, stageEntryRow,
// messageRow and feedbackRow are mirrored (the same id on both sides);
// overrideRow is the sender's alone, shareRow and handoffDocumentRow the
// side's that received them. Every Secret is under the data key of this
// side whose id is the handoff's.

// handoffRow is a row of handoffs.
type handoffRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID        uuid.UUID `gorm:"type:uuid"`
	Number           int64
	Side             string
	PartnerTenantID  uuid.UUID `gorm:"type:uuid"`
	PartnershipID    uuid.UUID `gorm:"type:uuid"`
	State            string
	Stage            *string
	Confirmed        bool
	CaseID           *uuid.UUID `gorm:"type:uuid"`
	Fields           string     // comma-separated catalogue names
	Groups           string     // comma-separated field groups
	Documents        string     // sender: comma-separated ids of the sender's documents chosen at the start
	Basis            string
	StallDays        int
	DocumentsAllowed bool
	SharingStoppedAt *time.Time
	StartedBy        *uuid.UUID `gorm:"type:uuid"`
	CreatedAt        time.Time
	SentAt           *time.Time
	DecidedAt        *time.Time
	WithdrawnAt      *time.Time
	DeclineReason    tenants.Secret
	WithdrawReason   tenants.Secret
	StageChangedAt   time.Time
	UpdatedAt        time.Time
	Version          int64
}

func (handoffRow) TableName() string { return "handoffs" }

// clearHandoffColumns are the columns of handoffs that are not encrypted:
// lists and locks read only these.
var clearHandoffColumns = []string{"tenant_id", "id", "data_key_id", "number", "side", "partner_tenant_id",
	"partnership_id", "state", "stage", "confirmed", "case_id", "fields", "groups", "documents", "basis", "stall_days",
	"documents_allowed", "sharing_stopped_at", "started_by", "created_at", "sent_at", "decided_at", "withdrawn_at",
	"stage_changed_at", "updated_at", "version"}

// overrideRow is a row of handoff_overrides (sender only): id is the
// handoff's.
type overrideRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID        uuid.UUID `gorm:"type:uuid"`
	Reason           tenants.Secret
	RequestedBy      *uuid.UUID `gorm:"type:uuid"`
	RequesterKind    string
	RequesterIssuer  string
	RequesterSubject string
	RequestedAt      time.Time
	DecidedBy        *uuid.UUID `gorm:"type:uuid"`
	DecidedAt        *time.Time
	Approved         bool
}

func (overrideRow) TableName() string { return "handoff_overrides" }

// requester is the principal who asked, as the two-person rule compares it.
func (r *overrideRow) requester() *tenants.Principal {
	return &tenants.Principal{Actor: tenants.Actor{Kind: r.RequesterKind, Issuer: r.RequesterIssuer,
		Subject: r.RequesterSubject, MemberID: r.RequestedBy}, ViaToken: r.RequesterKind == tenants.ActorAPIToken}
}

// shareRow is a row of handoff_shares (receiver only): the chosen values
// as one JSON document.
type shareRow struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID uuid.UUID `gorm:"type:uuid"`
	Content   tenants.Secret
	CreatedAt time.Time
}

func (shareRow) TableName() string { return "handoff_shares" }

// handoffDocumentRow is a row of handoff_documents: a copy this side
// received.
type handoffDocumentRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	DocumentID uuid.UUID `gorm:"type:uuid;primaryKey"`
	HandoffID  uuid.UUID `gorm:"type:uuid"`
	FieldGroup string
	Stage      *string
	MessageID  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
}

func (handoffDocumentRow) TableName() string { return "handoff_documents" }

// stageEntryRow is a row of handoff_stage_entries.
type stageEntryRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	HandoffID  uuid.UUID `gorm:"type:uuid"`
	DataKeyID  uuid.UUID `gorm:"type:uuid"`
	Stage      string
	Action     string
	OnDate     string
	Note       tenants.Secret
	Reason     tenants.Secret
	BySide     string
	RecordedBy *uuid.UUID `gorm:"type:uuid"`
	RecordedAt time.Time
}

func (stageEntryRow) TableName() string { return "handoff_stage_entries" }

// messageRow is a row of handoff_messages.
type messageRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	HandoffID  uuid.UUID `gorm:"type:uuid"`
	DataKeyID  uuid.UUID `gorm:"type:uuid"`
	FromSide   string
	AuthorID   *uuid.UUID `gorm:"type:uuid"`
	Text       tenants.Secret
	DocumentID *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
}

func (messageRow) TableName() string { return "handoff_messages" }

// feedbackRow is a row of handoff_feedback.
type feedbackRow struct {
	TenantID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID                uuid.UUID `gorm:"type:uuid;primaryKey"`
	HandoffID         uuid.UUID `gorm:"type:uuid"`
	Status            string
	OnDate            string
	FollowUpContinues bool
	Automatic         bool
	Period            *int
	RecordedBy        *uuid.UUID `gorm:"type:uuid"`
	CreatedAt         time.Time
}

func (feedbackRow) TableName() string { return "handoff_feedback" }

// reminderRow is a row of handoff_reminders.
type reminderRow struct {
	TenantID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID `gorm:"type:uuid;primaryKey"`
	HandoffID      uuid.UUID `gorm:"type:uuid"`
	Stage          string
	StageChangedAt time.Time
	Recipients     int
	CreatedAt      time.Time
}

func (reminderRow) TableName() string { return "handoff_reminders" }

// Reference is the human-friendly form of a handoff number: H-00001, the
// same on both sides.
func Reference(number int64) string { return fmt.Sprintf("H-%05d", number) }

var errNoHandoff = homeward.Errorf(homeward.ENOTFOUND, "no such handoff")

// loadHandoff reads the handoff id of the transaction's organisation (its
// clear columns, or every column with secrets), locked for update when
// lock is set: not_found when this organisation holds no row of it.
func loadHandoff(tx *gorm.DB, id uuid.UUID, lock, secrets bool) (*handoffRow, error) {
	q := tx.Session(&gorm.Session{NewDB: true}).Where("id = ?", id)
	if !secrets {
		q = q.Select(clearHandoffColumns)
	}
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row handoffRow
	err := q.Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoHandoff
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// ensureKey makes sure this side's data key of the handoff exists: the
// rows name it (a foreign key) before anything is encrypted with it.
func ensureKey(tx *gorm.DB, id uuid.UUID) error {
	_, err := tenants.Encrypt(tx, id, tenants.AAD{Table: "handoffs", Record: id, Field: "key"}, nil)
	return err
}

// list and unlist keep a list of names (or ids) in one text column.
func list[T ~string](items []T) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = string(it)
	}
	return strings.Join(s, ",")
}

func unlist(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func idList(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

func unlistIDs(s string) []uuid.UUID {
	var out []uuid.UUID
	for _, x := range unlist(s) {
		if id, err := uuid.Parse(x); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// stamp is a time as the database keeps it (microseconds, UTC).
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// stageIndex is the position of a stage in Stages, -1 for none.
func stageIndex(s Stage) int {
	return slices.IndexFunc(Stages, func(i StageInfo) bool { return i.Stage == s })
}

// stageOf is the row's stage ("" before any).
func (r *handoffRow) stageOf() Stage {
	if r.Stage == nil {
		return ""
	}
	return Stage(*r.Stage)
}

// final reports whether the handoff is over for good.
func final(state string) bool {
	switch state {
	case StateOverrideRefused, StateDeclined, StateWithdrawn:
		return true
	}
	return false
}

// live reports whether the handoff is between the two sides (its stages,
// thread and feedback move).
func live(state string) bool {
	return state == StateSent || state == StateAccepted || state == StateCompleted
}
