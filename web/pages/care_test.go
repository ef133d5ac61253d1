package pages_test

import (
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/cases"
)

// The care pages against the real care service on the settings pages'
// world (SQLite): a case of a's case manager, assigned to a's social
// worker, counsellor and medical officer.

// Each part's page opens for its readers only: the others are refused
// (403) before any case is read; a reader who may not write sees no form.
func TestCarePagesFollowTheParts(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Noy")
	m := w.a.members
	page := func(role tenants.Role, part string) response {
		t.Helper()
		return get(t, w.as(t, m[role]), "/cases/"+id.String()+"/"+part)
	}
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/cases/"+id.String()+"/medical"), "/login?next=%2Fcases%2F"+id.String()+"%2Fmedical")
	r := page(tenants.RoleCounsellor, "psychological")
	wantStatus(t, "the counsellor's psychological page", r, 200)
	mustContain(t, r, "Psychological care", "C-00001", `id="form-assessment"`, `id="form-session"`, "Nothing recorded yet.")
	wantStatus(t, "the medical officer's psychological page", page(tenants.RoleMedicalOfficer, "psychological"), 403)
	wantStatus(t, "the case manager's psychological page", page(tenants.RoleCaseManager, "psychological"), 403)

	r = page(tenants.RoleMedicalOfficer, "medical")
	wantStatus(t, "the medical officer's medical page", r, 200)
	mustContain(t, r, `id="form-visit"`, `id="form-hiv_test"`, "National Mother and Child Hospital (Vientiane)")
	r = page(tenants.RoleCounsellor, "medical")
	wantStatus(t, "the counsellor reads medical", r, 200)
	mustContain(t, r, "You can read this part of the case.")
	mustNotContain(t, r, `id="form-visit"`)
	wantStatus(t, "the social worker's medical page", page(tenants.RoleSocialWorker, "medical"), 403)

	wantStatus(t, "the case manager reads legal", page(tenants.RoleCaseManager, "legal"), 200)
	wantStatus(t, "the social worker's legal page", page(tenants.RoleSocialWorker, "legal"), 403)
	r = page(tenants.RoleSocialWorker, "support")
	wantStatus(t, "the social worker's support page", r, 200)
	mustContain(t, r, `id="form-literacy"`, `id="form-training"`, `id="form-plan"`, `id="form-activity"`)
	wantStatus(t, "the medical officer's support page", page(tenants.RoleMedicalOfficer, "support"), 403)

	// A case the member may not see: 404.
	other := w.newCase(t, "Kham")
	lawyer := w.a.members[tenants.RoleLawyer] // assigned to neither case
	wantStatus(t, "the unassigned lawyer's legal page", get(t, w.as(t, lawyer), "/cases/"+other.String()+"/legal"), 404)
}

// The medical officer records a visit; an HIV test without the testing
// consent is refused with the reason and nothing is stored; with the
// consent recorded, it is.
func TestMedicalPageAndTheTestingConsent(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Noy")
	mo := w.a.members[tenants.RoleMedicalOfficer]
	path := "/cases/" + id.String() + "/medical"
	r := post(t, w.as(t, mo), path, form(mo, "kind", "visit", "date", "2025-03-04", "place", care.PlaceSavannakhet, "notes", "Check-up"))
	wantRedirect(t, "a visit", r, path+"#section-medical")
	if flashOf(r) != "care.flash_saved" {
		t.Errorf("flash = %q", flashOf(r))
	}
	mustContain(t, get(t, w.as(t, mo), path), "Savannakhet provincial hospital", "Check-up", "Medical visit")

	test := form(mo, "kind", "hiv_test", "date", "2025-03-04", "result", "negative")
	r = post(t, w.as(t, mo), path, test)
	wantStatus(t, "an HIV test without consent", r, 403)
	mustContain(t, r, "can be recorded only with the consent to testing", `<details open>`)
	mustNotContain(t, r, `<h3>HIV test`)

	cm := w.a.members[tenants.RoleCaseManager]
	if _, err := cases.New(w.s).RecordConsent(ctxOf(cm), id, cases.NewConsent{Purpose: cases.PurposeHIVSTITesting,
		GivenBy: cases.GivenByGirl, GivenOn: "2025-03-01", Basis: cases.BasisSignedForm}); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "an HIV test with consent", post(t, w.as(t, mo), path, test), path+"#section-medical")
	mustContain(t, get(t, w.as(t, mo), path), "<h3>HIV test", "Negative")

	// Mistakes come back beside their fields, in the reader's language.
	r = post(t, w.as(t, mo), path, form(mo, "kind", "visit", "date", "2099-01-01"), "Cookie", "homeward_lang=fr")
	wantStatus(t, "a visit with mistakes", r, 422)
	mustContain(t, r, `id="f-visit-date-error">Saisissez une vraie date`, `id="f-visit-place-error">Obligatoire.`)
	r = post(t, w.as(t, mo), path, form(mo, "kind", "visit", "date", "2025-03-04", "place", care.PlaceOther))
	wantStatus(t, "another place unnamed", r, 422)
	mustContain(t, r, `id="f-visit-place_other-error">Required.`)
	// The counsellor reads the medical part but may not add to it.
	c := w.a.members[tenants.RoleCounsellor]
	wantStatus(t, "the counsellor posts a visit", post(t, w.as(t, c), path, form(c, "kind", "visit", "date", "2025-03-04", "place", "in_house")), 403)
}

