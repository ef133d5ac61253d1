package tenants

import (
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Outbox statuses: pending (written, not yet queued), enqueued (handed to the
// queue), done (its handler succeeded), dead (retries exhausted).
const (
	OutboxPending  = "pending"
	OutboxEnqueued = "enqueued"
	OutboxDone     = "done"
	OutboxDead     = "dead"
)

// OutboxMessage is background work written in the same transaction as the
// change that causes it, so the two cannot diverge. The relay (workers)
// queues it with its id as the task id; the worker marks it done in the
// transaction of its handler. It holds ids only, never personal data.
type OutboxMessage struct {
	ID         uuid.UUID  `gorm:"type:uuid;primaryKey"`
	TenantID   *uuid.UUID `gorm:"type:uuid"` // nil for platform-wide work
	Kind       string     // the task type, e.g. "mail:send"
	Queue      string
	Payload    string // JSON object of ids (see Job)
	Status     string
	Attempts   int // times handed to the queue
	CreatedAt  time.Time
	EnqueuedAt *time.Time
	DoneAt     *time.Time
	LastError  string
}

// TableName keeps the table's name explicit.
func (OutboxMessage) TableName() string { return "outbox" }

// Job is a piece of background work as a feature asks for it. IDs names the
// records the handler needs (the handler reads everything else in its own
// transaction); by construction a job carries no personal data.
type Job struct {
	Kind  string
	Queue string // default "default"
	IDs   map[string]uuid.UUID
	// ID, when set, makes the job unique: a second Enqueue with the same ID
	// writes nothing (periodic work from two schedulers, say). Leave it zero
	// for a new id.
	ID uuid.UUID
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)+$`)

// Enqueue writes job into the outbox inside tx: the caller's transaction
// (InTenant, whose tenant the job then carries, or Global for platform-wide
// work). Nothing is queued unless tx commits.
func Enqueue(tx *gorm.DB, job Job) (uuid.UUID, error) {
	if !kindPattern.MatchString(job.Kind) {
		return uuid.Nil, errors.New("tenants: job kind must look like area:action")
	}
	if job.Queue == "" {
		job.Queue = "default"
	}
	ids := job.IDs
	if ids == nil {
		ids = map[string]uuid.UUID{}
	}
	payload, err := json.Marshal(ids)
	if err != nil {
		return uuid.Nil, err
	}
	m := &OutboxMessage{ID: job.ID, Kind: job.Kind, Queue: job.Queue, Payload: string(payload), Status: OutboxPending, CreatedAt: time.Now().UTC()}
	if tid, ok := txTenantFrom(tx.Statement.Context); ok {
		m.TenantID = &tid
	}
	if m.ID == uuid.Nil {
		m.ID = newID()
		return m.ID, tx.Create(m).Error
	}
	return m.ID, tx.Clauses(clause.OnConflict{DoNothing: true}).Create(m).Error
}
