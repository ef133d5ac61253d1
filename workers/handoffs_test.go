package workers_test

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/web/emails"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// handoffWorld is a partner in Thailand (th) sending handoffs to AFESIP
// Laos (laos) under an active partnership, with a case of th's whose
// survivor's name must never show in a mail, and the Laos case managers
// who hold the inbox, each with a contact address.
type handoffWorld struct {
	store               *tenants.Store
	svc                 *handoffs.Service
	th, laos            uuid.UUID
	thAdmin, laosAdmin  context.Context
	starter, laosMgr    context.Context
	inbox               []context.Context // Laos case managers (laosMgr first), each with a contact address
	partnership, caseID uuid.UUID
	name                string // the survivor's first name: never in a mail
}

func newHandoffWorld(t *testing.T, store *tenants.Store, inbox int) *handoffWorld {
	t.Helper()
	ctx := context.Background()
	w := &handoffWorld{store: store, svc: handoffs.New(store), name: "Khamla" + randomHex(4)}
	w.th, w.laos = tenanttest.NewOrg(t, store), tenanttest.NewOrg(t, store)
	sub := func(org uuid.UUID, who string) string { return who + "-" + org.String()[:8] }
	w.thAdmin, _ = tenanttest.Member(t, store, w.th, sub(w.th, "admin"), tenants.RoleTenantAdmin)
	w.laosAdmin, _ = tenanttest.Member(t, store, w.laos, sub(w.laos, "admin"), tenants.RoleTenantAdmin)
	w.starter, _ = tenanttest.Member(t, store, w.th, sub(w.th, "starter"), tenants.RoleCaseManager)
	for i := range inbox {
		m, _ := tenanttest.Member(t, store, w.laos, sub(w.laos, fmt.Sprintf("manager%d", i)), tenants.RoleCaseManager)
		_, err := store.SetMemberContact(m, tenants.MemberContact{Address: fmt.Sprintf("manager%d@laos.example.org", i),
			Language: []string{"lo", "en", "fr", "th", "ms"}[i%5]})
		must(t, err)
		w.inbox = append(w.inbox, m)
	}
	w.laosMgr = w.inbox[0]
	laos, err := store.TenantByID(ctx, w.laos)
	must(t, err)
	p, err := w.svc.ProposePartnership(w.thAdmin, handoffs.NewPartnership{Partner: laos.Slug, Purpose: handoffs.PurposeHandoffs,
		Sending: true, Groups: []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily}, AgreementRef: "DSA-TH-LA-1",
		StallDays: 10})
	must(t, err)
	_, err = w.svc.DecidePartnership(w.laosAdmin, p.ID, true, "")
	must(t, err)
	w.partnership = p.ID
	w.caseID = w.newCase(t)
	return w
}

// newCase is a case of th's with the services and sharing consents.
func (w *handoffWorld) newCase(t *testing.T) uuid.UUID {
	t.Helper()
	c, err := cases.New(w.store).Create(w.starter, cases.NewCase{
		Values: map[string]any{"prs_FirstName": w.name, "prs_Birthdate": "2009-04-02", "prs_Gender": "Feminine"},
		Consents: []cases.NewConsent{
			{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl, GivenOn: "2025-01-10", Basis: cases.BasisSignedForm},
			{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl, GivenOn: "2025-01-10", Basis: cases.BasisSignedForm},
		},
	})
	must(t, err)
	return c.ID
}

// start hands case caseID over to Laos.
func (w *handoffWorld) start(t *testing.T, caseID uuid.UUID) *handoffs.Handoff {
	t.Helper()
	h, err := w.svc.Start(w.starter, handoffs.NewHandoff{PartnershipID: w.partnership, CaseID: caseID,
		Fields: []string{"prs_FirstName", "prs_Birthdate"}})
	must(t, err)
	return h
}

