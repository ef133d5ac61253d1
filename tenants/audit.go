package tenants

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The audit log is one append-only chain per organisation (docs/security.md,
// "Audit log"). Audit writes a row in the caller's transaction, so the row
// exists exactly when the action it records committed. Each row holds ids and
// codes only, never a name or a value, and a keyed hash:
//
//	hash(n) = HMAC-SHA256(K, encode(row n's columns) || hash(n-1))
//
// where K = DeriveKey(tx, auditChainPurpose) comes from the tenant key, which
// only the master key unwraps: K is never in the database, so whoever can
// write the database cannot recompute a hash. A changed row, an inserted row
// or a removed one breaks the chain; a tail cut off together with the head
// is caught against a checkpoint (seq, head hash) kept outside the database
// (see audit_verify.go). Rows older than the organisation's retention are
// pruned from the front, leaving an anchor signed with K (audit_retention.go).

// auditChainPurpose names the chain key among the keys DeriveKey gives.
const auditChainPurpose = "audit-chain/v1"

// AuditEntry is one audited action.
type AuditEntry struct {
	Action      string    // required, area.verb, e.g. "case.read", "document.download"
	RecordType  string    // required, e.g. "case", "document"
	RecordID    uuid.UUID // the record acted on; uuid.Nil when the action has none (a search)
	FieldGroups []string  // field groups touched: identity, family, medical, ...
	Purpose     string    // why, a code such as "services" or "repatriation"; never free text
}

// AuditRecord is an audit row as read back (ListAudit).
type AuditRecord struct {
	ID           uuid.UUID
	Seq          int64
	OccurredAt   time.Time
	Actor        Actor
	Organisation *uuid.UUID // whom the actor acted for; nil for a platform operator
	Action       string
	RecordType   string
	RecordID     *uuid.UUID
	FieldGroups  []string
	Purpose      string
	RequestID    string
}

// auditRow is a row of audit_log. Every column except hash goes into hash.
type auditRow struct {
	TenantID      uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID            uuid.UUID `gorm:"type:uuid;primaryKey"`
	Seq           int64
	OccurredAt    time.Time
	ActorKind     string
	ActorIssuer   string
	ActorSubject  string
	ActorMemberID *uuid.UUID `gorm:"type:uuid"`
	Organisation  *uuid.UUID `gorm:"type:uuid"`
	Action        string
	RecordType    string
	RecordID      *uuid.UUID `gorm:"type:uuid"`
	FieldGroups   string
	Purpose       string
	RequestID     string
	PrevHash      []byte
	Hash          []byte
}

func (auditRow) TableName() string { return "audit_log" }

// auditHead is the head of a tenant's chain and the anchor retention left.
type auditHead struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	Seq        int64
	Hash       []byte
	AnchorSeq  int64
	AnchorHash []byte
	AnchorAt   *time.Time
	AnchorMAC  []byte `gorm:"column:anchor_mac"`
	UpdatedAt  time.Time
}

func (auditHead) TableName() string { return "audit_heads" }

// genesis is the previous hash of a chain's first row.
var genesis = make([]byte, sha256.Size)

