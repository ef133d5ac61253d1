package pages_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/web/i18n"
	"github.com/afesip/homeward/web/pages"
)

// The shelters' pages against the real shelters service on the settings
// pages' world (SQLite): organisation a's members, each signed in with one
// role.

// withShelters gives the world's pages the shelters service and a's case
// manager a shelter of capacity beds.
func (w *world) withShelters(t *testing.T, name string, capacity int) uuid.UUID {
	t.Helper()
	w.deps.Shelters = shelters.New(w.s)
	sh, err := shelters.New(w.s).Create(ctxOf(w.a.members[tenants.RoleCaseManager]),
		shelters.NewShelter{Name: name, Province: "Savannakhet", District: "Kaysone Phomvihane", Capacity: capacity, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return sh.ID
}

func TestSheltersPageByRole(t *testing.T) {
	w := newWorld(t)
	id := w.withShelters(t, "Savannakhet shelter", 20)
	cm, sw, lawyer := w.a.members[tenants.RoleCaseManager], w.a.members[tenants.RoleSocialWorker], w.a.members[tenants.RoleLawyer]

	r := get(t, w.as(t, sw), pages.PathShelters)
	wantStatus(t, "the social worker reads", r, 200)
	mustContain(t, r, "Savannakhet shelter", "Kaysone Phomvihane, Savannakhet", `<meter id="occupancy-`+id.String()+`"`,
		`max="20" value="0"`, "0 of 20 beds taken", `href="/shelters"`)
	mustNotContain(t, r, `action="/shelters"`, `action="/shelters/`+id.String()+`"`)
	wantStatus(t, "the social worker adds", post(t, w.as(t, sw), pages.PathShelters, form(sw, "name", "Mine", "capacity", "5", "active", "yes")), 403)
	wantStatus(t, "the lawyer reads", get(t, w.as(t, lawyer), pages.PathShelters), 403)
	mustNotContain(t, get(t, w.as(t, lawyer), "/"), `href="/shelters"`)

	r = get(t, w.as(t, cm), pages.PathShelters)
	mustContain(t, r, `action="/shelters"`, `action="/shelters/`+id.String()+`"`)
	r = post(t, w.as(t, cm), pages.PathShelters, form(cm, "name", "Vientiane shelter", "province", "Vientiane Capital", "capacity", "0", "active", "yes"))
	wantStatus(t, "a shelter without beds", r, 422)
	mustContain(t, r, `id="shelter-new-capacity-error"`, "A whole number of beds from 1 to 500", `value="Vientiane shelter"`)
	list, err := shelters.New(w.s).List(ctxOf(cm))
	if err != nil || len(list) != 1 {
		t.Fatalf("after the refusals: %v %v", list, err)
	}
	r = post(t, w.as(t, cm), pages.PathShelters, form(cm, "name", "Vientiane shelter", "province", "Vientiane Capital", "capacity", "30", "active", "yes"))
	wantRedirect(t, "the case manager adds", r, pages.PathShelters)
	r = post(t, w.as(t, cm), pages.PathShelters+"/"+id.String(), form(cm, "name", "Savannakhet shelter", "province", "Savannakhet", "capacity", "25"))
	wantRedirect(t, "the case manager changes", r, pages.PathShelters)
	r = get(t, w.as(t, sw), pages.PathShelters)
	mustContain(t, r, "Vientiane shelter", "0 of 25 beds taken", "Takes no admissions")

	// Another organisation's shelter is none of b's.
	bcm := w.b.members[tenants.RoleCaseManager]
	wantStatus(t, "b's case manager changes a's shelter", post(t, w.as(t, bcm), pages.PathShelters+"/"+id.String(),
		form(bcm, "name", "Taken", "capacity", "5", "active", "yes")), 404)
}

func TestAdmissionPageAdmitsAfterBothAcceptances(t *testing.T) {
	w := newWorld(t)
	shelter := w.withShelters(t, "Savannakhet shelter", 1)
	first, second := w.newCase(t, "Dao"), w.newCase(t, "Noy") // both with the services consent, assigned to the social worker
	sw := w.a.members[tenants.RoleSocialWorker]
	app := w.as(t, sw)
	path := pages.AdmissionPath(first)
	admit := form(sw, "shelter_id", shelter.String(), "referral_source", "police", "admitted_on", "2026-03-01")

	r := get(t, app, path)
	wantStatus(t, "the admission page", r, 200)
	mustContain(t, r, `id="acceptance-girl"`, "Not recorded", `action="`+path+`/acceptances"`, `action="`+path+`/admit"`,
		"Savannakhet shelter (1 free bed)")
	r = post(t, app, path+"/admit", admit)
	wantStatus(t, "admission without acceptances", r, 409)
	mustContain(t, r, "She cannot be admitted yet", "The girl&#39;s acceptance", "Her family&#39;s or guardian&#39;s acceptance")
	if a, err := shelters.New(w.s).Admission(ctxOf(sw), first); err != nil || a.Current != nil || a.Stage != cases.StageIntake {
		t.Fatalf("after the refusal: %+v %v", a, err)
	}
	r = post(t, app, path+"/acceptances", form(sw, "accepted_by", "girl", "accepted_on", "2099-01-01"))
	wantStatus(t, "an acceptance in the future", r, 422)
	mustContain(t, r, `id="acceptance-accepted_on-error"`)
	for _, by := range []string{"girl", "guardian"} {
		wantRedirect(t, by+"'s acceptance", post(t, app, path+"/acceptances", form(sw, "accepted_by", by, "accepted_on", "2026-02-20")), path)
	}
	r = post(t, app, path+"/admit", admit)
	wantRedirect(t, "admission", r, path)
	if flashOf(r) != "shelters.flash_admitted" {
		t.Errorf("flash %q", flashOf(r))
	}
	r = get(t, app, path)
	mustContain(t, r, `id="admission-shelter">Savannakhet shelter<`, "Police", `action="`+path+`/discharge"`, "Here now")
	mustNotContain(t, r, `action="`+path+`/admit"`)

	// The shelter is full now: the second case waits.
	second2 := pages.AdmissionPath(second)
	for _, by := range []string{"girl", "family"} {
		wantRedirect(t, by+"'s acceptance", post(t, app, second2+"/acceptances", form(sw, "accepted_by", by, "accepted_on", "2026-02-20")), second2)
	}
	r = post(t, app, second2+"/admit", form(sw, "shelter_id", shelter.String(), "referral_source", "family", "admitted_on", "2026-03-01"))
	if flashOf(r) != "shelters.flash_waiting" {
		t.Errorf("a full shelter: flash %q", flashOf(r))
	}
	r = get(t, app, second2)
	mustContain(t, r, `id="admission-waiting"`, "number 1 on the list", `action="`+second2+`/waiting/cancel"`)
	r = get(t, app, pages.PathShelters)
	mustContain(t, r, "1 of 1 beds taken", `href="`+second2+`"`)

	// A counsellor assigned reads, without forms; b's case manager sees nothing.
	co := w.a.members[tenants.RoleCounsellor]
	r = get(t, w.as(t, co), path)
	wantStatus(t, "the counsellor reads", r, 200)
	mustNotContain(t, r, `action="`+path+`/discharge"`)
	wantStatus(t, "the counsellor discharges", post(t, w.as(t, co), path+"/discharge", form(co, "discharged_on", "2026-03-02", "reason", "other")), 403)
	bcm := w.b.members[tenants.RoleCaseManager]
	wantStatus(t, "b's case manager", get(t, w.as(t, bcm), path), 404)
}

// Every language draws the shelters' pages whole: no message missing.
func TestShelterPagesInEveryLanguage(t *testing.T) {
	w := newWorld(t)
	shelter := w.withShelters(t, "Savannakhet shelter", 2)
	id := w.newCase(t, "Kham")
	cm := w.a.members[tenants.RoleCaseManager]
	app := w.as(t, cm)
	for _, by := range []string{"girl", "family"} {
		wantRedirect(t, by, post(t, app, pages.AdmissionPath(id)+"/acceptances", form(cm, "accepted_by", by, "accepted_on", "2026-02-20")), pages.AdmissionPath(id))
	}
	wantRedirect(t, "admit", post(t, app, pages.AdmissionPath(id)+"/admit",
		form(cm, "shelter_id", shelter.String(), "referral_source", "bar_outreach", "admitted_on", "2026-03-01")), pages.AdmissionPath(id))
	missing := strings.Split(i18n.MissingMark, "%s")[0]
	for _, lang := range i18n.Languages {
		for _, path := range []string{pages.PathShelters, pages.AdmissionPath(id), pages.AdmissionPath(w.newCase(t, "Lan"))} {
			r := get(t, app, path, "Cookie", pages.LanguageCookie+"="+lang)
			wantStatus(t, lang+" "+path, r, 200)
			if strings.Contains(r.body, missing) || !strings.Contains(r.body, `lang="`+lang+`"`) {
				t.Errorf("%s %s: a message is missing, or the page is not in %s:\n%.2000s", lang, path, lang, r.body)
			}
		}
	}
}
