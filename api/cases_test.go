package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// The case files' API on PostgreSQL as the app role, with real members
// calling with their organisation's JWTs (authfixture_test.go). The
// authorization matrix covers who may call what; these tests check what
// the answers hold.

// caseServer is the API on s with its log captured.
func caseServer(t *testing.T, s *tenants.Store) (*fiber.App, *logBuffer) {
	t.Helper()
	return newTestServer(t, Deps{Database: s, Store: s, Sessions: anonymous, RateLimit: 1 << 30}, nil)
}

// createCase opens a case as caller (a JWT) and returns it.
func createCase(t *testing.T, app *fiber.App, caller, body string) map[string]any {
	t.Helper()
	r := call(t, app, "POST", "/api/v1/cases", caller, body)
	if r.status != 201 {
		t.Fatalf("POST /api/v1/cases %s: %d %s", body, r.status, r.body)
	}
	return decode(t, r.body)
}

func TestCaseOfAnotherOrganisationIsNotFound(t *testing.T) {
	s := storeForTest(t)
	a, b := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1))
	app, _ := caseServer(t, s)
	k := createCase(t, app, a.jwt[tenants.RoleCaseManager],
		`{"prs_FirstName":"`+a.canary+`","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])

	if r := call(t, app, "GET", target, a.jwt[tenants.RoleCaseManager], ""); r.status != 200 || !strings.Contains(r.body, a.canary) {
		t.Errorf("control: A's case manager: %d %.200s", r.status, r.body)
	}
	r := call(t, app, "GET", target, b.jwt[tenants.RoleCaseManager], "")
	wantError(t, r, 404, `{"error":{"code":"not_found","message":"no such case"}}`)
	// Nor through the case's other doors, nor in B's list or search.
	for _, path := range []string{"/consent", "/comments", "/export"} {
		if r := call(t, app, "GET", target+path, b.jwt[tenants.RoleCaseManager], ""); r.status != 404 || strings.Contains(r.body, a.canary) {
			t.Errorf("GET %s as B's case manager: %d %.200s, want 404", path, r.status, r.body)
		}
	}
	for _, q := range []string{"", "?q=" + a.canary} {
		r := call(t, app, "GET", "/api/v1/cases"+q, b.jwt[tenants.RoleCaseManager], "")
		if r.status != 200 || strings.Contains(r.body, fmt.Sprint(k["id"])) {
			t.Errorf("B's list %q: %d %.300s, want 200 without A's case", q, r.status, r.body)
		}
	}
	// Control: A's search finds it by the first name.
	if r := call(t, app, "GET", "/api/v1/cases?q="+a.canary, a.jwt[tenants.RoleCaseManager], ""); r.status != 200 || !strings.Contains(r.body, fmt.Sprint(k["id"])) {
		t.Errorf("control: A's search: %d %.300s", r.status, r.body)
	}
}

func TestMedicalGroupShownOnlyToWhoMayReadIt(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	manager, worker, medic := o.jwt[tenants.RoleCaseManager], o.jwt[tenants.RoleSocialWorker], o.jwt[tenants.RoleMedicalOfficer]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])
	assign := fmt.Sprintf(`{"cas_CaseOwner":null,"assigned_to":["%s","%s"]}`, o.members[tenants.RoleSocialWorker], o.members[tenants.RoleMedicalOfficer])
	if r := call(t, app, "PUT", target+"/assignment", manager, assign); r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	if r := call(t, app, "PATCH", target, medic, `{"medical_notes":"HIV test negative"}`); r.status != 200 {
		t.Fatalf("the medical officer writes the medical notes: %d %s", r.status, r.body)
	}

	seen := decode(t, call(t, app, "GET", target, medic, "").body)
	if seen["medical_notes"] != "HIV test negative" || access(seen)["medical"] != "rw" {
		t.Errorf("control: the medical officer's view lacks the medical group: %v", seen)
	}
	r := call(t, app, "GET", target, worker, "")
	seen = decode(t, r.body)
	if r.status != 200 || seen["prs_FirstName"] != "Noy" || access(seen)["core"] != "rw" {
		t.Fatalf("control: the social worker reads the case: %d %s", r.status, r.body)
	}
	if _, ok := seen["medical_notes"]; ok || strings.Contains(r.body, "HIV") {
		t.Errorf("the social worker sees the medical notes: %s", r.body)
	}
	if _, ok := access(seen)["medical"]; ok {
		t.Errorf("the social worker's access names the medical group: %v", seen["access"])
	}
	// A write to it is refused, and changes nothing.
	if r := call(t, app, "PATCH", target, worker, `{"medical_notes":"changed"}`); r.status != 403 || !strings.Contains(r.body, `"medical_notes"`) {
		t.Errorf("the social worker writes the medical notes: %d %s, want 403 naming the field", r.status, r.body)
	}
	if seen := decode(t, call(t, app, "GET", target, medic, "").body); seen["medical_notes"] != "HIV test negative" {
		t.Errorf("after the refused write: %v", seen["medical_notes"])
	}
}

func access(k map[string]any) map[string]any {
	a, _ := k["access"].(map[string]any)
	return a
}

func TestCreateWithNameBirthdateAndGender(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	k := createCase(t, app, o.jwt[tenants.RoleCaseManager], `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	for key, want := range map[string]any{"prs_FirstName": "Noy", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine",
		"stage": "intake", "cas_Status": "Active"} {
		if k[key] != want {
			t.Errorf("%s = %v, want %v", key, k[key], want)
		}
	}
	if ref, _ := k["reference"].(string); !strings.HasPrefix(ref, "C-") {
		t.Errorf("reference = %v", k["reference"])
	}
	// An outreach worker's intake answers with what names the case alone.
	r := call(t, app, "POST", "/api/v1/cases", o.jwt[tenants.RoleOutreachWorker], `{"prs_FirstName":"Lan","prs_Birthdate":"2009-01-02","prs_Gender":"Feminine",`+
		`"consent":[{"purpose":"services","given_by":"girl","given_on":"2024-01-15","basis":"recorded_verbal"}]}`)
	if r.status != 201 {
		t.Fatalf("outreach intake: %d %s", r.status, r.body)
	}
	if got := decode(t, r.body); len(got) != 4 || got["id"] == nil || got["reference"] == nil || strings.Contains(r.body, "Lan") {
		t.Errorf("outreach intake answer: %s, want id, number, reference and access alone", r.body)
	}
}

