package tenants

import (
	"context"
	"fmt"
	"time"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// KindNotifyCreate is the job that creates one in-app notification (its
// handler calls CreateNotification).
const KindNotifyCreate = "notify:create"

// NotificationKinds are the message keys a notification may carry, each
// with what it tells. A notification holds no text: its kind is rendered in
// the reader's language at display time. A feature adds its kinds here.
var NotificationKinds = map[string]string{
	"platform:test":           "a test notification, to check that notifications reach a member",
	"followup:visit_due":      "a follow-up visit of one of the member's cases is due soon (tenants/followup)",
	"followup:visit_overdue":  "a follow-up visit of one of the member's cases is overdue (tenants/followup)",
	"handoff:partnership":     "another organisation proposed, accepted, declined, suspended, resumed or ended a partnership with the member's organisation (tenants/handoffs)",
	"handoff:received":        "a partner organisation handed a survivor over: a new handoff in the inbox (tenants/handoffs)",
	"handoff:override_asked":  "a handoff waits for a second person to approve sending it without the sharing consent (tenants/handoffs)",
	"handoff:accepted":        "the receiving organisation accepted a handoff (tenants/handoffs)",
	"handoff:declined":        "the receiving organisation declined a handoff (tenants/handoffs)",
	"handoff:withdrawn":       "the sending organisation withdrew a handoff before its acceptance (tenants/handoffs)",
	"handoff:stage":           "the other organisation recorded, confirmed or reopened a stage of a handoff (tenants/handoffs)",
	"handoff:message":         "the other organisation wrote in a handoff's thread (tenants/handoffs)",
	"handoff:feedback":        "the receiving organisation sent reintegration feedback on a handoff (tenants/handoffs)",
	"handoff:stalled":         "a stage of a handoff has not moved past the partnership's stall threshold, and the next step is the member's organisation's (tenants/handoffs)",
	"handoff:sharing_stopped": "the sending organisation stopped sharing further updates of a handoff (tenants/handoffs)",
}

// NotificationRecordTypes are the records a notification may link to, each
// with where it lives. A feature adds its record types here.
var NotificationRecordTypes = map[string]string{
	"organisation":   "the organisation itself (tenants)",
	"mail":           "a mail message (mail_messages)",
	"followup_visit": "a follow-up visit (followup_visits)",
	"partnership":    "a partnership with another organisation (partnerships)",
	"handoff":        "a repatriation handoff, this organisation's copy (handoffs)",
}

// Notification is one in-app notification for one member: what happened
// (Kind) and the record it is about. Tenant-owned; no free text, no
// personal data.
type Notification struct {
	TenantID   uuid.UUID  `gorm:"type:uuid;primaryKey" json:"-"`
	ID         uuid.UUID  `gorm:"type:uuid;primaryKey" json:"id"`
	MemberID   uuid.UUID  `gorm:"type:uuid" json:"member_id"`
	Kind       string     `json:"kind"`
	RecordType string     `json:"record_type"`
	RecordID   uuid.UUID  `gorm:"type:uuid" json:"record_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at"`
}

// TableName keeps the table's name explicit.
func (Notification) TableName() string { return "notifications" }

// notificationNamespace names the ids that carry a kind or a record type
// through the outbox, whose payloads hold ids only.
var notificationNamespace = uuid.MustParse("0b6f3c52-5d0e-4f7a-8f43-93a1e2c7d615")

func kindID(kind string) uuid.UUID { return uuid.NewSHA1(notificationNamespace, []byte("kind:"+kind)) }
func recordTypeID(t string) uuid.UUID {
	return uuid.NewSHA1(notificationNamespace, []byte("record_type:"+t))
}

// nameOf finds which key of names id stands for.
func nameOf(names map[string]string, id uuid.UUID, idOf func(string) uuid.UUID) (string, bool) {
	for name := range names {
		if idOf(name) == id {
			return name, true
		}
	}
	return "", false
}

// Notify asks for a notification to member about a record, in tx (the
// caller's InTenant transaction): the notify:create job is written into the
// outbox and creates the notification once tx commits, never if it rolls
// back. kind must be in NotificationKinds and recordType in
// NotificationRecordTypes. It returns the id the notification will have.
func Notify(tx *gorm.DB, memberID uuid.UUID, kind, recordType string, recordID uuid.UUID) (uuid.UUID, error) {
	f := homeward.FieldErrors{}
	if memberID == uuid.Nil {
		f.Add("member_id", "required")
	}
	if _, ok := NotificationKinds[kind]; !ok {
		f.Add("kind", "one of tenants.NotificationKinds")
	}
	if _, ok := NotificationRecordTypes[recordType]; !ok {
		f.Add("record_type", "one of tenants.NotificationRecordTypes")
	}
	if recordID == uuid.Nil {
		f.Add("record_id", "required")
	}
	if err := f.Err(); err != nil {
		return uuid.Nil, err
	}
	if _, ok := txTenantFrom(tx.Statement.Context); !ok {
		return uuid.Nil, ErrNoTenant
	}
	// The job's id is the notification's: every delivery of the job
	// inserts the same row, so a redelivery adds nothing.
	id := newID()
	_, err := Enqueue(tx, Job{ID: id, Kind: KindNotifyCreate, IDs: map[string]uuid.UUID{
		"notification": id,
		"member":       memberID,
		"kind":         kindID(kind),
		"record_type":  recordTypeID(recordType),
		"record":       recordID,
	}})
	if err != nil {
		return uuid.Nil, fmt.Errorf("tenants: enqueue the notification: %w", err)
	}
	return id, nil
}

// Notice is what a feature tells a member about a record: an in-app
// notification of Kind, and a mail from Template (web/emails) carrying
// MailIDs when the member gave a contact address. Neither carries text:
// ids only, rendered in the member's language.
type Notice struct {
	Kind       string // a key of NotificationKinds
	RecordType string // a key of NotificationRecordTypes
	RecordID   uuid.UUID
	Template   string               // the mail's template
	MailIDs    map[string]uuid.UUID // the ids the mail's template reads
}

// Tell asks, in tx (the caller's InTenant transaction), for n's
// notification to member and, when the member gave a contact address
// (ContactOf), its mail in the address's language: both through the
// outbox, so neither is sent unless tx commits.
func Tell(tx *gorm.DB, member uuid.UUID, n Notice) error {
	if _, err := Notify(tx, member, n.Kind, n.RecordType, n.RecordID); err != nil {
		return err
	}
	contact, ok, err := ContactOf(tx, member)
	if err != nil || !ok || contact.Address == "" {
		return err
	}
	_, err = QueueMail(tx, Mail{To: contact.Address, Template: n.Template, Language: contact.Language, IDs: n.MailIDs})
	return err
}

// CreateNotification is the work of a notify:create job (ids as Notify wrote
// them): it inserts the notification in tx unless it exists. A payload that
// names an unknown kind or record type is an EINVALID error, which no retry
// mends.
func CreateNotification(tx *gorm.DB, ids map[string]uuid.UUID) error {
	kind, okKind := nameOf(NotificationKinds, ids["kind"], kindID)
	recordType, okType := nameOf(NotificationRecordTypes, ids["record_type"], recordTypeID)
	n := &Notification{
		ID: ids["notification"], MemberID: ids["member"], Kind: kind, RecordType: recordType,
		RecordID: ids["record"], CreatedAt: time.Now().UTC(),
	}
	if !okKind || !okType || n.ID == uuid.Nil || n.MemberID == uuid.Nil || n.RecordID == uuid.Nil {
		return homeward.Errorf(homeward.EINVALID, "the notify:create job does not name a known kind, record type, member, record and notification")
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(n).Error
}

// NotificationQuery selects a page of a member's notifications, newest
// first.
type NotificationQuery struct {
	// Limit is the page size: 0 is DefaultPage, at most MaxPage.
	Limit int
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
}

// NotificationPage is one page of notifications, newest first.
type NotificationPage struct {
	Items []Notification `json:"items"`
	// NextCursor fetches the next page; "" on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Notifications lists member's notifications in tenant, newest first.
func (s *Store) Notifications(ctx context.Context, tenant, member uuid.UUID, q NotificationQuery) (*NotificationPage, error) {
	// Notification ids are time-ordered (UUIDv7, drawn by Notify), so the
	// id alone orders the list; the cursor is bound to the member.
	f := homeward.FieldErrors{}
	limit := pageLimit(q.Limit, f)
	var after uuid.UUID
	if q.Cursor != "" {
		var ok bool
		if after, ok = decodeListCursor("n1", q.Cursor, member.String()); !ok {
			f.Add("cursor", badCursor)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	page := &NotificationPage{Items: []Notification{}}
	err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		q := tx.Where("member_id = ?", member)
		if after != uuid.Nil {
			q = q.Where("id < ?", after)
		}
		// PostgreSQL orders uuids by their bytes, SQLite by their text:
		// the same order for these lowercase, fixed-length ids.
		return q.Order("id DESC").Limit(limit + 1).Find(&page.Items).Error
	})
	if err != nil {
		return nil, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = encodeListCursor("n1", page.Items[limit-1].ID, member.String())
	}
	return page, nil
}

// UnreadNotifications counts member's unread notifications in tenant.
func (s *Store) UnreadNotifications(ctx context.Context, tenant, member uuid.UUID) (int64, error) {
	var n int64
	err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		return tx.Model(&Notification{}).Where("member_id = ? AND read_at IS NULL", member).Count(&n).Error
	})
	return n, err
}

// MarkNotificationRead marks one of member's notifications read (again: no
// change). Another member's notification, or none, is ENOTFOUND.
func (s *Store) MarkNotificationRead(ctx context.Context, tenant, member, id uuid.UUID) error {
	return s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		r := tx.Model(&Notification{}).Where("id = ? AND member_id = ? AND read_at IS NULL", id, member).
			Update("read_at", time.Now().UTC())
		if r.Error != nil || r.RowsAffected > 0 {
			return r.Error
		}
		var n int64
		if err := tx.Model(&Notification{}).Where("id = ? AND member_id = ?", id, member).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return homeward.Errorf(homeward.ENOTFOUND, "no such notification")
		}
		return nil
	})
}

// MarkAllNotificationsRead marks every unread notification of member read
// and returns how many it marked.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, tenant, member uuid.UUID) (int64, error) {
	var n int64
	err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		r := tx.Model(&Notification{}).Where("member_id = ? AND read_at IS NULL", member).Update("read_at", time.Now().UTC())
		n = r.RowsAffected
		return r.Error
	})
	return n, err
}
