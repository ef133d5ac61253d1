package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/cases"
)

// A case's services through the API on PostgreSQL as the app role, with
// real members calling with their organisation's JWTs. The authorization
// matrix covers every route and role; these tests follow one case.

// orgCare are the care records of an organisation's matrix case, made at
// first use: its initial assessment (so that sessions may follow), a
// medical visit, a support plan and an activity it attended, the canary
// in each.
type orgCare struct {
	entryID, planID, activityID uuid.UUID
}

// careTarget names the care records of the matrix's kinds in o:
// "assessed case", the matrix case once its care records exist; "care
// entry", its medical visit; "support plan", its plan; "activity", an
// activity it attended. ok is false for a kind of no care record.
func careTarget(t *testing.T, kind string, o *testOrg) (string, bool) {
	t.Helper()
	switch kind {
	case "assessed case", "care entry", "support plan", "activity":
	default:
		return "", false
	}
	if o.care == nil {
		oc := o.cases
		s := oc.service.Store()
		svc := care.New(s)
		as := func(r tenants.Role) context.Context {
			p, err := s.PrincipalOf(context.Background(), o.members[r])
			if err != nil {
				t.Fatal(err)
			}
			return tenants.WithPrincipal(context.Background(), p)
		}
		must := func(what string, err error) {
			if err != nil {
				t.Fatalf("matrix care: %s: %v", what, err)
			}
		}
		_, err := svc.AddEntry(as(tenants.RoleCounsellor), oc.caseID, care.NewEntry{Kind: care.KindAssessment, Date: "2024-01-20",
			Fields: map[string]any{"notes": o.canary}})
		must("assessment", err)
		visit, err := svc.AddEntry(as(tenants.RoleMedicalOfficer), oc.caseID, care.NewEntry{Kind: care.KindVisit, Date: "2024-01-21",
			Fields: map[string]any{"place": care.PlaceInHouse, "notes": o.canary}})
		must("visit", err)
		plan, err := svc.AddPlan(oc.manager, oc.caseID, care.NewPlan{Type: "Education", Objectives: o.canary})
		must("plan", err)
		activity, err := svc.CreateActivity(oc.manager, care.NewActivity{Type: "civics", Date: "2024-01-22", Topic: o.canary}, oc.caseID)
		must("activity", err)
		o.care = &orgCare{entryID: visit.ID, planID: plan.ID, activityID: activity.ID}
	}
	switch kind {
	case "care entry":
		return o.care.entryID.String(), true
	case "support plan":
		return o.care.planID.String(), true
	case "activity":
		return o.care.activityID.String(), true
	}
	return o.cases.caseID.String(), true
}

// careOrg is an organisation with a case owned by its case manager and
// assigned to its social worker, counsellor, medical officer and lawyer.
func careOrg(t *testing.T) (string, func(method, path string, r tenants.Role, body string) response) {
	t.Helper()
	s := storeForTest(t)
	app, _ := caseServer(t, s)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	manager := o.jwt[tenants.RoleCaseManager]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	caseID := fmt.Sprint(k["id"])
	var staff []string
	for _, r := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleLawyer} {
		staff = append(staff, `"`+o.members[r].String()+`"`)
	}
	if r := call(t, app, "PUT", "/api/v1/cases/"+caseID+"/assignment", manager,
		`{"cas_CaseOwner":"`+o.members[tenants.RoleCaseManager].String()+`","assigned_to":[`+strings.Join(staff, ",")+`]}`); r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	as := func(method, path string, role tenants.Role, body string) response {
		t.Helper()
		return call(t, app, method, path, o.jwt[role], body)
	}
	return caseID, as
}