// TestRefusedWritesStoreNothing: each bad key or value is refused naming
// it, at creation and in a change, and nothing is stored.
func TestRefusedWritesStoreNothing(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	manager := o.jwt[tenants.RoleCaseManager]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])
	before := call(t, app, "GET", target, manager, "").body
	list := call(t, app, "GET", "/api/v1/cases?limit=200", manager, "").body

	for _, tc := range []struct {
		name   string
		body   string // one more key beside a valid first name
		status int
		field  string
	}{
		{"unknown picklist value", `"prs_Gender":"Female"`, 422, "prs_Gender"},
		{"unknown value in a list", `"vic_TypeOfExploitation":["SexualExploitation","Smuggling"]`, 422, "vic_TypeOfExploitation"},
		{"birth date in the future", `"prs_Birthdate":"2999-01-01"`, 422, "prs_Birthdate"},
		{"over-long text", `"prs_SecondName":"` + strings.Repeat("x", 101) + `"`, 422, "prs_SecondName"},
		{"number of the wrong kind", `"prs_NumberOfChildren":1.5`, 422, "prs_NumberOfChildren"},
		{"tenant_id", `"tenant_id":"0191e4a0-0000-7000-8000-000000000001"`, 400, "tenant_id"},
		{"cas_Status", `"cas_Status":"Closed"`, 400, "cas_Status"},
		{"id", `"id":"0191e4a0-0000-7000-8000-000000000001"`, 400, "id"},
		{"cas_CaseOwner", `"cas_CaseOwner":null`, 400, "cas_CaseOwner"},
		{"unknown key", `"prs_FavouriteColour":"blue"`, 400, "prs_FavouriteColour"},
		{"an event's field at the top", `"hte_Type":"Transit"`, 400, "hte_Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"prs_FirstName":"Changed",` + tc.body + `}`
			for _, req := range []struct{ method, target string }{{"POST", "/api/v1/cases"}, {"PATCH", target}} {
				r := call(t, app, req.method, req.target, manager, body)
				if r.status != tc.status {
					t.Errorf("%s: %d, want %d: %s", req.method, r.status, tc.status, r.body)
				}
				var e errorBody
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Code != homeward.EINVALID || e.Error.Fields[tc.field] == "" {
					t.Errorf("%s: %s, want invalid naming %s", req.method, r.body, tc.field)
				}
				if _, ok := e.Error.Fields["prs_FirstName"]; ok {
					t.Errorf("%s: the valid field is named too: %s", req.method, r.body)
				}
			}
			if after := call(t, app, "GET", target, manager, "").body; after != before {
				t.Errorf("the case changed:\n%s\nwas\n%s", after, before)
			}
			if after := call(t, app, "GET", "/api/v1/cases?limit=200", manager, "").body; after != list {
				t.Errorf("the list changed:\n%s\nwas\n%s", after, list)
			}
		})
	}
	// Control: the same change with valid values is stored.
	if r := call(t, app, "PATCH", target, manager, `{"prs_FirstName":"Changed","prs_Gender":"NonSpecifiedUnknown"}`); r.status != 200 ||
		decode(t, r.body)["prs_FirstName"] != "Changed" {
		t.Errorf("control: a valid change: %d %s", r.status, r.body)
	}
}

