package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/followup"
)

// The follow-up API on PostgreSQL as the app role, members calling with
// their organisation's JWTs. The authorization matrix covers who may call
// what; this test follows one case from its reintegration to the end of
// its follow-up and checks what the answers hold, and that each mistake is
// refused naming its field with nothing stored.
func TestFollowUpThroughTheAPI(t *testing.T) {
	s := storeForTest(t)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	o.withCases(t, s)
	app, _ := caseServer(t, s)
	worker, manager := o.jwt[tenants.RoleSocialWorker], o.jwt[tenants.RoleCaseManager]
	caseID := o.shelterCase(t)
	base := "/api/v1/cases/" + caseID.String()

	r := call(t, app, "POST", base+"/reintegration", worker, `{"destination":"abroad","date":"2025-01-10","place":""}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"destination":"one of family, home_village, city","place":"required"}}}`)
	r = call(t, app, "POST", base+"/reintegration", worker, `{"destination":"family","date":"2025-01-10","place":"Ban Xai","village":"x"}`)
	if r.status != 422 || !strings.Contains(r.body, `"village":"unknown field"`) {
		t.Errorf("an unknown field: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", base+"/reintegration", worker, ""); r.status != 404 {
		t.Fatalf("refusals stored a reintegration: %d %s", r.status, r.body)
	}

	r = call(t, app, "POST", base+"/reintegration", worker,
		`{"destination":"home_village","date":"2025-01-10","place":"Ban Xai, Savannakhet","note":"Her aunt takes her in."}`)
	if r.status != 201 {
		t.Fatalf("reintegrate: %d %s", r.status, r.body)
	}
	re := decode(t, r.body)
	if re["destination"] != "home_village" || re["place"] != "Ban Xai, Savannakhet" || re["scheduled"] != false || re["end_reason"] != nil {
		t.Errorf("reintegration %s", r.body)
	}
	if r := call(t, app, "GET", "/api/v1/cases/"+caseID.String(), manager, ""); !strings.Contains(r.body, `"stage":"reintegrated"`) {
		t.Errorf("the case after reintegration: %.300s", r.body)
	}
	// The schedule, as the background job makes it.
	if err := s.InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
		_, err := followup.GenerateSchedule(tx, uuid.MustParse(re["id"].(string)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r = call(t, app, "GET", base+"/visits", worker, "")
	visits, _ := decode(t, r.body)["items"].([]any)
	if r.status != 200 || len(visits) != 16 {
		t.Fatalf("visits: %d, %d of them", r.status, len(visits))
	}
	first := visits[0].(map[string]any)
	if first["due_on"] != "2025-02-10" || first["status"] != "planned" || first["reference"] == "" {
		t.Errorf("the first visit %v", first)
	}
	visit := "/api/v1/visits/" + first["id"].(string)

	r = call(t, app, "POST", visit+"/done", worker, `{"visited_on":"2025-02-12","risk_flags":["debt","rumours"]}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"risk_flags":"each one of recruiter_contact, debt, family_pressure, migration_plans, other"}}}`)
	r = call(t, app, "POST", visit+"/done", worker, `{"visited_on":"2024-12-31"}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"visited_on":"may not lie before 2025-01-10"}}}`)
	r = call(t, app, "POST", visit+"/done", worker, `{"visited_on":"2025-02-12","living_situation":"With her mother","business_income":"Sewing shop","schooling":"","risk_flags":["recruiter_contact"],"training_wanted":"Bookkeeping","notes":"A broker came by."}`)
	if r.status != 200 {
		t.Fatalf("done: %d %s", r.status, r.body)
	}
	done := decode(t, r.body)
	findings := done["findings"].(map[string]any)
	if done["status"] != "done" || done["visited_on"] != "2025-02-12" || done["visited_by"] != o.members[tenants.RoleSocialWorker].String() ||
		findings["living_situation"] != "With her mother" || fmt.Sprint(findings["risk_flags"]) != "[recruiter_contact]" {
		t.Errorf("the visit done: %s", r.body)
	}
	if r := call(t, app, "GET", visit, o.jwt[tenants.RoleCounsellor], ""); r.status != 200 || !strings.Contains(r.body, "A broker came by.") {
		t.Errorf("the assigned counsellor reads the visit: %d %.200s", r.status, r.body)
	}

	// The due lists: the reintegration was in January 2025, so every
	// visit until today is overdue (one of them done).
	r = call(t, app, "GET", "/api/v1/followups/overdue?limit=2", manager, "")
	page := decode(t, r.body)
	items, _ := page["items"].([]any)
	if r.status != 200 || len(items) != 2 || page["next_cursor"] == nil || items[0].(map[string]any)["due_on"] != "2025-03-10" ||
		items[0].(map[string]any)["overdue"] != true {
		t.Errorf("overdue: %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", "/api/v1/followups/due?mine=true&days=30", manager, "")
	if r.status != 200 || !strings.Contains(r.body, `"items":[]`) {
		t.Errorf("the case manager's own (none): %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", "/api/v1/followups/due?mine=true&days=30", worker, "")
	if r.status != 200 || !strings.Contains(r.body, caseID.String()) {
		t.Errorf("the assigned social worker's own: %d %.300s", r.status, r.body)
	}
	wantError(t, call(t, app, "GET", "/api/v1/followups/due?mine=yes", worker, ""), 422,
		`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"mine":"true or false"}}}`)

	// The schedule (reminders by mail go to the member's contact
	// address: contact_test.go).
	admin := o.jwt[tenants.RoleTenantAdmin]
	r = call(t, app, "PUT", "/api/v1/settings/followup", admin, `{"monthly_months":6,"then_every_months":3,"years":2,"remind_days_before":7}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"years":"a whole number of years from 3 to 10"}}}`)
	if r := call(t, app, "GET", "/api/v1/settings/followup", admin, ""); r.body != `{"monthly_months":6,"then_every_months":3,"years":3,"remind_days_before":7}` {
		t.Errorf("the refused change was stored: %s", r.body)
	}

	// The end of the follow-up closes the case and cancels the rest.
	r = call(t, app, "POST", base+"/followup/close", worker, `{"reason":""}`)
	wantError(t, r, 422, `{"error":{"code":"invalid","message":"some fields are not valid","fields":{"reason":"required"}}}`)
	r = call(t, app, "POST", base+"/followup/close", worker, `{"reason":"Three years of follow-up completed."}`)
	if r.status != 200 || !strings.Contains(r.body, `"stage":"closed"`) || !strings.Contains(r.body, `"end_reason":"closed"`) {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r = call(t, app, "GET", base+"/visits", worker, "")
	if n := strings.Count(r.body, `"status":"cancelled"`); n != 15 || strings.Count(r.body, `"status":"done"`) != 1 {
		t.Errorf("after closing: %d cancelled: %.300s", n, r.body)
	}
	r = call(t, app, "POST", visit+"/missed", worker, `{"notes":"late"}`)
	if r.status != 409 {
		t.Errorf("a visit of a closed follow-up: %d %s", r.status, r.body)
	}
}
