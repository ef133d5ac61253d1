package pages_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/web/i18n"
)

// The handoff pages against the real handoff service on the settings
// pages' world (SQLite): organisation a sends to organisation b under an
// active partnership.

// handoffWorld is the world with the handoff pages and a handoff
// partnership a → b; caseID is a case of a's (owned by its case manager,
// assigned to its social worker, counsellor and medical officer) with the
// sharing consent.
func handoffWorld(t *testing.T) (*world, uuid.UUID, uuid.UUID) {
	t.Helper()
	w := newWorld(t)
	svc := handoffs.New(w.s)
	w.deps.Handoffs = svc
	ps, err := svc.ProposePartnership(ctxOf(w.a.members[tenants.RoleTenantAdmin]), handoffs.NewPartnership{
		Partner: w.b.slug, Purpose: handoffs.PurposeHandoffs, Sending: true,
		Groups: []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily}, AgreementRef: "DSA-A-B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DecidePartnership(ctxOf(w.b.members[tenants.RoleTenantAdmin]), ps.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	id := w.newCase(t, "Noy")
	w.consent(t, id, cases.PurposeSharing)
	return w, id, ps.ID
}

// consent records a's consent of purpose on case id.
func (w *world) consent(t *testing.T, id uuid.UUID, purpose cases.Purpose) {
	t.Helper()
	if _, err := cases.New(w.s).RecordConsent(ctxOf(w.a.members[tenants.RoleCaseManager]), id, cases.NewConsent{
		Purpose: purpose, GivenBy: cases.GivenByGirl, GivenOn: "2025-11-03", Basis: cases.BasisSignedForm}); err != nil {
		t.Fatal(err)
	}
}

var handoffLocation = regexp.MustCompile(`^/handoffs/([0-9a-f-]{36})$`)

// started is the handoff a start form's answer went to.
func started(t *testing.T, r response) string {
	t.Helper()
	m := handoffLocation.FindStringSubmatch(r.header.Get("Location"))
	if r.status != 303 || m == nil {
		t.Fatalf("start: %d Location %q: %.600s", r.status, r.header.Get("Location"), r.body)
	}
	return m[0]
}

// TestHandoffPagesFromStartToFeedback: the case page offers the handoff to
// its case managers; the start form shows the fields by group, each
// chosen one travels (a form without any: 422, nothing sent); the
// receiver finds it in its inbox, sees only the shared fields, cannot
// record the sender's stage (403, said on the page) while the sender can;
// accepting needs the confirmation; both sides write in the thread; the
// other roles and anyone not signed in are kept out.
func TestHandoffPagesFromStartToFeedback(t *testing.T) {
	w, caseID, _ := handoffWorld(t)
	cm, sw, counsellor := w.a.members[tenants.RoleCaseManager], w.a.members[tenants.RoleSocialWorker], w.a.members[tenants.RoleCounsellor]
	bcm, bsw := w.b.members[tenants.RoleCaseManager], w.b.members[tenants.RoleSocialWorker]
	if _, err := cases.New(w.s).Update(ctxOf(cm), caseID, cases.Patch{Values: map[string]any{
		"family_home_village": "Ban Nong Bua", "family_notes": "canary-family-notes"}}); err != nil {
		t.Fatal(err)
	}
	casePage := "/cases/" + caseID.String()
	newPage := "/handoffs/new?case=" + caseID.String()

	// The case page links the start form for who may start one.
	mustContain(t, get(t, w.as(t, cm), casePage), `id="hand-over"`, `href="/handoffs/new?case=`+caseID.String()+`"`, "Hand over to a partner")
	mustContain(t, get(t, w.as(t, sw), casePage), `id="hand-over"`)
	mustNotContain(t, get(t, w.as(t, counsellor), casePage), `id="hand-over"`)

	wantRedirect(t, "anonymous", get(t, w.as(t, nil), newPage), "/login?next=%2Fhandoffs%2Fnew")
	wantStatus(t, "the counsellor", get(t, w.as(t, counsellor), newPage), 403)
	wantStatus(t, "b's case manager on a's case", get(t, w.as(t, bcm), newPage), 404)
	r := get(t, w.as(t, cm), newPage)
	wantStatus(t, "the start form", r, 200)
	mustContain(t, r, `id="handoff-start"`, `id="handoff-group-identity"`, `id="handoff-group-family"`,
		`name="field" value="prs_FirstName"`, `name="field" value="family_home_village"`, `id="handoff-consent"`, "Organisation B")
	mustNotContain(t, r, `id="handoff-override"`, "canary-family-notes")

	// A form with no field chosen: 422, the reason beside the fields.
	f := form(cm, "case", caseID.String(), "partnership", partnershipOf(t, r), "note", "From the shelter in Nong Khai")
	r = post(t, w.as(t, cm), "/handoffs", f)
	wantStatus(t, "no field", r, 422)
	mustContain(t, r, "Tick at least one fact the partner may receive.", "From the shelter in Nong Khai")
	f.Add("field", "prs_FirstName")
	f.Add("field", "family_home_village")
	wantStatus(t, "the counsellor starts", post(t, w.as(t, counsellor), "/handoffs", f), 403)
	r = post(t, w.as(t, cm), "/handoffs", f)
	page := started(t, r)
	if flashOf(r) != "handoffs.flash_sent" {
		t.Errorf("flash = %q", flashOf(r))
	}

	// The sender's page: the timeline, this side's next step, withdrawal.
	r = get(t, w.as(t, cm), page)
	wantStatus(t, "the sender's page", r, 200)
	mustContain(t, r, `id="timeline"`, "Stage 1: Identification and protection", `id="step-form"`,
		`value="done:interview"`, "Record: Stage 2: Case interview", "case interview record", `id="withdraw-form"`,
		"Waiting for the partner organisation to accept or decline.", "From the shelter in Nong Khai")
	mustNotContain(t, r, `id="accept-form"`, `id="shared"`)
	wantStatus(t, "a's social worker (its own case)", get(t, w.as(t, sw), page), 200)
	wantStatus(t, "a's counsellor", get(t, w.as(t, counsellor), page), 403)

	// The receiver: its inbox, the shared fields alone, the decision.
	r = get(t, w.as(t, bcm), "/handoffs")
	wantStatus(t, "b's inbox", r, 200)
	mustContain(t, r, `href="`+page+`"`, "Waiting for the partner", "Organisation A")
	mustContain(t, get(t, w.as(t, bcm), "/handoffs?box=outgoing"), `id="handoffs-empty"`, "Your organisation has not handed anyone over yet.")
	r = get(t, w.as(t, bcm), page)
	wantStatus(t, "the receiver's page", r, 200)
	mustContain(t, r, `id="shared"`, "Noy", "Ban Nong Bua", `id="accept-form"`, "This handoff waits for your decision")
	mustNotContain(t, r, "canary-family-notes", "Sisavath", `id="withdraw-form"`, `value="done:interview"`)
	wantStatus(t, "b's social worker", get(t, w.as(t, bsw), page), 404)

	// The wrong side: the receiver may not record the sender's stage (403,
	// said on the page); the sender may.
	r = post(t, w.as(t, bcm), page+"/stages", form(bcm, "step", "done:interview"))
	wantStatus(t, "the receiver records the interview", r, 403)
	mustContain(t, r, "This stage belongs to the other organisation.")
	r = post(t, w.as(t, cm), page+"/stages", form(cm, "step", "done:interview", "note", "With an interpreter"))
	wantRedirect(t, "the sender records the interview", r, page+"#timeline")
	// Out of order: 409, the page again.
	r = post(t, w.as(t, cm), page+"/stages", form(cm, "step", "done:travel_documents"))
	wantStatus(t, "out of order", r, 409)
	mustContain(t, r, "a stage comes only after the one before it")
	// Going back needs a reason.
	r = post(t, w.as(t, cm), page+"/stages", form(cm, "step", "reopen:interview"))
	wantStatus(t, "reopen without reason", r, 422)
	mustContain(t, r, "Write why you go back to an earlier stage.")

	// Accepting needs the confirmation; then b has its case.
	r = post(t, w.as(t, bcm), page+"/accept", form(bcm))
	wantStatus(t, "accept unconfirmed", r, 422)
	mustContain(t, r, "Tick the box to confirm.")
	r = post(t, w.as(t, bcm), page+"/accept", form(bcm, "confirm", "yes"))
	wantRedirect(t, "accept", r, page)
	if flashOf(r) != "handoffs.flash_accepted" {
		t.Errorf("flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, bcm), page)
	mustContain(t, r, `id="handoff-case"`, "Accepted", "With an interpreter")
	mustNotContain(t, r, `id="accept-form"`)
	mustContain(t, get(t, w.as(t, cm), page), `id="withdraw-form"`, "Stop sharing")

	// The thread, both ways.
	wantRedirect(t, "a's message", post(t, w.as(t, cm), page+"/messages", form(cm, "text", "Her bag travels with the escort")), page+"#thread")
	r = post(t, w.as(t, bcm), page+"/messages", form(bcm, "text", ""))
	wantStatus(t, "an empty message", r, 422)
	mustContain(t, r, "Write a message")
	r = get(t, w.as(t, bcm), page)
	mustContain(t, r, `id="messages"`, "Her bag travels with the escort", "The partner organisation")

	// Feedback is the receiver's after the admission: refused before it.
	r = post(t, w.as(t, bcm), page+"/feedback", form(bcm, "status", "in_shelter", "follow_up_continues", "yes"))
	wantStatus(t, "feedback before the admission", r, 409)
	mustContain(t, r, "Feedback is sent after admission")
}

// partnershipOf is the partnership the start form chose.
func partnershipOf(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`name="partnership" value="([0-9a-f-]{36})"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no partnership chosen on the form: %.600s", r.body)
	}
	return m[1]
}

// TestHandoffOverrideNeedsASecondPerson: without the sharing consent the
// start form explains the override and asks its reason (422 without it);
// the handoff then waits, the requester may not decide it, another case
// manager approves it and only then does the receiver see it.
func TestHandoffOverrideNeedsASecondPerson(t *testing.T) {
	w, _, partnership := handoffWorld(t)
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	second := w.signIn(t, w.a, "a.second-cm", "g-case_manager")
	second.SessionID, second.CSRFToken = "sess-a-second", "csrf-a-second"
	id := w.newCase(t, "Dao") // services consent only
	newPage := "/handoffs/new?case=" + id.String()
	r := get(t, w.as(t, cm), newPage)
	mustContain(t, r, `id="handoff-override"`, "another case manager of your organisation must approve", `name="override_reason"`)
	mustNotContain(t, r, `id="handoff-consent"`)

	f := form(cm, "case", id.String(), "partnership", partnership.String(), "field", "prs_FirstName")
	r = post(t, w.as(t, cm), "/handoffs", f)
	wantStatus(t, "no reason", r, 422)
	mustContain(t, r, "Without her sharing consent, write why it must go")
	f.Set("override_reason", "She is in danger at the shelter")
	r = post(t, w.as(t, cm), "/handoffs", f)
	page := started(t, r)
	if flashOf(r) != "handoffs.flash_awaiting_override" {
		t.Errorf("flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, cm), page)
	mustContain(t, r, "Waiting for approval", "You asked for this exception: another person decides.", "She is in danger at the shelter")
	mustNotContain(t, r, `id="override-form"`)
	wantStatus(t, "the receiver before the approval", get(t, w.as(t, bcm), page), 404)
	r = post(t, w.as(t, cm), page+"/override", form(cm, "decision", "approve", "confirm", "yes"))
	wantStatus(t, "approved by its requester", r, 403)
	mustContain(t, r, "another person must decide")

	mustContain(t, get(t, w.as(t, second), page), `id="override-form"`)
	wantStatus(t, "unconfirmed", post(t, w.as(t, second), page+"/override", form(second, "decision", "approve")), 422)
	wantRedirect(t, "approved", post(t, w.as(t, second), page+"/override", form(second, "decision", "approve", "confirm", "yes")), page)
	mustContain(t, get(t, w.as(t, bcm), page), "Dao", `id="accept-form"`)
}

// TestHandoffIntakeWithoutCase: the short intake makes the case and the
// handoff at once; its form asks a few facts and the sharing consent.
func TestHandoffIntakeWithoutCase(t *testing.T) {
	w, _, partnership := handoffWorld(t)
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	r := get(t, w.as(t, cm), "/handoffs/new")
	wantStatus(t, "the intake", r, 200)
	mustContain(t, r, `id="handoff-start"`, `name="prs_FirstName"`, `name="family_home_village"`, `name="consent_sharing_given"`,
		`name="partnership"`)
	f := form(cm, "partnership", partnership.String(), "prs_FirstName", "Kham", "prs_Birthdate", "2010-02-03",
		"prs_Gender", "Feminine", "family_home_village", "Ban Xai", "consent_sharing_given", "yes",
		"consent_sharing_given_by", "girl", "consent_sharing_given_on", "2025-11-03", "consent_sharing_basis", "signed_form")
	page := started(t, post(t, w.as(t, cm), "/handoffs", f))
	r = get(t, w.as(t, bcm), page)
	mustContain(t, r, "Kham", "Ban Xai", `id="accept-form"`)
	// Without a partnership: 422 naming it.
	f.Del("partnership")
	r = post(t, w.as(t, cm), "/handoffs", f)
	wantStatus(t, "no partnership", r, 422)
	mustContain(t, r, "Choose an active partner organisation.")
}

// TestHandoffListDashboardAndCard: the inbox filters by state and pages;
// its empty state says what fills it; the dashboard draws the handoffs by
// stage as a chart and a table, for case managers and tenant admins (not
// for social workers); the home card counts the incoming handoffs waiting.
func TestHandoffListDashboardAndCard(t *testing.T) {
	w, caseID, partnership := handoffWorld(t)
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	mustContain(t, get(t, w.as(t, bcm), "/handoffs"), `id="handoffs-empty"`, "No partner organisation has handed anyone over to you yet.")
	mustContain(t, get(t, w.as(t, bcm), "/"), "No handoffs are waiting for you.")
	if _, err := handoffs.New(w.s).Start(ctxOf(cm), handoffs.NewHandoff{PartnershipID: partnership, CaseID: caseID,
		Fields: []string{"prs_FirstName"}}); err != nil {
		t.Fatal(err)
	}
	r := get(t, w.as(t, bcm), "/")
	mustContain(t, r, "1 incoming handoff waits for a decision.", `href="/handoffs"`)
	mustContain(t, get(t, w.as(t, bcm), "/handoffs?state=sent"), `id="handoff-list"`)
	r = get(t, w.as(t, bcm), "/handoffs?state=accepted")
	mustContain(t, r, "No handoff in this state.")
	mustNotContain(t, r, `id="handoff-list"`)
	// A cursor that is no cursor starts again rather than failing.
	mustContain(t, get(t, w.as(t, bcm), "/handoffs?state=sent&from=nonsense"), `id="handoff-list"`)

	r = get(t, w.as(t, cm), "/handoffs/dashboard")
	wantStatus(t, "the dashboard", r, 200)
	mustContain(t, r, `role="img"`, `id="chart-handoff-stages"`, `id="stage-days"`, "Stage 1: Identification and protection",
		`id="handoff-states"`, "Waiting for the partner")
	wantStatus(t, "the tenant admin's dashboard", get(t, w.as(t, w.a.members[tenants.RoleTenantAdmin]), "/handoffs/dashboard"), 200)
	wantStatus(t, "the social worker's dashboard", get(t, w.as(t, w.a.members[tenants.RoleSocialWorker]), "/handoffs/dashboard"), 403)
	wantStatus(t, "the counsellor's list", get(t, w.as(t, w.a.members[tenants.RoleCounsellor]), "/handoffs"), 403)
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/handoffs"), "/login?next=%2Fhandoffs")
}

// TestHandoffPagesInEveryLanguage: every handoff page, and its forms come
// back with mistakes, in each language, with no message missing and no
// inline script.
func TestHandoffPagesInEveryLanguage(t *testing.T) {
	w, caseID, partnership := handoffWorld(t)
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	h, err := handoffs.New(w.s).Start(ctxOf(cm), handoffs.NewHandoff{PartnershipID: partnership, CaseID: caseID,
		Fields: []string{"prs_FirstName"}, Note: "First note"})
	if err != nil {
		t.Fatal(err)
	}
	page := "/handoffs/" + h.ID.String()
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|<style|\sstyle=|\son[a-z]+=`)
	n := 0
	for _, lang := range i18n.Languages {
		cookie := []string{"Cookie", "homeward_lang=" + lang}
		check := func(what string, r response) {
			t.Helper()
			n++
			if r.status >= 500 || strings.Contains(r.body, "⟦") {
				t.Errorf("%s %s: %d, a missing message: %.600s", lang, what, r.status, r.body)
			}
			if m := inline.FindString(r.body); m != "" {
				t.Errorf("%s %s: inline script or style %q", lang, what, m)
			}
		}
		for _, p := range []*tenants.Principal{cm, bcm} {
			for _, path := range []string{"/", "/handoffs", "/handoffs?box=outgoing", "/handoffs/new", "/handoffs/new?case=" + caseID.String(),
				"/handoffs/dashboard", page, "/cases/" + caseID.String()} {
				check(path, get(t, w.as(t, p), path, cookie...))
			}
		}
		postAs := func(p *tenants.Principal, path string, f url.Values) response {
			t.Helper()
			req := newFormRequest(path, f)
			req.Header.Set("Cookie", "homeward_lang="+lang)
			return do(t, w.as(t, p), req)
		}
		check("start mistakes", postAs(cm, "/handoffs", form(cm, "case", caseID.String(), "partnership", partnership.String())))
		check("intake mistakes", postAs(cm, "/handoffs", form(cm, "partnership", partnership.String(), "prs_Birthdate", "x")))
		check("step mistakes", postAs(cm, page+"/stages", form(cm, "step", "reopen:identification")))
		check("wrong side", postAs(bcm, page+"/stages", form(bcm, "step", "done:interview")))
		check("decline mistakes", postAs(bcm, page+"/decline", form(bcm, "confirm", "yes")))
		check("withdraw unconfirmed", postAs(cm, page+"/withdraw", form(cm)))
		check("message mistakes", postAs(bcm, page+"/messages", form(bcm)))
	}
	if n < 90 {
		t.Errorf("only %d pages checked", n)
	}
}
