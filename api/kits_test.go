package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/kits"
)

// The starter kit's API on PostgreSQL as the app role, with real members
// calling with their organisation's JWTs and API tokens. The authorization
// matrix covers who may call what; these tests check the limit, the
// two-person rule and the conversion.

// orgKits are the kit requests of an organisation that the matrix's
// callers act on: on its matrix case, asked by a case manager who is none
// of the callers (so that the approvers are a second person), requested
// and approved on 1 May 2024 and disbursed on 2 May, so that the rows'
// dates (June 2024) follow each step.
type orgKits struct {
	service   *kits.Service
	requester context.Context // a case manager who is none of the callers
	approver  context.Context // the callers' case manager, a second person
	caseID    uuid.UUID
	kitID     uuid.UUID // a waiting request, the canary in its plan
}

var kitDay = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// matrixKit is the kit of the matrix: a sewing machine in kip at 21 700
// to the dollar and two chairs in dollars, USD 391.00.
func matrixKit(plan string) kits.Request {
	return kits.Request{BusinessPlan: plan, Items: []kits.NewItem{
		{Description: "Sewing machine", Quantity: 1, UnitCostMinor: 6_510_000, Currency: kits.LAK},
		{Description: "Chair", Quantity: 2, UnitCostMinor: 4550, Currency: kits.USD},
	}, Rates: []kits.NewRate{{Currency: kits.LAK, UnitsPerUSD: "21700"}}}
}

// withKits makes the organisation's kit records for the matrix (after
// withCases).
func (o *testOrg) withKits(t *testing.T, s *tenants.Store) {
	t.Helper()
	ok := &orgKits{service: kits.New(s).WithClock(func() time.Time { return kitDay }), caseID: o.cases.caseID,
		approver: o.cases.manager, requester: tenants.WithPrincipal(context.Background(), o.signIn(t, s, o.subject("kit-requester"), tenants.RoleCaseManager))}
	ok.kitID = ok.newKit(t, kits.StateRequested, o.canary)
	o.kits = ok
}

// newKit requests a kit on the matrix case and takes it to state.
func (ok *orgKits) newKit(t *testing.T, state, plan string) uuid.UUID {
	t.Helper()
	k, err := ok.service.Request(ok.requester, ok.caseID, matrixKit(plan))
	if err != nil {
		t.Fatalf("matrix kit: %v", err)
	}
	approver := ok.service.WithClock(func() time.Time { return kitDay.Add(time.Hour) })
	if state == kits.StateApproved || state == kits.StateDisbursed {
		if k, err = approver.Approve(ok.approver, k.ID); err != nil {
			t.Fatalf("matrix kit: approve: %v", err)
		}
	}
	if state == kits.StateDisbursed {
		disburser := ok.service.WithClock(func() time.Time { return kitDay.AddDate(0, 0, 1) })
		if _, err = disburser.Disburse(ok.requester, k.ID, kits.Spending{On: "2024-05-02", Spent: []int64{6_400_000, 8800}}); err != nil {
			t.Fatalf("matrix kit: disburse: %v", err)
		}
	}
	return k.ID
}

// kitTarget names the kit records of the matrix's kinds: "kit", the
// organisation's waiting request; "fresh kit" one made anew for each own
// call (approving or rejecting decides it), "approved kit" and "disbursed
// kit" the same taken to that step.
func kitTarget(t *testing.T, kind, scope string, o *testOrg) (string, bool) {
	t.Helper()
	state, ok := map[string]string{"fresh kit": kits.StateRequested, "approved kit": kits.StateApproved,
		"disbursed kit": kits.StateDisbursed}[kind]
	switch {
	case kind == "kit":
		return o.kits.kitID.String(), true
	case ok && scope == "own":
		return o.kits.newKit(t, state, "matrix").String(), true
	case ok:
		return o.kits.kitID.String(), true
	}
	return "", false
}

