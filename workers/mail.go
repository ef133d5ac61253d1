package workers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/web/emails"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/wneessen/go-mail"
	"gorm.io/gorm"
)

// Sender delivers one rendered mail: SMTPSender in production, the demo
// mailbox (web/mailbox) in demo mode. Its errors are stored in Redis and the
// outbox: they must not quote the address or the message. An error wrapping
// asynq.SkipRetry is final (the server refused the mail for good).
type Sender interface {
	Send(ctx context.Context, m *emails.Message) error
}

// Mailer is the handler of mail:send jobs (tenants.QueueMail writes them):
// it reads the queued mail by id, renders its template in its language with
// what the template needs (read in the same transaction), hands it to the
// Sender and marks it sent.
//
// Exactly once. The send runs inside the job's transaction, which holds the
// outbox row (locked on PostgreSQL, so no other worker runs the same job
// meanwhile) and commits the "sent" mark with the row's done mark:
//
//   - The worker dies, or its task is cancelled (shutdown), before the
//     message's end-of-data mark has left it: the Sender drops the
//     connection the moment ctx ends, the server discards the unfinished
//     message, the transaction rolls back, and the job runs again: one
//     delivery. (Without the drop, the rest of the message would still
//     arrive after the transaction was gone, and the retry would be a
//     second copy.)
//   - The whole message has left the worker and it dies before its commit
//     (waiting for the server's 250, or committing): the server may have
//     kept the message, yet the mail is still "queued" and is sent again.
//     This window (the server's reply and one commit) cannot be closed,
//     since SMTP cannot be asked whether a message arrived. Both copies
//     carry the same Message-ID (tenants.MessageIDOf the mail's id), so the
//     duplicate is recognisable, and clients that thread on it show one.
//
// Why not commit a "sending" mark in its own short transaction before
// talking to the server? It would decide nothing: after a crash a mail
// found "sending" may or may not have arrived, and it must be sent again in
// both cases (or a worker killed before the end of DATA loses the mail), so
// the outcome is the one above. And it costs: on SQLite the job's
// transaction holds the only write lock, so a second write from inside the
// handler waits for itself until the busy timeout; on PostgreSQL each send
// holds two pooled connections, and a retry must tell a stale "sending"
// from a live one. The number of attempts comes from asynq instead and is
// written with the outcome.
//
// Retries: a failure returns its error and asynq retries with backoff; a
// refusal for good (an SMTP 5xx reply) is not retried. Either way, when the
// job is given up its outbox row goes dead and the mail "failed" with the
// reason (Registry.OnGiveUp), in one transaction.
type Mailer struct {
	Sender Sender
	// From is the sender address (HOMEWARD_MAIL_FROM).
	From string
	// BaseURL is Homeward's address, for links in the mail.
	BaseURL string
}

// RegisterMail registers the mail:send handler and its give-up record.
func RegisterMail(r *Registry, m *Mailer) {
	if m == nil || m.Sender == nil || m.From == "" {
		panic("workers: RegisterMail needs a Mailer with a Sender and a From address")
	}
	r.Register(tenants.KindMailSend, m.Send)
	r.OnGiveUp(tenants.KindMailSend, m.giveUp)
}

