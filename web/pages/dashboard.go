package pages

import (
	"slices"

	"github.com/afesip/homeward/tenants"
)

// card is one part of the dashboard: a heading, and what there is (for
// now, what will be there), with links.
type card struct {
	Title, Text string // message keys
	Figure      string // what there is, in the reader's language ("" shows Text)
	Links       []link
}

// dashboardCard is a card and who sees it.
type dashboardCard struct {
	card
	roles []tenants.Role                  // any of these roles, or
	perm  tenants.Permission              // this permission ("" when roles decide)
	links func(*tenants.Principal) []link // built when shown
}

// dashboardCards are the dashboard's placeholders, in order; a member sees
// each card one of their roles opens, once. Features replace a card's
// empty state with their own content as they arrive.
var dashboardCards = []dashboardCard{
	{card: card{Title: "card.cases", Text: "card.cases_empty"},
		roles: []tenants.Role{tenants.RoleCaseManager, tenants.RoleSocialWorker, tenants.RoleCounsellor,
			tenants.RoleMedicalOfficer, tenants.RoleLawyer, tenants.RoleOutreachWorker},
		links: func(pr *tenants.Principal) []link {
			var l []link
			if mayListCases(pr) {
				l = append(l, link{Href: PathCases, Key: "cases.nav"})
			}
			if mayCreateCases(pr) {
				l = append(l, link{Href: PathNewCase, Key: "cases.new"})
			}
			return l
		}},
	// The anonymised statistics are the organisation's view of its cases
	// for those who read none (administrators, auditors, finance
	// officers) as much as for case managers: a card of their own.
	{card: card{Title: "cases.statistics_title", Text: "cases.statistics_text",
		Links: []link{{Href: pathStatisticsAPI, Key: "cases.statistics_download"}}}, perm: tenants.PermStatisticsRead},
	{card: card{Title: "card.handoffs", Text: "card.handoffs_empty"},
		roles: []tenants.Role{tenants.RoleCaseManager, tenants.RoleSocialWorker},
		links: func(pr *tenants.Principal) []link {
			var l []link
			if mayUseHandoffs(pr) {
				l = append(l, link{Href: PathHandoffs, Key: "handoffs.nav"})
			}
			if mayReadHandoffDashboard(pr) {
				l = append(l, link{Href: PathHandoffDashboard, Key: "handoffs.dashboard_title"})
			}
			return l
		}},
	{card: card{Title: "card.prevention", Text: "card.prevention_empty"},
		roles: []tenants.Role{tenants.RoleOutreachWorker, tenants.RoleVillageVolunteer}},
	{card: card{Title: "card.donations", Text: "card.donations_empty"},
		roles: []tenants.Role{tenants.RoleFinanceOfficer, tenants.RoleTenantAdmin}},
	{card: card{Title: "card.admin", Text: "card.admin_text"}, perm: tenants.PermMembersRead,
		links: func(pr *tenants.Principal) []link {
			l := []link{{Href: PathMembers, Key: "nav_members"}, {Href: PathAPITokens, Key: "nav_api_tokens"}}
			if pr.Can(tenants.PermSettingsRead) {
				l = append(l, link{Href: PathIdentityProvider, Key: "nav_identity_provider"}, link{Href: PathRetention, Key: "cases.nav_retention"})
			}
			return l
		}},
	{card: card{Title: "card.audit", Text: "card.audit_empty"}, perm: tenants.PermAuditRead},
	{card: card{Title: "card.operations", Text: "card.operations_text"}, perm: tenants.PermOrganisations},
}

// dashboardPage is the dashboard's own part of the view.
type dashboardPage struct {
	Today    string // in the member's language and calendar
	TodayISO string
	Roles    []string         // message keys of the member's roles
	Charts   *dashboardCharts // the organisation's figures (charts.go); nil: none for this member
	Cards    []card
}

func (p *Pages) dashboard(r *request) *dashboardPage {
	pr := r.principal
	today := r.when(&r.now)
	d := &dashboardPage{Today: today.Text, TodayISO: today.ISO}
	for _, role := range tenants.Roles { // the table's order, not the session's
		if pr.Has(role) {
			d.Roles = append(d.Roles, "role."+string(role))
		}
	}
	for _, dc := range dashboardCards {
		if !slices.ContainsFunc(dc.roles, pr.Has) && (dc.perm == "" || !pr.Can(dc.perm)) {
			continue
		}
		c := dc.card
		if dc.links != nil {
			c.Links = dc.links(pr)
		}
		d.Cards = append(d.Cards, c)
	}
	return d
}
