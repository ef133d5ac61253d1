package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// The member's own contact address through the API on PostgreSQL as the
// app role, members calling with their organisation's JWTs: set, read,
// refused naming the field with nothing stored, removed; another
// organisation's member never reads it; an API token has none while the
// member who made it has one. The authorization matrix covers every role.
func TestContactThroughTheAPI(t *testing.T) {
	s := storeForTest(t)
	a, b := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1))
	app, _ := caseServer(t, s)
	finance, admin := a.jwt[tenants.RoleFinanceOfficer], a.jwt[tenants.RoleTenantAdmin]

	if r := call(t, app, "GET", "/api/v1/me/contact", finance, ""); r.status != 200 || r.body != `{"address":"","language":"en"}` {
		t.Errorf("before any: %d %s", r.status, r.body)
	}
	wantError(t, call(t, app, "PUT", "/api/v1/me/contact", finance, `{"address":"Somchai <s@afesip.example.org>","language":"lo"}`), 422,
		`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"address":"a bare e-mail address such as someone@example.org, without a display name"}}}`)
	wantError(t, call(t, app, "PUT", "/api/v1/me/contact", finance, `{"address":"s@afesip.example.org","language":"de"}`), 422,
		`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"language":"one of lo, th, ms, en, fr"}}}`)
	if r := call(t, app, "PUT", "/api/v1/me/contact", finance, `{"address":"s@afesip.example.org","language":"lo","name":"x"}`); r.status != 422 ||
		!strings.Contains(r.body, `"name":"unknown field"`) {
		t.Errorf("an unknown field: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/me/contact", finance, ""); r.body != `{"address":"","language":"en"}` {
		t.Fatalf("refusals stored something: %s", r.body)
	}

	r := call(t, app, "PUT", "/api/v1/me/contact", finance, `{"address":" s@afesip.example.org ","language":"lo"}`)
	if r.status != 200 || r.body != `{"address":"s@afesip.example.org","language":"lo"}` {
		t.Fatalf("set: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/me/contact", finance, ""); r.body != `{"address":"s@afesip.example.org","language":"lo"}` {
		t.Errorf("read back: %s", r.body)
	}
	// As features read it, in the member's organisation and not in b.
	for _, org := range []*testOrg{a, b} {
		var ok bool
		if err := s.InTenant(context.Background(), org.id, func(tx *gorm.DB) (err error) {
			_, ok, err = tenants.ContactOf(tx, a.members[tenants.RoleFinanceOfficer])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if ok != (org == a) {
			t.Errorf("ContactOf in %s: %v", org.slug, ok)
		}
	}
	// Each member its own: another of a's, and b's finance officer.
	for _, other := range []string{admin, b.jwt[tenants.RoleFinanceOfficer]} {
		if r := call(t, app, "GET", "/api/v1/me/contact", other, ""); r.status != 200 || strings.Contains(r.body, "s@afesip") {
			t.Errorf("another member reads %d %s", r.status, r.body)
		}
	}

	// An API token has no contact; the member who made it has one.
	adminP, err := s.PrincipalOf(context.Background(), a.members[tenants.RoleTenantAdmin])
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateAPIToken(tenants.WithPrincipal(context.Background(), adminP), tenants.NewAPIToken{Name: "integration",
		Roles: []tenants.Role{tenants.RoleFinanceOfficer}, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, app, "PUT", "/api/v1/me/contact", admin, `{"address":"admin@afesip.example.org","language":"fr"}`); r.status != 200 {
		t.Errorf("control: the token's maker sets its own: %d %s", r.status, r.body)
	}
	wantError(t, call(t, app, "GET", "/api/v1/me/contact", tok.Token, ""), 403,
		`{"error":{"code":"forbidden","message":"only a signed-in member has a contact address"}}`)
	wantError(t, call(t, app, "PUT", "/api/v1/me/contact", tok.Token, `{"address":"bot@afesip.example.org","language":"en"}`), 403,
		`{"error":{"code":"forbidden","message":"only a signed-in member has a contact address"}}`)
	if r := call(t, app, "GET", "/api/v1/me/contact", "", ""); r.status != 401 {
		t.Errorf("anonymous: %d %s", r.status, r.body)
	}

	// Removed: an empty address.
	r = call(t, app, "PUT", "/api/v1/me/contact", finance, `{"address":"","language":"lo"}`)
	if r.status != 200 || r.body != `{"address":"","language":"lo"}` {
		t.Errorf("remove: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/me/contact", finance, ""); r.body != `{"address":"","language":"en"}` {
		t.Errorf("after removing: %s", r.body)
	}
}
