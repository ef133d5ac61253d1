package pages_test

import (
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/kits"
)

// The starter kit page against the real kit service on the settings
// pages' world (SQLite): organisation a's members, each signed in with one
// role, and a case assigned to its social worker.

var kitAction = regexp.MustCompile(`action="(/cases/kits/[0-9a-f-]{36})/reject"`)

// kitWorld is the world with the kit service, a case, and a second case
// manager of organisation a.
func kitWorld(t *testing.T) (*world, string, *tenants.Principal) {
	t.Helper()
	w := newWorld(t)
	w.deps.Kits = kits.New(w.s)
	id := w.newCase(t, "Kit")
	cm2 := w.signIn(t, w.a, "a.case_manager2", "g-case_manager")
	cm2.SessionID, cm2.CSRFToken = "sess-a-cm2", "csrf-a-cm2"
	return w, "/cases/" + id.String() + "/kit", cm2
}

// sewingKitForm is p's request of a sewing machine in kip and two chairs
// in dollars in rows 1 and 4 (the rows between left blank), at 21 700 kip
// to the dollar: USD 300.00 + USD 91.00; kv change fields.
func sewingKitForm(p *tenants.Principal, kv ...string) url.Values {
	f := form(p, "business_plan", "Tailoring from her home",
		"item_0_description", "Sewing machine", "item_0_quantity", "1", "item_0_cost", "6510000", "item_0_currency", "LAK",
		"item_3_description", "Chair", "item_3_quantity", "2", "item_3_cost", "45,50", "item_3_currency", "USD",
		"rate_LAK", "21700", "rate_THB", "")
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func todayISO() string { return time.Now().UTC().Format(time.DateOnly) }

// TestKitPageFromRequestToHandover: the social worker requests a kit with
// the form (blank rows ignored, the kip converted at the rate typed); the
// requester may not approve (403, said on the page, nothing changed),
// another case manager does; then the disbursement and the hand-over.
func TestKitPageFromRequestToHandover(t *testing.T) {
	w, path, cm2 := kitWorld(t)
	sw, cm := w.a.members[tenants.RoleSocialWorker], w.a.members[tenants.RoleCaseManager]

	r := get(t, w.as(t, sw), path)
	wantStatus(t, "the social worker's kit page", r, 200)
	mustContain(t, r, "No kit has been requested for this case yet.", `id="kit-limit">$500.00<`, `name="item_7_description"`,
		`id="kit-rate-LAK"`)
	mustNotContain(t, r, `name="item_8_description"`)

	r = post(t, w.as(t, cm), path, sewingKitForm(cm))
	wantRedirect(t, "the case manager's request", r, path)
	if flashOf(r) != "kits.flash_requested" {
		t.Errorf("flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, cm), path)
	mustContain(t, r, "Waiting for approval", `$391.00`, "Sewing machine", "1 × ₭6,510,000 = $300.00", "2 × $45.50 = $91.00",
		"1 US dollar = 21700 LAK, entered by You on ", "You made this request: another person approves it.")
	mustNotContain(t, r, `/approve"`) // the requester has no approve button
	m := kitAction.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no decision form: %s", r.body)
	}
	kit := m[1]

	// The requester approving: refused, said on the page; nothing changed.
	r = post(t, w.as(t, cm), kit+"/approve", form(cm, "confirm", "yes"))
	wantStatus(t, "the requester approving", r, 403)
	mustContain(t, r, "Another person must approve this request: not the one who made it, and never an API token.", "Waiting for approval")
	wantStatus(t, "the social worker approving", post(t, w.as(t, sw), kit+"/approve", form(sw, "confirm", "yes")), 403)
	r = post(t, w.as(t, cm2), kit+"/approve", form(cm2))
	wantStatus(t, "approving without the box", r, 422)
	mustContain(t, r, "Tick the box to confirm.")
	r = post(t, w.as(t, cm2), kit+"/approve", form(cm2, "confirm", "yes"))
	if r.status != 303 || flashOf(r) != "kits.flash_approved" {
		t.Fatalf("the second case manager approves: %d %q %s", r.status, flashOf(r), r.body)
	}

	// The disbursement: the form offers what was planned; a bad amount
	// comes back beside its field.
	r = get(t, w.as(t, sw), path)
	mustContain(t, r, "Approved", `name="spent_0" value="6510000"`, `name="spent_1" value="91.00"`)
	r = post(t, w.as(t, sw), kit+"/disburse", form(sw, "disbursed_on", "2026-01-01", "spent_0", "6400000", "spent_1", "88,x"))
	wantStatus(t, "a bad amount spent", r, 422)
	mustContain(t, r, `value="88,x"`, "What it cost, in its currency")
	r = post(t, w.as(t, sw), kit+"/disburse", form(sw, "disbursed_on", todayISO(), "spent_0", "6400000", "spent_1", "88"))
	if r.status != 303 || flashOf(r) != "kits.flash_disbursed" {
		t.Fatalf("disbursed: %d %s", r.status, r.body)
	}
	r = post(t, w.as(t, sw), kit+"/handover", form(sw, "handed_over_on", todayISO(), "place", "", "received", "yes"))
	wantStatus(t, "a hand-over without a place", r, 422)
	mustContain(t, r, "Say where the kit was handed over.")
	r = post(t, w.as(t, sw), kit+"/handover", form(sw, "handed_over_on", todayISO(), "place", "Her home in Ban Nong", "received", "yes"))
	if r.status != 303 || flashOf(r) != "kits.flash_handed_over" {
		t.Fatalf("handed over: %d %s", r.status, r.body)
	}
	r = get(t, w.as(t, sw), path)
	mustContain(t, r, "Handed over", "$382.93", "Her home in Ban Nong", "She confirmed she received the kit</dt><dd>Yes")
	mustNotContain(t, r, `/disburse"`, `/handover"`, `/approve"`)
}

// TestKitPageOverTheLimit: a total over the limit draws the form again
// (422) naming the total and the limit, with what was typed; nothing is
// stored.
func TestKitPageOverTheLimit(t *testing.T) {
	w, path, _ := kitWorld(t)
	sw := w.a.members[tenants.RoleSocialWorker]
	r := post(t, w.as(t, sw), path, sewingKitForm(sw, "item_3_quantity", "5")) // 300 + 5 × 45.50
	wantStatus(t, "over the limit", r, 422)
	mustContain(t, r, "The total, $527.50, is over the organisation&#39;s limit of $500.00. Nothing was stored",
		`>Tailoring from her home</textarea>`, `name="item_3_quantity" value="5"`)
	mustContain(t, get(t, w.as(t, sw), path), "No kit has been requested for this case yet.")

	// A kip item without the day's rate: the reason beside the rate.
	r = post(t, w.as(t, sw), path, sewingKitForm(sw, "rate_LAK", ""))
	wantStatus(t, "without the rate", r, 422)
	mustContain(t, r, `id="kit-rate-LAK-error"`)
	// Control: the same form under the limit is taken.
	wantRedirect(t, "under the limit", post(t, w.as(t, sw), path, sewingKitForm(sw)), path)

	// The organisation lowers its limit below the waiting request: it is
	// not approved, and the page says why.
	if _, err := kits.New(w.s).SetLimit(ctxOf(w.a.members[tenants.RoleTenantAdmin]), 300_00); err != nil {
		t.Fatal(err)
	}
	cm := w.a.members[tenants.RoleCaseManager]
	m := kitAction.FindStringSubmatch(get(t, w.as(t, cm), path).body)
	if m == nil {
		t.Fatal("no decision form")
	}
	r = post(t, w.as(t, cm), m[1]+"/approve", form(cm, "confirm", "yes"))
	wantStatus(t, "approving over the lowered limit", r, 409)
	mustContain(t, r, "limit was lowered below this request", `id="kit-limit">$300.00<`, "Waiting for approval")
}

// TestKitPageByRole: roles without the kit part get 403, another
// organisation's case manager 404, anyone not signed in is sent to sign in.
func TestKitPageByRole(t *testing.T) {
	w, path, _ := kitWorld(t)
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), path), "/login?next=%2Fcases%2F"+path[len("/cases/"):len(path)-len("/kit")]+"%2Fkit")
	for _, role := range []tenants.Role{tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleTenantAdmin, tenants.RoleAuditor} {
		wantStatus(t, string(role), get(t, w.as(t, w.a.members[role]), path), 403)
	}
	wantStatus(t, "another organisation's case manager", get(t, w.as(t, w.b.members[tenants.RoleCaseManager]), path), 404)
	wantStatus(t, "control: the case manager", get(t, w.as(t, w.a.members[tenants.RoleCaseManager]), path), 200)
	counsellor := w.a.members[tenants.RoleCounsellor]
	wantStatus(t, "the counsellor's request", post(t, w.as(t, counsellor), path, sewingKitForm(counsellor)), 403)
}