// Medical entries are the medical group's: the social worker, on the
// same case, is refused the list (403: a part of a case she sees) and
// cannot find an entry (404, as an unknown one); the medical officer
// reads both. Psychological entries are the counsellor's alone.
func TestCareEntriesFollowTheirPart(t *testing.T) {
	caseID, as := careOrg(t)
	medical := "/api/v1/cases/" + caseID + "/medical"
	r := as("POST", medical, tenants.RoleMedicalOfficer,
		`{"kind":"visit","date":"2025-03-04","place":"mother_child_hospital_vientiane","notes":"Malaria treated"}`)
	if r.status != 201 {
		t.Fatalf("the medical officer's visit: %d %s", r.status, r.body)
	}
	visit := decode(t, r.body)
	if visit["part"] != "medical" || visit["notes"] != "Malaria treated" || visit["version"] != 1.0 {
		t.Errorf("the visit: %s", r.body)
	}
	entry := "/api/v1/care-entries/" + fmt.Sprint(visit["id"])
	if r := as("GET", medical, tenants.RoleMedicalOfficer, ""); r.status != 200 || !strings.Contains(r.body, "Malaria treated") {
		t.Errorf("the medical officer's list: %d %s", r.status, r.body)
	}
	if r := as("GET", entry, tenants.RoleMedicalOfficer, ""); r.status != 200 || !strings.Contains(r.body, "Malaria treated") {
		t.Errorf("the medical officer's entry: %d %s", r.status, r.body)
	}
	r = as("GET", medical, tenants.RoleSocialWorker, "")
	if r.status != 403 || strings.Contains(r.body, "Malaria") {
		t.Errorf("the social worker's list: %d %s", r.status, r.body)
	}
	r = as("GET", entry, tenants.RoleSocialWorker, "")
	wantError(t, r, 404, `{"error":{"code":"not_found","message":"no such entry"}}`)
	if r := as("GET", "/api/v1/cases/"+caseID, tenants.RoleSocialWorker, ""); r.status != 200 {
		t.Errorf("control: the social worker sees the case: %d", r.status)
	}

	psychological := "/api/v1/cases/" + caseID + "/psychological"
	session := `{"kind":"session","date":"2025-03-10","duration_minutes":50,"notes":"Sleeps better"}`
	if r := as("POST", psychological, tenants.RoleCounsellor, session); r.status != 409 {
		t.Errorf("a session before the assessment: %d %s", r.status, r.body)
	}
	if r := as("POST", psychological, tenants.RoleCounsellor, `{"kind":"assessment","date":"2025-03-03","notes":"First meeting"}`); r.status != 201 {
		t.Fatalf("the assessment: %d %s", r.status, r.body)
	}
	r = as("POST", psychological, tenants.RoleCounsellor, session)
	if r.status != 201 {
		t.Fatalf("the session: %d %s", r.status, r.body)
	}
	sessionEntry := "/api/v1/care-entries/" + fmt.Sprint(decode(t, r.body)["id"])
	if r := as("GET", psychological, tenants.RoleCounsellor, ""); r.status != 200 || !strings.Contains(r.body, "Sleeps better") {
		t.Errorf("the counsellor's list: %d %s", r.status, r.body)
	}
	for _, role := range []tenants.Role{tenants.RoleMedicalOfficer, tenants.RoleSocialWorker, tenants.RoleCaseManager, tenants.RoleLawyer} {
		if r := as("GET", psychological, role, ""); r.status != 403 {
			t.Errorf("%s lists psychological entries: %d %s", role, r.status, r.body)
		}
		if r := as("GET", sessionEntry, role, ""); r.status != 404 {
			t.Errorf("%s reads a session: %d %s", role, r.status, r.body)
		}
	}
	// A kind of another section, or a key the server sets: refused.
	if r := as("POST", psychological, tenants.RoleCounsellor, `{"kind":"visit","date":"2025-03-04","place":"in_house"}`); r.status != 422 ||
		!strings.Contains(r.body, `"kind":"one of assessment, session"`) {
		t.Errorf("a visit on the psychological list: %d %s", r.status, r.body)
	}
	if r := as("POST", psychological, tenants.RoleCounsellor, `{"kind":"session","date":"2025-03-11","duration_minutes":30,"version":3,"id":"x"}`); r.status != 400 ||
		!strings.Contains(r.body, `"id":"set by the server`) {
		t.Errorf("a body naming the id: %d %s", r.status, r.body)
	}
}

// An HIV test without the hiv_sti_testing consent: 403 with a clear
// message, and nothing stored; once the consent is recorded, allowed.
func TestHIVTestNeedsTheConsent(t *testing.T) {
	caseID, as := careOrg(t)
	medical := "/api/v1/cases/" + caseID + "/medical"
	test := `{"kind":"hiv_test","date":"2025-03-04","result":"negative"}`
	r := as("POST", medical, tenants.RoleMedicalOfficer, test)
	wantError(t, r, 403, `{"error":{"code":"forbidden","message":"`+care.ErrNoTestingConsent.Message+`"}}`)
	if r := as("GET", medical, tenants.RoleMedicalOfficer, ""); r.status != 200 || r.body != `{"items":[]}` {
		t.Errorf("after the refusal: %d %s", r.status, r.body)
	}
	r = as("POST", "/api/v1/cases/"+caseID+"/consent", tenants.RoleSocialWorker,
		`{"purpose":"`+string(cases.PurposeHIVSTITesting)+`","given_by":"girl","given_on":"2025-03-01","basis":"signed_form"}`)
	if r.status != 201 {
		t.Fatalf("the consent: %d %s", r.status, r.body)
	}
	if r := as("POST", medical, tenants.RoleMedicalOfficer, test); r.status != 201 || !strings.Contains(r.body, `"result":"negative"`) {
		t.Errorf("with the consent: %d %s", r.status, r.body)
	}
}

