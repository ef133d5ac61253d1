package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/handoffs"
)

// The handoff API (handoffs.go) between the demo organisations: the
// partner NGO in Thailand hands a survivor over to AFESIP Laos under
// their demo partnership, each side signed in with its own provider.

// handoffWorld is the demo organisations of a handoff test: the sender in
// Thailand, the receiver in Laos, and the Malaysian partner that is
// neither; the server; and the handoff partnership Thailand → Laos.
type handoffWorld struct {
	app             *fiber.App
	th, laos, my    *testOrg
	partnershipTH   string // demo-partner-th → afesip-laos
	partnershipMY   string // demo-partner-my → afesip-laos
	thCM, laosCM    string // the case managers' JWTs
	thCM2           string // a second case manager of the sender
	myCM            string
	thCounsellor    string
	laosSocialWork  string
	laosCounsellor  string
	thSocialWorker  string
	thSocialWorkerM string // its membership id
}

// demoOrg is the demo organisation slug as an organisation of the tests.
func demoOrg(t *testing.T, s *tenants.Store, p *testProvider, slug string) *testOrg {
	t.Helper()
	tn, err := s.TenantBySlug(context.Background(), slug)
	if err != nil {
		t.Fatalf("demo organisation %s: %v", slug, err)
	}
	return adoptTestOrg(t, s, p, tn)
}

func newHandoffWorld(t *testing.T) *handoffWorld {
	t.Helper()
	s := storeForTest(t)
	ctx := context.Background()
	if _, err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := handoffs.New(s).SeedDemoPartnerships(ctx); err != nil {
		t.Fatal(err)
	}
	w := &handoffWorld{th: demoOrg(t, s, newTestProvider(t, 0), "demo-partner-th"),
		laos: demoOrg(t, s, newTestProvider(t, 1), "afesip-laos"), my: demoOrg(t, s, newTestProvider(t, 2), "demo-partner-my")}
	w.app, _ = newTestServer(t, Deps{Database: s, Store: s, Sessions: anonymous, RateLimit: 1 << 30, Documents: matrixDocuments}, nil)
	w.thCM, w.laosCM, w.myCM = w.th.jwt[tenants.RoleCaseManager], w.laos.jwt[tenants.RoleCaseManager], w.my.jwt[tenants.RoleCaseManager]
	w.th.signIn(t, s, w.th.subject("cm2"), tenants.RoleCaseManager)
	w.thCM2 = w.th.bearer(t, w.th.subject("cm2"), tenants.RoleCaseManager)
	w.thCounsellor, w.thSocialWorker = w.th.jwt[tenants.RoleCounsellor], w.th.jwt[tenants.RoleSocialWorker]
	w.thSocialWorkerM = w.th.members[tenants.RoleSocialWorker].String()
	w.laosSocialWork, w.laosCounsellor = w.laos.jwt[tenants.RoleSocialWorker], w.laos.jwt[tenants.RoleCounsellor]
	w.partnershipTH = w.partnership(t, w.thCM, "demo-partner-th")
	w.partnershipMY = w.partnership(t, w.myCM, "demo-partner-my")
	return w
}

// partnership is the active handoff partnership from → afesip-laos, as
// the sender's case manager lists it (GET /api/v1/partnerships).
func (w *handoffWorld) partnership(t *testing.T, caller, from string) string {
	t.Helper()
	r := call(t, w.app, "GET", "/api/v1/partnerships", caller, "")
	if r.status != 200 {
		t.Fatalf("GET /api/v1/partnerships: %d %s", r.status, r.body)
	}
	var list struct {
		Items []struct {
			ID, Purpose, State string
			From, To           struct{ Slug string }
		}
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Purpose == handoffs.PurposeHandoffs && p.State == handoffs.PartnershipActive && p.From.Slug == from && p.To.Slug == "afesip-laos" {
			return p.ID
		}
	}
	t.Fatalf("no active handoff partnership %s → afesip-laos in %s", from, r.body)
	return ""
}

