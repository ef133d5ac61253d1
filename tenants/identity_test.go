package tenants_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

const testIssuer = "https://idp.example.org/realms/test"

// operatorCtx acts as a platform operator at the command line.
func operatorCtx() context.Context {
	return tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
}

// orgWithProvider adds an organisation whose provider maps the group
// "g-ROLE" to ROLE for every organisation role, plus "staff" to
// case_manager and counsellor.
func orgWithProvider(t *testing.T, s *tenants.Store, issuer string) uuid.UUID {
	t.Helper()
	tenant := tenanttest.NewTenant(t, s)
	groups := map[string][]tenants.Role{"staff": {tenants.RoleCaseManager, tenants.RoleCounsellor}}
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			groups["g-"+string(r)] = []tenants.Role{r}
		}
	}
	secret := "s3cret-" + tenant.String()
	_, err := s.PutIdentityProvider(operatorCtx(), tenant, tenants.IdentityProviderChange{
		Issuer: issuer, ClientID: "client-" + tenant.String(), ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: groups,
	})
	must(t, err)
	return tenant
}

func signIn(t *testing.T, s *tenants.Store, tenant uuid.UUID, subject string, groups ...string) *tenants.Principal {
	t.Helper()
	p, _, err := s.SignIn(context.Background(), tenant, testIssuer, subject, groups)
	if err != nil {
		t.Fatalf("sign in %s: %v", subject, err)
	}
	return p
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

// auditActions lists the tenant's audit actions, oldest first, with their
// purpose codes ("auth.login_failed/no_role").
func auditActions(t *testing.T, s *tenants.Store, tenant uuid.UUID) []string {
	t.Helper()
	var out []string
	must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		page, err := tenants.ListAudit(tx, tenants.AuditQuery{Limit: 200})
		for i := len(page.Entries) - 1; i >= 0; i-- {
			e := page.Entries[i]
			a := e.Action
			if e.Purpose != "" {
				a += "/" + e.Purpose
			}
			out = append(out, a)
		}
		return err
	}))
	return out
}

