package pages_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// The case pages against the real case service on the settings pages'
// world (SQLite): organisation a's members, each signed in with one role.

// ctxOf is a context signed in as p, for calls to the domain itself.
func ctxOf(p *tenants.Principal) context.Context {
	return tenants.WithPrincipal(context.Background(), p)
}

// intakeForm is a valid intake of a girl named first, with her services
// consent.
func intakeForm(p *tenants.Principal, first string, kv ...string) url.Values {
	f := form(p, "prs_FirstName", first, "prs_SecondName", "Sisavath", "prs_Birthdate", "2009-04-01",
		"prs_Gender", "Feminine", "prs_PrimaryLanguage", "lao", "prs_Citizenship", "LA",
		"vic_TraffickingStatus", "ActualVictimOfTrafficking", "vic_TypeOfExploitation", "SexualExploitation",
		"cas_ReferringOrganisation", "Transit centre", "cas_IncomingReferralDate", "2025-11-03",
		"consent_services_given", "yes", "consent_services_given_by", "girl",
		"consent_services_given_on", "2025-11-03", "consent_services_basis", "signed_form")
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

var caseLocation = regexp.MustCompile(`^/cases/([0-9a-f-]{36})$`)

// newCase records a case through the intake page as a's case manager and
// assigns it to a's social worker, counsellor and medical officer.
func (w *world) newCase(t *testing.T, first string) uuid.UUID {
	t.Helper()
	cm := w.a.members[tenants.RoleCaseManager]
	r := post(t, w.as(t, cm), "/cases", intakeForm(cm, first))
	m := caseLocation.FindStringSubmatch(r.header.Get("Location"))
	if r.status != 303 || m == nil {
		t.Fatalf("intake: %d Location %q: %.400s", r.status, r.header.Get("Location"), r.body)
	}
	id := uuid.MustParse(m[1])
	var staff []uuid.UUID
	for _, role := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer} {
		staff = append(staff, *w.a.members[role].Actor.MemberID)
	}
	if _, err := cases.New(w.s).Assign(ctxOf(cm), id, cm.Actor.MemberID, staff); err != nil {
		t.Fatal(err)
	}
	return id
}

var versionField = regexp.MustCompile(`name="version" value="([0-9]+)"`)

// versionOf is the case version the page's forms send.
func versionOf(t *testing.T, r response) string {
	t.Helper()
	m := versionField.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no version on the page: %.400s", r.body)
	}
	return m[1]
}

