package handoffs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestSuspendedPartnershipRefusesNewHandoffs: no new handoff under a
// suspended partnership (allowed control: the same start while active,
// and again once resumed).
func TestSuspendedPartnershipRefusesNewHandoffs(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	w.start(t, w.caseID, "") // allowed control
	_, err := w.h.ChangePartnership(w.laosAdmin, w.pship, PartnershipSuspended, "the agreement is being renewed")
	must(t, err)
	_, err = w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID, Fields: chosen})
	wantCode(t, "start under a suspended partnership", err, homeward.ECONFLICT, "partnership_id")
	_, _, err = w.h.SharableFields(w.starter, w.pship, w.caseID)
	wantCode(t, "the start form under a suspended partnership", err, homeward.ECONFLICT, "partnership_id")
	_, err = w.h.ChangePartnership(w.thAdmin, w.pship, PartnershipActive, "")
	must(t, err)
	if h := w.start(t, w.caseID, ""); h.Reference != "H-00002" {
		t.Fatalf("the second handoff is %s, want H-00002", h.Reference)
	}
}

// TestOverride: without the sharing consent, nothing leaves until a second
// person of the sender approves; neither the requester nor an API token
// may (allowed control: a second case manager).
func TestOverride(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			noConsent := w.newCase(t, false)
			offer, basis, err := w.h.SharableFields(w.starter, w.pship, noConsent)
			must(t, err)
			if basis != "" || len(offer) == 0 {
				t.Fatalf("basis = %q, offer %d fields", basis, len(offer))
			}
			_, err = w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: noConsent, Fields: chosen})
			wantCode(t, "no consent and no reason", err, homeward.EINVALID, "override_reason")
			h := w.start(t, noConsent, "she is in danger where she is; her guardian cannot be reached")
			if h.State != StateAwaitingOverride || h.Basis != BasisOverride {
				t.Fatalf("started: %s on %s", h.State, h.Basis)
			}
			// Nothing has left: no row, no notice, no copy in Laos.
			if rowIn(t, s, w.laos, h.ID) != nil {
				t.Fatal("the receiver holds the handoff before the override")
			}
			_, err = w.h.Get(w.laosMgr, h.ID)
			wantCode(t, "the receiver reads it", err, homeward.ENOTFOUND, "")
			if n := outboxCount(t, s, w.laos, tenants.KindNotifyCreate, h.ID); n != 0 {
				t.Fatalf("%d notices in Laos before the override", n)
			}
			if n := outboxCount(t, s, w.th, tenants.KindNotifyCreate, h.ID); n == 0 {
				t.Fatal("the approvers were not told")
			}

			// Denied: the requester, an API token (even one with the role).
			_, err = w.h.DecideOverride(w.starter, h.ID, true)
			wantCode(t, "the requester approves", err, homeward.EFORBIDDEN, "")
			tok, err := s.CreateAPIToken(w.thAdmin, tenants.NewAPIToken{Name: "integration",
				Roles: []tenants.Role{tenants.RoleCaseManager}, ExpiresAt: time.Now().Add(24 * time.Hour)})
			must(t, err)
			tp, err := s.AuthenticateAPIToken(context.Background(), tok.Token)
			must(t, err)
			_, err = w.h.DecideOverride(tenants.WithPrincipal(context.Background(), tp), h.ID, true)
			wantCode(t, "an API token approves", err, homeward.EFORBIDDEN, "")
			_, err = w.h.DecideOverride(w.laosMgr, h.ID, true)
			wantCode(t, "the receiver approves", err, homeward.ENOTFOUND, "")
			if rowIn(t, s, w.laos, h.ID) != nil || rowIn(t, s, w.th, h.ID).State != StateAwaitingOverride {
				t.Fatal("a refused approval changed something")
			}

			// Allowed control: a second case manager.
			sent, err := w.h.DecideOverride(w.approver, h.ID, true)
			must(t, err)
			if sent.State != StateSent {
				t.Fatalf("approved: %s", sent.State)
			}
			mirrored(t, s, w.th, w.laos, h.ID, StateSent)
			got, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if got.Shared == nil || got.Shared.Values["prs_FirstName"] != "Noy" || len(got.Timeline) != 1 || got.Override != nil {
				t.Fatalf("the receiver after the override: %+v", got)
			}
			_, err = w.h.DecideOverride(w.approver, h.ID, true)
			wantCode(t, "decided twice", err, homeward.ECONFLICT, "")

			// Refusal: final, nothing leaves.
			r := w.start(t, noConsent, "urgent")
			refused, err := w.h.DecideOverride(w.approver, r.ID, false)
			must(t, err)
			if refused.State != StateOverrideRefused || rowIn(t, s, w.laos, r.ID) != nil {
				t.Fatalf("refused: %s", refused.State)
			}
		})
	}
}