// sharingConsent is a new case's standing sharing consent.
const sharingConsent = `"consent":[{"purpose":"sharing","given_by":"girl","given_on":"2024-01-10","basis":"signed_form"}]`

// want checks a response's status, returning its body as a map.
func want(t *testing.T, r response, status int, what string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.body)
	}
	if strings.HasPrefix(r.body, "{") {
		return decode(t, r.body)
	}
	return nil
}

// stage records a stage as caller; the answer must be status.
func (w *handoffWorld) stage(t *testing.T, caller, id, body string, status int) map[string]any {
	t.Helper()
	return want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/stages", caller, body), status, "stage "+body)
}

// start sends the case with the fields, as caller.
func (w *handoffWorld) start(t *testing.T, caller, caseID, fields string) map[string]any {
	t.Helper()
	body := fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":%s,"note":"First interview done at the shelter"}`,
		w.partnershipTH, caseID, fields)
	return want(t, call(t, w.app, "POST", "/api/v1/handoffs", caller, body), 201, "start")
}

// thCase opens a case at the sender with the sharing consent (or none).
func (w *handoffWorld) thCase(t *testing.T, values string, consent bool) string {
	t.Helper()
	body := `{"prs_FirstName":"Noy","prs_Birthdate":"2009-04-02","prs_Gender":"Feminine"` + values
	if consent {
		body += "," + sharingConsent
	}
	k := createCase(t, w.app, w.thCM, body+"}")
	return fmt.Sprint(k["id"])
}