func TestSignIn(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tenant := orgWithProvider(t, s, testIssuer)

			p, m, err := s.SignIn(ctx, tenant, testIssuer, "alice", []string{"staff", "unmapped"})
			must(t, err)
			if !slices.Equal(p.Roles, []tenants.Role{tenants.RoleCaseManager, tenants.RoleCounsellor}) || p.TenantID != tenant ||
				p.Actor.Kind != tenants.ActorMember || p.Actor.Subject != "alice" || *p.Actor.MemberID != m.ID || p.Locale != "en" || p.ViaToken {
				t.Fatalf("principal = %+v", p)
			}
			// The mapping is taken again at every sign-in; the membership stays.
			p2, m2, err := s.SignIn(ctx, tenant, testIssuer, "alice", []string{"g-lawyer"})
			must(t, err)
			if m2.ID != m.ID || !slices.Equal(p2.Roles, []tenants.Role{tenants.RoleLawyer}) || m2.LastLoginAt == nil {
				t.Fatalf("second sign-in: %+v %+v", p2, m2)
			}

			// No group maps: refused, nothing created, audited.
			_, _, err = s.SignIn(ctx, tenant, testIssuer, "bob", []string{"visitors"})
			wantCode(t, "no role", err, homeward.EFORBIDDEN)
			if err == nil || !strings.Contains(err.Error(), "no role for your groups") {
				t.Errorf("no role: %v", err)
			}
			if orgs, _ := s.OrganisationsOf(ctx, testIssuer, "bob"); len(orgs) != 0 {
				t.Errorf("a refused identity got a membership: %+v", orgs)
			}
			// Another issuer than the organisation's.
			_, _, err = s.SignIn(ctx, tenant, "https://evil.example.org", "alice", []string{"staff"})
			wantCode(t, "wrong issuer", err, homeward.EFORBIDDEN)

			// Disabled: refused at sign-in, and the session's principal goes.
			admin := signIn(t, s, tenant, "admin", "g-tenant_admin")
			actx := tenants.WithPrincipal(ctx, admin)
			if _, err := s.PrincipalOf(ctx, m.ID); err != nil {
				t.Fatalf("control: PrincipalOf before disabling: %v", err)
			}
			_, err = s.SetMemberDisabled(actx, m.ID, true)
			must(t, err)
			_, _, err = s.SignIn(ctx, tenant, testIssuer, "alice", []string{"staff"})
			wantCode(t, "disabled", err, homeward.EFORBIDDEN)
			_, err = s.PrincipalOf(ctx, m.ID)
			wantCode(t, "PrincipalOf disabled", err, homeward.EUNAUTHENTICATED)
			_, err = s.SetMemberDisabled(actx, m.ID, false)
			must(t, err)
			if _, err := s.PrincipalOf(ctx, m.ID); err != nil {
				t.Fatalf("PrincipalOf enabled again: %v", err)
			}

			// Suspended organisation: refused and ended.
			slug := tenantSlug(t, s, tenant)
			_, err = s.SetTenantStatus(ctx, slug, tenants.StatusSuspended)
			must(t, err)
			_, _, err = s.SignIn(ctx, tenant, testIssuer, "alice", []string{"staff"})
			wantCode(t, "suspended sign-in", err, homeward.EFORBIDDEN)
			_, err = s.PrincipalOf(ctx, m.ID)
			wantCode(t, "PrincipalOf suspended", err, homeward.EUNAUTHENTICATED)
			_, err = s.SetTenantStatus(ctx, slug, tenants.StatusActive)
			must(t, err)
			if _, err := s.PrincipalOf(ctx, m.ID); err != nil {
				t.Fatalf("PrincipalOf resumed: %v", err)
			}

			// Failed sign-ins reported by the login flow.
			must(t, s.AuditLoginFailed(ctx, tenant, "state_mismatch"))
			if err := s.AuditLoginFailed(ctx, tenant, "Bob's e-mail"); err == nil {
				t.Error("free text accepted as a login failure reason")
			}

			want := []string{"idp.change", "auth.login", "auth.login", "auth.login_failed/no_role", "auth.login_failed/wrong_issuer",
				"auth.login", "member.disable", "auth.login_failed/disabled", "member.enable", "auth.login_failed/suspended",
				"auth.login_failed/state_mismatch"}
			if got := auditActions(t, s, tenant); !slices.Equal(got, want) {
				t.Errorf("audit:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func tenantSlug(t *testing.T, s *tenants.Store, id uuid.UUID) string {
	t.Helper()
	ts, err := s.Tenants(context.Background())
	must(t, err)
	for _, tn := range ts {
		if tn.ID == id {
			return tn.Slug
		}
	}
	t.Fatalf("no tenant %s", id)
	return ""
}

func TestOrganisationsOf(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	a, b, c := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
	subject := "switcher-" + uuid.NewString()
	signIn(t, s, a, subject, "g-lawyer")
	mb := signIn(t, s, b, subject, "staff")
	signIn(t, s, c, subject, "g-auditor")
	admin := signIn(t, s, c, "admin-"+uuid.NewString(), "g-tenant_admin")
	// Disabled in c: not offered.
	orgs, err := s.OrganisationsOf(ctx, testIssuer, subject)
	must(t, err)
	if len(orgs) != 3 {
		t.Fatalf("control: %d organisations, want 3", len(orgs))
	}
	for _, o := range orgs {
		if o.TenantID == c {
			_, err := s.SetMemberDisabled(tenants.WithPrincipal(ctx, admin), o.MembershipID, true)
			must(t, err)
		}
	}
	orgs, err = s.OrganisationsOf(ctx, testIssuer, subject)
	must(t, err)
	if len(orgs) != 2 {
		t.Fatalf("after disabling in c: %+v", orgs)
	}
	for _, o := range orgs {
		if o.TenantID == b && (o.MembershipID != *mb.Actor.MemberID || !slices.Equal(o.Roles, mb.Roles)) {
			t.Errorf("b: %+v", o)
		}
	}
	if other, _ := s.OrganisationsOf(ctx, "https://elsewhere.example.org", subject); len(other) != 0 {
		t.Errorf("the same subject at another issuer is another person: %+v", other)
	}
}

func TestMembersAdministration(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
			admin := signIn(t, s, a, "a-admin", "g-tenant_admin")
			auditor := signIn(t, s, a, "a-auditor", "g-auditor")
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			for i := range 5 {
				signIn(t, s, a, "a-member-"+string(rune('0'+i)), "staff")
			}
			bAdmin := signIn(t, s, b, "b-admin", "g-tenant_admin")
			bMember := signIn(t, s, b, "b-member", "staff")

			// Read: tenant admin and auditor, paged, own organisation only.
			for _, p := range []*tenants.Principal{admin, auditor} {
				var subjects []string
				q := tenants.MemberQuery{Limit: 3}
				for pages := 0; ; pages++ {
					page, err := s.Members(tenants.WithPrincipal(ctx, p), q)
					must(t, err)
					for _, m := range page.Members {
						subjects = append(subjects, m.Subject)
					}
					if page.Next == "" {
						break
					}
					q.Cursor = page.Next
				}
				if len(subjects) != 8 || slices.Contains(subjects, "b-admin") || slices.Contains(subjects, "b-member") {
					t.Errorf("%v: members %v", p.Roles, subjects)
				}
			}
			page, err := s.Members(tenants.WithPrincipal(ctx, admin), tenants.MemberQuery{SubjectPrefix: "a-member-"})
			must(t, err)
			if len(page.Members) != 5 {
				t.Errorf("search a-member-: %d members", len(page.Members))
			}
			_, err = s.Members(tenants.WithPrincipal(ctx, admin), tenants.MemberQuery{SubjectPrefix: "a-", Cursor: encodeOther(t, s, admin)})
			wantCode(t, "a cursor of another search", err, homeward.EINVALID)
			_, err = s.Members(tenants.WithPrincipal(ctx, admin), tenants.MemberQuery{Limit: 201})
			wantCode(t, "limit 201", err, homeward.EINVALID)
			_, err = s.Members(tenants.WithPrincipal(ctx, worker), tenants.MemberQuery{})
			wantCode(t, "social worker lists members", err, homeward.EFORBIDDEN)
			_, err = s.Members(ctx, tenants.MemberQuery{})
			wantCode(t, "anonymous lists members", err, homeward.EUNAUTHENTICATED)
			_, err = s.Members(operatorCtx(), tenants.MemberQuery{})
			wantCode(t, "operator lists members", err, homeward.EFORBIDDEN)

			// Write: tenant admin only, own organisation only.
			target := *worker.Actor.MemberID
			_, err = s.SetMemberDisabled(tenants.WithPrincipal(ctx, auditor), target, true)
			wantCode(t, "auditor disables", err, homeward.EFORBIDDEN)
			_, err = s.SetMemberDisabled(tenants.WithPrincipal(ctx, bAdmin), target, true)
			wantCode(t, "other organisation's admin disables", err, homeward.ENOTFOUND)
			_, err = s.SetMemberDisabled(tenants.WithPrincipal(ctx, admin), *admin.Actor.MemberID, true)
			wantCode(t, "admin disables themselves", err, homeward.ECONFLICT)
			m, err := s.SetMemberDisabled(tenants.WithPrincipal(ctx, admin), target, true)
			must(t, err)
			if !m.Disabled || m.Subject != "a-worker" {
				t.Errorf("disabled: %+v", m)
			}

			// Role overrides replace the previous ones.
			m, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), *bMember.Actor.MemberID, []tenants.Role{tenants.RoleLawyer}, nil)
			wantCode(t, "roles of another organisation's member", err, homeward.ENOTFOUND)
			staff := *signIn(t, s, a, "a-member-0", "staff").Actor.MemberID
			m, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), staff, []tenants.Role{tenants.RoleLawyer}, []tenants.Role{tenants.RoleCounsellor})
			must(t, err)
			if !slices.Equal(m.Roles, []tenants.Role{tenants.RoleCaseManager, tenants.RoleLawyer}) {
				t.Errorf("roles after override: %v", m.Roles)
			}
			p, err := s.PrincipalOf(ctx, staff)
			must(t, err)
			if !slices.Equal(p.Roles, m.Roles) {
				t.Errorf("PrincipalOf after override: %v", p.Roles)
			}
			m, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), staff, nil, nil)
			must(t, err)
			if !slices.Equal(m.Roles, []tenants.Role{tenants.RoleCaseManager, tenants.RoleCounsellor}) {
				t.Errorf("roles after clearing the overrides: %v", m.Roles)
			}
			// Every role removed: no principal.
			_, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), staff, nil, []tenants.Role{tenants.RoleCaseManager, tenants.RoleCounsellor})
			must(t, err)
			_, err = s.PrincipalOf(ctx, staff)
			wantCode(t, "no role left", err, homeward.EUNAUTHENTICATED)
			for _, tc := range []struct {
				add, remove []tenants.Role
				field       string
			}{
				{[]tenants.Role{tenants.RolePlatformOperator}, nil, "add"},
				{[]tenants.Role{"chief"}, nil, "add"},
				{nil, []tenants.Role{"chief"}, "remove"},
				{[]tenants.Role{tenants.RoleLawyer}, []tenants.Role{tenants.RoleLawyer}, "remove"},
			} {
				_, err := s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), staff, tc.add, tc.remove)
				var he *homeward.Error
				if !errors.As(err, &he) || he.Fields[tc.field] == "" {
					t.Errorf("add %v remove %v: %v, want invalid naming %s", tc.add, tc.remove, err, tc.field)
				}
			}
			_, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, admin), *admin.Actor.MemberID, nil, []tenants.Role{tenants.RoleTenantAdmin})
			wantCode(t, "admin removes their own tenant_admin", err, homeward.ECONFLICT)

			got := auditActions(t, s, a)
			if n := countOf(got, "member.disable"); n != 1 {
				t.Errorf("member.disable audited %d times: %v", n, got)
			}
			if n := countOf(got, "member.roles"); n != 3 {
				t.Errorf("member.roles audited %d times: %v", n, got)
			}
			if slices.Contains(auditActions(t, s, b), "member.disable") {
				t.Error("a's change audited in b's chain")
			}
		})
	}
}

