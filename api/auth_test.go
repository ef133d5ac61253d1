package api

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// wantStatus checks a response's status; 401s must say how to authenticate.
func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d, want %d: %s", what, r.status, status, r.body)
		return
	}
	if status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 without WWW-Authenticate: Bearer (%v)", what, r.header)
	}
}

func TestMe(t *testing.T) {
	s := storeForTest(t)
	org := newTestOrg(t, s, newTestProvider(t, 0))
	app := authServer(t, s)

	r := call(t, app, "GET", "/api/v1/me", org.jwt[tenants.RoleCaseManager], "")
	wantStatus(t, "case manager", r, 200)
	m := decode(t, r.body)
	tenant, _ := m["tenant"].(map[string]any)
	if tenant["slug"] != org.slug || tenant["name"] != "Organisation "+org.slug || m["locale"] != "en" ||
		len(m["roles"].([]any)) != 1 || m["roles"].([]any)[0] != "case_manager" {
		t.Errorf("/me = %s", r.body)
	}
	r = call(t, app, "GET", "/api/v1/me", platformToken(t, s), "")
	wantStatus(t, "operator", r, 200)
	if r.body != `{"tenant":null,"roles":["platform_operator"],"locale":"en"}` {
		t.Errorf("operator /me = %s", r.body)
	}
	wantStatus(t, "anonymous", call(t, app, "GET", "/api/v1/me", "", ""), 401)
	for _, bad := range []string{"Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token", "Bearer hw_short"} {
		r := do(t, app, "GET", "/api/v1/me", nil, "Authorization", bad)
		wantStatus(t, bad, r, 401)
		if r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("%s: WWW-Authenticate %q", bad, r.header.Get("WWW-Authenticate"))
		}
	}
}

// TestAPITokenLifecycle: made by a tenant admin and shown once, used,
// listed without its secret, revoked and expired (401 next to a token that
// still works), never made by a token.
func TestAPITokenLifecycle(t *testing.T) {
	s := storeForTest(t)
	org := newTestOrg(t, s, newTestProvider(t, 0))
	app := authServer(t, s)
	admin := org.jwt[tenants.RoleTenantAdmin]
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	create := func(name string) (id, token string) {
		t.Helper()
		r := call(t, app, "POST", "/api/v1/tokens", admin, `{"name":"`+name+`","roles":["auditor","finance_officer"],"expires_at":"`+expires+`"}`)
		wantStatus(t, "create "+name, r, 201)
		var body struct{ ID, Token, Status string }
		json.Unmarshal([]byte(r.body), &body)
		if !strings.HasPrefix(body.Token, "hw_") || len(body.Token) != 46 || body.Status != "active" {
			t.Fatalf("created %s", r.body)
		}
		return body.ID, body.Token
	}
	id, token := create("reporting")
	_, control := create("control")

	r := call(t, app, "GET", "/api/v1/me", token, "")
	wantStatus(t, "use", r, 200)
	if !strings.Contains(r.body, `"roles":["finance_officer","auditor"]`) {
		t.Errorf("token /me = %s", r.body)
	}
	wantStatus(t, "the token reads members (auditor)", call(t, app, "GET", "/api/v1/members", token, ""), 200)
	r = call(t, app, "GET", "/api/v1/tokens", admin, "")
	wantStatus(t, "list", r, 200)
	if strings.Contains(r.body, token[3:]) || !strings.Contains(r.body, `"name":"reporting"`) || !strings.Contains(r.body, token[:9]) {
		t.Errorf("the list shows the secret, or not the token: %s", r.body)
	}
	// A token never makes tokens, whatever its roles.
	adminTokenBody := `{"name":"admin","roles":["tenant_admin"],"expires_at":"` + expires + `"}`
	r = call(t, app, "POST", "/api/v1/tokens", admin, adminTokenBody)
	wantStatus(t, "an admin token", r, 201)
	var adminToken struct{ Token string }
	json.Unmarshal([]byte(r.body), &adminToken)
	wantStatus(t, "the admin token lists members", call(t, app, "GET", "/api/v1/members", adminToken.Token, ""), 200)
	wantStatus(t, "the admin token makes a token", call(t, app, "POST", "/api/v1/tokens", adminToken.Token, adminTokenBody), 403)
	for _, bad := range []string{
		`{"name":"x","roles":["auditor"]}`,
		`{"name":"x","roles":["platform_operator"],"expires_at":"` + expires + `"}`,
		`{"name":"x","roles":["auditor"],"expires_at":"2999-01-01T00:00:00Z"}`,
		`{"name":"x","roles":["auditor"],"expires_at":"tomorrow"}`,
		`{"name":"","roles":["auditor"],"expires_at":"` + expires + `"}`,
	} {
		wantStatus(t, bad, call(t, app, "POST", "/api/v1/tokens", admin, bad), 422)
	}

	// Revoked: 401 with the next request; the other token still works.
	wantStatus(t, "revoke", call(t, app, "DELETE", "/api/v1/tokens/"+id, admin, ""), 204)
	wantStatus(t, "revoked token", call(t, app, "GET", "/api/v1/me", token, ""), 401)
	wantStatus(t, "control token", call(t, app, "GET", "/api/v1/me", control, ""), 200)
	if !strings.Contains(call(t, app, "GET", "/api/v1/tokens", admin, "").body, `"status":"revoked"`) {
		t.Error("the list does not show the token revoked")
	}

	// Expired (moved into the past by the owner: the app role may not
	// write it so): 401; the control works.
	owner, err := sql.Open("pgx", tenanttest.Postgres(t).OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Exec(`UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second'
WHERE token_hash = sha256($1::bytea)`, control); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "expired token", call(t, app, "GET", "/api/v1/me", control, ""), 401)
	wantStatus(t, "control: the admin token", call(t, app, "GET", "/api/v1/me", adminToken.Token, ""), 200)
	if !strings.Contains(call(t, app, "GET", "/api/v1/tokens", admin, "").body, `"status":"expired"`) {
		t.Error("the list does not show the token expired")
	}
	wantStatus(t, "an unknown token", call(t, app, "GET", "/api/v1/me", "hw_"+strings.Repeat("A", 43), ""), 401)
}

