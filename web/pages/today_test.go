package pages_test

import (
	"context"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
)

// TestFormsOfferTheOrganisationsDay: the date fields of the case intake
// (a past-only field and a consent's date), of a care form and of the
// kit's disbursement default to or stop at today where the organisation
// works, on the pages' clock: at 17:30 UTC on 5 March it is already 6 March
// in Vientiane. Control: with no time zone set, the UTC day (and the test
// clock's, not the machine's).
func TestFormsOfferTheOrganisationsDay(t *testing.T) {
	w, kitPath, cm2 := kitWorld(t)
	w.deps.Now = func() time.Time { return time.Date(2026, time.March, 5, 17, 30, 0, 0, time.UTC) }
	cm, mo := w.a.members[tenants.RoleCaseManager], w.a.members[tenants.RoleMedicalOfficer]
	id := w.newCase(t, "Dao")

	// A kit approved, so that its page offers the disbursement.
	if r := post(t, w.as(t, cm), kitPath, sewingKitForm(cm)); r.status != 303 {
		t.Fatalf("kit request: %d %s", r.status, r.body)
	}
	m := kitAction.FindStringSubmatch(get(t, w.as(t, cm), kitPath).body)
	if m == nil {
		t.Fatal("no kit decision form")
	}
	if r := post(t, w.as(t, cm2), m[1]+"/approve", form(cm2, "confirm", "yes")); r.status != 303 {
		t.Fatalf("kit approval: %d %s", r.status, r.body)
	}

	check := func(day, other string) {
		t.Helper()
		r := get(t, w.as(t, cm), "/cases/new")
		wantStatus(t, "the intake form", r, 200)
		mustContain(t, r, `id="f-prs_Birthdate" name="prs_Birthdate" value="" min="1900-01-01" max="`+day+`"`,
			`name="consent_services_given_on" value="" min="1900-01-01" max="`+day+`"`)
		mustNotContain(t, r, `max="`+other+`"`)

		r = get(t, w.as(t, mo), "/cases/"+id.String()+"/medical")
		wantStatus(t, "the medical page", r, 200)
		mustContain(t, r, `id="f-visit-date" name="date" value="" min="1900-01-01" max="`+day+`"`)
		mustNotContain(t, r, `max="`+other+`"`)

		r = get(t, w.as(t, cm), kitPath)
		wantStatus(t, "the kit page", r, 200)
		mustContain(t, r, `name="disbursed_on" value="`+day+`"`)
		mustNotContain(t, r, `value="`+other+`"`)
	}
	check("2026-03-05", "2026-03-06")

	if err := w.s.PutSettings(context.Background(), w.a.id, map[string]string{"time_zone": "Asia/Vientiane"}); err != nil {
		t.Fatal(err)
	}
	check("2026-03-06", "2026-03-05")
}