// encodeOther returns a cursor made for the search "a-member-".
func encodeOther(t *testing.T, s *tenants.Store, admin *tenants.Principal) string {
	t.Helper()
	page, err := s.Members(tenants.WithPrincipal(context.Background(), admin), tenants.MemberQuery{Limit: 1, SubjectPrefix: "a-member-"})
	must(t, err)
	if page.Next == "" {
		t.Fatal("no next page")
	}
	return page.Next
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func TestIdentityProviderSettings(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := orgWithProvider(t, s, testIssuer)
			b := tenanttest.NewTenant(t, s)
			admin := signIn(t, s, a, "admin", "g-tenant_admin")
			auditor := signIn(t, s, a, "auditor", "g-auditor")
			worker := signIn(t, s, a, "worker", "g-social_worker")

			got, err := s.IdentityProviderSettings(tenants.WithPrincipal(ctx, auditor))
			must(t, err)
			if got.Issuer != testIssuer || !got.ClientSecretSet || got.GroupsClaim != "groups" || !slices.Equal(got.Scopes, []string{"openid"}) {
				t.Errorf("settings: %+v", got)
			}
			_, err = s.IdentityProviderSettings(tenants.WithPrincipal(ctx, worker))
			wantCode(t, "social worker reads", err, homeward.EFORBIDDEN)
			_, err = s.IdentityProviderSettings(operatorCtx())
			wantCode(t, "operator reads", err, homeward.EFORBIDDEN)

			// The secret is kept unless given, and read only by the login flow.
			change := tenants.IdentityProviderChange{
				Issuer: testIssuer, ClientID: "client-" + a.String(), Scopes: []string{"profile", "openid", "groups"},
				GroupsClaim: "roles", GroupRoles: map[string][]tenants.Role{"admins": {tenants.RoleTenantAdmin}, "staff": {tenants.RoleSocialWorker}},
				EmailDomains: []string{"AFESIP.org"},
			}
			got, err = s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), a, change)
			must(t, err)
			if !got.ClientSecretSet || !slices.Equal(got.Scopes, []string{"openid", "profile", "groups"}) || !slices.Equal(got.EmailDomains, []string{"afesip.org"}) {
				t.Errorf("after put: %+v", got)
			}
			must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
				idp, err := tenants.IdentityProviderOf(tx)
				if err == nil && idp.ClientSecret != "s3cret-"+a.String() {
					t.Errorf("client secret = %q", idp.ClientSecret)
				}
				return err
			}))
			empty := ""
			change.ClientSecret = &empty
			got, err = s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), a, change)
			must(t, err)
			if got.ClientSecretSet {
				t.Error("secret still set after clearing it")
			}

			_, err = s.PutIdentityProvider(tenants.WithPrincipal(ctx, auditor), a, change)
			wantCode(t, "auditor writes", err, homeward.EFORBIDDEN)
			_, err = s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), b, change)
			wantCode(t, "admin writes another organisation's", err, homeward.EFORBIDDEN)
			_, err = s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), uuid.Nil, change)
			wantCode(t, "no organisation", err, homeward.EFORBIDDEN)
			// Another organisation may not take the same client.
			_, err = s.PutIdentityProvider(operatorCtx(), b, change)
			wantCode(t, "the same client in b", err, homeward.ECONFLICT)
			change.ClientID = "client-" + b.String()
			_, err = s.PutIdentityProvider(operatorCtx(), b, change)
			must(t, err) // control: its own client

			for _, tc := range []struct {
				edit  func(*tenants.IdentityProviderChange)
				field string
			}{
				{func(c *tenants.IdentityProviderChange) { c.Issuer = "http://idp.example.org" }, "issuer"},
				{func(c *tenants.IdentityProviderChange) { c.Issuer = "https://idp.example.org/?x=1" }, "issuer"},
				{func(c *tenants.IdentityProviderChange) { c.Issuer = "idp.example.org" }, "issuer"},
				{func(c *tenants.IdentityProviderChange) { c.ClientID = " " }, "client_id"},
				{func(c *tenants.IdentityProviderChange) { c.GroupsClaim = "my groups" }, "groups_claim"},
				{func(c *tenants.IdentityProviderChange) { c.GroupRoles = nil }, "group_roles"},
				{func(c *tenants.IdentityProviderChange) {
					c.GroupRoles = map[string][]tenants.Role{"ops": {tenants.RolePlatformOperator}}
				}, "group_roles"},
				{func(c *tenants.IdentityProviderChange) { c.GroupRoles = map[string][]tenants.Role{"x": {"boss"}} }, "group_roles"},
				{func(c *tenants.IdentityProviderChange) { c.Scopes = []string{"bad scope"} }, "scopes"},
				{func(c *tenants.IdentityProviderChange) { c.EmailDomains = []string{"not a domain"} }, "email_domains"},
			} {
				c := change
				c.GroupRoles = map[string][]tenants.Role{"staff": {tenants.RoleSocialWorker}}
				tc.edit(&c)
				_, err := s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), a, c)
				var he *homeward.Error
				if !errors.As(err, &he) || he.Fields[tc.field] == "" {
					t.Errorf("want invalid naming %s, got %v", tc.field, err)
				}
			}
			// http is fine on loopback, and anywhere in demo mode.
			for _, c := range []tenants.IdentityProviderChange{
				{Issuer: "http://127.0.0.1:5556/dex", AllowPlainHTTP: false},
				{Issuer: "http://localhost:8080/demo-idp", AllowPlainHTTP: false},
				{Issuer: "http://192.168.1.20:8080/demo-idp", AllowPlainHTTP: true},
			} {
				c.ClientID, c.GroupsClaim, c.GroupRoles = "client-"+a.String(), "groups", map[string][]tenants.Role{"staff": {tenants.RoleSocialWorker}}
				if _, err := s.PutIdentityProvider(tenants.WithPrincipal(ctx, admin), a, c); err != nil {
					t.Errorf("%s: %v", c.Issuer, err)
				}
			}
			if n := countOf(auditActions(t, s, a), "idp.change"); n != 6 {
				t.Errorf("idp.change audited %d times, want 6", n)
			}
		})
	}
}

