package api

import (
	"strings"
	"testing"

	"github.com/afesip/homeward/tenants"
)

// The partnerships API on PostgreSQL as the app role, members calling with
// their organisation's JWTs. The authorization matrix covers who may call
// what; this test takes one partnership from its proposal to its end and
// checks what each side's answers hold, and that each mistake is refused
// naming its field with nothing stored.
func TestPartnershipsThroughTheAPI(t *testing.T) {
	s := storeForTest(t)
	a, b, c := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1)), newTestOrg(t, s, newTestProvider(t, 2))
	app, _ := caseServer(t, s)
	aAdmin, bAdmin, bManager := a.jwt[tenants.RoleTenantAdmin], b.jwt[tenants.RoleTenantAdmin], b.jwt[tenants.RoleCaseManager]

	// The organisations a's admin may propose to: b and c, never a.
	r := call(t, app, "GET", "/api/v1/organisations/partners", aAdmin, "")
	if r.status != 200 || !strings.Contains(r.body, `"slug":"`+b.slug+`"`) || strings.Contains(r.body, `"slug":"`+a.slug+`"`) {
		t.Fatalf("partners: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/organisations/partners", bManager, ""); r.status != 403 {
		t.Errorf("a case manager lists the organisations to propose to: %d", r.status)
	}

	// Mistakes, each named; nothing stored.
	proposal := `{"partner":"` + b.slug + `","purpose":"handoffs","direction":"outgoing","groups":["identity","family"],` +
		`"documents":true,"agreement_ref":"DSA-A-B","stall_days":10,"statistics_back":true}`
	for _, bad := range []struct{ body, field string }{
		{strings.Replace(proposal, `"direction":"outgoing"`, `"direction":"sideways"`, 1), `"direction":`},
		{strings.Replace(proposal, `"groups":["identity","family"]`, `"groups":["identity","psychological"]`, 1), `"groups":"the psychological group never leaves`},
		{strings.Replace(proposal, b.slug, a.slug, 1), `"partner":`},
		{strings.Replace(proposal, `"stall_days":10`, `"stall_days":91`, 1), `"stall_days":`},
		{strings.Replace(proposal, `"purpose":"handoffs"`, `"purpose":"statistics"`, 1), `"groups":`},
	} {
		r := call(t, app, "POST", "/api/v1/partnerships", aAdmin, bad.body)
		if r.status != 422 || !strings.Contains(r.body, bad.field) {
			t.Errorf("%s: %d %s, want 422 naming %s", bad.body, r.status, r.body, bad.field)
		}
	}
	if r := call(t, app, "POST", "/api/v1/partnerships", aAdmin, strings.Replace(proposal, `"documents"`, `"files"`, 1)); r.status != 422 ||
		!strings.Contains(r.body, `"files":"unknown field"`) {
		t.Errorf("an unknown field: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/partnerships", aAdmin, ""); r.status != 200 || r.body != `{"items":[]}` {
		t.Fatalf("the refusals stored something: %d %s", r.status, r.body)
	}

	r = call(t, app, "POST", "/api/v1/partnerships", aAdmin, proposal)
	if r.status != 201 {
		t.Fatalf("propose: %d %s", r.status, r.body)
	}
	p := decode(t, r.body)
	id := p["id"].(string)
	if p["state"] != "proposed" || p["direction"] != "outgoing" || p["proposed_by"] != "us" || p["brings_statistics"] != true ||
		p["partner"].(map[string]any)["slug"] != b.slug || p["stall_days"] != float64(10) {
		t.Errorf("the proposal as a holds it: %s", r.body)
	}
	if r := call(t, app, "POST", "/api/v1/partnerships", aAdmin, proposal); r.status != 409 || !strings.Contains(r.body, `"partner"`) {
		t.Errorf("the same proposal again: %d %s", r.status, r.body)
	}
	base := "/api/v1/partnerships/" + id
	r = call(t, app, "GET", base, bAdmin, "")
	q := decode(t, r.body)
	if r.status != 200 || q["direction"] != "incoming" || q["proposed_by"] != "partner" || q["brings_statistics"] != false ||
		q["partner"].(map[string]any)["slug"] != a.slug {
		t.Errorf("the proposal as b holds it: %d %s", r.status, r.body)
	}
	// The partner organisation's members are never named to b.
	if strings.Contains(r.body, a.canary) {
		t.Errorf("b's copy names a member of a: %s", r.body)
	}
	if r := call(t, app, "GET", base, c.jwt[tenants.RoleTenantAdmin], ""); r.status != 404 {
		t.Errorf("a third organisation reads it: %d", r.status)
	}

	// The proposer cannot accept; b's admin can.
	if r := call(t, app, "POST", base+"/accept", aAdmin, ""); r.status != 403 {
		t.Errorf("a accepts its own proposal: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", base+"/accept", bAdmin, ""); r.status != 200 || !strings.Contains(r.body, `"state":"active"`) {
		t.Fatalf("b accepts: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", base+"/decline", bAdmin, `{"reason":"late"}`); r.status != 409 {
		t.Errorf("declining an active partnership: %d %s", r.status, r.body)
	}

	// b suspends (a reason needed): a sees why; no statistics meanwhile.
	r = call(t, app, "POST", base+"/suspend", bAdmin, `{"reason":""}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"reason":"required: why the partnership is suspended"}}}`)
	if r := call(t, app, "POST", base+"/suspend", bAdmin, `{"reason":"Agreement under review"}`); r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", base, aAdmin, "")
	if !strings.Contains(r.body, `"state":"suspended"`) || !strings.Contains(r.body, `"state_reason":"Agreement under review"`) {
		t.Errorf("a's copy after the suspension: %s", r.body)
	}
	if r := call(t, app, "GET", base+"/statistics.csv", aAdmin, ""); r.status != 409 {
		t.Errorf("statistics under a suspended partnership: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", base+"/resume", aAdmin, ""); r.status != 200 || !strings.Contains(r.body, `"state":"active"`) {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	// Statistics back: a (the sender) reads b's; b does not read its own.
	r = call(t, app, "GET", base+"/statistics.csv", aAdmin, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.body, "intake_year,age_band,prs_Gender,vic_TypeOfExploitation,cas_Status,count") {
		t.Errorf("a reads b's statistics: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := call(t, app, "GET", base+"/statistics.csv", bAdmin, ""); r.status != 403 {
		t.Errorf("b reads its own through the partnership: %d", r.status)
	}

	// Ended is final.
	if r := call(t, app, "POST", base+"/end", aAdmin, `{"reason":"Programme closed"}`); r.status != 200 || !strings.Contains(r.body, `"state":"ended"`) {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	for _, move := range []string{"/resume", "/accept"} {
		if r := call(t, app, "POST", base+move, bAdmin, ""); r.status != 409 {
			t.Errorf("%s after the end: %d %s", move, r.status, r.body)
		}
	}
	r = call(t, app, "GET", "/api/v1/partnerships", bAdmin, "")
	if r.status != 200 || !strings.Contains(r.body, `"state":"ended"`) || !strings.Contains(r.body, `"state_reason":"Programme closed"`) {
		t.Errorf("b's list: %d %s", r.status, r.body)
	}
}
