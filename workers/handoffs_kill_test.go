package workers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// killSwitch wraps the notification and mail handlers of a worker that is
// about to be killed: it lets the first deliveries of each kind through
// (pass) and holds every later one until the worker's task contexts end,
// then fails it, as a process killed mid-way would leave it. A held
// delivery does its work first (the notification inserted, the mail
// handed to the SMTP server and marked sent, in the job's transaction,
// not yet committed), except the first mail held, which dies before
// talking to the server.
type killSwitch struct {
	pass map[string]int
	want int // deliveries to hold before the kill

	mu             sync.Mutex
	seen           map[string]int
	held           int
	mailsHeld      int
	sentThenKilled []uuid.UUID // mails the server took in a delivery that was then killed
	ready          chan struct{}
}

func newKillSwitch(pass map[string]int, want int) *killSwitch {
	return &killSwitch{pass: pass, want: want, seen: map[string]int{}, ready: make(chan struct{})}
}

func (k *killSwitch) wrap(kind string, h workers.Handler) workers.Handler {
	return func(ctx context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error {
		k.mu.Lock()
		k.seen[kind]++
		if k.seen[kind] <= k.pass[kind] {
			k.mu.Unlock()
			return h(ctx, tx, ids)
		}
		beforeSMTP := kind == tenants.KindMailSend && k.mailsHeld == 0
		if kind == tenants.KindMailSend {
			k.mailsHeld++
		}
		k.mu.Unlock()
		if !beforeSMTP {
			if err := h(ctx, tx, ids); err != nil {
				return err
			}
		}
		k.mu.Lock()
		if kind == tenants.KindMailSend && !beforeSMTP {
			k.sentThenKilled = append(k.sentThenKilled, ids["mail"])
		}
		if k.held++; k.held == k.want {
			close(k.ready)
		}
		k.mu.Unlock()
		<-ctx.Done() // the kill
		return ctx.Err()
	}
}

// TestHandoffNoticesDeliveredOnceAfterAKill is issue 8's test: "a worker
// killed in the middle of sending notifications: after restart every
// notification is delivered exactly once". A handoff reaches AFESIP Laos
// through the handoffs service, which asks, through the outbox, for an
// in-app notification and a mail to each of its inbox holders (and the
// partnership's notices before it). The real relay hands them to Redis;
// the first worker (the real worker, the real notification handler, the
// real mailer over SMTP to a real server) completes a few, then is killed
// with the others in flight; a second worker takes over.
//
// What "exactly once" means, checked here: every notification exists
// once; every mail is marked sent once, and the SMTP server received
// every mail's Message-ID. A mail whose worker died after the server took
// it and before its "sent" mark committed is handed over a second time
// with the same Message-ID (the window the mailer's comment and
// docs/operations.md describe); the test names exactly those mails and
// asserts every other one reached the server once, including the one
// killed before it talked to the server.
func TestHandoffNoticesDeliveredOnceAfterAKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	srv := startSMTPServer(t)
	sender, err := workers.NewSMTPSender(workers.SMTPConfig{URL: srv.URL(), TLSConfig: srv.TLSConfig, Timeout: time.Minute,
		HELO: "homeward.test"})
	must(t, err)
	mailer := &workers.Mailer{Sender: sender, From: "Homeward <no-reply@homeward.test>", BaseURL: "https://homeward.example.org"}

	w := newHandoffWorld(t, store, 4)
	h := w.start(t, w.caseID)
	jobs := r.moveJobs([]uuid.UUID{w.th, w.laos}, tenants.KindNotifyCreate, tenants.KindMailSend)
	var rows []tenants.OutboxMessage
	must(t, store.Global(ctx, func(tx *gorm.DB) error { return tx.Where("id IN ?", jobs).Find(&rows).Error }))
	var notifications, mailJobs []tenants.OutboxMessage
	for _, row := range rows {
		if row.Kind == tenants.KindNotifyCreate {
			notifications = append(notifications, row)
		} else {
			mailJobs = append(mailJobs, row)
		}
	}
	var mails []tenants.MailMessage
	must(t, store.InTenant(ctx, w.laos, func(tx *gorm.DB) error { return tx.Find(&mails).Error }))
	if len(mails) != 4 || len(mailJobs) != 4 || len(notifications) < 4 {
		t.Fatalf("the handoff asked for %d notifications and %d mails (%d mail jobs), want at least 4 and 4",
			len(notifications), len(mails), len(mailJobs))
	}

	// The first worker: 2 notifications and 1 mail go through, the rest
	// is in flight when it is killed.
	pass := map[string]int{tenants.KindNotifyCreate: 2, tenants.KindMailSend: 1}
	k := newKillSwitch(pass, len(rows)-3)
	first := workers.NewRegistry()
	first.Register(tenants.KindNotifyCreate, k.wrap(tenants.KindNotifyCreate, workers.CreateNotification))
	first.Register(tenants.KindMailSend, k.wrap(tenants.KindMailSend, mailer.Send))
	kill := r.startWorkerOn(first, 300*time.Millisecond)
	r.runRelay(r.relay)
	select {
	case <-k.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the first worker never had every remaining delivery in flight")
	}
	done := func() (n int) {
		for _, id := range jobs {
			if row, _ := r.row(id); row.Status == tenants.OutboxDone {
				n++
			}
		}
		return n
	}
	eventually(t, 20*time.Second, func() bool { return done() == 3 }, func() string { return "the first deliveries did not finish" })
	kill()

	// Killed mid-way: what was in flight left nothing behind.
	if n := done(); n != 3 {
		t.Fatalf("after the kill %d jobs are done, want the 3 let through", n)
	}
	for _, id := range k.sentThenKilled {
		if m := mailRow(t, store, w.laos, id); m.Status != tenants.MailQueued {
			t.Fatalf("mail %s, killed after the server took it, is %s: its mark was not rolled back", id, m.Status)
		}
	}
	if len(k.sentThenKilled) == 0 || k.mailsHeld < 2 {
		t.Fatalf("the kill caught %d mails in flight (%d after the server took them): the test did not kill mid-send",
			k.mailsHeld, len(k.sentThenKilled))
	}
	accepted, _ := srv.received()
	if len(accepted) != 1+len(k.sentThenKilled) {
		t.Fatalf("before the restart the server took %d messages, want %d", len(accepted), 1+len(k.sentThenKilled))
	}

	// The restart: the same handlers, unwrapped, in a new worker.
	second := workers.NewRegistry()
	workers.RegisterNotifications(second)
	workers.RegisterMail(second, mailer)
	r.startWorkerOn(second, 3*time.Second)
	for _, id := range jobs {
		r.waitStatus(id, tenants.OutboxDone)
	}

	// Every notification once.
	for _, job := range notifications {
		var n int64
		must(t, store.InTenant(ctx, *job.TenantID, func(tx *gorm.DB) error {
			return tx.Model(&tenants.Notification{}).Where("id = ?", job.ID).Count(&n).Error
		}))
		if n != 1 {
			t.Fatalf("notification %s exists %d times, want once", job.ID, n)
		}
	}
	for _, m := range w.inbox {
		p := tenants.PrincipalFrom(m)
		page, err := store.Notifications(ctx, w.laos, *p.Actor.MemberID, tenants.NotificationQuery{})
		must(t, err)
		received := 0
		for _, n := range page.Items {
			if n.Kind == "handoff:received" && n.RecordID == h.ID {
				received++
			}
		}
		if received != 1 {
			t.Fatalf("an inbox holder has %d handoff:received notifications, want 1: %+v", received, page.Items)
		}
	}

	// Every mail marked sent once; the server has each Message-ID, twice
	// only for the mails killed after the server took them.
	twice := map[string]bool{}
	for _, id := range k.sentThenKilled {
		twice[tenants.MessageIDOf(id)] = true
	}
	accepted, _ = srv.received()
	got := map[string]int{}
	for _, a := range accepted {
		got[a.header.Get("Message-Id")]++
	}
	for _, m := range mails {
		sent := mailRow(t, store, w.laos, m.ID)
		if sent.Status != tenants.MailSent || sent.SentAt == nil {
			t.Fatalf("mail %s is %s, want sent", m.ID, sent.Status)
		}
		want := 1
		if twice[m.MessageID] {
			want = 2
		}
		if got[m.MessageID] != want {
			t.Fatalf("the server received %s %d times, want %d", m.MessageID, got[m.MessageID], want)
		}
	}
	if len(accepted) != len(mails)+len(k.sentThenKilled) {
		t.Fatalf("the server received %d messages, want %d", len(accepted), len(mails)+len(k.sentThenKilled))
	}
	t.Logf("%d notifications and %d mails; killed with %d in flight (%d mails, %d of them after the server took them)",
		len(notifications), len(mails), k.held, k.mailsHeld, len(k.sentThenKilled))
}

// startWorkerOn starts a worker with reg on the rig's queue, whose
// Shutdown gives running tasks grace before taking them away.
func (r *rig) startWorkerOn(reg *workers.Registry, grace time.Duration) (shutdown func()) {
	r.t.Helper()
	w, err := workers.NewWorker(workers.WorkerConfig{
		Store: r.store, Redis: r.opt, Registry: reg, Logger: testLogger(),
		Concurrency: 12, Queues: map[string]int{r.queue: 1},
		RetryDelay:      func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		ShutdownTimeout: grace, PollInterval: 50 * time.Millisecond,
	})
	must(r.t, err)
	must(r.t, w.Start())
	var once sync.Once
	shutdown = func() { once.Do(w.Shutdown) }
	r.t.Cleanup(shutdown)
	return shutdown
}

// mailRow reads a mail of org.
func mailRow(t *testing.T, store *tenants.Store, org, id uuid.UUID) *tenants.MailMessage {
	t.Helper()
	var m *tenants.MailMessage
	must(t, store.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		m, err = tenants.MailByID(tx, id)
		return err
	}))
	return m
}
