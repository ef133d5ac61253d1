package workers_test

import (
	"context"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/web/emails"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// capturingSender keeps the mail it is given.
type capturingSender struct {
	mu   sync.Mutex
	sent []*emails.Message
}

func (s *capturingSender) Send(_ context.Context, m *emails.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

// TestFollowUpScheduleAndRemindersInTheBackground: through relay and
// worker, the schedule job delivered twice writes one schedule; the daily
// reminder fan-out run on two days reminds of the overdue visit once; and
// the reminder mail names the case by its reference and the visit by its
// due date in the reader's calendar, never the survivor.
func TestFollowUpScheduleAndRemindersInTheBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	var logs lockedBuffer
	workers.RegisterFollowUpJobs(r.reg, slog.New(slog.NewJSONHandler(&logs, nil)))

	tenant := tenanttest.NewTenant(t, store)
	manager := signInCaseManager(t, store, tenant)
	const name = "Souksavanh"
	c, err := cases.New(store).Create(manager, cases.NewCase{
		Values: map[string]any{"prs_FirstName": name, "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"},
		Consents: []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl,
			GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}},
	})
	must(t, err)
	must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		return cases.MoveStage(tx, c.ID, cases.StageShelter, "", time.Now())
	}))
	svc := followup.New(store)
	// The case manager owns the case (no social worker is assigned): the
	// reminders go to her contact address, in its language.
	_, err = store.SetMemberContact(manager, tenants.MemberContact{Address: "cm@afesip.example.org", Language: "lo"})
	must(t, err)
	reint, err := svc.Reintegrate(manager, c.ID, followup.NewReintegration{Destination: followup.DestinationFamily,
		Date: time.Now().AddDate(0, 0, -35).Format(time.DateOnly), Place: "Ban Nongbua"})
	must(t, err)

	r.runRelay(r.relay)
	r.startWorker()
	// The schedule's job, delivered twice (Reintegrate wrote its own on the
	// default queue, which this test's worker does not serve).
	for range 2 {
		r.waitStatus(r.job(tenant, followup.KindSchedule, map[string]uuid.UUID{"reintegration": reint.ID}), tenants.OutboxDone)
	}
	ov, err := svc.Overview(manager, c.ID)
	must(t, err)
	if len(ov.Visits) != 16 {
		t.Fatalf("%d visits after two deliveries of the schedule job, want 16", len(ov.Visits))
	}

	period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(100_000)) * 24 * time.Hour)
	for day := range 2 {
		start := period.Add(time.Duration(day) * 24 * time.Hour)
		s := &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{{Kind: workers.KindFollowUpRemindAll, Queue: r.queue, Every: 24 * time.Hour}},
			Now: func() time.Time { return start.Add(time.Minute) }}
		must(t, s.RunOnce(ctx))
		all := workers.PeriodID(workers.KindFollowUpRemindAll, start)
		r.waitStatus(all, tenants.OutboxDone)
		r.waitStatus(uuid.NewSHA1(all, tenant[:]), tenants.OutboxDone)
	}
	var mails []tenants.MailMessage
	must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Find(&mails).Error }))
	if len(mails) != 1 || mails[0].Template != followup.MailVisitOverdue || mails[0].ToAddress != "cm@afesip.example.org" ||
		mails[0].Language != "lo" {
		t.Fatalf("after two days' runs: %+v, want one overdue reminder to the contact address, in Lao", mails)
	}
	if runs := strings.Count(logs.String(), "follow-up reminders queued"); runs != 1 {
		t.Errorf("%d runs queued reminders, want 1:\n%s", runs, logs.String())
	}

	// The mail as the mail worker renders it.
	sender := &capturingSender{}
	mailer := &workers.Mailer{Sender: sender, From: "no-reply@homeward.test", BaseURL: "https://homeward.example.org"}
	must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		return mailer.Send(ctx, tx, map[string]uuid.UUID{"mail": mails[0].ID})
	}))
	if len(sender.sent) != 1 {
		t.Fatalf("%d messages sent", len(sender.sent))
	}
	m := sender.sent[0]
	due, _ := time.Parse(time.DateOnly, ov.Visits[0].Due)
	beYear := due.Year() + 543
	for what, text := range map[string]string{"subject": m.Subject, "body": m.Text, "html": m.HTML} {
		if strings.Contains(text, name) || strings.Contains(text, "Nongbua") {
			t.Errorf("the mail's %s names the survivor or her place: %q", what, text)
		}
	}
	if !strings.Contains(m.Subject, ov.Reference) || !strings.Contains(m.Text, ov.Reference) ||
		!strings.Contains(m.Text, strconv.Itoa(beYear)) {
		t.Errorf("the mail does not show %s due in %d (Buddhist Era): %q / %q", ov.Reference, beYear, m.Subject, m.Text)
	}
}
