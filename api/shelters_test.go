package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
)

// The shelters and admission API on PostgreSQL as the app role, with real
// members calling with their organisation's JWTs (authfixture_test.go).
// The authorization matrix covers who may call what; these tests check
// what the answers hold, and that a refused admission stores nothing.

func TestAdmissionRefusedUntilBothAcceptancesAndTheConsent(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	manager, worker := o.jwt[tenants.RoleCaseManager], o.jwt[tenants.RoleSocialWorker]
	r := call(t, app, "POST", "/api/v1/shelters", manager, `{"name":"Vientiane shelter","province":"Vientiane Capital","capacity":30}`)
	if r.status != 201 {
		t.Fatalf("a shelter: %d %s", r.status, r.body)
	}
	shelter := decode(t, r.body)["id"]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	admission := fmt.Sprintf("/api/v1/cases/%s/admission", k["id"])
	admit := fmt.Sprintf(`{"shelter_id":"%s","referral_source":"partner_handoff","admitted_on":"2024-02-01"}`, shelter)
	before := call(t, app, "GET", admission, manager, "").body

	refused := func(what string, missing ...string) {
		t.Helper()
		r := call(t, app, "POST", admission+"/admit", manager, admit)
		var e errorBody
		if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != 409 || e.Error.Code != homeward.ECONFLICT {
			t.Fatalf("%s: %d %s, want 409 conflict", what, r.status, r.body)
		}
		var named []string
		for k := range e.Error.Fields {
			named = append(named, k)
		}
		slices.Sort(named)
		if !slices.Equal(named, missing) {
			t.Errorf("%s: names %v, want %v", what, named, missing)
		}
		after := decode(t, call(t, app, "GET", admission, manager, "").body)
		if after["stage"] != "intake" || after["placement"] != nil || after["referral_source"] != nil || after["waiting"] != nil {
			t.Errorf("%s: something was stored: %v", what, after)
		}
	}
	refused("nothing recorded", "acceptance_family", "acceptance_girl", "consent_services")
	if after := call(t, app, "GET", admission, manager, "").body; after != before {
		t.Errorf("a refused admission changed the admission:\n%s\nwas\n%s", after, before)
	}
	if r := call(t, app, "POST", admission+"/acceptances", worker, `{"accepted_by":"girl","accepted_on":"2024-01-15"}`); r.status != 404 {
		t.Errorf("a social worker not assigned records an acceptance: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", admission+"/acceptances", manager, `{"accepted_by":"girl","accepted_on":"2024-01-15"}`); r.status != 200 {
		t.Fatalf("the girl's acceptance: %d %s", r.status, r.body)
	}
	refused("the girl alone", "acceptance_family", "consent_services")
	if r := call(t, app, "POST", admission+"/acceptances", manager, `{"accepted_by":"guardian","accepted_on":"2024-01-16"}`); r.status != 200 {
		t.Fatalf("the guardian's acceptance: %d %s", r.status, r.body)
	}
	refused("both acceptances, no consent", "consent_services")
	consent := fmt.Sprintf("/api/v1/cases/%s/consent", k["id"])
	if r := call(t, app, "POST", consent, manager, `{"purpose":"services","given_by":"girl","given_on":"2024-01-16","basis":"signed_form"}`); r.status != 201 {
		t.Fatalf("the services consent: %d %s", r.status, r.body)
	}

	r = call(t, app, "POST", admission+"/admit", manager, admit)
	if r.status != 200 {
		t.Fatalf("admission after both acceptances and the consent: %d %s", r.status, r.body)
	}
	got := decode(t, r.body)
	placement, _ := got["placement"].(map[string]any)
	if got["stage"] != "shelter" || got["referral_source"] != "partner_handoff" || placement["shelter_name"] != "Vientiane shelter" ||
		placement["placed_on"] != "2024-02-01" || len(got["missing"].([]any)) != 0 {
		t.Errorf("admitted: %s", r.body)
	}
	if k := decode(t, call(t, app, "GET", fmt.Sprintf("/api/v1/cases/%s", k["id"]), manager, "").body); k["stage"] != "shelter" {
		t.Errorf("the case is at %v", k["stage"])
	}
}

func TestFullShelterPutsTheCaseOnItsWaitingList(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	o.withCases(t, s)
	o.withShelters(t, s)
	app, _ := caseServer(t, s)
	manager := o.jwt[tenants.RoleCaseManager]
	id := o.shelters.admissibleCase(t)
	r := call(t, app, "POST", fmt.Sprintf("/api/v1/cases/%s/admission/admit", id), manager,
		fmt.Sprintf(`{"shelter_id":"%s","referral_source":"police","admitted_on":"2024-02-01"}`, o.shelters.full))
	got := decode(t, r.body)
	waiting, _ := got["waiting"].(map[string]any)
	if r.status != 202 || got["stage"] != "intake" || got["placement"] != nil || waiting["position"] != float64(1) {
		t.Errorf("admission into a full shelter: %d %s, want 202, waiting first", r.status, r.body)
	}
	list := decode(t, call(t, app, "GET", fmt.Sprintf("/api/v1/shelters/%s/waiting-list", o.shelters.full), manager, "").body)
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["case_id"] != id.String() {
		t.Errorf("the waiting list: %v", list)
	}
	sh := decode(t, call(t, app, "GET", fmt.Sprintf("/api/v1/shelters/%s", o.shelters.full), manager, "").body)
	if sh["occupancy"] != float64(1) || sh["free"] != float64(0) || sh["waiting"] != float64(1) {
		t.Errorf("the full shelter: %v", sh)
	}
	// Control: into a shelter with beds, she is placed.
	r = call(t, app, "POST", fmt.Sprintf("/api/v1/cases/%s/admission/admit", id), manager,
		fmt.Sprintf(`{"shelter_id":"%s","referral_source":"police","admitted_on":"2024-02-01"}`, o.shelters.roomy))
	if r.status != 200 || decode(t, r.body)["waiting"] != nil {
		t.Errorf("control: admission into a shelter with beds: %d %s", r.status, r.body)
	}
}

func TestAnotherOrganisationsShelterIsNotFound(t *testing.T) {
	s := storeForTest(t)
	a, b := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1))
	app, _ := caseServer(t, s)
	r := call(t, app, "POST", "/api/v1/shelters", a.jwt[tenants.RoleCaseManager], `{"name":"`+a.canary+`","capacity":10}`)
	if r.status != 201 {
		t.Fatalf("A's shelter: %d %s", r.status, r.body)
	}
	target := fmt.Sprintf("/api/v1/shelters/%s", decode(t, r.body)["id"])
	if r := call(t, app, "GET", target, a.jwt[tenants.RoleSocialWorker], ""); r.status != 200 || !strings.Contains(r.body, a.canary) {
		t.Errorf("control: A's social worker: %d %s", r.status, r.body)
	}
	for _, req := range []struct{ method, path, body string }{{"GET", "", ""}, {"PATCH", "", `{"capacity":20}`}, {"GET", "/waiting-list", ""}} {
		r := call(t, app, req.method, target+req.path, b.jwt[tenants.RoleCaseManager], req.body)
		wantError(t, r, 404, `{"error":{"code":"not_found","message":"no such shelter"}}`)
	}
	if r := call(t, app, "GET", "/api/v1/shelters", b.jwt[tenants.RoleCaseManager], ""); r.status != 200 || strings.Contains(r.body, a.canary) {
		t.Errorf("B's list: %d %s, want 200 without A's shelter", r.status, r.body)
	}
}