// TestWholeHandoffThroughTheAPI: a survivor handed over from the partner in
// Thailand to AFESIP Laos through the API, every stage in order, the
// receiver's acceptance, transit and admission (the sender's case is then
// referred), the feedback and the thread. The receiver's answers never
// hold a value of a field the sender did not choose, nor of the
// psychological group; the Malaysian partner sees nothing of it.
func TestWholeHandoffThroughTheAPI(t *testing.T) {
	w := newHandoffWorld(t)
	canaries := map[string]string{"prs_SecondName": "canarysecond" + randomHex(4), "family_notes": "canaryfamily" + randomHex(4),
		"legal_notes": "canarylegal" + randomHex(4), "psychological_notes": "canarypsy" + randomHex(4)}
	caseID := w.thCase(t, fmt.Sprintf(`,"prs_SecondName":%q,"family_home_village":"Ban Nong Bua","family_notes":%q`,
		canaries["prs_SecondName"], canaries["family_notes"]), true)
	// The groups only their own roles write: the counsellor's
	// psychological notes, the lawyer's legal notes (each assigned).
	want(t, call(t, w.app, "PUT", "/api/v1/cases/"+caseID+"/assignment", w.thCM,
		fmt.Sprintf(`{"cas_CaseOwner":null,"assigned_to":[%q,%q]}`, w.th.members[tenants.RoleCounsellor], w.th.members[tenants.RoleLawyer])),
		200, "assign")
	want(t, call(t, w.app, "PATCH", "/api/v1/cases/"+caseID, w.thCounsellor,
		fmt.Sprintf(`{"psychological_notes":%q}`, canaries["psychological_notes"])), 200, "psychological notes")
	want(t, call(t, w.app, "PATCH", "/api/v1/cases/"+caseID, w.th.jwt[tenants.RoleLawyer],
		fmt.Sprintf(`{"legal_notes":%q}`, canaries["legal_notes"])), 200, "legal notes")

	// What may travel: the identity and family fields yes; the
	// psychological group is never offered as sharable.
	r := call(t, w.app, "GET", "/api/v1/handoffs/sharable?partnership_id="+w.partnershipTH+"&case_id="+caseID, w.thCM, "")
	sh := want(t, r, 200, "sharable")
	if sh["basis"] != handoffs.BasisConsent {
		t.Errorf("sharable basis = %v, want consent", sh["basis"])
	}
	allowed := map[string]bool{}
	for _, f := range sh["fields"].([]any) {
		m := f.(map[string]any)
		allowed[m["field"].(string)] = m["allowed"].(bool)
	}
	if !allowed["prs_FirstName"] || !allowed["family_home_village"] || allowed["psychological_notes"] {
		t.Errorf("sharable fields: %v", allowed)
	}

	// Start: sent at once (the consent stands), stage 1 recorded.
	h := w.start(t, w.thCM, caseID, `["prs_FirstName","prs_Birthdate","family_home_village"]`)
	id := fmt.Sprint(h["id"])
	if h["state"] != handoffs.StateSent || h["side"] != handoffs.SideSender || h["stage"] != string(handoffs.StageIdentification) ||
		h["basis"] != handoffs.BasisConsent || h["case_id"] != caseID {
		t.Fatalf("started: %v", h)
	}
	var receiverSaw []string // every answer to the receiver
	asLaos := func(method, target, body string, status int) map[string]any {
		t.Helper()
		r := call(t, w.app, method, target, w.laosCM, body)
		receiverSaw = append(receiverSaw, r.body)
		return want(t, r, status, "Laos "+method+" "+target)
	}

	// The inbox: the receiver lists it, the Malaysian partner does not.
	inbox := asLaos("GET", "/api/v1/handoffs?box=incoming&state=sent", "", 200)
	if items := inbox["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id ||
		items[0].(map[string]any)["side"] != handoffs.SideReceiver {
		t.Fatalf("Laos's inbox: %v", inbox)
	}
	if r := call(t, w.app, "GET", "/api/v1/handoffs", w.myCM, ""); r.status != 200 || strings.Contains(r.body, id) {
		t.Errorf("the Malaysian partner's list holds the handoff: %d %s", r.status, r.body)
	}
	if r := call(t, w.app, "GET", "/api/v1/handoffs/"+id, w.myCM, ""); r.status != 404 {
		t.Errorf("the Malaysian partner reads the handoff: %d %s", r.status, r.body)
	}
	// The receiver sees exactly the fields chosen.
	got := asLaos("GET", "/api/v1/handoffs/"+id, "", 200)
	shared := got["shared"].(map[string]any)["values"].(map[string]any)
	if len(shared) != 3 || shared["prs_FirstName"] != "Noy" || shared["family_home_village"] != "Ban Nong Bua" {
		t.Errorf("the shared copy: %v", shared)
	}
	if got["case_id"] != nil || got["started_by"] != nil {
		t.Errorf("the receiver sees the sender's case or member: %v", got)
	}

	// The stages, in order, each by its owner.
	w.stage(t, w.thCM, id, `{"stage":"interview","action":"done","on":"2024-02-01","note":"With an interpreter"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"tracing_request","action":"done"}`, 200)
	asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"tracing_result","action":"done","note":"Family found in Savannakhet"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"travel_documents","action":"done"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"return_plan","action":"done"}`, 200)
	asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"return_plan","action":"confirm"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"handover","action":"done","note":"Friendship Bridge, 10:00"}`, 200)
	asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"handover","action":"confirm"}`, 200)
	asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"transit_centre","action":"done"}`, 200)
	// Admission needs the handoff accepted: refused, then accepted.
	asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"admission","action":"done"}`, 409)
	acc := asLaos("POST", "/api/v1/handoffs/"+id+"/accept", "", 200)
	laosCase, _ := acc["case_id"].(string)
	if acc["state"] != handoffs.StateAccepted || laosCase == "" || laosCase == caseID {
		t.Fatalf("accepted: %v", acc)
	}
	adm := asLaos("POST", "/api/v1/handoffs/"+id+"/stages", `{"stage":"admission","action":"done"}`, 200)
	if adm["stage"] != string(handoffs.StageAdmission) {
		t.Errorf("after admission: %v", adm)
	}
	// The receiver's case was made from the shared fields; the sender's
	// case is referred, and the sender never reads the receiver's.
	k := asLaos("GET", "/api/v1/cases/"+laosCase, "", 200)
	if k["prs_FirstName"] != "Noy" || k["stage"] != "intake" {
		t.Errorf("the receiver's case: %v", k)
	}
	if r := call(t, w.app, "GET", "/api/v1/cases/"+caseID, w.thCM, ""); !strings.Contains(r.body, `"stage":"referred"`) {
		t.Errorf("the sender's case after admission: %d %.300s", r.status, r.body)
	}
	if r := call(t, w.app, "GET", "/api/v1/cases/"+laosCase, w.thCM, ""); r.status != 404 {
		t.Errorf("the sender reads the receiver's case: %d", r.status)
	}

	// The timeline is the same on both sides; who recorded an entry is
	// named on its own side only.
	thView := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+id, w.thCM, ""), 200, "TH get")
	laosView := asLaos("GET", "/api/v1/handoffs/"+id, "", 200)
	thLine, laosLine := thView["timeline"].([]any), laosView["timeline"].([]any)
	if len(thLine) != 11 || len(laosLine) != 11 {
		t.Fatalf("timelines: %d and %d entries, want 11", len(thLine), len(laosLine))
	}
	for i := range thLine {
		a, b := thLine[i].(map[string]any), laosLine[i].(map[string]any)
		if a["stage"] != b["stage"] || a["action"] != b["action"] || a["by_side"] != b["by_side"] || a["on"] != b["on"] {
			t.Errorf("timeline entry %d differs: %v / %v", i, a, b)
		}
		if (a["by_side"] == handoffs.SideSender) != (a["recorded_by"] != nil) || (b["by_side"] == handoffs.SideReceiver) != (b["recorded_by"] != nil) {
			t.Errorf("timeline entry %d names the other side's member: %v / %v", i, a, b)
		}
	}
	if thLine[1].(map[string]any)["note"] != "With an interpreter" || laosLine[1].(map[string]any)["note"] != "With an interpreter" {
		t.Errorf("the interview's note: %v / %v", thLine[1], laosLine[1])
	}

	// Feedback, from the receiver only.
	if r := call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/feedback", w.thCM, `{"status":"in_shelter","follow_up_continues":true}`); r.status != 403 {
		t.Errorf("feedback by the sender: %d %s", r.status, r.body)
	}
	fb := asLaos("POST", "/api/v1/handoffs/"+id+"/feedback", `{"status":"in_shelter","follow_up_continues":true}`, 201)
	if fb["status"] != handoffs.FeedbackInShelter || fb["automatic"] != false {
		t.Errorf("feedback: %v", fb)
	}
	thFeedback := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+id+"/feedback", w.thCM, ""), 200, "TH feedback")
	if items := thFeedback["items"].([]any); len(items) != 1 || items[0].(map[string]any)["follow_up_continues"] != true {
		t.Errorf("the sender's feedback: %v", thFeedback)
	}

	// The thread: each side writes; each sees both messages, the author
	// only of its own.
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/messages", w.thCM, `{"text":"Her travel bag stays with the escort"}`), 201, "TH message")
	asLaos("POST", "/api/v1/handoffs/"+id+"/messages", `{"text":"Received, thank you"}`, 201)
	thread := asLaos("GET", "/api/v1/handoffs/"+id+"/messages", "", 200)
	msgs := thread["items"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "Her travel bag stays with the escort" ||
		msgs[0].(map[string]any)["author_id"] != nil || msgs[1].(map[string]any)["author_id"] == nil {
		t.Errorf("the receiver's thread: %v", thread)
	}

	// The dashboard counts it on both sides.
	d := asLaos("GET", "/api/v1/handoffs/dashboard", "", 200)
	if d["by_state"].(map[string]any)[handoffs.StateAccepted] != float64(1) {
		t.Errorf("dashboard: %v", d)
	}

	// No answer to the receiver holds a value the sender did not choose
	// (control: the sender's own case holds them all).
	thCaseBody := call(t, w.app, "GET", "/api/v1/cases/"+caseID, w.thCM, "").body
	for field, canary := range canaries {
		if field != "psychological_notes" && field != "legal_notes" && !strings.Contains(thCaseBody, canary) {
			t.Errorf("control: the sender's case does not hold its %s", field)
		}
		for i, body := range receiverSaw {
			if strings.Contains(body, canary) {
				t.Errorf("answer %d to the receiver holds the sender's %s, which was not chosen: %.300s", i, field, body)
			}
		}
	}
}

// TestHandoffRefusals: a change by the wrong side, out of order, a decline
// twice, a withdrawal after a decline, a suspended partnership and bad
// input answer 4xx naming what is wrong, each beside an allowed control,
// and leave both sides as they were.
func TestHandoffRefusals(t *testing.T) {
	w := newHandoffWorld(t)
	id := fmt.Sprint(w.start(t, w.thCM, w.thCase(t, "", true), `["prs_FirstName"]`)["id"])
	both := func(what string, state, stage string) {
		t.Helper()
		for _, caller := range []string{w.thCM, w.laosCM} {
			h := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+id, caller, ""), 200, what)
			if h["state"] != state || h["stage"] != stage {
				t.Errorf("%s: %s side is %v at %v, want %s at %s", what, h["side"], h["state"], h["stage"], state, stage)
			}
		}
	}

	// The wrong side: the receiver may not record the sender's stage, nor
	// the sender the receiver's (403); the owner may (control).
	w.stage(t, w.laosCM, id, `{"stage":"interview","action":"done"}`, 403)
	w.stage(t, w.thCM, id, `{"stage":"interview","action":"done"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"tracing_request","action":"done"}`, 200)
	w.stage(t, w.thCM, id, `{"stage":"tracing_result","action":"done"}`, 403)
	both("wrong side", handoffs.StateSent, string(handoffs.StageTracingRequest))
	// Out of order: travel documents before the tracing result (409
	// naming stage); a stage recorded twice; then in order (control).
	r := call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/stages", w.thCM, `{"stage":"travel_documents","action":"done"}`)
	if e := want(t, r, 409, "out of order"); !strings.Contains(r.body, `"stage"`) {
		t.Errorf("out of order names no stage: %v", e)
	}
	w.stage(t, w.thCM, id, `{"stage":"tracing_request","action":"done"}`, 409)
	w.stage(t, w.laosCM, id, `{"stage":"tracing_result","action":"done"}`, 200)
	both("in order", handoffs.StateSent, string(handoffs.StageTracingResult))
	// Going back needs a reason (422 naming it); with one it goes back.
	r = call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/stages", w.thCM, `{"stage":"tracing_request","action":"reopen"}`)
	if want(t, r, 422, "reopen without reason"); !strings.Contains(r.body, `"reason"`) {
		t.Errorf("reopen without reason names no reason: %s", r.body)
	}
	w.stage(t, w.thCM, id, `{"stage":"tracing_request","action":"reopen","reason":"The province asked again"}`, 200)
	both("reopened", handoffs.StateSent, string(handoffs.StageInterview))

	// Accepting is the receiver's: the sender 403, the receiver's social
	// worker and counsellor refused too (control: the receiver's case
	// manager declines below).
	if r := call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/accept", w.thCM, ""); r.status != 403 {
		t.Errorf("accept by the sender: %d %s", r.status, r.body)
	}
	if r := call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/accept", w.laosCounsellor, ""); r.status != 403 {
		t.Errorf("accept by the receiver's counsellor: %d %s", r.status, r.body)
	}
	// A decline needs a reason; then declined once, and not twice.
	r = call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/decline", w.laosCM, `{"reason":""}`)
	if want(t, r, 422, "decline without reason"); !strings.Contains(r.body, `"reason"`) {
		t.Errorf("decline without reason: %s", r.body)
	}
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/decline", w.laosCM, `{"reason":"We cannot receive her in this province"}`), 200, "decline")
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/decline", w.laosCM, `{"reason":"Again"}`), 409, "decline twice")
	// Withdrawing after the decline: 409; a sent one is withdrawn (control).
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/withdraw", w.thCM, `{"reason":"Too late"}`), 409, "withdraw after decline")
	both("declined", handoffs.StateDeclined, string(handoffs.StageInterview))
	declined := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+id, w.thCM, ""), 200, "declined")
	if declined["decline_reason"] != "We cannot receive her in this province" {
		t.Errorf("the sender's view of the decline: %v", declined)
	}
	other := fmt.Sprint(w.start(t, w.thCM, w.thCase(t, "", true), `["prs_FirstName"]`)["id"])
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+other+"/withdraw", w.laosCM, `{"reason":"Not ours"}`), 403, "withdraw by the receiver")
	wd := want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+other+"/withdraw", w.thCM, `{"reason":"She stays here"}`), 200, "withdraw")
	if wd["state"] != handoffs.StateWithdrawn {
		t.Errorf("withdrawn: %v", wd)
	}
	withdrawn := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+other, w.laosCM, ""), 200, "withdrawn, receiver")
	if withdrawn["state"] != handoffs.StateWithdrawn || withdrawn["shared"] != nil || len(withdrawn["fields"].([]any)) != 0 {
		t.Errorf("the receiver's view of a withdrawn handoff: %v", withdrawn)
	}
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+other+"/withdraw", w.thCM, `{"reason":"Twice"}`), 409, "withdraw twice")

	// Without the sharing consent: an override reason is required (422
	// naming it); the requester may not approve it, another case manager
	// may (control).
	noConsent := w.thCase(t, "", false)
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":["prs_FirstName"]}`, w.partnershipTH, noConsent))
	if want(t, r, 422, "no consent, no reason"); !strings.Contains(r.body, `"override_reason"`) {
		t.Errorf("no override reason named: %s", r.body)
	}
	ov := want(t, call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(
		`{"partnership_id":%q,"case_id":%q,"fields":["prs_FirstName"],"override_reason":"She is in danger in the shelter"}`,
		w.partnershipTH, noConsent)), 201, "override asked")
	ovID := fmt.Sprint(ov["id"])
	if ov["state"] != handoffs.StateAwaitingOverride {
		t.Fatalf("override: %v", ov)
	}
	if r := call(t, w.app, "GET", "/api/v1/handoffs/"+ovID, w.laosCM, ""); r.status != 404 {
		t.Errorf("the receiver sees a handoff waiting for the override: %d %s", r.status, r.body)
	}
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+ovID+"/override", w.thCM, `{"approve":true}`), 403, "approved by its requester")
	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+ovID+"/override", w.thCM2, `{}`), 422, "no decision")
	sent := want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+ovID+"/override", w.thCM2, `{"approve":true}`), 200, "approved")
	if sent["state"] != handoffs.StateSent || sent["basis"] != handoffs.BasisOverride {
		t.Errorf("approved: %v", sent)
	}
	want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+ovID, w.laosCM, ""), 200, "received after the approval")

	// The social worker starts from its own cases only.
	own := w.thCase(t, "", true)
	want(t, call(t, w.app, "PUT", "/api/v1/cases/"+own+"/assignment", w.thCM,
		fmt.Sprintf(`{"cas_CaseOwner":null,"assigned_to":[%q]}`, w.thSocialWorkerM)), 200, "assign")
	notOwn := w.thCase(t, "", true)
	body := func(caseID string) string {
		return fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":["prs_FirstName"]}`, w.partnershipTH, caseID)
	}
	if r := call(t, w.app, "POST", "/api/v1/handoffs", w.thSocialWorker, body(notOwn)); r.status != 404 && r.status != 403 {
		t.Errorf("a social worker hands over a case not its own: %d %s", r.status, r.body)
	}
	want(t, call(t, w.app, "POST", "/api/v1/handoffs", w.thSocialWorker, body(own)), 201, "a social worker's own case")

	// Bad input: an unknown key 422 naming it (as every JSON body of the
	// API: decode.go), an intake key that is no field of a case 400 naming
	// it (as a new case's body: cases.go), neither case nor intake 422 naming
	// case_id, sharable without its parameters 422 naming them.
	caseID := w.thCase(t, "", true)
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":["prs_FirstName"],"colour":"red"}`, w.partnershipTH, caseID))
	if r.status != 422 || !strings.Contains(r.body, `"colour":"unknown field"`) {
		t.Errorf("unknown key: %d %s", r.status, r.body)
	}
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(`{"partnership_id":%q,"intake":{"values":{"prs_FirstName":"Noy","shoe_size":38}},"fields":["prs_FirstName"]}`, w.partnershipTH))
	if r.status != 400 || !strings.Contains(r.body, `"intake.values.shoe_size"`) {
		t.Errorf("intake key: %d %s", r.status, r.body)
	}
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(`{"partnership_id":%q,"fields":["prs_FirstName"]}`, w.partnershipTH))
	if r.status != 422 || !strings.Contains(r.body, `"case_id"`) {
		t.Errorf("neither case nor intake: %d %s", r.status, r.body)
	}
	r = call(t, w.app, "GET", "/api/v1/handoffs/sharable", w.thCM, "")
	if r.status != 422 || !strings.Contains(r.body, `"partnership_id"`) || !strings.Contains(r.body, `"case_id"`) {
		t.Errorf("sharable without parameters: %d %s", r.status, r.body)
	}
	if r := call(t, w.app, "GET", "/api/v1/handoffs/sharable", w.thCounsellor, ""); r.status != 403 {
		t.Errorf("sharable as a counsellor: %d %s", r.status, r.body)
	}
	r = call(t, w.app, "GET", "/api/v1/handoffs?box=sideways", w.thCM, "")
	if r.status != 422 || !strings.Contains(r.body, `"box"`) {
		t.Errorf("a bad box: %d %s", r.status, r.body)
	}
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":["psychological_notes"]}`, w.partnershipTH, caseID))
	if r.status != 422 || !strings.Contains(r.body, `"fields"`) {
		t.Errorf("a psychological field chosen: %d %s", r.status, r.body)
	}

	// The short intake, under an active partnership: one transaction, the
	// case and the handoff (control for the suspension below).
	intake := fmt.Sprintf(`{"partnership_id":%q,"intake":{"values":{"prs_FirstName":"Dao","prs_Birthdate":"2010-01-02","prs_Gender":"Feminine"},`+
		`"consents":[{"purpose":"sharing","given_by":"girl","given_on":"2024-03-01","basis":"recorded_verbal"}]},"fields":["prs_FirstName"]}`, w.partnershipTH)
	in := want(t, call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, intake), 201, "intake")
	if in["state"] != handoffs.StateSent || in["case_id"] == nil {
		t.Errorf("intake: %v", in)
	}
	// A suspended partnership takes no new handoff (409 naming it).
	want(t, call(t, w.app, "POST", "/api/v1/partnerships/"+w.partnershipTH+"/suspend", w.th.jwt[tenants.RoleTenantAdmin],
		`{"reason":"Agreement under review"}`), 200, "suspend")
	r = call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, intake)
	if r.status != 409 || !strings.Contains(r.body, `"partnership_id"`) {
		t.Errorf("under a suspended partnership: %d %s", r.status, r.body)
	}
	// The Malaysian partner sees none of Thailand's handoffs.
	list := want(t, call(t, w.app, "GET", "/api/v1/handoffs", w.myCM, ""), 200, "MY list")
	if n := len(list["items"].([]any)); n != 0 {
		t.Errorf("the Malaysian partner lists %d handoffs", n)
	}
	for _, h := range []string{id, other, ovID} {
		if r := call(t, w.app, "GET", "/api/v1/handoffs/"+h, w.myCM, ""); r.status != 404 {
			t.Errorf("the Malaysian partner reads %s: %d", h, r.status)
		}
	}
}