// TestWithdrawBeforeAcceptanceShredsTheCopy: the receiver keeps only the
// state, reference and dates: the shared copy and documents are gone and
// its handoff data key is shredded. Wrong sides are refused and leave both
// rows alike.
func TestWithdrawBeforeAcceptanceShredsTheCopy(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			h := w.start(t, w.caseID, "")
			_, err := w.h.Post(w.laosMgr, h.ID, "we are tracing the family", nil)
			must(t, err)
			before, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if before.Shared == nil || len(before.Shared.Documents) != 1 {
				t.Fatalf("before: %+v", before.Shared)
			}
			copyID := before.Shared.Documents[0].ID

			_, err = w.h.Withdraw(w.laosMgr, h.ID, "not ours to withdraw")
			wantCode(t, "the receiver withdraws", err, homeward.EFORBIDDEN, "")
			_, err = w.h.Withdraw(w.starter, h.ID, "")
			wantCode(t, "no reason", err, homeward.EINVALID, "reason")
			_, err = w.h.Decline(w.starter, h.ID, "the sender declines")
			wantCode(t, "the sender declines", err, homeward.EFORBIDDEN, "")
			mirrored(t, s, w.th, w.laos, h.ID, StateSent)

			out, err := w.h.Withdraw(w.starter, h.ID, "the family was found in Thailand")
			must(t, err)
			if out.State != StateWithdrawn || out.WithdrawnAt == nil {
				t.Fatalf("withdrawn: %+v", out)
			}
			a, b := rowIn(t, s, w.th, h.ID), rowIn(t, s, w.laos, h.ID)
			if a.State != StateWithdrawn || b.State != StateWithdrawn || a.Version != b.Version || b.Fields != "" || b.Groups != "" {
				t.Fatalf("rows after the withdrawal: %+v / %+v", a, b)
			}
			got, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if got.Shared != nil || len(got.Fields) != 0 || len(got.Timeline) != 0 || got.Reference != h.Reference {
				t.Fatalf("the receiver still reads %+v", got)
			}
			thread, err := w.h.Thread(w.laosMgr, h.ID, 0, "")
			must(t, err)
			if len(thread.Messages) != 0 {
				t.Fatalf("the receiver's thread keeps %d messages", len(thread.Messages))
			}
			must(t, s.InTenant(context.Background(), w.laos, func(tx *gorm.DB) error {
				var n int64
				if err := tx.Model(&shareRow{}).Where("id = ?", h.ID).Count(&n).Error; err != nil || n != 0 {
					t.Errorf("share rows: %d, %v", n, err)
				}
				if _, err := tenants.Encrypt(tx, h.ID, tenants.AAD{Table: "t", Record: h.ID, Field: "f"}, []byte("x")); !errors.Is(err, tenants.ErrShredded) {
					t.Errorf("the receiver's handoff key: %v, want shredded", err)
				}
				var live int64
				if err := tx.Model(&tenants.Document{}).Where("id = ? AND deleted_at IS NULL", copyID).Count(&live).Error; err != nil || live != 0 {
					t.Errorf("the document copy is live: %d, %v", live, err)
				}
				return nil
			}))
			// The sender keeps its own side: its note and reason.
			mine, err := w.h.Get(w.starter, h.ID)
			must(t, err)
			if len(mine.Timeline) != 1 || mine.Timeline[0].Note == "" {
				t.Fatalf("the sender's side after the withdrawal: %+v", mine.Timeline)
			}
			_, err = w.h.Withdraw(w.starter, h.ID, "again")
			wantCode(t, "withdrawn twice", err, homeward.ECONFLICT, "state")
			_, err = w.h.Accept(w.laosMgr, h.ID)
			wantCode(t, "accepting a withdrawn handoff", err, homeward.ECONFLICT, "state")
			mirrored(t, s, w.th, w.laos, h.ID, StateWithdrawn)
		})
	}
}

