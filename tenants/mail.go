package tenants

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/web/emails"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// KindMailSend is the job that sends one mail_messages row (the worker's
// handler is workers.Mailer).
const KindMailSend = "mail:send"

// Mail statuses. There is no "sending": the send runs inside the job's
// transaction, so such a state could never be seen by anyone else (see
// workers.Mailer for why the send is not split into its own transaction).
const (
	MailQueued = "queued" // written, waiting for its job
	MailSent   = "sent"   // the SMTP server (or the demo mailbox) took it
	MailFailed = "failed" // given up: refused for good, or retries ran out
)

// MailMessage is the record of one e-mail: to whom, which template in which
// language, and the ids the template reads. It holds no personal data but
// the bare address; the rendered text is never stored. Tenant-owned.
type MailMessage struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	ToAddress string
	Template  string // a key of web/emails, such as "platform:test"
	Language  string // lo, th, ms, en or fr
	Params    string // JSON object of ids, like an outbox payload
	Status    string
	Attempts  int    // deliveries tried, written with the outcome
	MessageID string // RFC 5322 Message-ID, with its angle brackets (MessageIDOf)
	CreatedAt time.Time
	SentAt    *time.Time
	LastError string // why it failed; never the address or the server's words
}

// TableName keeps the table's name explicit.
func (MailMessage) TableName() string { return "mail_messages" }

// IDs decodes the ids the template reads.
func (m *MailMessage) IDs() (map[string]uuid.UUID, error) {
	ids := map[string]uuid.UUID{}
	if err := json.Unmarshal([]byte(m.Params), &ids); err != nil {
		return nil, fmt.Errorf("tenants: mail %s: params are not a JSON object of ids: %w", m.ID, err)
	}
	return ids, nil
}

// Mail is a message a feature asks for.
type Mail struct {
	// To is a bare address, such as someone@example.org: no display name,
	// which would be personal data beyond the address.
	To string
	// Template is a key of web/emails ("platform:test").
	Template string
	// Language is one of emails.Languages: the recipient's.
	Language string
	// IDs names the records the template reads, in the send's own
	// transaction; never their contents.
	IDs map[string]uuid.UUID
	// Queue is the outbox queue of the job; "" is "default".
	Queue string
}

var idKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// maxAddressLen is the longest address SMTP carries (RFC 5321's path limit
// less its angle brackets).
const maxAddressLen = 254

// Validate names each bad field and why.
func (m *Mail) Validate() error {
	f := homeward.FieldErrors{}
	to := strings.TrimSpace(m.To)
	if why := addressProblem(to); why != "" {
		f.Add("to", why)
	}
	if !emails.Known(m.Template) {
		f.Add("template", fmt.Sprintf("one of the templates %v", emails.Templates().Keys()))
	}
	if !emails.ValidLanguage(m.Language) {
		f.Add("language", fmt.Sprintf("one of %v", emails.Languages))
	}
	if len(m.IDs) > 16 {
		f.Add("ids", "at most 16 ids")
	}
	for k, v := range m.IDs {
		if !idKeyPattern.MatchString(k) || v == uuid.Nil {
			f.Add("ids", "lowercase names (letters, digits, _) of non-zero ids")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	m.To = to
	return nil
}

// addressProblem is why to (trimmed) cannot be a mail's recipient, "" when
// it can: a bare address, no display name, at most maxAddressLen.
func addressProblem(to string) string {
	addr, err := mail.ParseAddress(to)
	switch {
	case to == "":
		return "required"
	case err != nil || addr.Address != to:
		return "a bare e-mail address such as someone@example.org, without a display name"
	case len(to) > maxAddressLen:
		return fmt.Sprintf("at most %d characters", maxAddressLen)
	}
	return ""
}

// MessageIDOf is the RFC 5322 Message-ID of the mail id: the same mail
// always carries the same one, so a duplicate delivery can be recognised
// (and is folded into one by clients that thread on it).
func MessageIDOf(id uuid.UUID) string { return "<" + id.String() + "@homeward>" }

// QueueMail records a mail and writes its send job into the outbox, both in
// tx (the caller's InTenant transaction): the mail goes out once tx commits,
// never if it rolls back.
func QueueMail(tx *gorm.DB, m Mail) (*MailMessage, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if _, ok := txTenantFrom(tx.Statement.Context); !ok {
		return nil, ErrNoTenant
	}
	ids := m.IDs
	if ids == nil {
		ids = map[string]uuid.UUID{}
	}
	params, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	id := newID()
	row := &MailMessage{
		ID: id, ToAddress: m.To, Template: m.Template, Language: m.Language, Params: string(params),
		Status: MailQueued, MessageID: MessageIDOf(id), CreatedAt: time.Now().UTC(),
	}
	if err := tx.Create(row).Error; err != nil {
		return nil, fmt.Errorf("tenants: record the mail: %w", err)
	}
	if _, err := Enqueue(tx, Job{Kind: KindMailSend, Queue: m.Queue, IDs: map[string]uuid.UUID{"mail": id}}); err != nil {
		return nil, fmt.Errorf("tenants: enqueue the mail: %w", err)
	}
	return row, nil
}

// MailByID reads one mail of the transaction's tenant.
func MailByID(tx *gorm.DB, id uuid.UUID) (*MailMessage, error) {
	var m MailMessage
	err := tx.Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no mail %s", id)
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// MarkMailSent records that a queued mail was delivered after attempts
// tries.
func MarkMailSent(tx *gorm.DB, id uuid.UUID, attempts int) error {
	now := time.Now().UTC()
	return tx.Model(&MailMessage{}).Where("id = ? AND status = ?", id, MailQueued).
		Updates(map[string]any{"status": MailSent, "sent_at": now, "attempts": attempts, "last_error": ""}).Error
}

// MarkMailFailed records that a queued mail was given up after attempts
// tries, with a reason that holds no personal data.
func MarkMailFailed(tx *gorm.DB, id uuid.UUID, attempts int, reason string) error {
	if len(reason) > 500 {
		reason = strings.ToValidUTF8(reason[:500], "")
	}
	return tx.Model(&MailMessage{}).Where("id = ? AND status = ?", id, MailQueued).
		Updates(map[string]any{"status": MailFailed, "attempts": attempts, "last_error": reason}).Error
}
