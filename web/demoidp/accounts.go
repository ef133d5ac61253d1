package demoidp

import (
	"strings"

	"github.com/afesip/homeward/tenants"
)

// GroupsClaim is the ID-token claim that carries an account's groups.
const GroupsClaim = "groups"

// The platform operator has no organisation: its account is offered by its
// own client (OperatorClientID), in its own group.
const (
	OperatorClientID = "homeward-operator"
	OperatorSubject  = "homeward.platform_operator"
	OperatorGroup    = "homeward:platform_operator"
)

// Account is a demo person. The provider knows them by Subject; Homeward
// knows them by (issuer, subject) and gives them roles through their group.
type Account struct {
	Subject      string       // "afesip-laos.case_manager"
	Name         string       // "Demo case manager (AFESIP Laos)"
	Organisation string       // the organisation's slug; "" for the platform operator
	Role         tenants.Role // the role its group maps to
	Group        string       // "afesip-laos:case_manager"
	Locale       string       // the organisation's default language
}

// accounts are every demo account: one per organisation role in each demo
// organisation (in the order of tenants.DemoOrganisations and tenants.Roles),
// then the platform operator.
var accounts = func() []Account {
	var out []Account
	for _, org := range tenants.DemoOrganisations {
		for _, role := range tenants.Roles {
			if role == tenants.RolePlatformOperator {
				continue
			}
			out = append(out, Account{
				Subject:      org.Slug + "." + string(role),
				Name:         "Demo " + roleLabel(role) + " (" + shortName(org.Name) + ")",
				Organisation: org.Slug,
				Role:         role,
				Group:        org.Slug + ":" + string(role),
				Locale:       org.Settings["default_language"],
			})
		}
	}
	return append(out, Account{
		Subject: OperatorSubject,
		Name:    "Demo platform operator",
		Role:    tenants.RolePlatformOperator,
		Group:   OperatorGroup,
		Locale:  "en",
	})
}()

// Accounts returns every demo account, the platform operator last.
func Accounts() []Account { return append([]Account(nil), accounts...) }

// AccountsOf returns the accounts of one organisation (slug), or the
// platform operator's alone when slug is "".
func AccountsOf(slug string) []Account {
	var out []Account
	for _, a := range accounts {
		if a.Organisation == slug {
			out = append(out, a)
		}
	}
	return out
}

// account finds an account by subject.
func account(subject string) (Account, bool) {
	for _, a := range accounts {
		if a.Subject == subject {
			return a, true
		}
	}
	return Account{}, false
}

// roleLabel is a role as words: case_manager -> case manager.
func roleLabel(r tenants.Role) string { return strings.ReplaceAll(string(r), "_", " ") }

// shortName drops a trailing parenthesis from an organisation's name, so
// that a display name does not nest them: "AFESIP France (headquarters)"
// becomes "AFESIP France".
func shortName(name string) string {
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		return name[:i]
	}
	return name
}