// TestDecline: a reason is required; both sides declined, each with its
// copy of the reason; the receiver keeps no shared copy.
func TestDeclineHandoff(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	h := w.start(t, w.caseID, "")
	_, err := w.h.Decline(w.laosMgr, h.ID, " ")
	wantCode(t, "no reason", err, homeward.EINVALID, "reason")
	_, err = w.h.Decline(w.laosSocial, h.ID, "no bed")
	wantCode(t, "a social worker declines", err, homeward.ENOTFOUND, "")
	d, err := w.h.Decline(w.laosMgr, h.ID, "she is from Cambodia: refer her to our partner there")
	must(t, err)
	if d.State != StateDeclined || d.DeclineReason == "" {
		t.Fatalf("declined: %+v", d)
	}
	mirrored(t, s, w.th, w.laos, h.ID, StateDeclined)
	theirs, err := w.h.Get(w.starter, h.ID)
	must(t, err)
	if theirs.DeclineReason != d.DeclineReason {
		t.Fatalf("the sender reads %q", theirs.DeclineReason)
	}
	mine, err := w.h.Get(w.laosMgr, h.ID)
	must(t, err)
	if mine.Shared != nil {
		t.Fatal("the receiver keeps the shared copy of a declined handoff")
	}
	_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageInterview, Action: ActionDone})
	wantCode(t, "advancing a declined handoff", err, homeward.ECONFLICT, "state")
}

// TestConsentWithdrawalStopsSharing: once the case's sharing consent is
// withdrawn, the sender's messages, notes and documents are refused at
// once (conflict naming consent), and nothing new reaches the receiver.
// Allowed control: the same message before the withdrawal.
func TestConsentWithdrawalStopsSharing(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	w := newHandoffWorld(t, s)
	h := w.start(t, w.caseID, "")
	_, err := w.h.Post(w.starter, h.ID, "before", nil)
	must(t, err)
	_, err = cases.New(s).WithdrawConsent(w.starter, w.caseID, cases.PurposeSharing, "she changed her mind")
	must(t, err)
	_, err = w.h.Post(w.starter, h.ID, "after", nil)
	wantCode(t, "a message after the withdrawal", err, homeward.ECONFLICT, "consent")
	_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageInterview, Action: ActionDone, Note: "after"})
	wantCode(t, "a note after the withdrawal", err, homeward.ECONFLICT, "consent")
	_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageInterview, Action: ActionDone,
		Documents: []uuid.UUID{w.passport}})
	wantCode(t, "a document after the withdrawal", err, homeward.ECONFLICT, "consent")
	thread, err := w.h.Thread(w.laosMgr, h.ID, 0, "")
	must(t, err)
	if len(thread.Messages) != 1 || thread.Messages[0].Text != "before" {
		t.Fatalf("the receiver's thread: %+v", thread.Messages)
	}
	mine, err := w.h.Get(w.starter, h.ID)
	must(t, err)
	if !mine.SharingStopped {
		t.Fatal("the sender's view does not say sharing stopped")
	}
	mirrored(t, s, w.th, w.laos, h.ID, StateSent)
	// The receiver still writes to the sender.
	_, err = w.h.Post(w.laosMgr, h.ID, "we understand", nil)
	must(t, err)
}