// Send is the mail:send handler.
func (m *Mailer) Send(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error {
	row, err := tenants.MailByID(tx, ids["mail"])
	switch {
	case homeward.ErrorCode(err) == homeward.ENOTFOUND:
		return fmt.Errorf("mail %s does not exist: %w", ids["mail"], asynq.SkipRetry)
	case err != nil:
		return fmt.Errorf("read mail %s: %w", ids["mail"], err)
	case row.Status != tenants.MailQueued:
		return nil // sent, or given up, already
	}
	msg, err := m.render(tx, row)
	if err != nil {
		return fmt.Errorf("render mail %s: %v: %w", row.ID, err, asynq.SkipRetry)
	}
	if err := m.Sender.Send(ctx, msg); err != nil {
		return err
	}
	return tenants.MarkMailSent(tx, row.ID, attempt(ctx))
}

// render reads what the template needs and renders the mail.
func (m *Mailer) render(tx *gorm.DB, row *tenants.MailMessage) (*emails.Message, error) {
	var org tenants.Tenant
	if err := tx.Where("id = ?", row.TenantID).Take(&org).Error; err != nil {
		return nil, fmt.Errorf("read the organisation: %w", err)
	}
	d := emails.Data{Organisation: org.Name, BaseURL: m.BaseURL}
	if details := mailDetails[row.Template]; details != nil {
		ids, err := row.IDs()
		if err != nil {
			return nil, err
		}
		if err := details(tx, ids, row.Language, &d); err != nil {
			return nil, err
		}
	}
	r, err := emails.Render(row.Template, row.Language, d)
	if err != nil {
		return nil, err
	}
	return &emails.Message{
		MessageID: row.MessageID, From: m.From, To: row.ToAddress, Language: row.Language,
		Date: time.Now().UTC(), Rendered: *r,
	}, nil
}

// mailDetails fill, per template, what a mail shows beyond the
// organisation, read by the mail's ids in the send's transaction: a
// feature's template names its reader here.
var mailDetails = map[string]func(tx *gorm.DB, ids map[string]uuid.UUID, lang string, d *emails.Data) error{
	followup.MailVisitDue:     followUpReminderMail,
	followup.MailVisitOverdue: followUpReminderMail,

	handoffs.NoticeReceived:       handoffMail,
	handoffs.NoticeOverrideAsked:  handoffMail,
	handoffs.NoticeAccepted:       handoffMail,
	handoffs.NoticeDeclined:       handoffMail,
	handoffs.NoticeWithdrawn:      handoffMail,
	handoffs.NoticeStage:          handoffMail,
	handoffs.NoticeMessage:        handoffMail,
	handoffs.NoticeFeedback:       handoffMail,
	handoffs.NoticeStalled:        handoffMail,
	handoffs.NoticeSharingStopped: handoffMail,
}

// giveUp marks the mail failed when its job is given up.
func (m *Mailer) giveUp(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID, reason string) error {
	return tenants.MarkMailFailed(tx, ids["mail"], attempt(ctx), reason)
}

// attempt is the number of this try of the task (asynq counts retries).
func attempt(ctx context.Context) int {
	n, _ := asynq.GetRetryCount(ctx)
	return n + 1
}

// DefaultSMTPTimeout bounds each step of an SMTP conversation.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig is how SMTPSender reaches the server.
type SMTPConfig struct {
	// URL is smtp://USER:PASSWORD@HOST:PORT (HOMEWARD_SMTP_URL); without a
	// user no AUTH is sent.
	URL *url.URL
	// TLSConfig verifies the server after STARTTLS; nil verifies it against
	// the system's roots for the URL's host name. A private CA (or a test's
	// self-signed certificate) goes in its RootCAs.
	TLSConfig *tls.Config
	// Timeout bounds each step of the conversation; zero is
	// DefaultSMTPTimeout. The job's transaction stays open that long at
	// most per step.
	Timeout time.Duration
	// HELO is the name given to the server; "" is the machine's host name.
	HELO string
	// Dial opens the connection to the server; nil dials it directly (a
	// proxy could go here; the tests put a slow link here).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// SMTPSender sends mail through an SMTP server, always over STARTTLS (a
// server that does not offer it is refused), authenticating with the
// strongest mechanism the server offers. It uses github.com/wneessen/go-mail:
// maintained (net/smtp is frozen), MIME and RFC 2047 encoding of Lao and
// Thai subjects, enhanced status codes, and a dialler we can close when the
// task is cancelled.
type SMTPSender struct {
	cfg  SMTPConfig
	host string
	port int
}

// NewSMTPSender checks cfg; nothing is dialled until Send.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	u := cfg.URL
	if u == nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, errors.New("workers: expected an smtp://USER:PASSWORD@HOST:PORT URL")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port <= 0 || port > 65535 {
		return nil, errors.New("workers: the SMTP URL needs a port, such as 587")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{}
	}
	cfg.TLSConfig = cfg.TLSConfig.Clone()
	if cfg.TLSConfig.ServerName == "" {
		cfg.TLSConfig.ServerName = u.Hostname()
	}
	if cfg.TLSConfig.MinVersion < tls.VersionTLS12 {
		cfg.TLSConfig.MinVersion = tls.VersionTLS12
	}
	return &SMTPSender{cfg: cfg, host: u.Hostname(), port: port}, nil
}

// Send delivers m in one SMTP conversation. When ctx ends during it, the
// connection is dropped at once, so a message whose DATA was not finished
// is discarded by the server rather than completed later.
func (s *SMTPSender) Send(ctx context.Context, m *emails.Message) error {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return errors.New("smtp: the sender address (HOMEWARD_MAIL_FROM) is not valid")
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: the recipient address is not valid: %w", asynq.SkipRetry)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	msg.SetDateWithValue(m.Date)
	msg.SetGenHeader(mail.HeaderContentLang, m.Language)
	// RFC 3834: no out-of-office replies to a machine's mail.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}

	var stopWatching func() bool
	defer func() {
		if stopWatching != nil {
			stopWatching()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		open := s.cfg.Dial
		if open == nil {
			open = (&net.Dialer{}).DialContext
		}
		conn, err := open(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		stopWatching = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTLSPolicy(mail.TLSMandatory),
		mail.WithTLSConfig(s.cfg.TLSConfig),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithDialContextFunc(dial),
	}
	if s.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(s.cfg.HELO))
	}
	if user := s.cfg.URL.User.Username(); user != "" {
		password, _ := s.cfg.URL.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user), mail.WithPassword(password))
	}
	client, err := mail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %v", err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		// The server took it (250 to the end of DATA); a failure after
		// that (RSET, QUIT) must not send it again.
		return nil
	}
	return describeSendError(err, m)
}

// describeSendError turns a failed send into an error that names what failed
// and the server's reply codes, never the server's words (they often quote
// the address) nor the address. A 5xx reply is final.
func describeSendError(err error, m *emails.Message) error {
	if err == nil {
		return errors.New("smtp: the server did not take the message")
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		text := "smtp: " + se.Reason.String()
		if code := se.ErrorCode(); code != 0 {
			text += fmt.Sprintf(": the server answered %d", code)
			if esc := se.EnhancedStatusCode(); esc != "" {
				text += " " + esc
			}
		}
		if code := se.ErrorCode(); code >= 500 && code < 600 {
			return fmt.Errorf("%s: %w", text, asynq.SkipRetry)
		}
		return errors.New(text)
	}
	// Dialling, STARTTLS or AUTH failed: the library's words name the
	// server (configuration, not personal data); scrub the address anyway.
	text := err.Error()
	for _, s := range []string{m.To, m.MessageID} {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return errors.New("smtp: " + text)
}