func TestIdentityProviderRoutes(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, "https://other.example.org")
	routes, err := s.IdentityProviderRoutes(context.Background())
	must(t, err)
	found := map[uuid.UUID]tenants.ProviderRoute{}
	for _, r := range routes {
		found[r.TenantID] = r
	}
	if found[a].Issuer != testIssuer || found[a].ClientID != "client-"+a.String() || found[b].Issuer != "https://other.example.org" {
		t.Errorf("routes: %+v", found)
	}
	_, err = s.SetTenantStatus(context.Background(), tenantSlug(t, s, b), tenants.StatusSuspended)
	must(t, err)
	routes, err = s.IdentityProviderRoutes(context.Background())
	must(t, err)
	for _, r := range routes {
		if r.TenantID == b {
			t.Error("a suspended organisation is still routed to")
		}
	}
}

func TestBearerPrincipal(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	a := orgWithProvider(t, s, testIssuer)
	claims := map[string]any{"groups": []any{"g-auditor", 7}}
	p, err := s.BearerPrincipal(ctx, a, testIssuer, "robot", claims)
	must(t, err)
	if !slices.Equal(p.Roles, []tenants.Role{tenants.RoleAuditor}) || p.ViaToken {
		t.Fatalf("principal %+v", p)
	}
	_, err = s.BearerPrincipal(ctx, a, testIssuer, "robot", map[string]any{"groups": "nobody"})
	wantCode(t, "no role", err, homeward.EFORBIDDEN)
	_, err = s.BearerPrincipal(ctx, a, "https://other.example.org", "robot", claims)
	wantCode(t, "other issuer", err, homeward.EUNAUTHENTICATED)
	admin := signIn(t, s, a, "admin", "g-tenant_admin")
	_, err = s.SetMemberDisabled(tenants.WithPrincipal(ctx, admin), *p.Actor.MemberID, true)
	must(t, err)
	_, err = s.BearerPrincipal(ctx, a, testIssuer, "robot", claims)
	wantCode(t, "disabled", err, homeward.EUNAUTHENTICATED)
	// No login audited for bearer requests.
	if n := countOf(auditActions(t, s, a), "auth.login"); n != 1 {
		t.Errorf("auth.login audited %d times, want 1 (the admin's)", n)
	}
}