// TestJobsWriteOnce: the stall reminder and the automatic feedback are
// written once per stall and per period, however often the jobs run.
func TestJobsWriteOnce(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			h := w.start(t, w.caseID, "")
			ctx := context.Background()

			// Not stalled yet; then past the 10 days, the sender owes the
			// interview: its reminder, once.
			n, err := w.h.RemindStalled(ctx, w.th)
			must(t, err)
			if n != 0 {
				t.Fatalf("%d reminders before the stall", n)
			}
			w.now = w.now.Add(11 * 24 * time.Hour)
			for i, want := range []int{1, 0} {
				n, err := w.h.RemindStalled(ctx, w.th)
				must(t, err)
				if n != want {
					t.Fatalf("run %d: %d reminders, want %d", i+1, n, want)
				}
			}
			if n, err := w.h.RemindStalled(ctx, w.laos); err != nil || n != 0 {
				t.Fatalf("the receiver was reminded of the sender's step: %d, %v", n, err)
			}
			if n := mailsOrNotices(t, s, w.th, h.ID); n == 0 {
				t.Fatal("the stall told nobody")
			}
			notices := outboxCount(t, s, w.th, tenants.KindNotifyCreate, h.ID)

			// The stage moves and stalls again: a new stall, reminded once.
			w.advance(t, w.starter, h.ID, StageInterview, ActionDone)
			w.now = w.now.Add(11 * 24 * time.Hour)
			for i, want := range []int{1, 0} {
				n, err := w.h.RemindStalled(ctx, w.th)
				must(t, err)
				if n != want {
					t.Fatalf("second stall, run %d: %d reminders, want %d", i+1, n, want)
				}
			}
			if outboxCount(t, s, w.th, tenants.KindNotifyCreate, h.ID) <= notices {
				t.Fatal("the second stall told nobody")
			}

			// Through to the admission, then the feedback job.
			for _, st := range []Stage{StageTracingRequest} {
				w.advance(t, w.starter, h.ID, st, ActionDone)
			}
			w.advance(t, w.laosMgr, h.ID, StageTracingResult, ActionDone)
			w.advance(t, w.starter, h.ID, StageTravelDocuments, ActionDone)
			w.advance(t, w.starter, h.ID, StageReturnPlan, ActionDone)
			w.advance(t, w.laosMgr, h.ID, StageReturnPlan, ActionConfirm)
			w.advance(t, w.starter, h.ID, StageHandover, ActionDone)
			w.advance(t, w.laosMgr, h.ID, StageHandover, ActionConfirm)
			w.advance(t, w.laosMgr, h.ID, StageTransitCentre, ActionDone)
			_, err = w.h.Accept(w.laosMgr, h.ID)
			must(t, err)
			w.advance(t, w.laosMgr, h.ID, StageAdmission, ActionDone)

			if n, err := w.h.SendDueFeedback(ctx, w.laos); err != nil || n != 0 {
				t.Fatalf("feedback before its time: %d, %v", n, err)
			}
			w.now = w.now.AddDate(0, FeedbackEveryMonths, 2)
			for i, want := range []int{1, 0} {
				n, err := w.h.SendDueFeedback(ctx, w.laos)
				must(t, err)
				if n != want {
					t.Fatalf("feedback run %d: %d, want %d", i+1, n, want)
				}
			}
			if n, err := w.h.SendDueFeedback(ctx, w.th); err != nil || n != 0 {
				t.Fatalf("the sender sent feedback: %d, %v", n, err)
			}
			fb, err := w.h.FeedbackOf(w.starter, h.ID)
			must(t, err)
			if len(fb) != 1 || !fb[0].Automatic || fb[0].Status != FeedbackInShelter {
				t.Fatalf("the sender's feedback: %+v", fb)
			}
			mine, err := w.h.FeedbackOf(w.laosMgr, h.ID)
			must(t, err)
			if len(mine) != 1 || mine[0].ID != fb[0].ID {
				t.Fatalf("the receiver's feedback: %+v", mine)
			}
			// The next period: once more.
			w.now = w.now.AddDate(0, FeedbackEveryMonths, 0)
			if n, err := w.h.SendDueFeedback(ctx, w.laos); err != nil || n != 1 {
				t.Fatalf("next period: %d, %v", n, err)
			}
		})
	}
}

// mailsOrNotices counts org's notify jobs about id.
func mailsOrNotices(t *testing.T, s *tenants.Store, org, id uuid.UUID) int {
	return outboxCount(t, s, org, tenants.KindNotifyCreate, id)
}