// TestCaseListAndIntake: the list for those who read cases (its empty
// state links the intake), the intake (303 to the new case), the exact
// search by first name; an outreach worker records a case and is sent to
// the list's page, which shows them no case; a role with no part in the
// case files gets 403.
func TestCaseListAndIntake(t *testing.T) {
	w := newWorld(t)
	cm := w.a.members[tenants.RoleCaseManager]
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/cases"), "/login?next=%2Fcases")
	wantStatus(t, "finance officer", get(t, w.as(t, w.a.members[tenants.RoleFinanceOfficer]), "/cases"), 403)
	r := get(t, w.as(t, cm), "/cases")
	wantStatus(t, "case manager, no case yet", r, 200)
	mustContain(t, r, "There are no cases yet.", `<a href="/cases/new">`, `href="/cases" aria-current="page"`)

	r = post(t, w.as(t, cm), "/cases", intakeForm(cm, "Nokham"))
	if m := caseLocation.FindStringSubmatch(r.header.Get("Location")); r.status != 303 || m == nil {
		t.Fatalf("intake: %d %q", r.status, r.header.Get("Location"))
	}
	if flashOf(r) != "cases.flash_created" {
		t.Errorf("flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, cm), "/cases")
	mustContain(t, r, `id="case-list"`, "C-00001", "Nokham Sisavath", "Intake", "Active")
	found := get(t, w.as(t, cm), "/cases?q=nokham")
	mustContain(t, found, "C-00001", "Nokham Sisavath", `value="nokham"`)
	missed := get(t, w.as(t, cm), "/cases?q=Nokha")
	wantStatus(t, "a partial name", missed, 200)
	mustContain(t, missed, "No case matches. The search finds exact matches only")
	mustNotContain(t, missed, "C-00001")

	// The outreach worker: intake, then nothing.
	ow := w.a.members[tenants.RoleOutreachWorker]
	r = post(t, w.as(t, ow), "/cases", intakeForm(ow, "Bounmy"))
	wantRedirect(t, "outreach intake", r, "/cases")
	if flashOf(r) != "cases.flash_created_handed_on" {
		t.Errorf("outreach flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, ow), "/cases", "Cookie", "homeward_flash=cases.flash_created_handed_on")
	wantStatus(t, "outreach list", r, 200)
	mustContain(t, r, "The case is recorded and handed to the case workers.", `id="new-case"`)
	mustNotContain(t, r, `id="case-list"`, "Bounmy", "C-00002")
	mustContain(t, get(t, w.as(t, cm), "/cases?q=Bounmy"), "C-00002")
}

// TestIntakeRefusesBadValues: an unknown gender or a birth date in the
// future draws the form again (422) with the reason beside that field and
// what was typed; nothing is stored (control: the same form, corrected,
// records the case).
func TestIntakeRefusesBadValues(t *testing.T) {
	w := newWorld(t)
	cm := w.a.members[tenants.RoleCaseManager]
	app := w.as(t, cm)
	future := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	for name, c := range map[string]struct{ field, value, reason string }{
		"gender":    {"prs_Gender", "Robot", "Choose from the list."},
		"birthdate": {"prs_Birthdate", future, "Enter a real date (day, month, year), not in the future."},
	} {
		t.Run(name, func(t *testing.T) {
			r := post(t, app, "/cases", intakeForm(cm, "Canary"+name, c.field, c.value))
			wantStatus(t, name, r, 422)
			mustContain(t, r, `aria-describedby="f-`+c.field+`-error"`, `<p class="field-error" id="f-`+c.field+`-error">`+c.reason,
				`value="Canary`+name+`"`, "Some answers need correcting")
			mustContain(t, get(t, app, "/cases?q=Canary"+name), "No case matches")
		})
	}
	r := post(t, app, "/cases", intakeForm(cm, "Canarygender"))
	wantStatus(t, "corrected", r, 303)
	mustContain(t, get(t, app, "/cases?q=Canarygender"), "C-00001")
}

// TestCaseTabsFollowAccess: on the same case, assigned to both, the
// medical officer has the medical tab (and its form) and the social worker
// does not (asking for it shows the core); the social worker's allowed
// tabs are there; each writes only the groups they may; another
// organisation's member finds nothing.
func TestCaseTabsFollowAccess(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Phonsavanh")
	path := "/cases/" + id.String()
	mo, sw := w.a.members[tenants.RoleMedicalOfficer], w.a.members[tenants.RoleSocialWorker]

	r := get(t, w.as(t, mo), path+"?tab=medical")
	wantStatus(t, "medical officer", r, 200)
	mustContain(t, r, `href="`+path+`?tab=medical" aria-current="page"`, `action="`+path+`/groups/medical"`, `name="medical_notes"`)
	mustNotContain(t, r, "?tab=family") // the medical officer's roles do not read the family group

	r = get(t, w.as(t, sw), path+"?tab=medical")
	wantStatus(t, "social worker", r, 200)
	mustContain(t, r, `href="`+path+`?tab=identity"`, `href="`+path+`?tab=family"`, `href="`+path+`" aria-current="page"`)
	mustNotContain(t, r, "?tab=medical", "medical_notes", "Phonsavanh") // the core tab names no one
	mustContain(t, get(t, w.as(t, sw), path+"?tab=identity"), `value="Phonsavanh"`, `action="`+path+`/groups/identity"`)

	version := versionOf(t, get(t, w.as(t, mo), path+"?tab=medical"))
	r = post(t, w.as(t, mo), path+"/groups/medical", form(mo, "version", version, "medical_notes", "First visit: well."))
	wantRedirect(t, "medical officer saves", r, path+"?tab=medical")
	mustContain(t, get(t, w.as(t, mo), path+"?tab=medical"), "First visit: well.")
	wantStatus(t, "social worker writes medical", post(t, w.as(t, sw), path+"/groups/medical", form(sw, "version", version, "medical_notes", "x")), 403)
	mustNotContain(t, get(t, w.as(t, mo), path+"?tab=medical"), ">x</textarea>")

	// The counsellor reads identity, never writes it: no form.
	r = get(t, w.as(t, w.a.members[tenants.RoleCounsellor]), path+"?tab=identity")
	mustContain(t, r, "Phonsavanh", "You can read this part of the case.")
	mustNotContain(t, r, `action="`+path+`/groups/identity"`)

	wantStatus(t, "b's social worker", get(t, w.as(t, w.b.members[tenants.RoleSocialWorker]), path), 404)
	wantStatus(t, "a's lawyer, not assigned", get(t, w.as(t, w.a.members[tenants.RoleLawyer]), path), 404)
}

// TestCaseStageChange: the case manager moves the case to the shelter;
// closing without the reason is refused beside it; a form sent with an
// old version says someone changed the case meanwhile (409).
func TestCaseStageChange(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Keo")
	path := "/cases/" + id.String()
	cm := w.a.members[tenants.RoleCaseManager]
	app := w.as(t, cm)
	old := versionOf(t, get(t, app, path))

	r := post(t, app, path+"/stage", form(cm, "version", old, "stage", "closed"))
	wantStatus(t, "closing without a reason", r, 422)
	mustContain(t, r, `id="f-cas_ReasonForCaseClosure-error"`)
	r = post(t, app, path+"/stage", form(cm, "version", old, "stage", "shelter"))
	wantStatus(t, "admission through the stage form", r, 422)
	mustContain(t, r, `id="new-stage-error"`)
	r = post(t, app, path+"/stage", form(cm, "version", old, "stage", "referred"))
	wantRedirect(t, "referred", r, path)
	mustContain(t, get(t, app, path), `<dd id="case-stage">Referred elsewhere</dd>`)

	r = post(t, app, path+"/groups/identity", form(cm, "version", old, "prs_FirstName", "Changed"))
	wantStatus(t, "an old version", r, 409)
	mustContain(t, r, "Someone changed this case meanwhile", `value="Keo"`)
	mustNotContain(t, get(t, app, path+"?tab=identity"), "Changed")

	// A social worker writes the core of her own cases: a comment.
	sw := w.a.members[tenants.RoleSocialWorker]
	wantRedirect(t, "comment", post(t, w.as(t, sw), path+"/comments", form(sw, "text", "Met her family today.")), path+"#comments")
	mustContain(t, get(t, app, path), "Met her family today.")
	// The medical officer reads the core only: no stage form, no comment.
	r = get(t, w.as(t, w.a.members[tenants.RoleMedicalOfficer]), path)
	mustNotContain(t, r, `action="`+path+`/stage"`, `action="`+path+`/comments"`)
	mustContain(t, r, "Met her family today.")

	// The path's pages are linked by the parts each member opens: medical
	// care for the medical officer, not for the social worker, who has
	// follow-up and the kit instead.
	mustContain(t, r, `href="`+path+`/medical"`)
	mustNotContain(t, r, `href="`+path+`/followup"`)
	r = get(t, w.as(t, sw), path)
	mustContain(t, r, `href="`+path+`/followup"`, `href="`+path+`/kit"`, `href="`+path+`/admission"`)
	mustNotContain(t, r, `href="`+path+`/medical"`, `href="`+path+`/psychological"`)
}

// TestCaseConsentPages: the consent tab shows each purpose's state and
// the history; a case manager records a consent and withdraws it (only
// with the box ticked); the counsellor reads it and may not record one.
func TestCaseConsentPages(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Dao")
	path := "/cases/" + id.String()
	cm := w.a.members[tenants.RoleCaseManager]
	app := w.as(t, cm)

	r := get(t, app, path+"?tab=consent")
	mustContain(t, r, `id="consent-services"`, `action="`+path+`/consent"`)
	r = post(t, app, path+"/consent", form(cm, "purpose", "family_tracing", "given_by", "family", "given_on", "2025-12-01", "basis", "recorded_verbal"))
	wantRedirect(t, "record", r, path+"?tab=consent")
	r = get(t, app, path+"?tab=consent")
	mustContain(t, r, `action="`+path+`/consent/family_tracing/withdraw"`, "Her family", "Verbal consent, recorded")

	r = post(t, app, path+"/consent/family_tracing/withdraw", form(cm, "reason", "Changed her mind"))
	wantStatus(t, "withdraw unconfirmed", r, 422)
	mustContain(t, r, "Tick the box to confirm.")
	ok, err := consented(w, id, cases.PurposeFamilyTracing)
	if err != nil || !ok {
		t.Fatalf("after an unconfirmed withdrawal: consented %v, %v", ok, err)
	}
	r = post(t, app, path+"/consent/family_tracing/withdraw", form(cm, "reason", "Changed her mind", "confirm", "yes"))
	wantRedirect(t, "withdraw", r, path+"?tab=consent")
	if ok, err := consented(w, id, cases.PurposeFamilyTracing); err != nil || ok {
		t.Fatalf("after withdrawal: consented %v, %v", ok, err)
	}
	r = get(t, app, path+"?tab=consent")
	mustContain(t, r, "Withdrawn", "Changed her mind")
	mustNotContain(t, r, `action="`+path+`/consent/family_tracing/withdraw"`)

	co := w.a.members[tenants.RoleCounsellor]
	r = get(t, w.as(t, co), path+"?tab=consent")
	mustContain(t, r, `id="consent-services"`, "Changed her mind")
	mustNotContain(t, r, `action="`+path+`/consent"`)
	wantStatus(t, "counsellor records", post(t, w.as(t, co), path+"/consent",
		form(co, "purpose", "statistics", "given_by", "girl", "given_on", "2025-12-01", "basis", "signed_form")), 403)
	if ok, _ := consented(w, id, cases.PurposeStatistics); ok {
		t.Error("the counsellor's consent was recorded")
	}
}

// consented asks the domain whether the case has a standing consent.
func consented(w *world, id uuid.UUID, purpose cases.Purpose) (bool, error) {
	cs, err := cases.New(w.s).Get(ctxOf(w.a.members[tenants.RoleCaseManager]), id)
	if err != nil {
		return false, err
	}
	for _, c := range cs.Consent {
		if c.Purpose == purpose && c.Active() {
			return true, nil
		}
	}
	return false, nil
}

// TestCaseErasurePages: a case manager asks for an erasure; the erasures
// page names the case by number and reason; the requester may not approve
// (403, said on the page); a second case manager approves, with the box
// ticked, and the case is gone; the audit trail stays for the auditor.
func TestCaseErasurePages(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Vanna")
	path := "/cases/" + id.String()
	cm := w.a.members[tenants.RoleCaseManager]
	cm2 := w.signIn(t, w.a, "a.case_manager.2", "g-case_manager")
	cm2.SessionID, cm2.CSRFToken = "sess-a-cm2", "csrf-a-cm2"

	r := post(t, w.as(t, cm), path+"/erasure", form(cm, "reason", "created_in_error", "note", "Typed twice"))
	wantStatus(t, "unconfirmed request", r, 422)
	mustContain(t, r, `id="erasure-confirm-error"`)
	r = post(t, w.as(t, cm), path+"/erasure", form(cm, "reason", "created_in_error", "note", "Typed twice", "confirm", "yes"))
	wantRedirect(t, "request", r, "/cases/erasures")

	list, err := cases.New(w.s).Erasures(ctxOf(cm))
	if err != nil || len(list) != 1 {
		t.Fatalf("erasures: %v %v", list, err)
	}
	approve := "/cases/erasures/" + list[0].ID.String() + "/approve"
	r = get(t, w.as(t, cm), "/cases/erasures")
	wantStatus(t, "requester's list", r, 200)
	mustContain(t, r, "C-00001", "Created by mistake", "You asked for this erasure")
	mustNotContain(t, r, "Vanna", "Typed twice", `formaction="`+approve+`"`)
	wantStatus(t, "social worker's list", get(t, w.as(t, w.a.members[tenants.RoleSocialWorker]), "/cases/erasures"), 403)

	r = post(t, w.as(t, cm), approve, form(cm, "confirm", "yes"))
	wantStatus(t, "the requester approves", r, 403)
	mustContain(t, r, "Another person than the one who asked must approve this erasure.")
	wantStatus(t, "still there", get(t, w.as(t, cm), path), 200)

	mustContain(t, get(t, w.as(t, cm2), "/cases/erasures"), `formaction="`+approve+`"`)
	wantStatus(t, "unconfirmed approval", post(t, w.as(t, cm2), approve, form(cm2)), 422)
	wantRedirect(t, "second person approves", post(t, w.as(t, cm2), approve, form(cm2, "confirm", "yes")), "/cases/erasures")
	wantStatus(t, "erased", get(t, w.as(t, cm), path), 404)
	mustContain(t, get(t, w.as(t, cm), "/cases?q=Vanna"), "No case matches")

	// The audit trail: auditors and tenant admins, nobody else.
	r = get(t, w.as(t, w.a.members[tenants.RoleAuditor]), path+"/audit")
	wantStatus(t, "auditor", r, 200)
	mustContain(t, r, "<code>case.create</code>", "<code>case.erase</code>")
	mustNotContain(t, r, "Vanna", "Typed twice")
	wantStatus(t, "case manager's audit", get(t, w.as(t, cm), path+"/audit"), 403)
}