func TestAPITokens(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
			admin := signIn(t, s, a, "admin", "g-tenant_admin")
			auditor := signIn(t, s, a, "auditor", "g-auditor")
			bAdmin := signIn(t, s, b, "b-admin", "g-tenant_admin")
			actx := tenants.WithPrincipal(ctx, admin)
			week := time.Now().Add(7 * 24 * time.Hour)

			created, err := s.CreateAPIToken(actx, tenants.NewAPIToken{Name: "reporting", Roles: []tenants.Role{tenants.RoleAuditor, tenants.RoleFinanceOfficer}, ExpiresAt: week})
			must(t, err)
			if !strings.HasPrefix(created.Token, "hw_") || len(created.Token) != 46 || !strings.HasPrefix(created.Token, created.Prefix) {
				t.Fatalf("token %q prefix %q", created.Token, created.Prefix)
			}
			p, err := s.AuthenticateAPIToken(ctx, created.Token)
			must(t, err)
			if !p.ViaToken || p.TenantID != a || !slices.Equal(p.Roles, []tenants.Role{tenants.RoleFinanceOfficer, tenants.RoleAuditor}) ||
				p.Actor.Kind != tenants.ActorAPIToken || *p.Actor.MemberID != *admin.Actor.MemberID {
				t.Fatalf("token principal %+v", p)
			}
			// A token cannot make tokens; an auditor cannot either.
			_, err = s.CreateAPIToken(tenants.WithPrincipal(ctx, p), tenants.NewAPIToken{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: week})
			wantCode(t, "token makes a token", err, homeward.EFORBIDDEN)
			_, err = s.CreateAPIToken(tenants.WithPrincipal(ctx, auditor), tenants.NewAPIToken{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: week})
			wantCode(t, "auditor makes a token", err, homeward.EFORBIDDEN)
			for _, n := range []tenants.NewAPIToken{
				{Name: "", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: week},
				{Name: "x", Roles: nil, ExpiresAt: week},
				{Name: "x", Roles: []tenants.Role{tenants.RolePlatformOperator}, ExpiresAt: week},
				{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}},
				{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: time.Now().Add(-time.Minute)},
				{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: time.Now().Add(400 * 24 * time.Hour)},
			} {
				_, err := s.CreateAPIToken(actx, n)
				wantCode(t, "invalid token "+n.Name, err, homeward.EINVALID)
			}

			// Listed per organisation, without the secret.
			page, err := s.APITokens(tenants.WithPrincipal(ctx, auditor), tenants.APITokenQuery{})
			must(t, err)
			if len(page.Tokens) != 1 || page.Tokens[0].Name != "reporting" {
				t.Errorf("a's tokens: %+v", page.Tokens)
			}
			page, err = s.APITokens(tenants.WithPrincipal(ctx, bAdmin), tenants.APITokenQuery{})
			must(t, err)
			if len(page.Tokens) != 0 {
				t.Errorf("b sees a's tokens: %+v", page.Tokens)
			}

			// token.use: once per hour, not on every request.
			for range 3 {
				_, err := s.AuthenticateAPIToken(ctx, created.Token)
				must(t, err)
			}
			if n := countOf(auditActions(t, s, a), "token.use"); n != 1 {
				t.Errorf("token.use audited %d times in the hour, want 1", n)
			}

			// Revoked by b's admin: not found; by a's: gone.
			_, err = s.RevokeAPIToken(tenants.WithPrincipal(ctx, bAdmin), created.ID)
			wantCode(t, "b revokes a's token", err, homeward.ENOTFOUND)
			if _, err := s.AuthenticateAPIToken(ctx, created.Token); err != nil {
				t.Fatalf("control before revoking: %v", err)
			}
			r, err := s.RevokeAPIToken(actx, created.ID)
			must(t, err)
			if r.Status(time.Now()) != tenants.TokenRevoked {
				t.Errorf("status %s", r.Status(time.Now()))
			}
			_, err = s.AuthenticateAPIToken(ctx, created.Token)
			wantCode(t, "revoked", err, homeward.EUNAUTHENTICATED)
			_, err = s.RevokeAPIToken(actx, created.ID)
			must(t, err) // again: nothing changes

			for _, bad := range []string{"", "hw_", "hw_short", created.Token[:45] + "!", "Bearer " + created.Token, newLookalike(created.Token)} {
				_, err := s.AuthenticateAPIToken(ctx, bad)
				wantCode(t, "bad token "+bad, err, homeward.EUNAUTHENTICATED)
			}

			// The maker's rights are the token's limit.
			second, err := s.CreateAPIToken(actx, tenants.NewAPIToken{Name: "second", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: week})
			must(t, err)
			other := signIn(t, s, a, "admin2", "g-tenant_admin")
			_, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, other), *admin.Actor.MemberID, nil, []tenants.Role{tenants.RoleTenantAdmin})
			must(t, err)
			_, err = s.AuthenticateAPIToken(ctx, second.Token)
			wantCode(t, "maker no longer admin", err, homeward.EUNAUTHENTICATED)
			_, err = s.SetMemberRoles(tenants.WithPrincipal(ctx, other), *admin.Actor.MemberID, nil, nil)
			must(t, err)
			if _, err := s.AuthenticateAPIToken(ctx, second.Token); err != nil {
				t.Errorf("maker admin again: %v", err)
			}
			want := []string{"token.create", "token.use", "token.revoke", "token.create", "token.use"}
			var got []string
			for _, x := range auditActions(t, s, a) {
				if strings.HasPrefix(x, "token.") {
					got = append(got, x)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("token audit %v, want %v", got, want)
			}
		})
	}
}