// toAdmission takes handoff id through its stages to the receiver's
// admission (the handoff accepted on the way).
func (w *handoffWorld) toAdmission(t *testing.T, id uuid.UUID) {
	t.Helper()
	for _, st := range []struct {
		ctx    context.Context
		stage  handoffs.Stage
		action string
	}{
		{w.starter, handoffs.StageInterview, handoffs.ActionDone},
		{w.starter, handoffs.StageTracingRequest, handoffs.ActionDone},
		{w.laosMgr, handoffs.StageTracingResult, handoffs.ActionDone},
		{w.starter, handoffs.StageTravelDocuments, handoffs.ActionDone},
		{w.starter, handoffs.StageReturnPlan, handoffs.ActionDone},
		{w.laosMgr, handoffs.StageReturnPlan, handoffs.ActionConfirm},
		{w.starter, handoffs.StageHandover, handoffs.ActionDone},
		{w.laosMgr, handoffs.StageHandover, handoffs.ActionConfirm},
		{w.laosMgr, handoffs.StageTransitCentre, handoffs.ActionDone},
		{nil, "", "accept"},
		{w.laosMgr, handoffs.StageAdmission, handoffs.ActionDone},
	} {
		var err error
		if st.action == "accept" {
			_, err = w.svc.Accept(w.laosMgr, id)
		} else {
			_, err = w.svc.Advance(st.ctx, id, handoffs.StageChange{Stage: st.stage, Action: st.action})
		}
		if err != nil {
			t.Fatalf("%s %s: %v", st.action, st.stage, err)
		}
	}
}

// moveJobs puts the pending outbox rows of the organisations given (of
// the kinds given, all when none) on the rig's queue and returns their
// ids: features write to the default queue, which no test serves.
func (r *rig) moveJobs(orgs []uuid.UUID, kinds ...string) []uuid.UUID {
	r.t.Helper()
	var ids []uuid.UUID
	must(r.t, r.store.Global(context.Background(), func(tx *gorm.DB) error {
		q := tx.Model(&tenants.OutboxMessage{}).Where("tenant_id IN ? AND status = ? AND queue <> ?", orgs,
			tenants.OutboxPending, r.queue)
		if len(kinds) > 0 {
			q = q.Where("kind IN ?", kinds)
		}
		if err := q.Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.Model(&tenants.OutboxMessage{}).Where("id IN ?", ids).Update("queue", r.queue).Error
	}))
	return ids
}

// countRows counts org's rows of table matching where.
func countRows(t *testing.T, store *tenants.Store, org uuid.UUID, table, where string, args ...any) int {
	t.Helper()
	var n int64
	must(t, store.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		return tx.Table(table).Where("tenant_id = ?", org).Where(where, args...).Count(&n).Error
	}))
	return int(n)
}

