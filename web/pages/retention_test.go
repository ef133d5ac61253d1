package pages_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// closedCase records a case as a's case manager on a clock set to at and
// closes it there, so that it was closed at at (as the domain's own
// retention tests date a closure). It returns the case's reference.
func (w *world) closedCase(t *testing.T, first string, at time.Time) string {
	t.Helper()
	cm := ctxOf(w.a.members[tenants.RoleCaseManager])
	svc := cases.New(w.s).WithClock(func() time.Time { return at })
	c, err := svc.Create(cm, cases.NewCase{Values: map[string]any{"prs_FirstName": first, "prs_Birthdate": "1990-01-01", "prs_Gender": "Feminine"}})
	if err != nil {
		t.Fatal(err)
	}
	closed := cases.StageClosed
	if _, err := svc.Update(cm, c.ID, cases.Patch{Stage: &closed, Values: map[string]any{"cas_ReasonForCaseClosure": "Follow-up finished"}}); err != nil {
		t.Fatal(err)
	}
	return c.Reference
}

// retentionYears is a's retention rule as the domain reads it now.
func (w *world) retentionYears(t *testing.T) int {
	t.Helper()
	r, err := cases.New(w.s).Retention(ctxOf(w.a.members[tenants.RoleTenantAdmin]))
	if err != nil {
		t.Fatal(err)
	}
	return r.Years
}

// TestRetentionPage: the admin sees the rule (the default, 10 years), the
// form, and a case closed 11 years ago as due, by number and dates, never
// by name, and not one closed last year; a saved change is 303 and used;
// a number the domain refuses is 422 beside the field, nothing stored;
// the auditor reads without the form; a social worker gets 403.
func TestRetentionPage(t *testing.T) {
	w := newWorld(t)
	admin := w.a.members[tenants.RoleTenantAdmin]
	app := w.as(t, admin)
	now := time.Now().UTC()
	oldClosed, recentClosed := now.AddDate(-11, 0, 0), now.AddDate(-1, 0, 0)
	old := w.closedCase(t, "Oldcanary", oldClosed)
	recent := w.closedCase(t, "Recentcanary", recentClosed)

	r := get(t, app, "/settings/retention")
	wantStatus(t, "admin", r, 200)
	mustContain(t, r, `href="/settings/retention" aria-current="page"`, `<dd id="retention-rule">10 years after closure</dd>`,
		`action="/settings/retention"`, `name="csrf_token" value="csrf-a-tenant_admin"`, `name="years" value="10"`,
		"Anonymising destroys the case&#39;s data for good", "Its case number and dates stay, for the statistics.",
		"A case can still be erased by hand at any time.", "Cases to be anonymised in the next 90 days",
		`id="retention-due"`, `<h3 class="ident">`+old+`</h3>`,
		`<time datetime="`+oldClosed.Format(time.DateOnly)+`">`, `<time datetime="`+oldClosed.AddDate(10, 0, 0).Format(time.DateOnly)+`">`)
	mustNotContain(t, r, recent, "Oldcanary", "Recentcanary", "No case is due")

	// Refused numbers: the page again, the reason beside the field, what
	// was typed kept; the rule stays as it was.
	for _, years := range []string{"abc", "101", "-1"} {
		r := post(t, app, "/settings/retention", form(admin, "years", years))
		wantStatus(t, "years="+years, r, 422)
		mustContain(t, r, `aria-invalid="true"`, `<p class="field-error" id="retention-years-error">Enter a whole number of years from 0 to 100.</p>`,
			`name="years" value="`+years+`"`, `<dd id="retention-rule">10 years after closure</dd>`)
		if y := w.retentionYears(t); y != cases.DefaultRetentionYears {
			t.Errorf("years=%s stored %d", years, y)
		}
	}
	// Refused before the form is read: no CSRF token, an auditor.
	wantStatus(t, "without CSRF", post(t, app, "/settings/retention", url.Values{"years": {"3"}}), 403)
	auditor := w.a.members[tenants.RoleAuditor]
	wantStatus(t, "auditor", post(t, w.as(t, auditor), "/settings/retention", form(auditor, "years", "3")), 403)
	if y := w.retentionYears(t); y != cases.DefaultRetentionYears {
		t.Errorf("a refused form stored %d", y)
	}

	// Saved.
	r = post(t, app, "/settings/retention", form(admin, "years", " 5 "))
	wantRedirect(t, "years=5", r, "/settings/retention")
	if flashOf(r) != "cases.flash_retention_saved" {
		t.Errorf("flash %q", flashOf(r))
	}
	if y := w.retentionYears(t); y != 5 {
		t.Errorf("stored %d, want 5", y)
	}
	r = get(t, app, "/settings/retention", "Cookie", "homeward_flash=cases.flash_retention_saved")
	mustContain(t, r, `<p class="flash" role="status">The retention is saved.`, `<dd id="retention-rule">5 years after closure</dd>`,
		`<h3 class="ident">`+old+`</h3>`, `<time datetime="`+oldClosed.AddDate(5, 0, 0).Format(time.DateOnly)+`">`)
	mustNotContain(t, r, recent)

	// The auditor reads the rule and the cases due, without the form.
	r = get(t, w.as(t, auditor), "/settings/retention")
	wantStatus(t, "auditor", r, 200)
	mustContain(t, r, `<dd id="retention-rule">5 years after closure</dd>`, `<h3 class="ident">`+old+`</h3>`,
		"You can read these settings. Only an administrator can change them.")
	mustNotContain(t, r, `action="/settings/retention"`, `name="years"`)

	// Others: a social worker (control: the case manager, who reads
	// cases, has no more right here), anyone not signed in.
	for _, role := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCaseManager} {
		p := w.a.members[role]
		r := get(t, w.as(t, p), "/settings/retention")
		wantStatus(t, string(role), r, 403)
		mustContain(t, r, "<h1>No access</h1>")
		mustNotContain(t, r, old)
		wantStatus(t, string(role)+" saving", post(t, w.as(t, p), "/settings/retention", form(p, "years", "3")), 403)
	}
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/settings/retention"), "/login?next=%2Fsettings%2Fretention")
	if y := w.retentionYears(t); y != 5 {
		t.Errorf("a refused form stored %d", y)
	}

	// 0: kept until erased by hand; nothing is due.
	wantRedirect(t, "years=0", post(t, app, "/settings/retention", form(admin, "years", "0")), "/settings/retention")
	r = get(t, app, "/settings/retention")
	mustContain(t, r, `<dd id="retention-rule">Until someone erases them by hand</dd>`, `name="years" value="0"`,
		"No case will be anonymised: closed cases are kept until someone erases them by hand.")
	mustNotContain(t, r, old, `id="retention-due"`)

	// Another organisation: its own rule, and no case of a's.
	r = get(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), "/settings/retention")
	mustContain(t, r, `<dd id="retention-rule">10 years after closure</dd>`, "No case is due in the next 90 days.")
	mustNotContain(t, r, old, `id="retention-due"`)
}
