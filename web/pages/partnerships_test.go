package pages_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/web/i18n"
)

// The partnerships page against the real handoff service on the settings
// pages' world (SQLite): organisation a proposes to b, b decides, either
// moves it on; a statistics partnership brings b's statistics to a.

func partnershipWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.deps.Partnerships = handoffs.New(w.s)
	return w
}

var partnershipAnchor = regexp.MustCompile(`^/partnerships#partnership-([0-9a-f-]{36})$`)

// stateIn is org's copy's state of partnership id.
func stateIn(t *testing.T, w *world, org, id uuid.UUID) string {
	t.Helper()
	var state string
	err := w.s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		return tx.Table("partnerships").Where("id = ?", id).Select("state").Scan(&state).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

func TestPartnershipsPageFromProposalToEnd(t *testing.T) {
	w := partnershipWorld(t)
	aAdmin, aManager, aCounsellor := w.a.members[tenants.RoleTenantAdmin], w.a.members[tenants.RoleCaseManager], w.a.members[tenants.RoleCounsellor]
	bAdmin := w.b.members[tenants.RoleTenantAdmin]

	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/partnerships"), "/login?next=%2Fpartnerships")
	wantStatus(t, "a counsellor", get(t, w.as(t, aCounsellor), "/partnerships"), 403)
	mustNotContain(t, get(t, w.as(t, aCounsellor), "/"), `href="/partnerships"`)

	// The admin's page: the proposal form, with the other organisations
	// to choose from, the groups without the psychological one, and the
	// medical group's condition.
	r := get(t, w.as(t, aAdmin), "/partnerships")
	wantStatus(t, "a's admin", r, 200)
	mustContain(t, r, `href="/partnerships"`, `id="partnerships-empty"`, `id="propose-form"`, `value="`+w.b.slug+`"`,
		"Organisation B", `value="identity"`, `value="medical"`, `id="propose-medical-help"`, "health_sharing", `id="propose-psychological"`)
	mustNotContain(t, r, `value="psychological"`, `value="`+w.a.slug+`"`)
	// The case manager reads, without forms.
	r = get(t, w.as(t, aManager), "/partnerships")
	wantStatus(t, "a's case manager", r, 200)
	mustNotContain(t, r, `id="propose-form"`)

	// Denied: a case manager proposes.
	propose := func(p *tenants.Principal, kv ...string) response {
		f := form(p, "partner", w.b.slug, "purpose", "handoffs", "direction", "outgoing", "groups", "identity",
			"documents", "yes", "stall_days", "10", "statistics_back", "yes")
		f.Add("groups", "family")
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return post(t, w.as(t, p), "/partnerships", f)
	}
	wantStatus(t, "a's case manager proposes", propose(aManager, "agreement_ref", "DSA-1"), 403)
	// A mistake: 422, the reason beside its field, what was typed kept.
	r = propose(aAdmin, "agreement_ref", "", "stall_days", "120")
	wantStatus(t, "no agreement, 120 days", r, 422)
	mustContain(t, r, "Give the agreement&#39;s reference", "A whole number of days from 1 to 90.", `aria-invalid="true"`, `value="120"`)
	r = propose(aAdmin, "agreement_ref", "DSA", "groups", "psychological")
	wantStatus(t, "the psychological group posted anyway", r, 422)
	mustContain(t, r, "Choose at least one of the groups listed.")

	r = propose(aAdmin, "agreement_ref", "DSA-A-B-2024")
	m := partnershipAnchor.FindStringSubmatch(r.header.Get("Location"))
	if r.status != 303 || m == nil || flashOf(r) != "partnerships.flash_proposed" {
		t.Fatalf("propose: %d %q %q", r.status, r.header.Get("Location"), flashOf(r))
	}
	id := uuid.MustParse(m[1])
	wantStatus(t, "the same proposal again", propose(aAdmin, "agreement_ref", "DSA-A-B-2024"), 409)

	// a waits; b decides.
	r = get(t, w.as(t, aAdmin), "/partnerships")
	mustContain(t, r, `id="partnerships-waiting"`, `id="partnership-`+id.String()+`-end"`, "Withdraw the proposal", "DSA-A-B-2024",
		"your organisation sends handoffs to Organisation B.")
	mustNotContain(t, r, `id="partnership-`+id.String()+`-accept"`)
	r = get(t, w.as(t, bAdmin), "/partnerships")
	mustContain(t, r, `id="partnerships-incoming"`, `id="partnership-`+id.String()+`-accept"`, `id="partnership-`+id.String()+`-decline"`,
		"Organisation A sends handoffs to your organisation.")

	// Denied: the proposer accepting its own proposal (403, said on the
	// page); b's admin without the confirmation (422).
	r = post(t, w.as(t, aAdmin), "/partnerships/"+id.String()+"/accept", form(aAdmin, "confirm", "yes"))
	wantStatus(t, "a accepts its own proposal", r, 403)
	mustContain(t, r, "the other organisation accepts or declines it.")
	r = post(t, w.as(t, bAdmin), "/partnerships/"+id.String()+"/accept", form(bAdmin))
	wantStatus(t, "accepting without the confirmation", r, 422)
	mustContain(t, r, "Tick the box to confirm.")
	if s := stateIn(t, w, w.b.id, id); s != handoffs.PartnershipProposed {
		t.Fatalf("after the refusals: %s", s)
	}
	r = post(t, w.as(t, bAdmin), "/partnerships/"+id.String()+"/accept", form(bAdmin, "confirm", "yes"))
	wantRedirect(t, "b accepts", r, "/partnerships#partnership-"+id.String())
	if flashOf(r) != "partnerships.flash_accepted" || stateIn(t, w, w.a.id, id) != handoffs.PartnershipActive ||
		stateIn(t, w, w.b.id, id) != handoffs.PartnershipActive {
		t.Fatalf("after the acceptance: %q, %s / %s", flashOf(r), stateIn(t, w, w.a.id, id), stateIn(t, w, w.b.id, id))
	}

	// Suspend (a reason needed), resume, end.
	action := "/partnerships/" + id.String()
	r = post(t, w.as(t, aAdmin), action+"/suspend", form(aAdmin, "confirm", "yes"))
	wantStatus(t, "a suspension without a reason", r, 422)
	mustContain(t, r, "Give a reason")
	wantStatus(t, "a's case manager suspends", post(t, w.as(t, aManager), action+"/suspend",
		form(aManager, "confirm", "yes", "reason", "Review")), 403)
	wantRedirect(t, "b suspends", post(t, w.as(t, bAdmin), action+"/suspend", form(bAdmin, "confirm", "yes", "reason", "Agreement under review")),
		"/partnerships#partnership-"+id.String())
	r = get(t, w.as(t, aAdmin), "/partnerships")
	mustContain(t, r, `id="partnerships-suspended"`, "Agreement under review", `id="partnership-`+id.String()+`-resume"`)
	wantRedirect(t, "a resumes", post(t, w.as(t, aAdmin), action+"/resume", form(aAdmin, "confirm", "yes")),
		"/partnerships#partnership-"+id.String())
	wantRedirect(t, "a ends", post(t, w.as(t, aAdmin), action+"/end", form(aAdmin, "confirm", "yes", "reason", "Programme closed")),
		"/partnerships#partnership-"+id.String())
	r = post(t, w.as(t, bAdmin), action+"/resume", form(bAdmin, "confirm", "yes"))
	wantStatus(t, "resuming an ended partnership", r, 409)
	mustContain(t, r, `id="partnerships-closed"`, "This partnership has changed meanwhile", "Programme closed")
	mustNotContain(t, r, `id="partnership-`+id.String()+`-resume"`)
	if stateIn(t, w, w.a.id, id) != handoffs.PartnershipEnded || stateIn(t, w, w.b.id, id) != handoffs.PartnershipEnded {
		t.Fatal("the partnership did not end on both sides")
	}
	// Another organisation's partnership, or none: 404.
	c := w.newOrg(t, "c")
	wantStatus(t, "c's admin ends a-b", post(t, w.as(t, c.members[tenants.RoleTenantAdmin]), action+"/end",
		form(c.members[tenants.RoleTenantAdmin], "confirm", "yes", "reason", "x")), 404)
}

// TestPartnershipsPageStatistics: a statistics partnership from b to a
// gives a's statistics readers (the finance officer too) the download
// link; b, which shares them, has none; the page speaks every language.
func TestPartnershipsPageStatistics(t *testing.T) {
	w := partnershipWorld(t)
	svc := handoffs.New(w.s)
	aAdmin, aFinance, bAdmin := w.a.members[tenants.RoleTenantAdmin], w.a.members[tenants.RoleFinanceOfficer], w.b.members[tenants.RoleTenantAdmin]
	p, err := svc.ProposePartnership(ctxOf(bAdmin), handoffs.NewPartnership{Partner: w.a.slug, Purpose: handoffs.PurposeStatistics,
		Sending: true, AgreementRef: "HQ reporting"})
	if err != nil {
		t.Fatal(err)
	}
	link := `href="/api/v1/partnerships/` + p.ID.String() + `/statistics.csv"`
	mustNotContain(t, get(t, w.as(t, aFinance), "/partnerships"), link) // not active yet
	if _, err := svc.DecidePartnership(ctxOf(aAdmin), p.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	r := get(t, w.as(t, aFinance), "/partnerships")
	wantStatus(t, "a's finance officer", r, 200)
	mustContain(t, r, link, "Organisation B shares its anonymised statistics with your organisation.")
	mustNotContain(t, r, `id="propose-form"`, `id="partnership-`+p.ID.String()+`-suspend"`)
	mustContain(t, get(t, w.as(t, aFinance), "/"), `href="/partnerships"`)
	r = get(t, w.as(t, bAdmin), "/partnerships")
	mustContain(t, r, `id="partnership-`+p.ID.String()+`-suspend"`)
	mustNotContain(t, r, link)

	for _, lang := range i18n.Languages {
		for _, who := range []*tenants.Principal{aAdmin, bAdmin, aFinance} {
			r := get(t, w.as(t, who), "/partnerships", "Cookie", "homeward_lang="+lang)
			wantStatus(t, lang, r, 200)
			if strings.Contains(r.body, "⟦") {
				t.Errorf("%s: a missing message on the partnerships page", lang)
			}
		}
	}
}
