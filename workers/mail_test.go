package workers_test

import (
	"context"
	"errors"
	"mime"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// mailRig is a rig whose registry sends mail through a real SMTP server.
type mailRig struct {
	*rig
	smtp   *smtpServer
	mailer *workers.Mailer
}

// newMailRig's dial, when given, opens the sender's connections.
func newMailRig(t *testing.T, store *tenants.Store, dial ...func(ctx context.Context, network, addr string) (net.Conn, error)) *mailRig {
	t.Helper()
	r := newRig(t, store, sharedRedis(t))
	srv := startSMTPServer(t)
	// The conversation's timeout is longer than the tests' deadlines: a
	// stuck send shows as a failure, not as a slow pass.
	cfg := workers.SMTPConfig{URL: srv.URL(), TLSConfig: srv.TLSConfig, Timeout: time.Minute, HELO: "homeward.test"}
	if len(dial) > 0 {
		cfg.Dial = dial[0]
	}
	sender, err := workers.NewSMTPSender(cfg)
	must(t, err)
	m := &workers.Mailer{Sender: sender, From: "Homeward <no-reply@homeward.test>", BaseURL: "https://homeward.example.org"}
	workers.RegisterMail(r.reg, m)
	return &mailRig{rig: r, smtp: srv, mailer: m}
}

// queueMail commits one mail in tenant, on the rig's queue.
func (r *mailRig) queueMail(tenant uuid.UUID, to, lang string) *tenants.MailMessage {
	r.t.Helper()
	var m *tenants.MailMessage
	must(r.t, r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		m, err = tenants.QueueMail(tx, tenants.Mail{To: to, Template: "platform:test", Language: lang, Queue: r.queue})
		return err
	}))
	return m
}

// mail reads a mail row.
func (r *mailRig) mail(tenant, id uuid.UUID) *tenants.MailMessage {
	r.t.Helper()
	var m *tenants.MailMessage
	must(r.t, r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		m, err = tenants.MailByID(tx, id)
		return err
	}))
	return m
}

// waitMail polls until the mail has status.
func (r *mailRig) waitMail(tenant, id uuid.UUID, status string) *tenants.MailMessage {
	r.t.Helper()
	var m *tenants.MailMessage
	eventually(r.t, 20*time.Second, func() bool { m = r.mail(tenant, id); return m.Status == status },
		func() string {
			return "mail " + id.String() + " is " + m.Status + " (" + m.LastError + "), want " + status
		})
	return m
}

// outboxOf is the outbox row of a mail's job.
func (r *mailRig) outboxOf(m *tenants.MailMessage) tenants.OutboxMessage {
	r.t.Helper()
	var row tenants.OutboxMessage
	must(r.t, r.store.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Where("kind = ? AND payload = ?", tenants.KindMailSend, `{"mail":"`+m.ID.String()+`"}`).Take(&row).Error
	}))
	return row
}

// startWorkerWithin starts a worker on the rig's queue whose Shutdown
// gives running tasks shutdownTimeout before taking them away.
func (r *mailRig) startWorkerWithin(shutdownTimeout time.Duration) (shutdown func()) {
	r.t.Helper()
	w, err := workers.NewWorker(workers.WorkerConfig{
		Store: r.store, Redis: r.opt, Registry: r.reg, Logger: testLogger(),
		Concurrency: 2, Queues: map[string]int{r.queue: 1},
		RetryDelay:      func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		ShutdownTimeout: shutdownTimeout, PollInterval: 50 * time.Millisecond,
	})
	must(r.t, err)
	must(r.t, w.Start())
	var once sync.Once
	shutdown = func() { once.Do(w.Shutdown) }
	r.t.Cleanup(shutdown)
	return shutdown
}