// TestStartFromIntake: the short case and the handoff in one transaction;
// a refused handoff leaves no case behind.
func TestStartFromIntake(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	intake := cases.NewCase{Values: map[string]any{"prs_FirstName": "Kham", "prs_Birthdate": "2008-09-09"},
		Consents: []cases.NewConsent{{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl, GivenOn: "2025-02-01",
			Basis: cases.BasisRecordedVerbal}}}
	count := func() int {
		page, err := cases.New(s).List(w.starter, cases.Query{})
		must(t, err)
		return len(page.Cases)
	}
	before := count()
	_, err := w.h.StartFromIntake(w.starter, intake, NewHandoff{PartnershipID: w.pship, Fields: []string{"psychological_notes"}})
	wantCode(t, "a refused intake handoff", err, homeward.EINVALID, "fields")
	if count() != before {
		t.Fatal("a refused handoff left its case behind")
	}
	h, err := w.h.StartFromIntake(w.starter, intake, NewHandoff{PartnershipID: w.pship, Fields: []string{"prs_FirstName"}})
	must(t, err)
	if h.State != StateSent || h.CaseID == nil || count() != before+1 {
		t.Fatalf("intake handoff: %+v", h)
	}
	got, err := w.h.Get(w.laosMgr, h.ID)
	must(t, err)
	if got.Shared.Values["prs_FirstName"] != "Kham" || len(got.Shared.Values) != 1 {
		t.Fatalf("shared: %+v", got.Shared.Values)
	}
	// Denied: a counsellor opens no case here.
	_, err = w.h.StartFromIntake(w.counsel, intake, NewHandoff{PartnershipID: w.pship, Fields: []string{"prs_FirstName"}})
	wantCode(t, "a counsellor's intake handoff", err, homeward.EFORBIDDEN, "")
}

// TestDashboard counts by stage and state, for those allowed.
func TestDashboard(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	h := w.start(t, w.caseID, "")
	w.advance(t, w.starter, h.ID, StageInterview, ActionDone)
	d, err := w.h.Dashboard(w.starter)
	must(t, err)
	if d.ByState[StateSent] != 1 || len(d.Stages) != len(Stages) || d.Stages[1].Open != 1 || d.Stages[0].Open != 0 {
		t.Fatalf("dashboard: %+v", d)
	}
	if _, err := w.h.Dashboard(w.laosAdmin); err != nil { // dashboard.read
		t.Fatal(err)
	}
	_, err = w.h.Dashboard(w.counsel)
	wantCode(t, "a counsellor's dashboard", err, homeward.EFORBIDDEN, "")
}

// TestOwnScope: a social worker (handoff.write_own, thread_own) reaches the
// handoffs of the cases she is assigned to, and no other (allowed control:
// the assigned one).
func TestOwnScope(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	sub := func(who string) string { return who + "-" + w.th.String()[:8] }
	assigned, assignedP := tenanttest.Member(t, s, w.th, sub("social-a"), tenants.RoleSocialWorker)
	other, _ := tenanttest.Member(t, s, w.th, sub("social-b"), tenants.RoleSocialWorker)
	_, err := cases.New(s).Assign(w.starter, w.caseID, w.starterP.Actor.MemberID, []uuid.UUID{*assignedP.Actor.MemberID})
	must(t, err)
	h := w.start(t, w.caseID, "")

	page, err := w.h.List(assigned, Query{Box: "outgoing"})
	must(t, err)
	if len(page.Handoffs) != 1 || page.Handoffs[0].ID != h.ID {
		t.Fatalf("the assigned social worker lists %+v", page.Handoffs)
	}
	_, err = w.h.Post(assigned, h.ID, "I will accompany her", nil)
	must(t, err)
	w.advance(t, assigned, h.ID, StageInterview, ActionDone)

	page, err = w.h.List(other, Query{})
	must(t, err)
	if len(page.Handoffs) != 0 {
		t.Fatalf("another social worker lists %d handoffs", len(page.Handoffs))
	}
	_, err = w.h.Get(other, h.ID)
	wantCode(t, "another social worker reads it", err, homeward.ENOTFOUND, "")
	_, err = w.h.Post(other, h.ID, "hello", nil)
	wantCode(t, "another social worker writes", err, homeward.ENOTFOUND, "")
	_, err = w.h.Start(other, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID, Fields: chosen})
	wantCode(t, "another social worker starts one", err, homeward.ENOTFOUND, "")
	_, err = w.h.List(w.counsel, Query{})
	wantCode(t, "a counsellor lists handoffs", err, homeward.EFORBIDDEN, "")
	_, err = w.h.List(w.starter, Query{Box: "sideways"})
	wantCode(t, "a bad box", err, homeward.EINVALID, "box")
	_, err = w.h.List(w.starter, Query{Cursor: "nonsense"})
	wantCode(t, "a bad cursor", err, homeward.EINVALID, "cursor")
}