// The psychological path: one initial assessment, then sessions; the page
// says so when the order is not kept.
func TestPsychologicalPage(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Noy")
	c := w.a.members[tenants.RoleCounsellor]
	path := "/cases/" + id.String() + "/psychological"
	session := form(c, "kind", "session", "date", "2025-03-10", "duration_minutes", "50", "notes", "Sleeps better")
	r := post(t, w.as(t, c), path, session)
	wantStatus(t, "a session before the assessment", r, 409)
	mustContain(t, r, "Record the initial assessment before the first session.")
	r = post(t, w.as(t, c), path, form(c, "kind", "assessment", "date", "2025-03-03"))
	wantStatus(t, "an assessment without notes", r, 422)
	mustContain(t, r, `id="f-assessment-notes-error">Required.`)
	wantRedirect(t, "the assessment", post(t, w.as(t, c), path, form(c, "kind", "assessment", "date", "2025-03-03", "notes", "First meeting")),
		path+"#section-psychological")
	wantRedirect(t, "the session", post(t, w.as(t, c), path, session), path+"#section-psychological")
	r = get(t, w.as(t, c), path, "Cookie", "homeward_lang=lo")
	mustContain(t, r, "ການດູແລດ້ານຈິດໃຈ", "Sleeps better", "First meeting")
}

// The support page: a course outside the usual months is flagged, a plan
// and its progress, and a group activity she attended.
func TestSupportPage(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Noy")
	sw := w.a.members[tenants.RoleSocialWorker]
	path := "/cases/" + id.String() + "/support"
	r := post(t, w.as(t, sw), path, form(sw, "kind", "training", "date", "2025-01-06", "trade", "Sewing", "provider", "Vientiane centre",
		"provider_approved", "true", "end_on", "2025-02-06"))
	wantStatus(t, "a one-month course", r, 422)
	mustContain(t, r, "A course lasts 3 to 12 months")
	wantRedirect(t, "a ten-month course", post(t, w.as(t, sw), path, form(sw, "kind", "training", "date", "2025-01-06", "trade", "Sewing",
		"provider", "Vientiane centre", "provider_approved", "true", "end_on", "2025-11-06")), path+"#section-training")
	wantRedirect(t, "a plan", post(t, w.as(t, sw), path, form(sw, "form", "plan", "spl_Type", "Livelihood", "spl_Objectives", "Open a tailoring shop")),
		path+"#plans")
	plans, err := care.New(w.s).Plans(ctxOf(sw), id)
	if err != nil || len(plans.Plans) != 1 {
		t.Fatalf("plans: %v %+v", err, plans)
	}
	wantRedirect(t, "progress", post(t, w.as(t, sw), path, form(sw, "form", "progress", "plan", plans.Plans[0].ID.String(), "date", "2025-04-01",
		"status", "in_progress", "note", "Found a place")), path+"#plans")
	wantRedirect(t, "an activity", post(t, w.as(t, sw), path, form(sw, "form", "activity", "type", "civics", "date", "2025-03-01",
		"topic", "Rights of trafficking victims")), path+"#activities")
	r = get(t, w.as(t, sw), path)
	mustContain(t, r, "Outside the usual 6 to 9 months", "Livelihood", "Open a tailoring shop", "In progress", "Found a place",
		"Civics", "Rights of trafficking victims", `id="form-attend"`)
	// The counsellor reads it all, without a form.
	r = get(t, w.as(t, w.a.members[tenants.RoleCounsellor]), path, "Cookie", "homeward_lang=th")
	wantStatus(t, "the counsellor's support page", r, 200)
	mustContain(t, r, "แผนการช่วยเหลือ", "Open a tailoring shop")
	mustNotContain(t, r, `id="form-plan"`)
}