// kitOrg is an organisation with a case and a second case manager, for
// the API tests.
func kitOrg(t *testing.T, s *tenants.Store, app *fiber.App, p *testProvider) (o *testOrg, caseID, manager2 string) {
	t.Helper()
	o = newTestOrg(t, s, p)
	k := createCase(t, app, o.jwt[tenants.RoleCaseManager], `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	o.signIn(t, s, o.subject("cm2"), tenants.RoleCaseManager)
	return o, fmt.Sprint(k["id"]), o.bearer(t, o.subject("cm2"), tenants.RoleCaseManager)
}

const lakKitBody = `{"business_plan":"Tailoring from her home","items":[` +
	`{"description":"Sewing machine","quantity":1,"unit_cost_minor":6510000,"currency":"LAK"},` +
	`{"description":"Chair","quantity":2,"unit_cost_minor":4550,"currency":"USD"}],` +
	`"rates":[{"currency":"LAK","units_per_usd":"21700"}]}`

// A kit priced in kip is converted at the rate recorded with it: 6 510 000
// kip at 21 700 to the dollar is USD 300.00 exactly; with two chairs at
// USD 45.50, USD 391.00. The rate, who entered it and when are part of
// the request.
func TestKitInKipConvertedAtTheRecordedRate(t *testing.T) {
	s := storeForTest(t)
	app, _ := caseServer(t, s)
	o, caseID, _ := kitOrg(t, s, app, newTestProvider(t, 0))
	r := call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], lakKitBody)
	if r.status != 201 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	k := decode(t, r.body)
	items, _ := k["items"].([]any)
	rates, _ := k["rates"].([]any)
	if k["total_usd_cents"] != 39100.0 || k["limit_usd_cents"] != 50000.0 || k["state"] != "requested" || len(items) != 2 || len(rates) != 1 {
		t.Fatalf("the request: %s", r.body)
	}
	if line := items[0].(map[string]any); line["usd_cents"] != 30000.0 || line["currency"] != "LAK" || line["unit_cost_minor"] != 6510000.0 {
		t.Errorf("the kip line: %v", line)
	}
	rate := rates[0].(map[string]any)
	if rate["currency"] != "LAK" || rate["units_per_usd"] != "21700" || rate["entered_by"] != o.members[tenants.RoleCaseManager].String() ||
		rate["entered_at"] != k["requested_at"] {
		t.Errorf("the recorded rate: %v (requested at %v)", rate, k["requested_at"])
	}
	// The same kip at another day's rate is another amount: the rate is the request's.
	other := strings.Replace(lakKitBody, `"21700"`, `"20000"`, 1)
	r = call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], other)
	if k := decode(t, r.body); r.status != 201 || k["total_usd_cents"] != 32550.0+9100.0 {
		t.Errorf("at 20000 kip to the dollar: %d %s", r.status, r.body)
	}
	// A kip item without a rate names what is missing.
	noRate := strings.Replace(lakKitBody, `,"rates":[{"currency":"LAK","units_per_usd":"21700"}]`, ``, 1)
	r = call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], noRate)
	if r.status != 422 || !strings.Contains(r.body, `"rates":"a rate for LAK is needed`) {
		t.Errorf("without the kip rate: %d %s", r.status, r.body)
	}
}