// TestChangesTakeEffectOnTheNextRequest: disabling a member, removing a
// role and suspending the organisation each change the very next request,
// for JWTs and API tokens alike.
func TestChangesTakeEffectOnTheNextRequest(t *testing.T) {
	s := storeForTest(t)
	org := newTestOrg(t, s, newTestProvider(t, 0))
	app := authServer(t, s)
	admin := org.jwt[tenants.RoleTenantAdmin]

	// A member who is auditor and counsellor.
	subject := org.subject("two-roles")
	member := *org.signIn(t, s, subject, tenants.RoleAuditor, tenants.RoleCounsellor).Actor.MemberID
	bearer := org.bearer(t, subject, tenants.RoleAuditor, tenants.RoleCounsellor)

	t.Run("disable", func(t *testing.T) {
		wantStatus(t, "before", call(t, app, "GET", "/api/v1/me", bearer, ""), 200)
		wantStatus(t, "disable", call(t, app, "POST", "/api/v1/members/"+member.String()+"/disable", admin, ""), 200)
		wantStatus(t, "disabled member", call(t, app, "GET", "/api/v1/me", bearer, ""), 401)
		wantStatus(t, "control: another member", call(t, app, "GET", "/api/v1/me", org.jwt[tenants.RoleLawyer], ""), 200)
		wantStatus(t, "enable", call(t, app, "POST", "/api/v1/members/"+member.String()+"/enable", admin, ""), 200)
		wantStatus(t, "enabled again", call(t, app, "GET", "/api/v1/me", bearer, ""), 200)
	})
	t.Run("remove a role", func(t *testing.T) {
		wantStatus(t, "auditor reads members", call(t, app, "GET", "/api/v1/members", bearer, ""), 200)
		r := call(t, app, "PUT", "/api/v1/members/"+member.String()+"/roles", admin, `{"add":[],"remove":["auditor"]}`)
		wantStatus(t, "remove auditor", r, 200)
		if !strings.Contains(r.body, `"roles":["counsellor"]`) {
			t.Errorf("member after removing auditor: %s", r.body)
		}
		wantStatus(t, "no longer auditor", call(t, app, "GET", "/api/v1/members", bearer, ""), 403)
		wantStatus(t, "still signed in as counsellor", call(t, app, "GET", "/api/v1/me", bearer, ""), 200)
		wantStatus(t, "clear the overrides", call(t, app, "PUT", "/api/v1/members/"+member.String()+"/roles", admin, `{"add":[],"remove":[]}`), 200)
		wantStatus(t, "auditor again", call(t, app, "GET", "/api/v1/members", bearer, ""), 200)
	})
	t.Run("suspend the organisation", func(t *testing.T) {
		token := org.adminToken(t, s)
		wantStatus(t, "JWT before", call(t, app, "GET", "/api/v1/me", bearer, ""), 200)
		wantStatus(t, "token before", call(t, app, "GET", "/api/v1/me", token, ""), 200)
		if _, err := s.SetTenantStatus(context.Background(), org.slug, tenants.StatusSuspended); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "JWT suspended", call(t, app, "GET", "/api/v1/me", bearer, ""), 401)
		wantStatus(t, "token suspended", call(t, app, "GET", "/api/v1/me", token, ""), 401)
		if _, err := s.SetTenantStatus(context.Background(), org.slug, tenants.StatusActive); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "JWT resumed", call(t, app, "GET", "/api/v1/me", bearer, ""), 200)
		wantStatus(t, "token resumed", call(t, app, "GET", "/api/v1/me", token, ""), 200)
	})
	t.Run("the token's maker is disabled", func(t *testing.T) {
		// A second admin makes a token, then is disabled by the first.
		subject := org.subject("admin2")
		admin2 := *org.signIn(t, s, subject, tenants.RoleTenantAdmin).Actor.MemberID
		expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r := call(t, app, "POST", "/api/v1/tokens", org.bearer(t, subject, tenants.RoleTenantAdmin),
			`{"name":"x","roles":["auditor"],"expires_at":"`+expires+`"}`)
		wantStatus(t, "admin2 makes a token", r, 201)
		var tok struct{ Token string }
		json.Unmarshal([]byte(r.body), &tok)
		wantStatus(t, "before", call(t, app, "GET", "/api/v1/me", tok.Token, ""), 200)
		wantStatus(t, "disable admin2", call(t, app, "POST", "/api/v1/members/"+admin2.String()+"/disable", admin, ""), 200)
		wantStatus(t, "the token of a disabled admin", call(t, app, "GET", "/api/v1/me", tok.Token, ""), 401)
	})
}