// The legal list sums up the wishes; a support plan moves with its
// progress; an activity shows the attendance of the cases the caller may
// see.
func TestLegalSupportAndActivities(t *testing.T) {
	caseID, as := careOrg(t)
	legal := "/api/v1/cases/" + caseID + "/legal"
	if r := as("POST", legal, tenants.RoleLawyer, `{"kind":"lawsuit_wish","date":"2025-02-10","girl_wants":"yes","family_wants":"yes"}`); r.status != 201 {
		t.Fatalf("the wish: %d %s", r.status, r.body)
	}
	if r := as("GET", legal, tenants.RoleCaseManager, ""); r.status != 200 || !strings.Contains(r.body, `"lawsuit_wanted":"yes"`) {
		t.Errorf("the case manager reads legal: %d %s", r.status, r.body)
	}
	if r := as("GET", "/api/v1/cases/"+caseID+"/medical", tenants.RoleCaseManager, ""); r.status != 403 {
		t.Errorf("the case manager's medical list: %d %s", r.status, r.body)
	}

	r := as("POST", "/api/v1/cases/"+caseID+"/support-plans", tenants.RoleSocialWorker,
		`{"spl_Type":"Education","spl_Objectives":"Read and write Lao","spl_PlannedEndDate":"2026-06-30"}`)
	if r.status != 201 {
		t.Fatalf("the plan: %d %s", r.status, r.body)
	}
	plan := "/api/v1/support-plans/" + fmt.Sprint(decode(t, r.body)["id"])
	if r := as("POST", plan+"/progress", tenants.RoleSocialWorker, `{"date":"2025-05-20","status":"done","note":"Reads a short text"}`); r.status != 201 ||
		!strings.Contains(r.body, `"status":"done"`) || !strings.Contains(r.body, `"spl_ActualEndDate":"2025-05-20"`) {
		t.Errorf("the progress: %d %s", r.status, r.body)
	}
	if r := as("PATCH", plan, tenants.RoleSocialWorker, `{"spl_ActualEndDate":null}`); r.status != 200 || !strings.Contains(r.body, `"spl_ActualEndDate":null`) {
		t.Errorf("clearing the actual end: %d %s", r.status, r.body)
	}
	if r := as("PATCH", plan, tenants.RoleCounsellor, `{"spl_ActionPlan":"x"}`); r.status != 403 {
		t.Errorf("the counsellor changes the plan: %d %s", r.status, r.body)
	}

	r = as("POST", "/api/v1/activities", tenants.RoleCaseManager, `{"type":"yoga","date":"2025-03-01","topic":"Breathing"}`)
	if r.status != 201 {
		t.Fatalf("the activity: %d %s", r.status, r.body)
	}
	activity := "/api/v1/activities/" + fmt.Sprint(decode(t, r.body)["id"])
	r = as("POST", "/api/v1/cases", tenants.RoleCaseManager, `{"prs_FirstName":"Kham","prs_Birthdate":"2009-05-06","prs_Gender":"Feminine"}`)
	if r.status != 201 {
		t.Fatalf("a second case: %d %s", r.status, r.body)
	}
	second := fmt.Sprint(decode(t, r.body)["id"])
	attend := func(role tenants.Role, caseID string) response {
		return as("POST", activity+"/attendance", role, `{"case_id":"`+caseID+`","attended":true}`)
	}
	if r := attend(tenants.RoleSocialWorker, caseID); r.status != 200 || !strings.Contains(r.body, caseID) {
		t.Errorf("the social worker records her case: %d %s", r.status, r.body)
	}
	if r := attend(tenants.RoleSocialWorker, second); r.status != 404 {
		t.Errorf("the social worker records a case not hers: %d %s", r.status, r.body)
	}
	if r := attend(tenants.RoleCaseManager, second); r.status != 200 || !strings.Contains(r.body, caseID) || !strings.Contains(r.body, second) {
		t.Errorf("the case manager sees both attendees: %d %s", r.status, r.body)
	}
	if r := as("GET", activity, tenants.RoleSocialWorker, ""); r.status != 200 || !strings.Contains(r.body, caseID) || strings.Contains(r.body, second) {
		t.Errorf("the social worker sees only her case's attendance: %d %s", r.status, r.body)
	}
	if r := as("GET", "/api/v1/cases/"+caseID+"/activities", tenants.RoleCounsellor, ""); r.status != 200 || !strings.Contains(r.body, "Breathing") {
		t.Errorf("the counsellor reads the case's activities: %d %s", r.status, r.body)
	}
	if r := as("GET", "/api/v1/activities", tenants.RoleMedicalOfficer, ""); r.status != 403 {
		t.Errorf("the medical officer lists activities: %d %s", r.status, r.body)
	}
}