// A total over the limit: 422 naming the total and the limit, nothing
// stored; under a limit the organisation raised, the same request passes.
func TestKitOverTheLimitRefused(t *testing.T) {
	s := storeForTest(t)
	app, _ := caseServer(t, s)
	o, caseID, _ := kitOrg(t, s, app, newTestProvider(t, 0))
	over := strings.Replace(lakKitBody, `"quantity":2`, `"quantity":5`, 1) // USD 300 + 5 × 45.50 = USD 527.50
	r := call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleSocialWorker], over)
	if r.status != 404 {
		t.Errorf("control: a social worker not assigned: %d", r.status)
	}
	r = call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], over)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"the kit's total, USD 527.50, is over the organisation's limit of USD 500.00: nothing was stored",`+
		`"fields":{"total":"USD 527.50 is over the limit of USD 500.00"}}}`)
	if r := call(t, app, "GET", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], ""); r.status != 200 || r.body != `{"items":[]}` {
		t.Errorf("after the refusal: %d %s", r.status, r.body)
	}

	admin := o.jwt[tenants.RoleTenantAdmin]
	if r := call(t, app, "PUT", "/api/v1/settings/kit-limit", admin, `{"usd_cents":0}`); r.status != 422 || !strings.Contains(r.body, `"usd_cents"`) {
		t.Errorf("a limit of 0: %d %s", r.status, r.body)
	}
	if r := call(t, app, "PUT", "/api/v1/settings/kit-limit", admin, `{"usd_cents":60000}`); r.status != 200 || r.body != `{"usd_cents":60000}` {
		t.Fatalf("raising the limit: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/settings/kit-limit", o.jwt[tenants.RoleAuditor], ""); r.body != `{"usd_cents":60000}` {
		t.Errorf("the limit read back: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", o.jwt[tenants.RoleCaseManager], over); r.status != 201 ||
		!strings.Contains(r.body, `"total_usd_cents":52750`) || !strings.Contains(r.body, `"limit_usd_cents":60000`) {
		t.Errorf("under the raised limit: %d %s", r.status, r.body)
	}
}

// The requester approving, or an API token (even with a case manager's
// role): 403 and nothing changed; another case manager approves. Then the
// request is final: a change is 409.
func TestKitApprovalNeedsASecondPerson(t *testing.T) {
	s := storeForTest(t)
	app, _ := caseServer(t, s)
	o, caseID, manager2 := kitOrg(t, s, app, newTestProvider(t, 0))
	manager := o.jwt[tenants.RoleCaseManager]
	r := call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", manager, lakKitBody)
	if r.status != 201 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	kit := "/api/v1/kits/" + fmt.Sprint(decode(t, r.body)["id"])

	r = call(t, app, "POST", kit+"/approve", manager, "")
	wantError(t, r, 403, `{"error":{"code":"forbidden","message":"the approver must be another person than the requester"}}`)
	admin, err := s.PrincipalOf(context.Background(), o.members[tenants.RoleTenantAdmin])
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateAPIToken(tenants.WithPrincipal(context.Background(), admin), tenants.NewAPIToken{Name: "integration",
		Roles: []tenants.Role{tenants.RoleCaseManager}, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, app, "GET", kit, tok.Token, ""); r.status != 200 {
		t.Fatalf("control: the token reads the kit: %d %s", r.status, r.body)
	}
	r = call(t, app, "POST", kit+"/approve", tok.Token, "")
	wantError(t, r, 403, `{"error":{"code":"forbidden","message":"an API token never approves: a second person signs in and approves"}}`)
	if r := call(t, app, "GET", kit, manager, ""); !strings.Contains(r.body, `"state":"requested"`) || !strings.Contains(r.body, `"decided_at":null`) {
		t.Fatalf("after the refused approvals: %s", r.body)
	}

	r = call(t, app, "POST", kit+"/approve", manager2, "")
	if r.status != 200 || !strings.Contains(r.body, `"state":"approved"`) {
		t.Fatalf("the second case manager approves: %d %s", r.status, r.body)
	}
	r = call(t, app, "PUT", kit, manager, lakKitBody)
	if r.status != 409 || !strings.Contains(r.body, "make a new request") {
		t.Errorf("changing an approved request: %d %s", r.status, r.body)
	}
	// On to the disbursement and the hand-over.
	today := time.Now().UTC().Format(time.DateOnly)
	r = call(t, app, "POST", kit+"/disburse", manager, `{"disbursed_on":"`+today+`","spent_minor":[6400000,8800]}`)
	if r.status != 200 || !strings.Contains(r.body, `"spent_usd_cents":38293`) {
		t.Errorf("disbursed: %d %s", r.status, r.body)
	}
	r = call(t, app, "POST", kit+"/handover", manager, `{"handed_over_on":"`+today+`","place":"Her home","received_confirmed":true,"note":"signed"}`)
	if r.status != 200 || !strings.Contains(r.body, `"state":"handed_over"`) || !strings.Contains(r.body, `"place":"Her home"`) {
		t.Errorf("handed over: %d %s", r.status, r.body)
	}
}

// Another organisation's kit is 404, by any door, and its content never
// shows.
func TestKitOfAnotherOrganisationIsNotFound(t *testing.T) {
	s := storeForTest(t)
	app, _ := caseServer(t, s)
	b := newTestOrg(t, s, newTestProvider(t, 1)) // before the first call: the server caches its providers for a minute
	a, caseID, _ := kitOrg(t, s, app, newTestProvider(t, 0))
	body := strings.Replace(lakKitBody, "Tailoring from her home", a.canary, 1)
	r := call(t, app, "POST", "/api/v1/cases/"+caseID+"/kits", a.jwt[tenants.RoleCaseManager], body)
	if r.status != 201 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	kit := "/api/v1/kits/" + fmt.Sprint(decode(t, r.body)["id"])
	if r := call(t, app, "GET", kit, a.jwt[tenants.RoleCaseManager], ""); r.status != 200 || !strings.Contains(r.body, a.canary) {
		t.Fatalf("control: A's case manager: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", kit, ""}, {"PUT", kit, lakKitBody}, {"POST", kit + "/approve", ""}, {"POST", kit + "/reject", `{"reason":"x"}`},
		{"GET", "/api/v1/cases/" + caseID + "/kits", ""}, {"POST", "/api/v1/cases/" + caseID + "/kits", lakKitBody},
	} {
		r := call(t, app, c.method, c.path, b.jwt[tenants.RoleCaseManager], c.body)
		if r.status != 404 || strings.Contains(r.body, a.canary) {
			t.Errorf("%s %s as B's case manager: %d %s, want 404", c.method, c.path, r.status, r.body)
		}
	}
	if r := call(t, app, "GET", kit, a.jwt[tenants.RoleCaseManager], ""); !strings.Contains(r.body, `"state":"requested"`) {
		t.Errorf("after B's attempts: %s", r.body)
	}
}
