package mailbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/web/emails"
	"github.com/afesip/homeward/web/mailbox"
	"github.com/afesip/homeward/workers"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

func demoConfig(t *testing.T) *homeward.Config {
	return &homeward.Config{Mode: homeward.ModeDemo, DataDir: t.TempDir()}
}

// TestMailboxShowsQueuedMail: in demo mode a mail queued by a feature goes
// through the outbox, the relay and the worker into the mailbox, and
// GET /demo/mailbox shows it; the same server in production has no such
// route.
func TestMailboxShowsQueuedMail(t *testing.T) {
	store := tenanttest.OpenSQLite(t)
	cfg := demoConfig(t)
	box, err := mailbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tenant := tenanttest.NewTenant(t, store)

	// The worker side, on a queue of this test's own in the test Redis.
	opt := asynq.RedisClientOpt{Addr: tenanttest.RedisAddr(t)}
	b := make([]byte, 6)
	rand.Read(b)
	queue := "hwtest_" + hex.EncodeToString(b)
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { insp.DeleteQueue(queue, true); insp.Close(); client.Close() })
	reg := workers.NewRegistry()
	workers.RegisterMail(reg, &workers.Mailer{Sender: box, From: "Homeward demo <no-reply@homeward.invalid>", BaseURL: "http://localhost:8080"})
	w, err := workers.NewWorker(workers.WorkerConfig{Store: store, Redis: opt, Registry: reg, Queues: map[string]int{queue: 1},
		ShutdownTimeout: time.Second, PollInterval: 50 * time.Millisecond})
	must(t, err)
	must(t, w.Start())
	t.Cleanup(w.Shutdown)
	relay := &workers.Relay{Store: store, Client: client, Queues: []string{queue}}

	app := api.NewServer(api.Deps{Config: cfg, Database: store, DemoMailbox: box.Page})
	if body := get(t, app, 200); !strings.Contains(body, "No mail yet") {
		t.Fatalf("the empty mailbox: %s", body)
	}

	var m *tenants.MailMessage
	must(t, store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		m, err = tenants.QueueMail(tx, tenants.Mail{To: "staff@example.org", Template: "platform:test", Language: "th", Queue: queue})
		return err
	}))
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := relay.RunOnce(context.Background())
		must(t, err)
		var got *tenants.MailMessage
		must(t, store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
			got, err = tenants.MailByID(tx, m.ID)
			return err
		}))
		if got.Status == tenants.MailSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mail is still %s", got.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}

	r, err := emails.Render("platform:test", "th", emails.Data{Organisation: "Test organisation"})
	must(t, err)
	body := get(t, app, 200)
	for _, want := range []string{r.Subject, "staff@example.org", "Test organisation", "&lt;" + m.ID.String() + "@homeward&gt;", `lang="th"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the mailbox page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the mailbox page has a script")
	}

	// In production the route does not exist, whatever Deps says.
	prod := api.NewServer(api.Deps{Config: &homeward.Config{Mode: homeward.ModeProduction}, Database: store, DemoMailbox: box.Page})
	if body := get(t, prod, 404); strings.Contains(body, r.Subject) {
		t.Fatal("production served the mailbox")
	}
}

// TestMailboxOnlyInDemo: production refuses the mailbox, and so does a demo
// that sends real mail; a plain demo has it.
func TestMailboxOnlyInDemo(t *testing.T) {
	prod := &homeward.Config{Mode: homeward.ModeProduction, DataDir: t.TempDir()}
	if _, err := mailbox.New(prod); homeward.ErrorCode(err) != homeward.EFORBIDDEN {
		t.Fatalf("production: err = %v, want forbidden", err)
	}
	withSMTP := demoConfig(t)
	withSMTP.SMTPURL = &url.URL{Scheme: "smtp", Host: "mail.example.org:587"}
	if _, err := mailbox.New(withSMTP); homeward.ErrorCode(err) != homeward.EFORBIDDEN {
		t.Fatalf("demo with SMTP: err = %v, want forbidden", err)
	}
	if _, err := mailbox.New(demoConfig(t)); err != nil {
		t.Fatalf("allowed control: demo: %v", err)
	}
}

// TestMailboxKeepsAMessageOnce: the same message (Message-ID) sent twice is
// kept once; another message is kept beside it, newest first.
func TestMailboxKeepsAMessageOnce(t *testing.T) {
	box, err := mailbox.New(demoConfig(t))
	must(t, err)
	msg := &emails.Message{MessageID: "<one@homeward>", To: "a@example.org", Language: "en", Rendered: emails.Rendered{Subject: "First"}}
	must(t, box.Send(context.Background(), msg))
	must(t, box.Send(context.Background(), msg))
	time.Sleep(2 * time.Millisecond) // distinct receive times; not an assertion
	must(t, box.Send(context.Background(), &emails.Message{MessageID: "<two@homeward>", To: "b@example.org", Rendered: emails.Rendered{Subject: "Second"}}))
	kept, err := box.Messages(10)
	must(t, err)
	if len(kept) != 2 || kept[0].Subject != "Second" || kept[1].Subject != "First" {
		t.Fatalf("kept = %+v, want Second then First, once each", kept)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := box.Send(ctx, &emails.Message{MessageID: "<three@homeward>"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled send: err = %v", err)
	}
}

func get(t *testing.T, app *fiber.App, status int) string {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", mailbox.Path, nil), 10_000)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d, want %d: %s", mailbox.Path, resp.StatusCode, status, b)
	}
	if status == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
