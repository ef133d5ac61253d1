package pages_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/kits"
)

// The survivor's path settings pages (the kit limit, the follow-up
// schedule) against the real kit and follow-up services on the settings
// pages' world (SQLite).

// kitLimit is a's limit as the domain reads it now.
func (w *world) kitLimit(t *testing.T) int64 {
	t.Helper()
	n, err := kits.New(w.s).Limit(ctxOf(w.a.members[tenants.RoleTenantAdmin]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// schedule is a's follow-up schedule as the domain reads it now.
func (w *world) schedule(t *testing.T) followup.Schedule {
	t.Helper()
	sc, err := followup.New(w.s).Schedule(ctxOf(w.a.members[tenants.RoleTenantAdmin]))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestKitLimitPage: the admin sees the limit (the default, USD 500) and
// the form, saves another (303, a confirmation, the domain uses it), and
// gets each amount it cannot take back beside the field (422), nothing
// stored; the auditor reads without the form; the other roles, the
// platform operator and a form without its token are refused; another
// organisation keeps its own limit.
func TestKitLimitPage(t *testing.T) {
	w := newWorld(t)
	admin, auditor := w.a.members[tenants.RoleTenantAdmin], w.a.members[tenants.RoleAuditor]
	app := w.as(t, admin)

	r := get(t, app, "/settings/kit-limit")
	wantStatus(t, "admin", r, 200)
	mustContain(t, r, `href="/settings/kit-limit" aria-current="page"`, `<dd id="kit-limit">$500.00</dd>`,
		`action="/settings/kit-limit"`, `name="csrf_token" value="csrf-a-tenant_admin"`, `name="usd" value="500.00"`,
		"From $1.00 to $100,000.00", `href="/settings/followup"`)

	// Refused amounts: the page again, the reason beside the field, what
	// was typed kept; the limit stays as it was.
	for _, usd := range []string{"abc", "0.99", "100000.01", "-5", "12.345", ""} {
		r := post(t, app, "/settings/kit-limit", form(admin, "usd", usd))
		wantStatus(t, "usd="+usd, r, 422)
		mustContain(t, r, `aria-invalid="true"`,
			`<p class="field-error" id="kit-limit-usd-error">Enter an amount in US dollars from $1.00 to $100,000.00, with at most two decimals.</p>`,
			`name="usd" value="`+usd+`"`, `<dd id="kit-limit">$500.00</dd>`)
		if n := w.kitLimit(t); n != kits.DefaultLimitUSDCents {
			t.Errorf("usd=%s stored %d", usd, n)
		}
	}
	// Refused before the form is read: no CSRF token, an auditor, the
	// other roles, the platform operator.
	wantStatus(t, "without CSRF", post(t, app, "/settings/kit-limit", url.Values{"usd": {"300"}}), 403)
	for _, role := range tenants.Roles {
		p := w.a.members[role]
		if role == tenants.RolePlatformOperator {
			p = w.op
		}
		if role == tenants.RoleTenantAdmin {
			continue
		}
		wantStatus(t, string(role)+" saving", post(t, w.as(t, p), "/settings/kit-limit", form(p, "usd", "300")), 403)
	}
	if n := w.kitLimit(t); n != kits.DefaultLimitUSDCents {
		t.Errorf("a refused form stored %d", n)
	}

	// Saved, with a comma for the point.
	r = post(t, app, "/settings/kit-limit", form(admin, "usd", " 750,50 "))
	wantRedirect(t, "usd=750,50", r, "/settings/kit-limit")
	if flashOf(r) != "pathsettings.flash_kit_limit_saved" {
		t.Errorf("flash %q", flashOf(r))
	}
	if n := w.kitLimit(t); n != 750_50 {
		t.Errorf("stored %d, want 75050", n)
	}
	r = get(t, app, "/settings/kit-limit", "Cookie", "homeward_flash=pathsettings.flash_kit_limit_saved")
	mustContain(t, r, `<p class="flash" role="status">The starter kit limit is saved.`, `<dd id="kit-limit">$750.50</dd>`,
		`name="usd" value="750.50"`)

	// In French: the amount and the reason in French.
	r = post(t, app, "/settings/kit-limit", form(admin, "usd", "x"), "Cookie", "homeward_lang=fr")
	wantStatus(t, "fr mistake", r, 422)
	mustContain(t, r, "Saisissez un montant en dollars américains", "Plafond du kit de démarrage")

	// The auditor reads the limit, without the form.
	r = get(t, w.as(t, auditor), "/settings/kit-limit")
	wantStatus(t, "auditor", r, 200)
	mustContain(t, r, `<dd id="kit-limit">$750.50</dd>`, "You can read these settings. Only an administrator can change them.")
	mustNotContain(t, r, `action="/settings/kit-limit"`, `name="usd"`)

	// Others: no page (a case manager, who approves kits, has no more
	// right here), anyone not signed in sent to sign in.
	for _, role := range []tenants.Role{tenants.RoleCaseManager, tenants.RoleSocialWorker, tenants.RoleFinanceOfficer} {
		r := get(t, w.as(t, w.a.members[role]), "/settings/kit-limit")
		wantStatus(t, string(role), r, 403)
		mustContain(t, r, "<h1>No access</h1>")
		mustNotContain(t, r, "$750.50", `name="usd"`)
	}
	wantStatus(t, "platform operator", get(t, w.as(t, w.op), "/settings/kit-limit"), 403)
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/settings/kit-limit"), "/login?next=%2Fsettings%2Fkit-limit")

	// Another organisation: its own limit.
	r = get(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), "/settings/kit-limit")
	mustContain(t, r, `<dd id="kit-limit">$500.00</dd>`)
	mustNotContain(t, r, "$750.50")
}

// TestFollowUpSchedulePage: the admin sees the schedule (the default: 6
// monthly visits, then every 3 months, 3 years, reminders a week ahead,
// 16 visits) and its form, saves another (303, a confirmation, the domain
// uses it), and gets each number refused beside its own field (422, in
// the reader's language), nothing stored; the auditor reads without the
// form; the others are refused.
func TestFollowUpSchedulePage(t *testing.T) {
	w := newWorld(t)
	w.deps.FollowUp = followup.New(w.s)
	admin, auditor := w.a.members[tenants.RoleTenantAdmin], w.a.members[tenants.RoleAuditor]
	app := w.as(t, admin)
	good := func(kv ...string) url.Values {
		f := form(admin, "monthly_months", "6", "then_every_months", "3", "years", "3", "remind_days_before", "7")
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	r := get(t, app, "/settings/followup")
	wantStatus(t, "admin", r, 200)
	mustContain(t, r, `href="/settings/followup" aria-current="page"`, `<dd id="schedule-monthly">6 months</dd>`,
		`<dd id="schedule-every">3 months</dd>`, `<dd id="schedule-years">3 years after the reintegration</dd>`,
		`<dd id="schedule-remind">7 days before a visit is due</dd>`, `<dd id="schedule-visits">16 visits</dd>`,
		`action="/settings/followup"`, `name="csrf_token" value="csrf-a-tenant_admin"`,
		`name="monthly_months" value="6"`, `name="then_every_months" value="3"`, `name="years" value="3"`,
		`name="remind_days_before" value="7"`, `href="/settings/kit-limit"`)
	mustNotContain(t, r, `aria-invalid`)

	// Refused numbers: each beside its own field, the others quiet, what
	// was typed kept; the schedule stays as it was.
	for _, c := range []struct {
		field, value, message string
	}{
		{"years", "2", "Enter a whole number of years from 3 to 10."},
		{"years", "three", "Enter a whole number of years from 3 to 10."},
		{"monthly_months", "40", "Enter a whole number of months from 0 to the follow-up&#39;s length in months (12 for each year)."},
		{"then_every_months", "0", "Enter a whole number of months from 1 to 12."},
		{"remind_days_before", "31", "Enter a whole number of days from 1 to 30."},
		{"remind_days_before", "", "Enter a whole number of days from 1 to 30."},
	} {
		r := post(t, app, "/settings/followup", good(c.field, c.value))
		wantStatus(t, c.field+"="+c.value, r, 422)
		id := "schedule-" + map[string]string{"years": "years", "monthly_months": "monthly-months",
			"then_every_months": "then-every-months", "remind_days_before": "remind-days-before"}[c.field]
		mustContain(t, r, `<p class="field-error" id="`+id+`-error">`+c.message+`</p>`, `name="`+c.field+`" value="`+c.value+`"`,
			"Some answers need correcting", `<dd id="schedule-visits">16 visits</dd>`)
		if n := strings.Count(r.body, `class="field-error"`); n != 1 {
			t.Errorf("%s=%s: %d field errors, want 1", c.field, c.value, n)
		}
		if sc := w.schedule(t); sc != followup.DefaultSchedule {
			t.Errorf("%s=%s stored %+v", c.field, c.value, sc)
		}
	}
	// In Lao: the reason in Lao.
	r = post(t, app, "/settings/followup", good("years", "11"), "Cookie", "homeward_lang=lo")
	wantStatus(t, "lo mistake", r, 422)
	mustContain(t, r, "ປ້ອນຈຳນວນປີເປັນຈຳນວນເຕັມແຕ່ 3 ຫາ 10.")

	// Refused before the form is read.
	wantStatus(t, "without CSRF", post(t, app, "/settings/followup", url.Values{"years": {"5"}}), 403)
	for _, role := range tenants.Roles {
		p := w.a.members[role]
		if role == tenants.RolePlatformOperator {
			p = w.op
		}
		if role == tenants.RoleTenantAdmin {
			continue
		}
		f := good("years", "5")
		f.Set("csrf_token", p.CSRFToken)
		wantStatus(t, string(role)+" saving", post(t, w.as(t, p), "/settings/followup", f), 403)
	}
	if sc := w.schedule(t); sc != followup.DefaultSchedule {
		t.Errorf("a refused form stored %+v", sc)
	}

	// Saved.
	r = post(t, app, "/settings/followup", good("monthly_months", "3", "then_every_months", "6", "years", "4", "remind_days_before", "3"))
	wantRedirect(t, "saved", r, "/settings/followup")
	if flashOf(r) != "pathsettings.flash_schedule_saved" {
		t.Errorf("flash %q", flashOf(r))
	}
	want := followup.Schedule{MonthlyMonths: 3, ThenEveryMonths: 6, Years: 4, RemindDaysBefore: 3}
	if sc := w.schedule(t); sc != want {
		t.Errorf("stored %+v, want %+v", sc, want)
	}
	r = get(t, app, "/settings/followup", "Cookie", "homeward_flash=pathsettings.flash_schedule_saved")
	mustContain(t, r, `<p class="flash" role="status">The follow-up schedule is saved.`, `<dd id="schedule-monthly">3 months</dd>`,
		`<dd id="schedule-every">6 months</dd>`, `<dd id="schedule-years">4 years after the reintegration</dd>`,
		`<dd id="schedule-remind">3 days before a visit is due</dd>`, `<dd id="schedule-visits">10 visits</dd>`)

	// The auditor reads, without the form.
	r = get(t, w.as(t, auditor), "/settings/followup")
	wantStatus(t, "auditor", r, 200)
	mustContain(t, r, `<dd id="schedule-visits">10 visits</dd>`, "You can read these settings. Only an administrator can change them.")
	mustNotContain(t, r, `action="/settings/followup"`, `name="years"`)

	// Others: no page; anyone not signed in sent to sign in.
	for _, role := range []tenants.Role{tenants.RoleCaseManager, tenants.RoleSocialWorker, tenants.RoleCounsellor} {
		r := get(t, w.as(t, w.a.members[role]), "/settings/followup")
		wantStatus(t, string(role), r, 403)
		mustContain(t, r, "<h1>No access</h1>")
		mustNotContain(t, r, `name="years"`)
	}
	wantStatus(t, "platform operator", get(t, w.as(t, w.op), "/settings/followup"), 403)
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/settings/followup"), "/login?next=%2Fsettings%2Ffollowup")

	// Another organisation: its own schedule.
	r = get(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), "/settings/followup")
	mustContain(t, r, `<dd id="schedule-visits">16 visits</dd>`)
}