// TestServerLogHoldsNoCaseData: after a create, a read, a search, a
// comment and refused writes, the server's log holds none of the case's
// personal data.
func TestServerLogHoldsNoCaseData(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, logs := caseServer(t, s)
	manager := o.jwt[tenants.RoleCaseManager]
	name, birthdate, comment := "Canaryname"+randomHex(4), "2007-11-23", "canary comment "+randomHex(4)
	k := createCase(t, app, manager, `{"prs_FirstName":"`+name+`","prs_Birthdate":"`+birthdate+`","prs_Gender":"Feminine"}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])
	if r := call(t, app, "POST", target+"/comments", manager, `{"cco_CaseComment":"`+comment+`"}`); r.status != 201 {
		t.Fatalf("comment: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", target, manager, ""); r.status != 200 {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	for _, q := range []string{name, birthdate, "23/11/2007"} {
		if r := call(t, app, "GET", "/api/v1/cases?q="+q, manager, ""); r.status != 200 || !strings.Contains(r.body, name) {
			t.Fatalf("search %s: %d %s", q, r.status, r.body)
		}
	}
	for _, body := range []string{`{"prs_Gender":"` + name + `"}`, `{"prs_Birthdate":"` + birthdate + `x"}`, `{"` + name + `":"` + comment + `"}`} {
		if r := call(t, app, "PATCH", target, manager, body); r.status/100 != 4 {
			t.Fatalf("refused write %s: %d %s", body, r.status, r.body)
		}
	}
	log := logs.String()
	if !strings.Contains(log, "/api/v1/cases/:id") {
		t.Fatalf("control: the access log holds no request: %s", log)
	}
	for _, secret := range []string{name, birthdate, "23/11/2007", comment} {
		if strings.Contains(log, secret) {
			t.Errorf("the server log holds %q:\n%s", secret, log)
		}
	}
}

func TestWithdrawnSharingConsentBlocksTheExportAtOnce(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	manager := o.jwt[tenants.RoleCaseManager]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine",`+
		`"consent":[{"purpose":"sharing","given_by":"girl","given_on":"2024-01-15","basis":"signed_form"}]}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])

	r := call(t, app, "GET", target+"/export", manager, "")
	if r.status != 200 || decode(t, r.body)["Person"] == nil {
		t.Fatalf("control: the export with the sharing consent: %d %.300s", r.status, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, fmt.Sprint(k["id"])) || strings.Contains(cd, "Noy") {
		t.Errorf("Content-Disposition = %q, want an attachment named by the case's id", cd)
	}
	if r := call(t, app, "POST", target+"/consent/sharing/withdraw", manager, `{"reason":"asked by her guardian"}`); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", target+"/export", manager, "")
	wantError(t, r, 403, `{"error":{"code":"forbidden","message":"the case has no standing consent to share"}}`)

	consent := decode(t, call(t, app, "GET", target+"/consent", manager, "").body)
	if current, _ := consent["current"].([]any); len(current) != 0 {
		t.Errorf("current consent after the withdrawal: %v", current)
	}
	if history, _ := consent["history"].([]any); len(history) != 1 || history[0].(map[string]any)["withdrawn_at"] == nil {
		t.Errorf("consent history: %v", consent["history"])
	}
}

func TestStatisticsCSV(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	app, _ := caseServer(t, s)
	r := call(t, app, "GET", "/api/v1/statistics/cases.csv", o.jwt[tenants.RoleCaseManager], "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(r.body, "intake_year,") {
		t.Errorf("the case manager: %d %q %.200s, want 200 text/csv", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = call(t, app, "GET", "/api/v1/statistics/cases.csv", o.jwt[tenants.RoleSocialWorker], "")
	if r.status != 403 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("the social worker: %d %q %s, want 403", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// TestOpenAPICaseFieldsAreTheCatalogue: the document's CaseFields and
// Event schemas name every field of the catalogue (tenants/cases), with
// its group, its kind, its limits and every picklist value, and nothing
// else; so the two cannot drift apart. Control: a value taken out of a
// copy of the document is found.
func TestOpenAPICaseFieldsAreTheCatalogue(t *testing.T) {
	doc := mustLoadOpenAPI(t, openAPIDocument)
	if p := catalogueDrift(doc); len(p) != 0 {
		t.Errorf("api/openapi.yaml and the case catalogue differ:\n%s", strings.Join(p, "\n"))
	}
	gender := doc.Components.Schemas["CaseFields"].Value.Properties["prs_Gender"].Value
	gender.Enum = gender.Enum[1:]
	if p := catalogueDrift(doc); len(p) != 1 || !strings.Contains(p[0], "prs_Gender") {
		t.Errorf("control: a picklist value missing from the document: %v", p)
	}
}

// catalogueDrift lists where the document's case schemas and the
// catalogue differ.
func catalogueDrift(doc *openapi3.T) []string {
	var problems []string
	for schema, fields := range map[string][]cases.Field{"CaseFields": cases.Fields(), "Event": cases.EventFields()} {
		props := doc.Components.Schemas[schema].Value.Properties
		for name := range props {
			if !slices.ContainsFunc(fields, func(f cases.Field) bool { return f.Name == name }) {
				problems = append(problems, fmt.Sprintf("%s.%s is no field of the catalogue", schema, name))
			}
		}
		for _, f := range fields {
			p := props[f.Name]
			if p == nil {
				problems = append(problems, fmt.Sprintf("%s lacks %s", schema, f.Name))
				continue
			}
			if got := p.Value.Extensions["x-homeward-group"]; got != f.Group {
				problems = append(problems, fmt.Sprintf("%s.%s: x-homeward-group %v, want %s", schema, f.Name, got, f.Group))
			}
			if got, want := describeField(p.Value), describeCatalogueField(f); got != want {
				problems = append(problems, fmt.Sprintf("%s.%s: %s, want %s", schema, f.Name, got, want))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// describeField and describeCatalogueField say what a field takes, the
// document's way and the catalogue's, in the same words.
func describeField(s *openapi3.Schema) string {
	if s.Type.Is("array") {
		if s.Items.Ref != "" {
			return "list of " + strings.TrimPrefix(s.Items.Ref, "#/components/schemas/")
		}
		return "list of " + describeField(s.Items.Value)
	}
	if len(s.AllOf) == 1 {
		return strings.TrimPrefix(s.AllOf[0].Ref, "#/components/schemas/")
	}
	if s.Type.Is("string") && len(s.Enum) > 0 {
		return fmt.Sprint("one of ", s.Enum)
	}
	switch {
	case s.Type.Is("string") && s.Format == "date":
		return "date"
	case s.Type.Is("string") && s.MaxLength != nil:
		return fmt.Sprint("text up to ", *s.MaxLength)
	case s.Type.Is("integer") && s.Min != nil && s.Max != nil:
		return fmt.Sprintf("whole number %v to %v", *s.Min, *s.Max)
	case s.Type.Is("boolean"):
		return "true or false"
	}
	return fmt.Sprintf("a schema of type %v", s.Type)
}

func describeCatalogueField(f cases.Field) string {
	code := map[string]string{cases.CodeLanguage: "LanguageCode", cases.CodeCountry: "CountryCode"}
	one := func() string {
		if f.CodeList != "" {
			return code[f.CodeList]
		}
		return fmt.Sprint("one of ", f.Values)
	}
	switch f.Kind {
	case cases.KindMulti:
		return "list of " + one()
	case cases.KindPicklist:
		return one()
	case cases.KindDate:
		return "date"
	case cases.KindText, cases.KindLongText:
		return fmt.Sprint("text up to ", f.Max)
	case cases.KindNumber:
		return fmt.Sprintf("whole number %d to %d", f.Min, f.Max)
	case cases.KindBool:
		return "true or false"
	}
	return "kind " + string(f.Kind)
}