// adminToken makes an API token with the tenant_admin role.
func (o *testOrg) adminToken(t *testing.T, s *tenants.Store) string {
	t.Helper()
	ctx := tenants.WithActor(context.Background(), tenants.OperatorPrincipal("test").Actor)
	tok, err := s.IssueOperatorToken(ctx, o.id, tenants.NewAPIToken{Name: "admin", Roles: []tenants.Role{tenants.RoleTenantAdmin},
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// TestBearerJWT: a JWT from the organisation's own provider is accepted;
// each way a JWT can be wrong is refused (401) beside a passing control.
func TestBearerJWT(t *testing.T) {
	s := storeForTest(t)
	pa, pb := newTestProvider(t, 0), newTestProvider(t, 1)
	a, b := newTestOrg(t, s, pa), newTestOrg(t, s, pb)
	// c shares a's provider (one Keycloak, two realms' worth of clients):
	// the audience tells them apart.
	c := newTestOrg(t, s, pa)
	app := authServer(t, s)
	me := func(token string) response { return call(t, app, "GET", "/api/v1/me", token, "") }
	subject := a.subject(string(tenants.RoleLawyer))
	valid := jwtClaims{Subject: subject, Audience: []string{a.clientID}, Groups: []string{a.group(tenants.RoleLawyer)}}
	control := func(what string) {
		t.Helper()
		r := me(pa.sign(t, valid))
		wantStatus(t, "control for "+what, r, 200)
		if !strings.Contains(r.body, `"slug":"`+a.slug+`"`) || !strings.Contains(r.body, `"roles":["lawyer"]`) {
			t.Errorf("control for %s: %s", what, r.body)
		}
	}

	for _, tc := range []struct {
		name  string
		token func() string
	}{
		{"wrong audience", func() string {
			c := valid
			c.Audience = []string{"someone-else"}
			return pa.sign(t, c)
		}},
		{"the other organisation's issuer, with a's audience", func() string {
			c := valid
			return pb.sign(t, c) // iss b's provider, signed by it, aud a's client
		}},
		{"a's issuer claimed, signed with b's provider's key", func() string {
			return pa.sign(t, valid, testKey(t, 1))
		}},
		{"an issuer no organisation has", func() string {
			c := valid
			c.Issuer = "https://idp.invalid"
			return pa.sign(t, c)
		}},
		{"expired", func() string {
			c := valid
			c.Expiry = time.Now().Add(-time.Minute)
			return pa.sign(t, c)
		}},
		{"bad signature", func() string {
			parts := strings.Split(pa.sign(t, valid), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[0] ^= 1
			return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
		}},
		{"a payload changed after signing", func() string {
			c := valid
			c.Groups = []string{a.group(tenants.RoleTenantAdmin)}
			forged := strings.Split(pa.sign(t, c), ".")
			genuine := strings.Split(pa.sign(t, valid), ".")
			return genuine[0] + "." + forged[1] + "." + genuine[2]
		}},
		{"alg none", func() string { return pa.unsigned(t, valid) }},
		{"not a JWT", func() string { return "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			control(tc.name)
			wantStatus(t, tc.name, me(tc.token()), 401)
		})
	}

	t.Run("each organisation by its own audience on a shared issuer", func(t *testing.T) {
		r := me(c.jwt[tenants.RoleAuditor])
		wantStatus(t, "c's member", r, 200)
		if !strings.Contains(r.body, `"slug":"`+c.slug+`"`) {
			t.Errorf("c's token answered for %s", r.body)
		}
		control("shared issuer")
		// a's groups under c's audience map to nothing in c.
		cc := valid
		cc.Audience = []string{c.clientID}
		wantStatus(t, "a's groups at c", me(pa.sign(t, cc)), 403)
	})
	t.Run("groups that map to no role", func(t *testing.T) {
		cc := valid
		cc.Groups = []string{"visitors"}
		wantStatus(t, "no role", me(pa.sign(t, cc)), 403)
		control("no role")
	})
	t.Run("b's own token works at b", func(t *testing.T) {
		r := me(b.jwt[tenants.RoleFinanceOfficer])
		wantStatus(t, "b", r, 200)
		if !strings.Contains(r.body, `"slug":"`+b.slug+`"`) {
			t.Errorf("b's token: %s", r.body)
		}
	})
	t.Run("a provider that does not answer", func(t *testing.T) {
		gone := newTestProvider(t, 2)
		d := newTestOrg(t, s, gone)
		token := d.jwt[tenants.RoleAuditor]
		app := authServer(t, s) // sees d
		gone.server.Close()
		wantStatus(t, "unreachable provider", call(t, app, "GET", "/api/v1/me", token, ""), 503)
		control("unreachable provider")
	})
	// An identity provider changed through the API is used at once (the
	// cached routes are dropped): keep this one last, it moves a's client.
	t.Run("a changed provider is seen at once", func(t *testing.T) {
		admin := a.jwt[tenants.RoleTenantAdmin]
		var settings map[string]any
		json.Unmarshal([]byte(call(t, app, "GET", "/api/v1/settings/identity-provider", admin, "").body), &settings)
		newClient := a.canary + "-client-2"
		settings["client_id"] = newClient
		delete(settings, "client_secret_set")
		delete(settings, "updated_at")
		body, _ := json.Marshal(settings)
		wantStatus(t, "change the client", call(t, app, "PUT", "/api/v1/settings/identity-provider", admin, string(body)), 200)
		wantStatus(t, "a token for the old client", me(pa.sign(t, valid)), 401)
		moved := valid
		moved.Audience = []string{newClient}
		wantStatus(t, "a token for the new client", me(pa.sign(t, moved)), 200)
	})
}