func TestSocialWorkerReadsSheltersButDoesNotAddThem(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	body := `{"name":"Savannakhet shelter","province":"Savannakhet","capacity":20}`
	r := call(t, app, "POST", "/api/v1/shelters", o.jwt[tenants.RoleSocialWorker], body)
	wantError(t, r, 403, `{"error":{"code":"forbidden","message":"your roles do not allow this"}}`)
	if r := call(t, app, "GET", "/api/v1/shelters", o.jwt[tenants.RoleSocialWorker], ""); r.status != 200 || strings.Contains(r.body, "Savannakhet") {
		t.Errorf("the social worker's list after the refusal: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", "/api/v1/shelters", o.jwt[tenants.RoleCaseManager], body); r.status != 201 {
		t.Fatalf("control: the case manager adds it: %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", "/api/v1/shelters", o.jwt[tenants.RoleSocialWorker], "")
	if items, _ := decode(t, r.body)["items"].([]any); r.status != 200 || len(items) != 1 || items[0].(map[string]any)["capacity"] != float64(20) {
		t.Errorf("the social worker reads: %d %s", r.status, r.body)
	}
	if r := call(t, app, "PATCH", fmt.Sprintf("/api/v1/shelters/%s", decode(t, r.body)["items"].([]any)[0].(map[string]any)["id"]),
		o.jwt[tenants.RoleSocialWorker], `{"capacity":1}`); r.status != 403 {
		t.Errorf("the social worker changes it: %d %s", r.status, r.body)
	}
}

// orgShelters are the shelters of an organisation that the matrix's
// callers act on, and the cases they admit, transfer and discharge: roomy
// and other have beds (500 each), full has one bed, taken.
type orgShelters struct {
	service            *shelters.Service
	cases              *orgCases
	roomy, other, full uuid.UUID
}

// withShelters makes the organisation's shelters (after withCases); the
// full one carries the organisation's canary in its name.
func (o *testOrg) withShelters(t *testing.T, s *tenants.Store) {
	t.Helper()
	osh := &orgShelters{service: shelters.New(s), cases: o.cases}
	add := func(name string, capacity int) uuid.UUID {
		sh, err := osh.service.Create(o.cases.manager, shelters.NewShelter{Name: name, Province: "Vientiane Capital", Capacity: capacity, Active: true})
		if err != nil {
			t.Fatalf("matrix shelter: %v", err)
		}
		return sh.ID
	}
	osh.roomy, osh.other, osh.full = add("Roomy shelter", 500), add("Other shelter", 500), add("Full "+o.canary, 1)
	osh.admit(t, osh.admissibleCase(t), osh.full)
	o.shelters = osh
}

// admissibleCase is a new case (newCase) with both acceptances and a
// standing services consent: it may be admitted.
func (osh *orgShelters) admissibleCase(t *testing.T) uuid.UUID {
	t.Helper()
	id := osh.cases.newCase(t, nil)
	if _, err := osh.cases.service.RecordConsent(osh.cases.manager, id, cases.NewConsent{Purpose: cases.PurposeServices,
		GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}); err != nil {
		t.Fatalf("matrix admission: consent: %v", err)
	}
	for _, by := range []string{shelters.ByGirl, shelters.ByFamily} {
		if _, err := osh.service.RecordAcceptance(osh.cases.manager, id, shelters.NewAcceptance{By: by, On: "2024-01-12"}); err != nil {
			t.Fatalf("matrix admission: acceptance: %v", err)
		}
	}
	return id
}

// admit admits the case into shelter on 2024-02-01.
func (osh *orgShelters) admit(t *testing.T, id, shelter uuid.UUID) *shelters.Admission {
	t.Helper()
	a, err := osh.service.Admit(osh.cases.manager, id, shelters.Admit{ShelterID: shelter, ReferralSource: shelters.SourcePolice, AdmittedOn: "2024-02-01"})
	if err != nil {
		t.Fatalf("matrix admission: %v", err)
	}
	return a
}

// placedCase is an admissible case placed in the roomy shelter.
func (osh *orgShelters) placedCase(t *testing.T) uuid.UUID {
	t.Helper()
	id := osh.admissibleCase(t)
	osh.admit(t, id, osh.roomy)
	return id
}

// waitingCase is an admissible case on the full shelter's waiting list.
func (osh *orgShelters) waitingCase(t *testing.T) uuid.UUID {
	t.Helper()
	id := osh.admissibleCase(t)
	if a := osh.admit(t, id, osh.full); a.Waiting == nil {
		t.Fatalf("matrix admission: not waiting: %+v", a)
	}
	return id
}

// shelterTarget names the record of the matrix's shelter kinds (ok false
// for another kind): own cases are made for the call; another
// organisation's is its matrix case.
func shelterTarget(t *testing.T, kind, scope string, o *testOrg) (string, bool) {
	t.Helper()
	made := map[string]func(*testing.T) uuid.UUID{"admissible case": o.shelters.admissibleCase,
		"placed case": o.shelters.placedCase, "waiting case": o.shelters.waitingCase}
	switch newCase, isCase := made[kind]; {
	case kind == "shelter":
		return o.shelters.roomy.String(), true
	case isCase && scope == "own":
		return newCase(t).String(), true
	case isCase:
		return o.cases.caseID.String(), true
	}
	return "", false
}

// matrixShelterBody fills {shelter} and {shelter_b} in a matrix body: the
// caller's organisation's roomy and other shelters.
func matrixShelterBody(body string, o *testOrg) string {
	if o.shelters == nil {
		return body
	}
	return strings.NewReplacer("{shelter_b}", o.shelters.other.String(), "{shelter}", o.shelters.roomy.String()).Replace(body)
}