// TestMailDeliveredOnceWhenTheWorkerIsKilledMidSend: the first worker is
// killed while the message's content crawls over a slow link (the server has
// the DATA command, not the end of the message). Its connection must drop at
// once, so the server discards the unfinished message; a new worker then
// delivers it. The server accepts it exactly once, with the mail's
// Message-ID, and the mail is recorded sent.
//
// Had the killed worker kept its connection, its message would finish
// arriving after the kill (its transaction, and so its "sent" mark, being
// gone with its context) while the new worker sends it again: two copies.
func TestMailDeliveredOnceWhenTheWorkerIsKilledMidSend(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	var armed atomic.Bool
	stalled := make(chan struct{})
	slow := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &slowLink{Conn: c, armed: &armed, stalled: stalled, delay: 3 * time.Second}, nil
	}
	r := newMailRig(t, store, slow)
	tenant := tenanttest.NewTenant(t, store)
	var rcpts atomic.Int32
	r.smtp.rcpt = func(string) error {
		if rcpts.Add(1) == 1 {
			armed.Store(true) // the first attempt's content will crawl
		}
		return nil
	}

	m := r.queueMail(tenant, "field.worker@example.org", "lo")
	r.runRelay(r.relay)
	kill := r.startWorkerWithin(200 * time.Millisecond)
	select {
	case <-stalled:
	case <-time.After(20 * time.Second):
		t.Fatal("the first attempt never reached the message's content")
	}
	// Kill the worker mid-DATA: after its 200ms grace the task goes back to
	// the queue and its context ends.
	kill()
	if got := r.mail(tenant, m.ID); got.Status != tenants.MailQueued {
		t.Fatalf("after the kill the mail is %s, want queued", got.Status)
	}

	r.startWorkerWithin(3 * time.Second)
	sent := r.waitMail(tenant, m.ID, tenants.MailSent)
	r.waitStatus(r.outboxOf(m).ID, tenants.OutboxDone)
	// Both conversations are over: the killed one's ended when its
	// connection dropped (or, had it been kept, when its slow content
	// arrived, 3s after it started).
	eventually(t, 20*time.Second, func() bool { return r.smtp.dataConcluded() == 2 },
		func() string { return "the server has not finished with both DATA commands" })

	accepted, datas := r.smtp.received()
	if len(accepted) != 1 || datas != 2 {
		t.Fatalf("the server accepted %d messages after %d DATA commands, want exactly 1 after 2", len(accepted), datas)
	}
	got := accepted[0]
	if id := got.header.Get("Message-Id"); id != m.MessageID || id != "<"+m.ID.String()+"@homeward>" {
		t.Fatalf("Message-ID = %q, want %q", id, m.MessageID)
	}
	if len(got.to) != 1 || got.to[0] != "field.worker@example.org" || got.from != "no-reply@homeward.test" {
		t.Fatalf("envelope: from %q to %v", got.from, got.to)
	}
	if !got.tls || !got.authed {
		t.Fatalf("the message went without STARTTLS (%v) or AUTH (%v)", got.tls, got.authed)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject"))
	if err != nil || subject != "ຂໍ້ຄວາມທົດສອບຈາກ Homeward" {
		t.Fatalf("Subject = %q (%v), want the Lao subject", subject, err)
	}
	if got.header.Get("Content-Language") != "lo" || got.header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("headers: %v", got.header)
	}
	if sent.SentAt == nil || sent.LastError != "" || sent.Attempts != 1 {
		t.Fatalf("sent mail = %+v, want a send time and attempt 1 (a requeue after a kill is no retry)", sent)
	}

	// A handler run on a sent mail (a stale delivery past the worker's
	// done check) sends nothing.
	must(t, store.InTenant(tenants.WithTenant(context.Background(), tenant), tenant, func(tx *gorm.DB) error {
		return r.mailer.Send(context.Background(), tx, map[string]uuid.UUID{"mail": m.ID})
	}))
	if accepted, datas := r.smtp.received(); len(accepted) != 1 || datas != 2 {
		t.Fatalf("a second run of a sent mail reached the server: %d accepted, %d DATA", len(accepted), datas)
	}
}

// TestRolledBackMailIsNotSent: a mail queued in a transaction that rolls
// back never reaches the server; the committed one beside it does.
func TestRolledBackMailIsNotSent(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newMailRig(t, store)
	tenant := tenanttest.NewTenant(t, store)
	boom := errors.New("the business write failed")
	err := store.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		_, err := tenants.QueueMail(tx, tenants.Mail{To: "rolled.back@example.org", Template: "platform:test", Language: "th", Queue: r.queue})
		must(t, err)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	committed := r.queueMail(tenant, "committed@example.org", "th")
	r.runRelay(r.relay)
	r.startWorker()
	r.waitMail(tenant, committed.ID, tenants.MailSent)
	accepted, _ := r.smtp.received()
	if len(accepted) != 1 || accepted[0].to[0] != "committed@example.org" || accepted[0].header.Get("Message-Id") != committed.MessageID {
		t.Fatalf("the server accepted %d messages (%v), want the committed one only", len(accepted), accepted)
	}
}