var (
	actionPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	codePattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	requestPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// validate names what is wrong with an entry. Entries are written by code,
// not typed by people, so a bad one is a programming error (internal).
func (e AuditEntry) validate() error {
	var bad []string
	if !actionPattern.MatchString(e.Action) || len(e.Action) > 100 {
		bad = append(bad, fmt.Sprintf("action %q: required, like case.read", e.Action))
	}
	if !codePattern.MatchString(e.RecordType) || len(e.RecordType) > 100 {
		bad = append(bad, fmt.Sprintf("record type %q: required, like case", e.RecordType))
	}
	for _, g := range e.FieldGroups {
		if !codePattern.MatchString(g) || len(g) > 100 {
			bad = append(bad, fmt.Sprintf("field group %q: a code like identity", g))
		}
	}
	if e.Purpose != "" && (!codePattern.MatchString(e.Purpose) || len(e.Purpose) > 64) {
		bad = append(bad, fmt.Sprintf("purpose %q: a code like services, never free text", e.Purpose))
	}
	if len(bad) > 0 {
		return errors.New("tenants: audit entry: " + strings.Join(bad, "; "))
	}
	return nil
}

func validActor(a Actor) error {
	switch a.Kind {
	case ActorMember, ActorAPIToken, ActorSystem, ActorOperator:
	case ActorPartner:
		if a.MemberID != nil {
			return errors.New("tenants: audit: a partner organisation is recorded without a member of it")
		}
	default:
		return fmt.Errorf("tenants: audit: unknown actor kind %q", a.Kind)
	}
	if a.Issuer == "" || a.Subject == "" || len(a.Issuer) > 500 || len(a.Subject) > 500 {
		return errors.New("tenants: audit: the actor needs an issuer and a subject")
	}
	return nil
}

// Audit appends e to the tenant's audit chain in the caller's transaction;
// the actor and request id come from the transaction's context (WithActor,
// WithRequestID), and the organisation the actor acts for from WithTenant
// (else the transaction's tenant; none for a platform operator). The row
// commits or rolls back with the action it records.
//
// On PostgreSQL the first Audit of a transaction locks the tenant's chain
// head until the transaction ends, so that appends take consecutive numbers:
// audit late in a transaction that does slow work.
func Audit(tx *gorm.DB, e AuditEntry) error {
	if err := e.validate(); err != nil {
		return err
	}
	ctx := tx.Statement.Context
	tenant, ok := txTenantFrom(ctx)
	if !ok {
		return ErrNoTenant
	}
	actor := ActorFrom(ctx)
	if err := validActor(actor); err != nil {
		return err
	}
	key, err := DeriveKey(tx, auditChainPurpose)
	if err != nil {
		return err
	}
	row := auditRow{
		TenantID:      tenant,
		ID:            newID(),
		ActorKind:     actor.Kind,
		ActorIssuer:   actor.Issuer,
		ActorSubject:  actor.Subject,
		ActorMemberID: actor.MemberID,
		Action:        e.Action,
		RecordType:    e.RecordType,
		FieldGroups:   joinFieldGroups(e.FieldGroups),
		Purpose:       e.Purpose,
	}
	if org, ok := TenantFrom(ctx); ok {
		row.Organisation = &org
	} else if actor.Kind != ActorOperator {
		row.Organisation = &tenant
	}
	if e.RecordID != uuid.Nil {
		id := e.RecordID
		row.RecordID = &id
	}
	if id := RequestIDFrom(ctx); requestPattern.MatchString(id) {
		row.RequestID = id
	}

	db := tx.Session(&gorm.Session{NewDB: true})
	head, err := lockAuditHead(db)
	if err != nil {
		return err
	}
	row.Seq = head.Seq + 1
	row.PrevHash = head.Hash
	// Taken after the lock, so occurred_at follows seq.
	row.OccurredAt = auditNow(ctx)
	row.Hash = chainHash(key, &row)
	if err := db.Create(&row).Error; err != nil {
		return fmt.Errorf("tenants: write the audit row: %w", err)
	}
	res := db.Model(&auditHead{}).Where("seq = ?", head.Seq).
		Updates(map[string]any{"seq": row.Seq, "hash": row.Hash, "updated_at": row.OccurredAt})
	if res.Error != nil {
		return fmt.Errorf("tenants: move the audit chain head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return errors.New("tenants: the audit chain head moved during an append")
	}
	return nil
}

// lockAuditHead returns the tenant's chain head, creating it on the first
// append, locked until the transaction ends (PostgreSQL; SQLite transactions
// are serialised by their IMMEDIATE write lock already).
func lockAuditHead(db *gorm.DB) (auditHead, error) {
	now := time.Now().UTC()
	// Two first appends at once: the second waits on the first's insert and
	// then does nothing.
	err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&auditHead{Hash: genesis, AnchorHash: genesis, UpdatedAt: now}).Error
	if err != nil {
		return auditHead{}, fmt.Errorf("tenants: create the audit chain head: %w", err)
	}
	var head auditHead
	if err := db.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&head).Error; err != nil {
		return auditHead{}, fmt.Errorf("tenants: lock the audit chain head: %w", err)
	}
	return head, nil
}

func joinFieldGroups(groups []string) string {
	g := slices.Clone(groups)
	slices.Sort(g)
	return strings.Join(slices.Compact(g), ",")
}

func splitFieldGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// canonical writes each value length-prefixed, so that no two different
// rows encode alike (no value can borrow bytes from its neighbour).
type canonical struct{ h hash.Hash }

func (c canonical) bytes(b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	c.h.Write(n[:])
	c.h.Write(b)
}

func (c canonical) str(s string) { c.bytes([]byte(s)) }

func (c canonical) int(v int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	c.bytes(b[:])
}