// TestHandoffDailyJobsThroughTheWorker: the scheduler's daily fan-outs,
// run through relay and worker on two days (with the service's clock past
// the stall threshold and the first feedback period), write the stall
// reminder and the automatic feedback once: the first day writes each
// (the allowed control), the second nothing.
func TestHandoffDailyJobsThroughTheWorker(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			w := newHandoffWorld(t, store, 1)
			h := w.start(t, w.caseID)
			w.toAdmission(t, h.ID)

			r := newRig(t, store, sharedRedis(t))
			var logs lockedBuffer
			later := time.Now().AddDate(0, handoffs.FeedbackEveryMonths, 2)
			workers.RegisterHandoffJobs(r.reg, handoffs.New(store).WithClock(func() time.Time { return later }),
				slog.New(slog.NewJSONHandler(&logs, nil)))
			r.runRelay(r.relay)
			r.startWorker()

			reminders := func(org uuid.UUID) int {
				return countRows(t, store, org, "handoff_reminders", "handoff_id = ?", h.ID)
			}
			feedback := func(org uuid.UUID) int {
				return countRows(t, store, org, "handoff_feedback", "handoff_id = ?", h.ID)
			}
			period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(100_000)) * 24 * time.Hour)
			for day := range 2 {
				start := period.Add(time.Duration(day) * 24 * time.Hour)
				s := &workers.Scheduler{Store: store, Now: func() time.Time { return start.Add(time.Minute) },
					Jobs: []workers.PeriodicJob{
						{Kind: workers.KindHandoffsStalledAll, Queue: r.queue, Every: 24 * time.Hour},
						{Kind: workers.KindHandoffsFeedbackAll, Queue: r.queue, Every: 24 * time.Hour},
					}}
				must(t, s.RunOnce(ctx))
				for _, kind := range []string{workers.KindHandoffsStalledAll, workers.KindHandoffsFeedbackAll} {
					all := workers.PeriodID(kind, start)
					r.waitStatus(all, tenants.OutboxDone)
					for _, org := range []uuid.UUID{w.th, w.laos} {
						r.waitStatus(uuid.NewSHA1(all, org[:]), tenants.OutboxDone)
					}
				}
				if day == 0 && (reminders(w.laos) != 1 || feedback(w.laos) != 1 || feedback(w.th) != 1) {
					t.Fatalf("after the first day: %d reminders, feedback %d (Laos) / %d (Thailand); want 1 each",
						reminders(w.laos), feedback(w.laos), feedback(w.th))
				}
			}
			if reminders(w.laos) != 1 || reminders(w.th) != 0 {
				t.Fatalf("after two days: %d reminders in Laos, %d in Thailand; want 1 and 0", reminders(w.laos), reminders(w.th))
			}
			if feedback(w.laos) != 1 || feedback(w.th) != 1 {
				t.Fatalf("after two days: feedback %d (Laos) / %d (Thailand), want 1 each", feedback(w.laos), feedback(w.th))
			}
			fb, err := w.svc.FeedbackOf(w.starter, h.ID)
			must(t, err)
			if len(fb) != 1 || !fb[0].Automatic {
				t.Fatalf("the sender reads %+v, want one automatic feedback", fb)
			}
			for msg, want := range map[string]int{"stalled handoffs reminded": 1, "automatic handoff feedback sent": 1} {
				n := 0
				for _, line := range strings.Split(logs.String(), "\n") {
					if strings.Contains(line, msg) && strings.Contains(line, w.laos.String()) {
						n++
					}
				}
				if n != want {
					t.Errorf("%q logged %d times for Laos, want %d:\n%s", msg, n, want, logs.String())
				}
			}
		})
	}
}