// newLookalike is a well-formed token nobody made.
func newLookalike(token string) string {
	b := []byte(token)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}

func TestOperatorTokens(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	a := orgWithProvider(t, s, testIssuer)
	year := time.Now().Add(300 * 24 * time.Hour)
	octx := tenants.WithActor(ctx, tenants.OperatorPrincipal("ops").Actor)

	_, err := s.IssueOperatorToken(ctx, uuid.Nil, tenants.NewAPIToken{Name: "prometheus", Roles: []tenants.Role{tenants.RolePlatformOperator}, ExpiresAt: year})
	wantCode(t, "without an operator actor", err, homeward.EFORBIDDEN)
	platform, err := s.IssueOperatorToken(octx, uuid.Nil, tenants.NewAPIToken{Name: "prometheus", Roles: []tenants.Role{tenants.RolePlatformOperator}, ExpiresAt: year})
	must(t, err)
	p, err := s.AuthenticateAPIToken(ctx, platform.Token)
	must(t, err)
	if p.TenantID != uuid.Nil || !slices.Equal(p.Roles, []tenants.Role{tenants.RolePlatformOperator}) || !p.Can(tenants.PermOperations) || p.Can(tenants.PermMembersRead) {
		t.Errorf("platform principal %+v", p)
	}
	_, err = s.IssueOperatorToken(octx, uuid.Nil, tenants.NewAPIToken{Name: "x", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: year})
	wantCode(t, "platform token with an organisation role", err, homeward.EINVALID)

	org, err := s.IssueOperatorToken(octx, a, tenants.NewAPIToken{Name: "bootstrap", Roles: []tenants.Role{tenants.RoleTenantAdmin}, ExpiresAt: year})
	must(t, err)
	p, err = s.AuthenticateAPIToken(ctx, org.Token)
	must(t, err)
	if p.TenantID != a || !p.Has(tenants.RoleTenantAdmin) || p.Actor.MemberID != nil {
		t.Errorf("organisation principal %+v", p)
	}
	var actors []tenants.Actor
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: "api_token"})
		for _, e := range page.Entries {
			if e.Action == "token.create" {
				actors = append(actors, e.Actor)
			}
		}
		return err
	}))
	if len(actors) != 1 || actors[0].Kind != tenants.ActorOperator || actors[0].Subject != "ops" {
		t.Errorf("token.create actors %+v", actors)
	}

	// A suspended organisation's tokens stop; the platform's do not.
	_, err = s.SetTenantStatus(ctx, tenantSlug(t, s, a), tenants.StatusSuspended)
	must(t, err)
	_, err = s.AuthenticateAPIToken(ctx, org.Token)
	wantCode(t, "suspended organisation's token", err, homeward.EUNAUTHENTICATED)
	if _, err := s.AuthenticateAPIToken(ctx, platform.Token); err != nil {
		t.Errorf("platform token: %v", err)
	}
}