// TestMailRetriesAndFailures: a temporary refusal is retried until the mail
// goes through; a permanent one (5xx) fails the mail at once; one that stays
// temporary fails it when the retries run out. A failed mail's outbox row is
// dead, and neither holds the address.
func TestMailRetriesAndFailures(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newMailRig(t, store)
	r.relay.MaxRetry = 2
	tenant := tenanttest.NewTenant(t, store)
	var mu sync.Mutex
	busy := 0
	r.smtp.rcpt = func(to string) error {
		mu.Lock()
		defer mu.Unlock()
		switch to {
		case "busy@example.org":
			if busy++; busy <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "busy@example.org: try again later"}
			}
		case "always.busy@example.org":
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "always.busy@example.org: mailbox full"}
		case "gone@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "gone@example.org: no such user"}
		}
		return nil
	}
	retried := r.queueMail(tenant, "busy@example.org", "ms")
	permanent := r.queueMail(tenant, "gone@example.org", "fr")
	exhausted := r.queueMail(tenant, "always.busy@example.org", "en")
	r.runRelay(r.relay)
	r.startWorker()

	// allowed control: two temporary refusals, then delivered
	m := r.waitMail(tenant, retried.ID, tenants.MailSent)
	if m.Attempts != 3 {
		t.Fatalf("delivered after %d attempts, want 3", m.Attempts)
	}

	m = r.waitMail(tenant, permanent.ID, tenants.MailFailed)
	if m.Attempts != 1 || !strings.Contains(m.LastError, "550 5.1.1") {
		t.Fatalf("permanently refused mail: %d attempts, last error %q; want 1 attempt and the reply code", m.Attempts, m.LastError)
	}
	row := r.waitStatus(r.outboxOf(permanent).ID, tenants.OutboxDead)
	for _, s := range []string{m.LastError, row.LastError} {
		if strings.Contains(s, "gone@") || strings.Contains(s, "no such user") {
			t.Fatalf("an error kept the address or the server's words: %q", s)
		}
	}

	m = r.waitMail(tenant, exhausted.ID, tenants.MailFailed)
	if m.Attempts != 3 || !strings.Contains(m.LastError, "gave up after 3 attempts") || !strings.Contains(m.LastError, "452") {
		t.Fatalf("mail whose retries ran out: %d attempts, last error %q", m.Attempts, m.LastError)
	}
	if strings.Contains(m.LastError, "always.busy") {
		t.Fatalf("the error kept the address: %q", m.LastError)
	}
	r.waitStatus(r.outboxOf(exhausted).ID, tenants.OutboxDead)

	accepted, _ := r.smtp.received()
	if len(accepted) != 1 || accepted[0].to[0] != "busy@example.org" {
		t.Fatalf("the server accepted %v, want the retried mail only", accepted)
	}
}

// TestSMTPSenderRefusesPlainText: a server that offers no STARTTLS is not
// sent to (the configuration says STARTTLS is always used).
func TestSMTPSenderRefusesPlainText(t *testing.T) {
	t.Parallel()
	plain := startPlainSMTPServer(t)
	u := plain.URL()
	sender, err := workers.NewSMTPSender(workers.SMTPConfig{URL: u, Timeout: 5 * time.Second})
	must(t, err)
	err = sender.Send(context.Background(), testMessage())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sending without STARTTLS: err = %v", err)
	}
	if errors.Is(err, asynq.SkipRetry) {
		t.Fatal("a missing STARTTLS is a configuration problem to retry after, not a refusal of the mail")
	}
	if accepted, datas := plain.received(); len(accepted) != 0 || datas != 0 {
		t.Fatal("the message went out in plain text")
	}
	// allowed control: the same sender with a server that offers STARTTLS
	tlsServer := startSMTPServer(t)
	sender, err = workers.NewSMTPSender(workers.SMTPConfig{URL: tlsServer.URL(), TLSConfig: tlsServer.TLSConfig, Timeout: 5 * time.Second})
	must(t, err)
	must(t, sender.Send(context.Background(), testMessage()))
	if accepted, _ := tlsServer.received(); len(accepted) != 1 || !accepted[0].tls {
		t.Fatalf("the control message: %v", accepted)
	}
}
