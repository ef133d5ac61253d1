package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/web/static"
)

// The authorization matrix: every route of the server × every caller (no
// one, and a member holding each role; the platform operator) × the record
// it names (in the caller's own organisation, in another, or none at all)
// gives the status written below BY HAND from docs/permissions.md, never
// taken from what the code answers. A route the server has and the matrix
// lacks fails the test, and so does a row for a route that no longer
// exists.
//
// To add a route: add one row. Columns, in order:
//
//	anonymous, tenant_admin, case_manager, social_worker, counsellor,
//	medical_officer, lawyer, outreach_worker, village_volunteer,
//	finance_officer, auditor, platform_operator
//
// own, other and unknown each list 12 statuses in that order. A route with
// :id names a record of kind (see matrixTarget): own is the caller's
// organisation's, other another organisation's, unknown a random id.
// Without :id only own is given. A body is JSON, or a page's form. In body,
// {idp} stands for the caller's organisation's identity-provider settings
// ({idpform}: the same as the settings page's form), {expires} a time a
// month away, {assigned} the ids of the members the own case is assigned
// to ({assignedform}: the same as the case page's assignment form),
// {case} the own case's id.
//
// The kinds: "member" and "token" (the organisation's target member and
// API token); "case", a case owned by no one and assigned to the
// organisation's social worker, counsellor, medical officer and lawyer, so
// that their "own" rights answer 200 on it (the case manager reads every
// case), with the organisation's canary in every field group and comments,
// and standing sharing (the export) and family_tracing consents; "fresh
// case", the same without the canary, made anew for each own call (a
// withdrawal closes its consent); "erasure", an open erasure request of
// another case, asked by a case manager who is none of the callers (so
// that the approvers are a second person), made anew for each own call
// (approving or cancelling closes it); "document", a medical document
// of the case (its name and content the canary), added by the medical
// officer; "fresh document", the same made anew for each own call (a
// deletion removes it); "shelter", the organisation's roomy shelter
// (shelters_test.go: orgShelters); "admissible case", a fresh case with
// both acceptances and the services consent, "placed case" the same placed
// in the roomy shelter, "waiting case" the same on the full shelter's
// waiting list, each made anew for each own call ({shelter} and
// {shelter_b} in a body: the roomy and the other shelter, both with
// beds); "kit", a kit request waiting on the case, asked by a case manager
// who is none of the callers (so that the approvers are a second person),
// the canary in its plan; "fresh kit", "approved kit" and "disbursed
// kit", the same made anew for each own call and taken to that step
// (kits_test.go: orgKits); "assessed case", the case once its care
// records exist (its initial assessment, so that sessions may follow),
// "care entry" its medical visit, "support plan" its plan, "activity" an
// activity it attended, the canary in each (care_test.go: orgCare). Every
// other call on a case runs on
// the same records, in row order: a row's body must stay valid when
// repeated, and leave the case as the rows after it need it (the
// assignment row assigns the same members).
//
// The requests are made with real credentials on PostgreSQL as the app
// role: each member is signed in through tenants.SignIn and calls with a
// JWT from the organisation's own provider; the platform operator with a
// platform API token. Two organisations, A and B, each run the whole
// matrix; every answer to one is searched for the other's canary, a random
// string inside all its member data, settings and token names.
type matrixRow struct {
	route   string // "METHOD /path" as fiber lists it
	kind    string // what :id names: "member", "token", "case", "fresh case", "erasure", "document" or "fresh document"
	query   string // the query string, placeholders as in body
	body    string
	own     string
	other   string
	unknown string
}