// TestSharingWithdrawalStopsHandoffsInTheBackground: the job a withdrawal
// of the sharing consent writes, run by the worker (and delivered again),
// stops the case's handoff on both sides and tells the receiver once.
// Controls: a withdrawal of another purpose stops nothing; another case's
// handoff keeps sharing.
func TestSharingWithdrawalStopsHandoffsInTheBackground(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, store, 1)
			h := w.start(t, w.caseID)
			otherCase := w.newCase(t)
			other := w.start(t, otherCase)
			r := newRig(t, store, sharedRedis(t))
			workers.RegisterHandoffJobs(r.reg, w.svc, testLogger())
			r.runRelay(r.relay)
			r.startWorker()
			stopped := func(org, id uuid.UUID) bool {
				return countRows(t, store, org, "handoffs", "id = ? AND sharing_stopped_at IS NOT NULL", id) == 1
			}
			notices := func() int {
				var n int64
				must(t, store.Global(context.Background(), func(tx *gorm.DB) error {
					return tx.Model(&tenants.OutboxMessage{}).Where("tenant_id = ? AND kind = ? AND payload LIKE ?", w.laos,
						tenants.KindNotifyCreate, "%"+h.ID.String()+"%").Count(&n).Error
				}))
				return int(n)
			}
			cs := cases.New(store)

			// Control: the services consent withdrawn: its job stops nothing.
			_, err := cs.WithdrawConsent(w.starter, w.caseID, cases.PurposeServices, "")
			must(t, err)
			for _, id := range r.moveJobs([]uuid.UUID{w.th}, cases.KindConsentWithdrawn) {
				r.waitStatus(id, tenants.OutboxDone)
			}
			if stopped(w.th, h.ID) || stopped(w.laos, h.ID) {
				t.Fatal("withdrawing the services consent stopped the handoff")
			}

			before := notices()
			_, err = cs.WithdrawConsent(w.starter, w.caseID, cases.PurposeSharing, "she changed her mind")
			must(t, err)
			jobs := r.moveJobs([]uuid.UUID{w.th}, cases.KindConsentWithdrawn)
			if len(jobs) != 1 {
				t.Fatalf("%d consent jobs after the withdrawal, want 1", len(jobs))
			}
			r.waitStatus(jobs[0], tenants.OutboxDone)
			if !stopped(w.th, h.ID) || !stopped(w.laos, h.ID) {
				t.Fatal("the handoff shares on after the sharing consent's withdrawal")
			}
			told := notices() - before
			if told < 1 {
				t.Fatal("the receiver was not told")
			}
			// The same work again (a second delivery past the done mark).
			row, _ := r.row(jobs[0])
			again := r.job(w.th, cases.KindConsentWithdrawn, map[string]uuid.UUID{"case": w.caseID,
				"purpose": cases.PurposeID(cases.PurposeSharing)})
			r.waitStatus(again, tenants.OutboxDone)
			if n := notices() - before; n != told {
				t.Fatalf("the second run told the receiver again: %d notices, want %d", n, told)
			}
			if row.Status != tenants.OutboxDone {
				t.Fatalf("the first job is %s", row.Status)
			}
			got, err := w.svc.Get(w.laosMgr, h.ID)
			must(t, err)
			if !got.SharingStopped {
				t.Fatal("the receiver's view does not say sharing stopped")
			}
			// Control: the other case's handoff.
			if stopped(w.th, other.ID) || stopped(w.laos, other.ID) {
				t.Fatal("another case's handoff was stopped")
			}
		})
	}
}

// TestHandoffMailsShowTheReference: every handoff mail template renders,
// through the mail worker's details, the handoff's reference (the allowed
// control is the reference present; the survivor's name never is).
func TestHandoffMailsShowTheReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := tenanttest.OpenPostgres(t)
	w := newHandoffWorld(t, store, 1)
	h := w.start(t, w.caseID)
	var keys []string
	for _, k := range emails.Templates().Keys() {
		if strings.HasPrefix(k, "handoff:") {
			keys = append(keys, k)
		}
	}
	if len(keys) < 10 {
		t.Fatalf("%d handoff mail templates: %v", len(keys), keys)
	}
	sender := &capturingSender{}
	mailer := &workers.Mailer{Sender: sender, From: "no-reply@homeward.test", BaseURL: "https://homeward.example.org"}
	for _, org := range []uuid.UUID{w.th, w.laos} {
		for _, key := range keys {
			for _, lang := range []string{"lo", "th", "ms", "en", "fr"} {
				must(t, store.InTenant(ctx, org, func(tx *gorm.DB) error {
					m, err := tenants.QueueMail(tx, tenants.Mail{To: "someone@example.org", Template: key, Language: lang,
						IDs: map[string]uuid.UUID{"handoff": h.ID}, Queue: "hwtest_unserved"})
					if err != nil {
						return err
					}
					return mailer.Send(ctx, tx, map[string]uuid.UUID{"mail": m.ID})
				}))
			}
		}
	}
	if len(sender.sent) != 2*5*len(keys) {
		t.Fatalf("%d mails sent, want %d", len(sender.sent), 2*5*len(keys))
	}
	for _, m := range sender.sent {
		if !strings.Contains(m.Subject+m.Text, h.Reference) {
			t.Errorf("a %s mail does not show %s: %q / %q", m.Language, h.Reference, m.Subject, m.Text)
		}
		if strings.Contains(m.Subject+m.Text+m.HTML, w.name) {
			t.Errorf("a mail names the survivor: %q", m.Subject)
		}
	}
}