// TestAcceptWritesEveryGroupShared: the receiver's case holds every group
// shared, even one the accepting case manager may not write by hand (the
// legal group: lawyers write it). Denied control: she may not write it
// through the case files.
func TestAcceptWritesEveryGroupShared(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	lawyer, lawyerP := tenanttest.Member(t, s, w.th, "lawyer-"+w.th.String()[:8], tenants.RoleLawyer)
	cs := cases.New(s)
	_, err := cs.Assign(w.starter, w.caseID, w.starterP.Actor.MemberID, []uuid.UUID{*lawyerP.Actor.MemberID})
	must(t, err)
	_, err = cs.Update(lawyer, w.caseID, cases.Patch{Values: map[string]any{"legal_notes": "she wants to testify"}})
	must(t, err)
	h, err := w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID,
		Fields: []string{"prs_FirstName", "legal_notes"}})
	must(t, err)
	acc, err := w.h.Accept(w.laosMgr, h.ID)
	must(t, err)
	c, err := cs.Get(w.laosMgr, *acc.CaseID)
	must(t, err)
	if c.Values["legal_notes"] != "she wants to testify" || c.Values["prs_FirstName"] != "Noy" {
		t.Fatalf("the receiver's case: %+v", c.Values)
	}
	_, err = cs.Update(w.laosMgr, c.ID, cases.Patch{Values: map[string]any{"legal_notes": "changed"}})
	wantCode(t, "the case manager writes the legal group by hand", err, homeward.EFORBIDDEN, "")
}

// TestListPages: the list pages by its cursor, most recent change first.
func TestListPages(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	w := newHandoffWorld(t, s)
	var ids []uuid.UUID
	for range 3 {
		w.now = w.now.Add(time.Minute)
		ids = append(ids, w.start(t, w.caseID, "").ID)
	}
	first, err := w.h.List(w.laosMgr, Query{Limit: 2})
	must(t, err)
	if len(first.Handoffs) != 2 || first.Next == "" || first.Handoffs[0].ID != ids[2] {
		t.Fatalf("first page: %d, next %q", len(first.Handoffs), first.Next)
	}
	second, err := w.h.List(w.laosMgr, Query{Limit: 2, Cursor: first.Next})
	must(t, err)
	if len(second.Handoffs) != 1 || second.Next != "" || second.Handoffs[0].ID != ids[0] {
		t.Fatalf("second page: %+v", second)
	}
	_, err = w.h.List(w.laosMgr, Query{Limit: 2, Cursor: first.Next, Box: "incoming"})
	wantCode(t, "a cursor of another list", err, homeward.EINVALID, "cursor")
}

// TestConcurrentStartsTakeDistinctNumbers: starts at once take distinct,
// consecutive numbers (PostgreSQL: the counter row is locked).
func TestConcurrentStartsTakeDistinctNumbers(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	w := newHandoffWorld(t, s)
	const n = 5
	refs := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			h, err := w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID, Fields: chosen})
			if err != nil {
				errs <- err
				return
			}
			refs <- h.Reference
		}()
	}
	seen := map[string]bool{}
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-refs:
			seen[r] = true
		}
	}
	for i := 1; i <= n; i++ {
		if !seen[Reference(int64(i))] {
			t.Fatalf("numbers taken: %v", seen)
		}
	}
}