var authzMatrix = []matrixRow{
	// Probes, the document, demo pages: public.
	{route: "GET /healthz", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /readyz", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /api/v1/openapi.yaml", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /demo/mailbox", own: "200 200 200 200 200 200 200 200 200 200 200 200"},

	// The pages (web/pages, the real ones: pages_matrix_test.go builds
	// them). Anyone may see the dashboard or welcome page, the neutral page,
	// the assets, and choose a language. The settings pages answer as their
	// API: members, role overrides, API tokens, identity provider:
	// tenant_admin RW, auditor R, the others 403 (an error page), another
	// organisation's record 404; anyone not signed in is sent to sign in
	// (303), a form's work done is 303 back to its page (a new API token:
	// 200, the page that shows it once). The platform operator acts for no
	// organisation here: 403.
	{route: "GET /", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /leave", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "POST /language", body: "lang=lo&next=/", own: "303 303 303 303 303 303 303 303 303 303 303 303"},
	// The member's own page and its contact address form: every member,
	// its own; the platform operator has no membership (403).
	{route: "GET /me", own: "303 200 200 200 200 200 200 200 200 200 200 403"},
	{route: "POST /me/contact", body: "address=&language=en", own: "303 303 303 303 303 303 303 303 303 303 303 403"},
	{route: "GET /static/:file", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /settings/members", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "GET /settings/members/:id", kind: "member",
		own:     "303 200 403 403 403 403 403 403 403 403 200 403",
		other:   "303 404 403 403 403 403 403 403 403 403 404 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 404 403"},
	{route: "POST /settings/members/:id/roles", kind: "member", body: "role_counsellor=add",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /settings/members/:id/disable", kind: "member", body: "confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /settings/members/:id/enable", kind: "member",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /settings/api-tokens", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /settings/api-tokens", body: "name=matrix&role=auditor&expires_days=30",
		own: "303 200 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /settings/api-tokens/:id/revoke", kind: "token", body: "confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /settings/identity-provider", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /settings/identity-provider", body: "{idpform}", own: "303 303 403 403 403 403 403 403 403 403 403 403"},
	// The case files' retention rule: organisation settings, as its API.
	{route: "GET /settings/retention", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /settings/retention", body: "years=10", own: "303 303 403 403 403 403 403 403 403 403 403 403"},
	// The starter kit's limit and the follow-up schedule: organisation
	// settings, as their API.
	{route: "GET /settings/kit-limit", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /settings/kit-limit", body: "usd=500", own: "303 303 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /settings/followup", own: "303 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /settings/followup", body: "monthly_months=6&then_every_months=3&years=3&remind_days_before=7",
		own: "303 303 403 403 403 403 403 403 403 403 403 403"},

	// The case pages (web/pages/cases.go) answer as the case API, from
	// docs/permissions.md "Case files and the survivor's path", with a
	// page's statuses: not signed in, 303 to sign in; a role without the
	// feature, 403; a case it may not see, 404; a form done, 303. The list
	// is also the outreach worker's page (intake W, then nothing listed);
	// a case's page opens for any role that reads some part of it.
	{route: "GET /cases", own: "303 403 200 200 200 200 200 200 403 403 403 403"},
	{route: "GET /cases/new", own: "303 403 200 200 403 403 403 200 403 403 403 403"},
	{route: "POST /cases", body: "prs_FirstName=Matrix&prs_Birthdate=2008-03-01&prs_Gender=Feminine",
		own: "303 403 303 303 403 403 403 303 403 403 403 403"},
	{route: "GET /cases/:id", kind: "case",
		own:     "303 403 200 200 200 200 200 403 403 403 403 403",
		other:   "303 403 404 404 404 404 404 403 403 403 403 403",
		unknown: "303 403 404 404 404 404 404 403 403 403 403 403"},
	// The identity group (:group): case_manager RW, social_worker RW own;
	// the other readers may not write it.
	{route: "POST /cases/:id/groups/:group", kind: "case", body: "prs_SecondName=Matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// The core: case_manager RW, social_worker RW own. A move is made once
	// per case: each own call moves a new one.
	{route: "POST /cases/:id/stage", kind: "fresh case", body: "stage=referred",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// A case manager assigns (case.assign), the same members each time.
	{route: "POST /cases/:id/assignment", kind: "case", body: "{assignedform}",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/comments", kind: "case", body: "text=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/consent", kind: "case", body: "purpose=services&given_by=girl&given_on=2024-01-15&basis=signed_form",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/consent/:purpose/withdraw", kind: "fresh case", body: "reason=matrix&confirm=yes",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// Erasure: case_manager requests (one request per case: a new case
	// each own call); tenant_admin and case_manager approve or cancel (a
	// second person: another case manager asked).
	{route: "POST /cases/:id/erasure", kind: "fresh case", body: "reason=created_in_error&confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "GET /cases/erasures", own: "303 200 200 403 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/erasures/:id/approve", kind: "erasure", body: "confirm=yes",
		own:     "303 303 303 403 403 403 403 403 403 403 403 403",
		other:   "303 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/erasures/:id/cancel", kind: "erasure", body: "confirm=yes",
		own:     "303 303 303 403 403 403 403 403 403 403 403 403",
		other:   "303 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 404 403 403 403 403 403 403 403 403 403"},
	// A case's audit trail: the audit log's readers, tenant_admin and
	// auditor.
	{route: "GET /cases/:id/audit", kind: "case",
		own:     "303 200 403 403 403 403 403 403 403 403 200 403",
		other:   "303 404 403 403 403 403 403 403 403 403 404 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 404 403"},
	// A case's services, one page per part (web/pages/care.go), from
	// docs/permissions.md: psychological RW own for counsellor; medical R
	// own for counsellor, RW own for medical_officer; legal R for
	// case_manager, RW own for lawyer; the support part (education,
	// training, support plan, activities) RW for case_manager, RW own for
	// social_worker, R own for counsellor. A role whose part reaches no
	// case is refused (403) before any case is read; a case the caller
	// may not see is 404. A form done is 303 (the session: after the
	// assessment; a new activity the case attended).
	{route: "GET /cases/:id/psychological", kind: "case",
		own:     "303 403 403 403 200 403 403 403 403 403 403 403",
		other:   "303 403 403 403 404 403 403 403 403 403 403 403",
		unknown: "303 403 403 403 404 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/psychological", kind: "assessed case", body: "kind=session&date=2024-02-01&duration_minutes=50&notes=matrix",
		own:     "303 403 403 403 303 403 403 403 403 403 403 403",
		other:   "303 403 403 403 404 403 403 403 403 403 403 403",
		unknown: "303 403 403 403 404 403 403 403 403 403 403 403"},
	{route: "GET /cases/:id/medical", kind: "case",
		own:     "303 403 403 403 200 200 403 403 403 403 403 403",
		other:   "303 403 403 403 404 404 403 403 403 403 403 403",
		unknown: "303 403 403 403 404 404 403 403 403 403 403 403"},
	{route: "POST /cases/:id/medical", kind: "case", body: "kind=visit&date=2024-02-01&place=in_house&notes=matrix",
		own:     "303 403 403 403 403 303 403 403 403 403 403 403",
		other:   "303 403 403 403 403 404 403 403 403 403 403 403",
		unknown: "303 403 403 403 403 404 403 403 403 403 403 403"},
	{route: "GET /cases/:id/legal", kind: "case",
		own:     "303 403 200 403 403 403 200 403 403 403 403 403",
		other:   "303 403 404 403 403 403 404 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 404 403 403 403 403 403"},
	{route: "POST /cases/:id/legal", kind: "case", body: "kind=lawyer&date=2024-02-01&name=matrix&affiliation=lao_bar_association",
		own:     "303 403 403 403 403 403 303 403 403 403 403 403",
		other:   "303 403 403 403 403 403 404 403 403 403 403 403",
		unknown: "303 403 403 403 403 403 404 403 403 403 403 403"},
	{route: "GET /cases/:id/support", kind: "assessed case",
		own:     "303 403 200 200 200 403 403 403 403 403 403 403",
		other:   "303 403 404 404 404 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 404 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/support", kind: "case", body: "form=activity&type=yoga&date=2024-02-01&topic=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// A case's documents, by the document's part: the page opens for the
	// roles that read some part of the case; the form adds to the support
	// part, which case_manager writes and social_worker writes on its own
	// cases; the other readers write other parts, not this one (403).
	{route: "GET /cases/:id/documents", kind: "case",
		own:     "303 403 200 200 200 200 200 403 403 403 403 403",
		other:   "303 403 404 404 404 404 404 403 403 403 403 403",
		unknown: "303 403 404 404 404 404 404 403 403 403 403 403"},
	{route: "POST /cases/:id/documents", kind: "case", body: "{document:support}",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 404 404 404 403 403 403 403 403",
		unknown: "303 403 404 404 404 404 404 403 403 403 403 403"},

	// The shelters' pages (web/pages/shelters.go) answer as their API:
	// shelters R for tenant_admin, case_manager, social_worker,
	// counsellor, medical_officer, W for tenant_admin and case_manager;
	// another organisation's shelter 404. A case's admission page opens
	// for its core's readers; its forms are the core's writers'
	// (case_manager RW, social_worker RW own); the others 403, a case the
	// caller may not see 404.
	{route: "GET /shelters", own: "303 200 200 200 200 200 403 403 403 403 403 403"},
	{route: "POST /shelters", body: "name=Matrix+shelter&province=Vientiane&district=Chanthabouly&capacity=20&active=yes",
		own: "303 303 303 403 403 403 403 403 403 403 403 403"},
	{route: "POST /shelters/:id", kind: "shelter", body: "name=Roomy+shelter&province=Vientiane&district=Chanthabouly&capacity=500&active=yes",
		own:     "303 303 303 403 403 403 403 403 403 403 403 403",
		other:   "303 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 404 403 403 403 403 403 403 403 403 403"},
	{route: "GET /cases/:id/admission", kind: "case",
		own:     "303 403 200 200 200 200 200 403 403 403 403 403",
		other:   "303 403 404 404 404 404 404 403 403 403 403 403",
		unknown: "303 403 404 404 404 404 404 403 403 403 403 403"},
	{route: "POST /cases/:id/admission/acceptances", kind: "fresh case", body: "accepted_by=girl&accepted_on=2024-01-15",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/admission/admit", kind: "admissible case", body: "shelter_id={shelter}&referral_source=police&admitted_on=2024-02-01",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/admission/waiting/cancel", kind: "waiting case", body: "confirm=yes",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/admission/transfer", kind: "placed case", body: "shelter_id={shelter_b}&transferred_on=2024-03-01",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/admission/discharge", kind: "placed case", body: "discharged_on=2024-03-01&reason=reintegrated",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// The starter kit's page answers as its API: the case's kit part,
	// case_manager W / A, social_worker W own; a role without the part
	// 403, a case or kit the caller may not see 404. Approving and
	// rejecting: kit.approve (case_manager), a second person.
	{route: "GET /cases/:id/kit", kind: "case",
		own:     "303 403 200 200 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/kit", kind: "case", body: "business_plan=Matrix&item_0_description=Chair&item_0_quantity=2&item_0_cost=45.50&item_0_currency=USD",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/kits/:id/approve", kind: "fresh kit", body: "confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/kits/:id/reject", kind: "fresh kit", body: "reason=matrix&confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/kits/:id/disburse", kind: "approved kit", body: "disbursed_on=2024-06-01&spent_0=6400000&spent_1=88",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/kits/:id/handover", kind: "disbursed kit", body: "handed_over_on=2024-06-02&place=Matrix&received=yes",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},

	// The follow-up pages (web/pages/followup.go) answer as their API, with
	// a page's statuses; roles that follow up no case get 403 before any
	// case is read (the assigned medical officer and lawyer too), a case the
	// member may not see 404. The reminder address is any follower's own.
	{route: "GET /cases/:id/followup", kind: "reintegrated case",
		own:     "303 403 200 200 200 403 403 403 403 403 403 403",
		other:   "303 403 404 404 404 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 404 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/followup/reintegration", kind: "shelter case",
		body:    "destination=family&date=2025-01-10&place=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /cases/:id/followup/close", kind: "closing case", body: "reason=matrix&confirm=yes",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "GET /followups", own: "303 403 200 200 200 403 403 403 403 403 403 403"},
	{route: "POST /followups/visits/:id", kind: "visit", body: "outcome=missed&notes=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},

	// The partnerships page (web/pages/partnerships.go) answers as its
	// API: the list for whoever may see some partnership (partnerships.read:
	// tenant_admin, case_manager; a handoff role: social_worker; a
	// statistics reader: outreach_worker, finance_officer, auditor); the
	// forms are partnerships.write's (tenant_admin), refused (403) before
	// any partnership is read; another organisation's partnership 404. The
	// kinds: partnerships_matrix_test.go.
	{route: "GET /partnerships", own: "303 200 200 200 403 403 403 200 403 200 200 403"},
	{route: "POST /partnerships", body: "partner={partner}&purpose=statistics&direction=outgoing&agreement_ref=matrix",
		own: "303 303 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /partnerships/:id/accept", kind: "proposed partnership", body: "confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /partnerships/:id/decline", kind: "proposed partnership", body: "reason=matrix&confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /partnerships/:id/suspend", kind: "fresh partnership", body: "reason=matrix&confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /partnerships/:id/resume", kind: "suspended partnership", body: "confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /partnerships/:id/end", kind: "fresh partnership", body: "reason=matrix&confirm=yes",
		own:     "303 303 403 403 403 403 403 403 403 403 403 403",
		other:   "303 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "303 404 403 403 403 403 403 403 403 403 403 403"},

	// The handoff pages (web/pages/handoffs.go) answer as their API, from
	// docs/permissions.md "Handoffs": case_manager starts, advances and
	// receives; social_worker starts and advances on its own cases (the
	// handoff's case is assigned to it); the others, and the platform
	// operator, 403 before any handoff is read; another organisation's
	// handoff 404. Accepting and declining are handoff.inbox's
	// (case_manager), the override's decision a second person's
	// (handoff.override.approve). The dashboard is also tenant_admin's
	// (dashboard.read). The kinds: handoffs_matrix_test.go.
	{route: "GET /handoffs", own: "303 403 200 200 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs", body: "partnership={partnership}&case={handoff_case}&field=prs_FirstName&note=matrix",
		own: "303 403 303 303 403 403 403 403 403 403 403 403"},
	{route: "GET /handoffs/new", own: "303 403 200 200 403 403 403 403 403 403 403 403"},
	{route: "GET /handoffs/dashboard", own: "303 200 200 403 403 403 403 403 403 403 403 403"},
	{route: "GET /handoffs/:id", kind: "handoff",
		own:     "303 403 200 200 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/override", kind: "override handoff", body: "decision=approve&confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/accept", kind: "incoming handoff", body: "confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/decline", kind: "incoming handoff", body: "reason=matrix&confirm=yes",
		own:     "303 403 303 403 403 403 403 403 403 403 403 403",
		other:   "303 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/withdraw", kind: "fresh handoff", body: "reason=matrix&confirm=yes",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/stages", kind: "fresh handoff", body: "step=done:interview&note=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /handoffs/:id/messages", kind: "handoff", body: "text=matrix",
		own:     "303 403 303 303 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "GET /handoffs/:id/documents/:document", kind: "shared document",
		own:     "303 403 200 404 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},
	// Feedback is the receiver's: its case, created on acceptance, is not
	// the social worker's own (404).
	{route: "POST /handoffs/:id/feedback", kind: "admitted handoff", body: "status=in_shelter&follow_up_continues=yes",
		own:     "303 403 303 404 403 403 403 403 403 403 403 403",
		other:   "303 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "303 403 404 404 403 403 403 403 403 403 403 403"},

	// Stand-ins here (web/demoidp): demo mode's own provider, outside
	// Homeward's sessions; these rows show only that the HTTP layer lets
	// every caller reach it (its package tests it).
	{route: "GET /demo-idp", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /demo-idp/*", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "POST /demo-idp/*", own: "200 200 200 200 200 200 200 200 200 200 200 200"},

	// Sign-in (signin.go, session.go): browser flows on cookies, the same
	// for every bearer caller. /login shows the organisations; the
	// callback without the browser's login attempt, and switching without
	// a session, are 401; logout without a session goes home (303).
	{route: "GET /login", own: "200 200 200 200 200 200 200 200 200 200 200 200"},
	{route: "GET /auth/callback", own: "401 401 401 401 401 401 401 401 401 401 401 401"},
	{route: "POST /auth/switch", own: "401 401 401 401 401 401 401 401 401 401 401 401"},
	{route: "POST /logout", own: "303 303 303 303 303 303 303 303 303 303 303 303"},

	// Queue monitor, metrics: platform_operator R.
	{route: "GET /metrics", own: "401 403 403 403 403 403 403 403 403 403 403 200"},
	{route: "GET /ops/queues", own: "401 403 403 403 403 403 403 403 403 403 403 200"},
	{route: "GET /ops/queues/*", own: "401 403 403 403 403 403 403 403 403 403 403 200"},

	// Who am I: anyone signed in.
	{route: "GET /api/v1/me", own: "401 200 200 200 200 200 200 200 200 200 200 200"},
	// The member's own contact address: every member, its own; the
	// platform operator has no membership (403), nor has an API token.
	{route: "GET /api/v1/me/contact", own: "401 200 200 200 200 200 200 200 200 200 200 403"},
	{route: "PUT /api/v1/me/contact", body: `{"address":"","language":"en"}`,
		own: "401 200 200 200 200 200 200 200 200 200 200 403"},

	// Members, role overrides, API tokens: tenant_admin RW, auditor R.
	{route: "GET /api/v1/members", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /api/v1/members/:id/disable", kind: "member",
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/members/:id/enable", kind: "member",
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "PUT /api/v1/members/:id/roles", kind: "member", body: `{"add":["counsellor"],"remove":[]}`,
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/tokens", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "POST /api/v1/tokens", body: `{"name":"matrix","roles":["auditor"],"expires_at":"{expires}"}`,
		own: "401 201 403 403 403 403 403 403 403 403 403 403"},
	{route: "DELETE /api/v1/tokens/:id", kind: "token",
		own:     "401 204 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},

	// Organisation settings, identity provider: tenant_admin RW, auditor R;
	// the platform operator writes it with homeward tenants set-idp (it has
	// no organisation here).
	{route: "GET /api/v1/settings/identity-provider", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "PUT /api/v1/settings/identity-provider", body: "{idp}", own: "401 200 403 403 403 403 403 403 403 403 403 403"},
	// The organisation's adjustments to the permission table: settings.read
	// and settings.write; the platform operator acts for no organisation.
	{route: "GET /api/v1/settings/permissions", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "PUT /api/v1/settings/permissions", body: `{"adjustments":{}}`, own: "401 200 403 403 403 403 403 403 403 403 403 403"},

	// Case files (cases.go), from docs/permissions.md, "Case files and the
	// survivor's path". The case core: case_manager RW, social_worker RW
	// own, counsellor, medical_officer, lawyer R own; consent records the
	// same; outreach_worker creates (intake W), then sees nothing. "–" is
	// 404 for a record (a case the caller may not see, whoever it is, is
	// not_found, as an unknown id) and 403 for a whole feature: the list,
	// and what needs its own permission (assign; erasure; export; the
	// audit trail). A reader refused a write is 403. The platform operator
	// acts for no organisation: 403 (fixed).
	{route: "GET /api/v1/cases", own: "401 403 200 200 200 200 200 403 403 403 403 403"},
	{route: "POST /api/v1/cases", body: `{"prs_FirstName":"Matrix","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`,
		own: "401 403 201 201 403 403 403 201 403 403 403 403"},
	{route: "GET /api/v1/cases/:id", kind: "case",
		own:     "401 404 200 200 200 200 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// A core field: the readers who may not write it get 403.
	{route: "PATCH /api/v1/cases/:id", kind: "case", body: `{"vic_LocationOfRecruitment":"Vientiane"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// A case manager assigns.
	{route: "PUT /api/v1/cases/:id/assignment", kind: "case", body: `{"cas_CaseOwner":null,"assigned_to":{assigned}}`,
		own:     "401 403 200 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/cases/:id/consent", kind: "case",
		own:     "401 404 200 200 200 200 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// The outreach worker records consent at intake only (POST /cases).
	{route: "POST /api/v1/cases/:id/consent", kind: "case",
		body:    `{"purpose":"services","given_by":"girl","given_on":"2024-01-15","basis":"signed_form"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// A withdrawal closes the consent (:purpose is family_tracing): each
	// own call has a case of its own.
	{route: "POST /api/v1/cases/:id/consent/:purpose/withdraw", kind: "fresh case", body: `{"reason":"matrix"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/comments", kind: "case",
		own:     "401 404 200 200 200 200 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/comments", kind: "case", body: `{"cco_CaseComment":"matrix"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// Case erasure: case_manager requests; tenant_admin and case_manager
	// approve (a second person).
	{route: "POST /api/v1/cases/:id/erasure", kind: "case", body: `{"reason":"created_in_error","note":"matrix"}`,
		own:     "401 403 201 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/erasures", own: "401 200 200 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/erasures/:id/approve", kind: "erasure",
		own:     "401 200 200 403 403 403 403 403 403 403 403 403",
		other:   "401 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/erasures/:id/cancel", kind: "erasure",
		own:     "401 200 200 403 403 403 403 403 403 403 403 403",
		other:   "401 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 404 403 403 403 403 403 403 403 403 403"},
	// HTCDS export of one case: case_manager R (the case has the sharing
	// consent).
	{route: "GET /api/v1/cases/:id/export", kind: "case",
		own:     "401 403 200 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	// A case's audit trail is the audit log's: tenant_admin, auditor R.
	{route: "GET /api/v1/cases/:id/audit", kind: "case",
		own:     "401 200 403 403 403 403 403 403 403 403 200 403",
		other:   "401 404 403 403 403 403 403 403 403 403 404 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 404 403"},
	// A case's services (care.go), from docs/permissions.md, the parts as
	// on the pages above. A case the caller may not see is 404; a part of
	// a case it sees but may not use is 403 for a list or a new entry and
	// 404 for one entry (an entry of a hidden part is not found). Group
	// activities are the support part's whole feature: its readers list
	// them, its writers hold them (403 for the others); attendance is
	// written on the caller's case ({case}).
	{route: "GET /api/v1/cases/:id/psychological", kind: "case",
		own:     "401 404 403 403 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/psychological", kind: "assessed case", body: `{"kind":"session","date":"2024-02-01","duration_minutes":50,"notes":"matrix"}`,
		own:     "401 404 403 403 201 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/medical", kind: "case",
		own:     "401 404 403 403 200 200 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/medical", kind: "case", body: `{"kind":"visit","date":"2024-02-01","place":"in_house","notes":"matrix"}`,
		own:     "401 404 403 403 403 201 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/legal", kind: "case",
		own:     "401 404 200 403 403 403 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/legal", kind: "case", body: `{"kind":"proceeding","date":"2024-02-01","step":"hearing","court":"matrix"}`,
		own:     "401 404 403 403 403 403 201 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/education", kind: "case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/education", kind: "case", body: `{"kind":"literacy","date":"2024-02-01","level":"basic"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/training", kind: "case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/training", kind: "case", body: `{"kind":"training","date":"2024-01-08","trade":"Sewing","provider":"matrix","provider_approved":true,"end_on":"2024-08-08"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/care-entries/:id", kind: "care entry",
		own:     "401 404 404 404 200 200 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "PUT /api/v1/care-entries/:id", kind: "care entry", body: `{"date":"2024-01-21","place":"in_house","notes":"matrix"}`,
		own:     "401 404 404 404 403 200 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/support-plans", kind: "case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/support-plans", kind: "case", body: `{"spl_Type":"Livelihood","spl_Objectives":"matrix"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/support-plans/:id", kind: "support plan",
		own:     "401 404 200 200 200 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "PATCH /api/v1/support-plans/:id", kind: "support plan", body: `{"spl_ActionPlan":"matrix"}`,
		own:     "401 404 200 200 403 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/support-plans/:id/progress", kind: "support plan", body: `{"date":"2024-02-01","status":"in_progress","note":"matrix"}`,
		own:     "401 404 201 201 403 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/activities", kind: "case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/activities", own: "401 403 200 200 200 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/activities", body: `{"type":"dance","date":"2024-02-01","topic":"matrix"}`,
		own: "401 403 201 201 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/activities/:id", kind: "activity",
		own:     "401 403 200 200 200 403 403 403 403 403 403 403",
		other:   "401 403 404 404 404 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 404 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/activities/:id/attendance", kind: "activity", body: `{"case_id":"{case}","attended":true}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 403 403 403 404 404 404 404 403",
		unknown: "401 404 404 404 403 403 403 404 404 404 404 403"},
	// Anonymised statistics: tenant_admin, case_manager, outreach_worker,
	// finance_officer, auditor R; the platform operator R, all
	// organisations summed.
	{route: "GET /api/v1/statistics/cases.csv", own: "401 200 200 403 403 403 403 200 403 200 200 200"},
	// The retention rule is an organisation setting: tenant_admin RW,
	// auditor R.
	{route: "GET /api/v1/settings/retention", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "PUT /api/v1/settings/retention", body: `{"years":10}`, own: "401 200 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/settings/retention/due", own: "401 200 403 403 403 403 403 403 403 403 200 403"},

	// Reintegration and follow-up (followup.go), from docs/permissions.md
	// "reintegration, follow-up visits": case_manager RW, social_worker RW
	// own, counsellor R own. A case the caller may not see is 404; a
	// visible case whose follow-up it may not use (the assigned medical
	// officer and lawyer) is 403, and a visit of it 404 (an entry of a
	// hidden part). The lists are a whole feature: 403 for roles that
	// follow up no case. Closing also writes the core (case_manager,
	// social_worker own). The schedule is an organisation setting: tenant
	// admin RW, auditor R. The kinds: followup_matrix_test.go.
	{route: "GET /api/v1/cases/:id/reintegration", kind: "reintegrated case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/reintegration", kind: "shelter case",
		body:    `{"destination":"family","date":"2025-01-10","place":"matrix"}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/cases/:id/visits", kind: "reintegrated case",
		own:     "401 404 200 200 200 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/followup/close", kind: "closing case", body: `{"reason":"matrix"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/visits/:id", kind: "visit",
		own:     "401 404 200 200 200 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/visits/:id/done", kind: "visit", body: `{"visited_on":"2025-02-10","notes":"matrix"}`,
		own:     "401 404 200 200 403 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/visits/:id/missed", kind: "visit", body: `{"notes":"matrix"}`,
		own:     "401 404 200 200 403 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/followups/overdue", own: "401 403 200 200 200 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/followups/due", own: "401 403 200 200 200 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/settings/followup", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "PUT /api/v1/settings/followup", body: `{"monthly_months":6,"then_every_months":3,"years":3,"remind_days_before":7}`,
		own: "401 200 403 403 403 403 403 403 403 403 403 403"},
	// The starter kit (kits.go): the case's kit part, case_manager W / A,
	// social_worker W own; the other readers of the case see no kit part
	// (the case's list 403, a kit 404); approving and rejecting need
	// kit.approve (case_manager: 403 for the others) and a second person.
	// The limit is an organisation setting: tenant_admin RW, auditor R.
	{route: "GET /api/v1/cases/:id/kits", kind: "case",
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/kits", kind: "case",
		body:    `{"business_plan":"Matrix","items":[{"description":"Chair","quantity":2,"unit_cost_minor":4550,"currency":"USD"}]}`,
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/kits/:id", kind: "kit",
		own:     "401 404 200 200 404 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "PUT /api/v1/kits/:id", kind: "fresh kit",
		body:    `{"business_plan":"Matrix","items":[{"description":"Chair","quantity":2,"unit_cost_minor":4550,"currency":"USD"}]}`,
		own:     "401 404 200 200 404 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/kits/:id/approve", kind: "fresh kit",
		own:     "401 403 200 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/kits/:id/reject", kind: "fresh kit", body: `{"reason":"matrix"}`,
		own:     "401 403 200 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/kits/:id/disburse", kind: "approved kit", body: `{"disbursed_on":"2024-06-01","spent_minor":[6400000,8800]}`,
		own:     "401 404 200 200 404 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/kits/:id/handover", kind: "disbursed kit",
		body:    `{"handed_over_on":"2024-06-02","place":"Matrix","received_confirmed":true,"note":"matrix"}`,
		own:     "401 404 200 200 404 404 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/settings/kit-limit", own: "401 200 403 403 403 403 403 403 403 403 200 403"},
	{route: "PUT /api/v1/settings/kit-limit", body: `{"usd_cents":50000}`, own: "401 200 403 403 403 403 403 403 403 403 403 403"},
	// Partnerships (partnerships.go), from docs/permissions.md
	// "partnerships": tenant_admin RW, case_manager R (fixed). A member who
	// may start, receive or follow handoffs (social_worker) sees the active
	// handoff partnerships, and a statistics reader (outreach_worker,
	// finance_officer, auditor) the active ones that bring a partner's
	// statistics: the kind "partnership" is such a statistics partnership,
	// so the social worker finds no such partnership (404) and the
	// statistics readers read it. Roles with none of these: 403. Moves and
	// the organisations to propose to: tenant_admin (403 for the others,
	// before any partnership is read); another organisation's partnership
	// 404. The partner's statistics: statistics.read. The platform operator
	// acts for no organisation: 403. The kinds: partnerships_matrix_test.go.
	{route: "GET /api/v1/partnerships", own: "401 200 200 200 403 403 403 200 403 200 200 403"},
	{route: "POST /api/v1/partnerships",
		body: `{"partner":"{partner}","purpose":"handoffs","direction":"outgoing","groups":["identity"],"agreement_ref":"matrix"}`,
		own:  "401 201 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/partnerships/:id", kind: "partnership",
		own:     "401 200 200 404 403 403 403 200 403 200 200 403",
		other:   "401 404 404 404 403 403 403 404 403 404 404 403",
		unknown: "401 404 404 404 403 403 403 404 403 404 404 403"},
	{route: "POST /api/v1/partnerships/:id/accept", kind: "proposed partnership",
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/partnerships/:id/decline", kind: "proposed partnership", body: `{"reason":"matrix"}`,
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/partnerships/:id/suspend", kind: "fresh partnership", body: `{"reason":"matrix"}`,
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/partnerships/:id/resume", kind: "suspended partnership",
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/partnerships/:id/end", kind: "fresh partnership", body: `{"reason":"matrix"}`,
		own:     "401 200 403 403 403 403 403 403 403 403 403 403",
		other:   "401 404 403 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 403 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/partnerships/:id/statistics.csv", kind: "partnership",
		own:     "401 200 200 403 403 403 403 200 403 200 200 403",
		other:   "401 404 404 403 403 403 403 404 403 404 404 403",
		unknown: "401 404 404 403 403 403 403 404 403 404 404 403"},
	{route: "GET /api/v1/organisations/partners", own: "401 200 403 403 403 403 403 403 403 403 403 403"},
	// Repatriation handoffs (handoffs.go), from docs/permissions.md
	// "Handoffs": start, choose fields, advance own stages case_manager
	// RW, social_worker RW own (the handoff's case assigned to it);
	// consent override: case_manager A, never the requester; inbox:
	// accept, decline case_manager; thread case_manager RW, social_worker
	// RW own. A role with none of them is refused the whole feature (403);
	// a handoff the caller may not see, another organisation's (one its
	// organisation holds no row of) or an unknown one is 404. The
	// receiver's own case is its case manager's (the social worker's
	// "own" does not reach it: 404). The dashboard: handoff.write,
	// handoff.inbox or dashboard.read (tenant_admin). The platform
	// operator acts for no organisation: 403. The kinds:
	// handoffs_matrix_test.go.
	{route: "GET /api/v1/handoffs", own: "401 403 200 200 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs",
		body: `{"partnership_id":"{partnership}","case_id":"{handoff_case}","fields":["prs_FirstName","prs_Birthdate"],"note":"matrix"}`,
		own:  "401 403 201 201 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/handoffs/sharable", query: "partnership_id={partnership}&case_id={handoff_case}",
		own: "401 403 200 200 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/handoffs/dashboard", own: "401 200 200 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/handoffs/:id", kind: "handoff",
		own:     "401 403 200 200 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/override", kind: "override handoff", body: `{"approve":true}`,
		own:     "401 403 200 403 403 403 403 403 403 403 403 403",
		other:   "401 403 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 403 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/accept", kind: "incoming handoff",
		own:     "401 403 200 404 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/decline", kind: "incoming handoff", body: `{"reason":"matrix"}`,
		own:     "401 403 200 404 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/withdraw", kind: "fresh handoff", body: `{"reason":"matrix"}`,
		own:     "401 403 200 200 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/stages", kind: "fresh handoff", body: `{"stage":"interview","action":"done","note":"matrix"}`,
		own:     "401 403 200 200 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	// A shared document's copy (before the acceptance: the inbox's
	// case manager; the social worker's "own" does not reach an incoming
	// handoff, 404), another organisation's or an unknown one 404.
	{route: "GET /api/v1/handoffs/:id/documents/:document", kind: "shared document",
		own:     "401 403 200 404 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/handoffs/:id/messages", kind: "handoff",
		own:     "401 403 200 200 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/messages", kind: "handoff", body: `{"text":"matrix"}`,
		own:     "401 403 201 201 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/handoffs/:id/feedback", kind: "admitted handoff",
		own:     "401 403 200 404 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	{route: "POST /api/v1/handoffs/:id/feedback", kind: "admitted handoff", body: `{"status":"in_shelter","follow_up_continues":true}`,
		own:     "401 403 201 404 403 403 403 403 403 403 403 403",
		other:   "401 403 404 404 403 403 403 403 403 403 403 403",
		unknown: "401 403 404 404 403 403 403 403 403 403 403 403"},
	// Shelters (shelters.go): tenant_admin, case_manager RW;
	// social_worker, counsellor, medical_officer R; the others 403 (a
	// whole feature); another organisation's shelter 404 to its readers.
	{route: "GET /api/v1/shelters", own: "401 200 200 200 200 200 403 403 403 403 403 403"},
	{route: "POST /api/v1/shelters", body: `{"name":"Matrix shelter","province":"Vientiane Capital","district":"Chanthabouly","capacity":20}`,
		own: "401 201 201 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/shelters/:id", kind: "shelter",
		own:     "401 200 200 200 200 200 403 403 403 403 403 403",
		other:   "401 404 404 404 404 404 403 403 403 403 403 403",
		unknown: "401 404 404 404 404 404 403 403 403 403 403 403"},
	{route: "PATCH /api/v1/shelters/:id", kind: "shelter", body: `{"capacity":500}`,
		own:     "401 200 200 403 403 403 403 403 403 403 403 403",
		other:   "401 404 404 403 403 403 403 403 403 403 403 403",
		unknown: "401 404 404 403 403 403 403 403 403 403 403 403"},
	{route: "GET /api/v1/shelters/:id/waiting-list", kind: "shelter",
		own:     "401 200 200 200 200 200 403 403 403 403 403 403",
		other:   "401 404 404 404 404 404 403 403 403 403 403 403",
		unknown: "401 404 404 404 404 404 403 403 403 403 403 403"},
	// A case's admission is part of its core: its readers read it
	// (case_manager, and social_worker, counsellor, medical_officer,
	// lawyer on their own cases), its writers record (case_manager,
	// social_worker own); a case the caller may not see 404.
	{route: "GET /api/v1/cases/:id/admission", kind: "case",
		own:     "401 404 200 200 200 200 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// Each side accepts once: a new case each own call.
	{route: "POST /api/v1/cases/:id/admission/acceptances", kind: "fresh case", body: `{"accepted_by":"girl","accepted_on":"2024-01-15"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/admission/admit", kind: "admissible case",
		body:    `{"shelter_id":"{shelter}","referral_source":"police","admitted_on":"2024-02-01"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/admission/waiting/cancel", kind: "waiting case",
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/admission/transfer", kind: "placed case", body: `{"shelter_id":"{shelter_b}","transferred_on":"2024-03-01"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/admission/discharge", kind: "placed case", body: `{"discharged_on":"2024-03-01","reason":"reintegrated"}`,
		own:     "401 404 200 200 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	// The documents of a case: by the document's part ("documents: by the
	// document's field group"). Listing: whoever sees the case (each
	// document of a part it reads). Adding to support: case_manager W,
	// social_worker W own; the other readers of the case 403. The medical
	// document: the medical officer RW own, the counsellor R own (its
	// deletion 403); to everyone else, the case manager included, it does
	// not exist (404).
	{route: "GET /api/v1/cases/:id/documents", kind: "case",
		own:     "401 404 200 200 200 200 200 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "POST /api/v1/cases/:id/documents", kind: "case", body: "{document:support}",
		own:     "401 404 201 201 403 403 403 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "GET /api/v1/documents/:id", kind: "document",
		own:     "401 404 404 404 200 200 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
	{route: "DELETE /api/v1/documents/:id", kind: "fresh document",
		own:     "401 404 404 404 403 204 404 404 404 404 404 403",
		other:   "401 404 404 404 404 404 404 404 404 404 404 403",
		unknown: "401 404 404 404 404 404 404 404 404 404 404 403"},
}

// matrixColumns are the callers, in the order of the statuses.
var matrixColumns = append([]string{"anonymous"}, func() []string {
	var out []string
	for _, r := range tenants.Roles {
		out = append(out, string(r))
	}
	return out
}()...)

// matrixTarget names the record of kind that a scope's :id stands for;
// the own fresh case and erasure request are made for the call.
func matrixTarget(t *testing.T, kind, scope string, own, other *testOrg) string {
	t.Helper()
	o := own
	switch scope {
	case "other":
		o = other
	case "unknown":
		return uuid.NewString()
	}
	switch kind {
	case "member":
		return o.target.String()
	case "token":
		return o.token.String()
	case "case":
		return o.cases.caseID.String()
	case "fresh case":
		if scope == "own" {
			return o.cases.newCase(t, nil).String()
		}
		return o.cases.caseID.String()
	case "erasure":
		if scope == "own" {
			return o.cases.newErasure(t).String()
		}
		return o.cases.erasureID.String()
	case "document":
		return o.cases.documentID.String()
	case "fresh document":
		if scope == "own" {
			return o.cases.newDocument(t, "").String()
		}
		return o.cases.documentID.String()
	}
	if id, ok := shelterTarget(t, kind, scope, o); ok {
		return id
	}
	if id, ok := kitTarget(t, kind, scope, o); ok {
		return id
	}
	if id, ok := followUpTarget(t, kind, scope, o); ok {
		return id
	}
	if id, ok := careTarget(t, kind, o); ok {
		return id
	}
	if id, ok := handoffTarget(t, kind, scope, o); ok {
		return id
	}
	if id, ok := partnershipTarget(t, kind, scope, o); ok {
		return id
	}
	t.Fatalf("matrix: unknown kind %s", kind)
	return ""
}

// orgCases are the case records of an organisation that the matrix's
// callers act on (the kinds "case" and "erasure").
type orgCases struct {
	service    *cases.Service
	caseID     uuid.UUID   // owned by no one, assigned to assigned
	assigned   []uuid.UUID // the social worker, counsellor, medical officer and lawyer
	erasureID  uuid.UUID   // an open request, never decided
	documents  *casedocs.Service
	medical    context.Context // the medical officer, who adds the medical documents
	documentID uuid.UUID       // a medical document of the case, the canary its name and content
	manager    context.Context // the case manager
	requester  context.Context // another case manager, who asks for the erasures
}

// withCases makes the organisation's case records for the matrix.
func (o *testOrg) withCases(t *testing.T, s *tenants.Store) {
	t.Helper()
	as := func(member uuid.UUID) context.Context {
		p, err := s.PrincipalOf(context.Background(), member)
		if err != nil {
			t.Fatal(err)
		}
		return tenants.WithPrincipal(context.Background(), p)
	}
	oc := &orgCases{service: cases.New(s), manager: as(o.members[tenants.RoleCaseManager]),
		requester: tenants.WithPrincipal(context.Background(), o.signIn(t, s, o.subject("erasure-requester"), tenants.RoleCaseManager))}
	for _, r := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleLawyer} {
		oc.assigned = append(oc.assigned, o.members[r])
	}
	oc.caseID = oc.newCase(t, map[string]any{"prs_FirstName": o.canary, "vic_LocationOfExploitation": o.canary,
		"family_notes": o.canary})
	// The groups only their own roles write.
	for role, field := range map[tenants.Role]string{tenants.RoleMedicalOfficer: "medical_notes",
		tenants.RoleCounsellor: "psychological_notes", tenants.RoleLawyer: "legal_notes"} {
		if _, err := oc.service.Update(as(o.members[role]), oc.caseID, cases.Patch{Values: map[string]any{field: o.canary}}); err != nil {
			t.Fatalf("matrix case: %s: %v", field, err)
		}
	}
	if _, err := oc.service.AddComment(oc.manager, oc.caseID, o.canary); err != nil {
		t.Fatalf("matrix case: comment: %v", err)
	}
	oc.erasureID = oc.newErasure(t)
	oc.documents = casedocs.New(s, matrixDocuments, tenants.DocumentLimits{})
	oc.medical = as(o.members[tenants.RoleMedicalOfficer])
	oc.documentID = oc.newDocument(t, o.canary)
	o.cases = oc
}

// newDocument adds a medical document (named and holding text, else
// "matrix") to the matrix's case, as the medical officer.
func (oc *orgCases) newDocument(t *testing.T, text string) uuid.UUID {
	t.Helper()
	text = cmp.Or(text, "matrix")
	doc, err := oc.documents.Add(oc.medical, oc.caseID, casedocs.NewDocument{Part: tenants.FieldGroupMedical,
		Filename: text + ".txt", Content: strings.NewReader(text)})
	if err != nil {
		t.Fatalf("matrix document: %v", err)
	}
	return doc.ID
}

// newCase opens a case as the case manager, with values besides a first
// name, a birth date and a gender, standing sharing and family_tracing
// consents, owned by no one and assigned to the members of assigned.
func (oc *orgCases) newCase(t *testing.T, values map[string]any) uuid.UUID {
	t.Helper()
	v := map[string]any{"prs_FirstName": "Matrix", "prs_Birthdate": "2008-02-03", "prs_Gender": "Feminine"}
	maps.Copy(v, values)
	k, err := oc.service.Create(oc.manager, cases.NewCase{Values: v, Consents: []cases.NewConsent{
		{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10", Basis: cases.BasisSignedForm},
		{Purpose: cases.PurposeFamilyTracing, GivenBy: cases.GivenByFamily, GivenOn: "2024-01-10", Basis: cases.BasisSignedForm},
	}})
	if err != nil {
		t.Fatalf("matrix case: %v", err)
	}
	if _, err := oc.service.Assign(oc.manager, k.ID, nil, oc.assigned); err != nil {
		t.Fatalf("matrix case: assign: %v", err)
	}
	return k.ID
}

// newErasure opens an erasure request of a new case.
func (oc *orgCases) newErasure(t *testing.T) uuid.UUID {
	t.Helper()
	e, err := oc.service.RequestErasure(oc.requester, oc.newCase(t, nil), cases.ErasureCreatedInError, "")
	if err != nil {
		t.Fatalf("erasure: %v", err)
	}
	return e.ID
}

// matrixBoundary separates the parts of a matrix row's multipart body.
const matrixBoundary = "matrix-boundary"

// matrixUpload is an upload form ({document:PART} in a row's body): a
// small text file for part.
func matrixUpload(part string) string {
	return "--" + matrixBoundary + "\r\nContent-Disposition: form-data; name=\"part\"\r\n\r\n" + part + "\r\n" +
		"--" + matrixBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.txt\"\r\n" +
		"Content-Type: text/plain\r\n\r\nA support plan.\r\n--" + matrixBoundary + "--\r\n"
}

// matrixBody is a row's body as the caller's organisation sends it.
func matrixBody(body string, o *testOrg) string {
	body = matrixShelterBody(body, o)
	body = matrixHandoffBody(body, o)
	body = matrixPartnershipBody(body, o)
	assigned, caseID, assignedForm := "[]", "", url.Values{"owner": {""}}
	if o.cases != nil {
		b, _ := json.Marshal(o.cases.assigned)
		assigned, caseID = string(b), o.cases.caseID.String()
		for _, m := range o.cases.assigned {
			assignedForm.Add("assigned_to", m.String())
		}
	}
	return strings.NewReplacer("{assignedform}", assignedForm.Encode(), "{document:support}", matrixUpload(tenants.CaseSupport), "{idp}", o.idpBody, "{idpform}", idpForm(o), "{assigned}", assigned,
		"{case}", caseID, "{expires}", time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)).Replace(body)
}

// wildcards fills the non-id parameters of a route path (:file: the
// stylesheet's current hashed name; :purpose: the consent the matrix's
// case has to withdraw; :group: the field group a case page's form saves).
var wildcards = strings.NewReplacer("*", "manifest.json", ":file", strings.TrimPrefix(static.Path("app.css"), static.Prefix),
	":purpose", string(cases.PurposeFamilyTracing), ":group", tenants.FieldGroupIdentity)

func parseStatuses(t *testing.T, route, scope, s string) []int {
	t.Helper()
	fields := strings.Fields(s)
	if len(fields) != len(matrixColumns) {
		t.Fatalf("matrix row %s, %s: %d statuses, want %d", route, scope, len(fields), len(matrixColumns))
	}
	out := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("matrix row %s, %s: %q is not a status", route, scope, f)
		}
		out[i] = n
	}
	return out
}

// routeKeys lists an app's routes as "METHOD /path", without the HEAD
// twin fiber adds to each GET.
func routeKeys(app *fiber.App) []string {
	gets := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == fiber.MethodGet {
			gets[r.Path] = true
		}
	}
	seen := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == fiber.MethodHead && gets[r.Path] {
			continue
		}
		seen[r.Method+" "+r.Path] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	s := storeForTest(t)
	a, b := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1))
	a.withCases(t, s)
	b.withCases(t, s)
	a.withShelters(t, s)
	b.withShelters(t, s)
	a.withKits(t, s)
	b.withKits(t, s)
	partner := newTestOrg(t, s, newTestProvider(t, 2))
	a.withHandoffs(t, s, partner)
	b.withHandoffs(t, s, partner)
	a.withPartnerships(t, s)
	b.withPartnerships(t, s)
	operatorToken := platformToken(t, s)
	app := authServerWith(t, s, func(cfg *homeward.Config) Pages { return realPages(t, s, cfg) })
	doc := mustLoadOpenAPI(t, openAPIDocument)

	// Every route is in the matrix, and every row is a route: the server
	// under test's, and the one the OpenAPI check builds with every
	// optional route.
	routes := routeKeys(app)
	for _, k := range routeKeys(serverWithEveryRoute(t)) {
		if !slices.Contains(routes, k) {
			routes = append(routes, k)
		}
	}
	for _, p := range matrixGaps(routes, authzMatrix) {
		t.Error(p)
	}
	if t.Failed() {
		t.FailNow()
	}

	for _, run := range []struct{ caller, other *testOrg }{{a, b}, {b, a}} {
		name := "A"
		if run.caller == b {
			name = "B"
		}
		for _, row := range authzMatrix {
			method, path, _ := strings.Cut(row.route, " ")
			scopes := map[string]string{"own": row.own}
			if row.kind != "" {
				scopes["other"], scopes["unknown"] = row.other, row.unknown
			} else if strings.Contains(path, ":id") {
				t.Fatalf("matrix row %s has :id but no kind", row.route)
			}
			for _, scope := range []string{"own", "other", "unknown"} {
				want, ok := scopes[scope]
				if !ok {
					continue
				}
				statuses := parseStatuses(t, row.route, scope, want)
				body := matrixBody(row.body, run.caller)
				for i, col := range matrixColumns {
					id := ""
					if row.kind != "" {
						id = matrixTarget(t, row.kind, scope, run.caller, run.other)
					}
					target, params := matrixPath(path, id)
					if row.query != "" {
						target += "?" + matrixBody(row.query, run.caller)
					}
					var credential string
					switch col {
					case "anonymous":
					case string(tenants.RolePlatformOperator):
						credential = operatorToken
					default:
						credential = run.caller.jwt[tenants.Role(col)]
					}
					r := call(t, app, method, target, credential, body)
					if r.status != statuses[i] {
						t.Errorf("%s %s (%s record) as %s of %s: %d, want %d: %.200s", method, path, scope, col, name, r.status, statuses[i], r.body)
					}
					// The API's answers, allowed or refused, are as documented.
					if strings.HasPrefix(path, "/api/v1/") || path == "/metrics" {
						req := httptest.NewRequest(method, target, nil)
						if err := validateResponse(t, doc, req, documentedPath(path), params, r); err != nil {
							t.Errorf("%s %s as %s: %d does not match api/openapi.yaml: %v\n%.300s", method, path, col, r.status, err, r.body)
						}
					}
					if leak := canaryIn(r, run.other); leak != "" {
						t.Errorf("%s %s (%s record) as %s of %s: the answer holds the other organisation's %s", method, path, scope, col, name, leak)
					}
				}
			}
		}
	}

	// Control: the canary search finds a canary where one must be.
	r := call(t, app, "GET", "/api/v1/members", a.jwt[tenants.RoleTenantAdmin], "")
	if canaryIn(r, a) == "" {
		t.Fatalf("control: A's admin's member list does not show A's canary: %.300s", r.body)
	}
	r = call(t, app, "GET", "/api/v1/settings/identity-provider", a.jwt[tenants.RoleAuditor], "")
	if canaryIn(r, a) == "" {
		t.Fatalf("control: A's settings do not show A's canary: %.300s", r.body)
	}
}

// matrixGaps lists the routes without a row, the rows without a route and
// the rows given twice.
func matrixGaps(routes []string, rows []matrixRow) []string {
	var problems []string
	byRoute := map[string]bool{}
	for _, row := range rows {
		if byRoute[row.route] {
			problems = append(problems, fmt.Sprintf("matrix: %s twice", row.route))
		}
		byRoute[row.route] = true
		if !slices.Contains(routes, row.route) {
			problems = append(problems, fmt.Sprintf("matrix row %s names no route", row.route))
		}
	}
	for _, k := range routes {
		if !byRoute[k] {
			problems = append(problems, fmt.Sprintf("route %s is not in the authorization matrix (api/authz_matrix_test.go): add its row from docs/permissions.md", k))
		}
	}
	sort.Strings(problems)
	return problems
}

// TestMatrixGapsAreFound: the coverage check fails for a new route without
// a row, a stale row, and a row given twice (control: the real routes and
// rows agree).
func TestMatrixGapsAreFound(t *testing.T) {
	app := serverWithEveryRoute(t)
	app.Post("/api/v1/villages", func(c *fiber.Ctx) error { return nil }) // a later issue's route, without its row
	routes := routeKeys(serverWithEveryRoute(t))
	if p := matrixGaps(routes, authzMatrix); len(p) != 0 {
		t.Fatalf("control: %v", p)
	}
	if p := matrixGaps(routeKeys(app), authzMatrix); len(p) != 1 || !strings.Contains(p[0], "route POST /api/v1/villages is not in the authorization matrix") {
		t.Errorf("new route: %v", p)
	}
	stale := append(slices.Clone(authzMatrix), matrixRow{route: "GET /api/v1/gone"}, authzMatrix[0])
	if p := matrixGaps(routes, stale); len(p) != 2 || !strings.Contains(strings.Join(p, "\n"), "GET /api/v1/gone names no route") ||
		!strings.Contains(strings.Join(p, "\n"), "GET /healthz twice") {
		t.Errorf("stale and doubled rows: %v", p)
	}
}

// idpForm is the organisation's identity-provider settings as the settings
// page's form posts them (the secret left out: kept).
func idpForm(o *testOrg) string {
	var lines []string
	for _, r := range orgRoles() {
		lines = append(lines, o.group(r)+" = "+string(r))
	}
	return url.Values{"issuer": {o.provider.issuer()}, "client_id": {o.clientID}, "groups_claim": {"groups"},
		"group_roles": {strings.Join(lines, "\n")}, "email_domains": {o.canary + ".example.org"}}.Encode()
}

// canaryIn says where the organisation's canary appears in a response ("" if
// nowhere).
func canaryIn(r response, o *testOrg) string {
	if strings.Contains(r.body, o.canary) {
		return fmt.Sprintf("canary in the body (%s)", o.canary)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			if strings.Contains(v, o.canary) {
				return "canary in the header " + k
			}
		}
	}
	return ""
}