// id writes a UUID as 16 bytes and an absent one as nothing: the two differ.
func (c canonical) id(u *uuid.UUID) {
	if u == nil {
		c.bytes(nil)
		return
	}
	c.bytes(u[:])
}

// chainHash is the keyed hash of row: every column but hash itself, the
// previous row's hash included.
func chainHash(key []byte, r *auditRow) []byte {
	m := hmac.New(sha256.New, key)
	c := canonical{m}
	c.str("homeward/audit/v1/row")
	c.id(&r.TenantID)
	c.id(&r.ID)
	c.int(r.Seq)
	c.int(r.OccurredAt.UnixMicro())
	c.str(r.ActorKind)
	c.str(r.ActorIssuer)
	c.str(r.ActorSubject)
	c.id(r.ActorMemberID)
	c.id(r.Organisation)
	c.str(r.Action)
	c.str(r.RecordType)
	c.id(r.RecordID)
	c.str(r.FieldGroups)
	c.str(r.Purpose)
	c.str(r.RequestID)
	c.bytes(r.PrevHash)
	return m.Sum(nil)
}

// auditClockKey lets tests date rows in the past (retention); production
// rows are dated by the clock.
type auditClockKey struct{}

func withAuditClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, auditClockKey{}, now)
}

// auditNow is the time of a row, to the microsecond PostgreSQL keeps.
func auditNow(ctx context.Context) time.Time {
	now := time.Now
	if f, ok := ctx.Value(auditClockKey{}).(func() time.Time); ok && f != nil {
		now = f
	}
	return now().UTC().Truncate(time.Microsecond)
}

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	Limit      int       // 1 to MaxAuditPage; 0 means DefaultAuditPage
	Cursor     string    // Next of the previous page; "" for the newest entries
	RecordType string    // optional: only this kind of record ...
	RecordID   uuid.UUID // ... and, optionally, only this record
}

// AuditPage is a page of the audit log; Next is "" on the last page.
type AuditPage struct {
	Entries []AuditRecord
	Next    string
}

// ListAudit reads the transaction's tenant's audit log, newest first. Bad
// input (a limit out of range, a cursor not from a previous page) is an
// EINVALID error naming the field.
func ListAudit(tx *gorm.DB, q AuditQuery) (AuditPage, error) {
	f := homeward.FieldErrors{}
	q.Limit = pageLimit(q.Limit, f)
	var before int64
	if q.Cursor != "" {
		var ok bool
		if before, ok = decodeAuditCursor(q.Cursor); !ok {
			f.Add("cursor", badCursor)
		}
	}
	if q.RecordType != "" && !codePattern.MatchString(q.RecordType) {
		f.Add("record_type", "a record type such as case")
	}
	if q.RecordID != uuid.Nil && q.RecordType == "" {
		f.Add("record_type", "required with a record id")
	}
	if err := f.Err(); err != nil {
		return AuditPage{}, err
	}
	db := tx.Session(&gorm.Session{NewDB: true}).Model(&auditRow{})
	if before > 0 {
		db = db.Where("seq < ?", before)
	}
	if q.RecordType != "" {
		db = db.Where("record_type = ?", q.RecordType)
	}
	if q.RecordID != uuid.Nil {
		db = db.Where("record_id = ?", q.RecordID)
	}
	var rows []auditRow
	if err := db.Order("seq DESC").Limit(q.Limit + 1).Find(&rows).Error; err != nil {
		return AuditPage{}, err
	}
	var page AuditPage
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		page.Next = encodeAuditCursor(rows[len(rows)-1].Seq)
	}
	page.Entries = make([]AuditRecord, len(rows))
	for i, r := range rows {
		page.Entries[i] = AuditRecord{
			ID: r.ID, Seq: r.Seq, OccurredAt: r.OccurredAt.UTC(),
			Actor:        Actor{Kind: r.ActorKind, Issuer: r.ActorIssuer, Subject: r.ActorSubject, MemberID: r.ActorMemberID},
			Organisation: r.Organisation, Action: r.Action, RecordType: r.RecordType, RecordID: r.RecordID,
			FieldGroups: splitFieldGroups(r.FieldGroups), Purpose: r.Purpose, RequestID: r.RequestID,
		}
	}
	return page, nil
}

// The cursor is opaque to clients: the seq below which the next page starts.
func encodeAuditCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a1:" + strconv.FormatInt(seq, 10)))
}

func decodeAuditCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "a1:")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(v, 10, 64)
	return seq, err == nil && seq > 0
}