func TestDistinctApprover(t *testing.T) {
	member := func(issuer, subject string, id uuid.UUID) *tenants.Principal {
		return &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: issuer, Subject: subject, MemberID: &id}}
	}
	aliceID, bobID := uuid.New(), uuid.New()
	alice, bob := member(testIssuer, "alice", aliceID), member(testIssuer, "bob", bobID)
	aliceElsewhere := member(testIssuer, "alice", uuid.New()) // same identity, another organisation's membership
	aliceToken := &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorAPIToken, Issuer: "homeward", Subject: "api_token:x", MemberID: &aliceID}, ViaToken: true}
	bobToken := &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorAPIToken, Issuer: "homeward", Subject: "api_token:y", MemberID: &bobID}, ViaToken: true}
	sameSubjectOtherIssuer := member("https://other.example.org", "alice", uuid.New())

	for _, tc := range []struct {
		name                string
		requester, approver *tenants.Principal
		code                string
	}{
		{"two people", alice, bob, ""},
		{"a token's request, approved by another person", aliceToken, bob, ""},
		{"the same subject at another provider is another person", alice, sameSubjectOtherIssuer, ""},
		{"one person twice", alice, alice, homeward.EFORBIDDEN},
		{"one identity through two memberships", alice, aliceElsewhere, homeward.EFORBIDDEN},
		{"an API token approves", alice, bobToken, homeward.EFORBIDDEN},
		{"a token approves its maker's request", alice, aliceToken, homeward.EFORBIDDEN},
		{"the maker approves their token's request", aliceToken, alice, homeward.EFORBIDDEN},
		{"nobody approves", alice, nil, homeward.EUNAUTHENTICATED},
	} {
		if got := homeward.ErrorCode(tenants.DistinctApprover(tc.requester, tc.approver)); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
}
