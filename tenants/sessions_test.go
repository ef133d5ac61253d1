package tenants_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// (operatorCtx: identity_test.go.)

// signedInMember adds an organisation with a provider and signs one
// identity in, returning the organisation and the membership.
func signedInMember(t *testing.T, s *tenants.Store) (uuid.UUID, uuid.UUID) {
	t.Helper()
	tenant := tenanttest.NewTenant(t, s)
	issuer := "https://idp.example.org/" + tenant.String()
	if _, err := s.PutIdentityProvider(operatorCtx(), tenant, tenants.IdentityProviderChange{
		Issuer: issuer, ClientID: "homeward-" + tenant.String(), GroupsClaim: "groups",
		GroupRoles: map[string][]tenants.Role{"staff": {tenants.RoleCaseManager}},
	}); err != nil {
		t.Fatalf("set the identity provider: %v", err)
	}
	_, m, err := s.SignIn(context.Background(), tenant, issuer, "person-1", []string{"staff"})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return tenant, m.ID
}

// sessionRows reads what the sessions table holds, as the database sees it.
func sessionRows(t *testing.T, s *tenants.Store) []map[string]any {
	t.Helper()
	var rows []map[string]any
	must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Table("sessions").Find(&rows).Error
	}))
	return rows
}

func TestSessionLifetime(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tenant, member := signedInMember(t, s)
			start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			const idToken = "header.payload-naming-a-person.signature"

			id, sess, err := s.StartSession(ctx, tenant, member, idToken, start)
			must(t, err)
			if len(id) != 43 || sess.CSRFToken == "" || sess.CSRFToken == id {
				t.Fatalf("id %q, CSRF token %q: want two different 43-character random values", id, sess.CSRFToken)
			}
			if !sess.ExpiresAt.Equal(start.Add(tenants.SessionAbsoluteTimeout)) {
				t.Errorf("expires at %v, want %v", sess.ExpiresAt, start.Add(tenants.SessionAbsoluteTimeout))
			}

			// The database holds neither the id nor the ID token.
			rows := sessionRows(t, s)
			if len(rows) != 1 {
				t.Fatalf("%d session rows, want 1", len(rows))
			}
			for col, v := range rows[0] {
				b, _ := v.([]byte)
				if str, ok := v.(string); ok {
					b = []byte(str)
				}
				if bytes.Contains(b, []byte(id)) || bytes.Contains(b, []byte("naming-a-person")) {
					t.Errorf("column %s holds the session id or the ID token in clear", col)
				}
			}

			// Read back with the id: the ID token opens; a wrong id finds nothing.
			got, err := s.SessionByID(ctx, id, start.Add(time.Minute))
			must(t, err)
			if got == nil || got.MembershipID != member || got.TenantID != tenant || got.IDToken != idToken || got.CSRFToken != sess.CSRFToken {
				t.Fatalf("session read back = %+v, want membership %s, tenant %s, the ID token and the CSRF token", got, member, tenant)
			}
			if other, err := s.SessionByID(ctx, tenants.RandomToken(), start); err != nil || other != nil {
				t.Errorf("an unknown id found %+v, %v; want nothing", other, err)
			}

			// Idle: used at +29 min, so alive at +58 min; then 30 min idle ends it.
			for _, at := range []time.Duration{29 * time.Minute, 58 * time.Minute} {
				if got, err := s.SessionByID(ctx, id, start.Add(at)); err != nil || got == nil {
					t.Fatalf("at +%v (used within the idle timeout): %+v, %v; want the session", at, got, err)
				}
			}
			if got, err := s.SessionByID(ctx, id, start.Add(58*time.Minute+tenants.SessionIdleTimeout)); err != nil || got != nil {
				t.Fatalf("after 30 minutes idle: %+v, %v; want none", got, err)
			}
			if n := len(sessionRows(t, s)); n != 0 {
				t.Errorf("%d rows after the idle timeout, want the session deleted", n)
			}

			// Absolute: used every 20 minutes, alive until 12 hours, then over.
			id, _, err = s.StartSession(ctx, tenant, member, "", start)
			must(t, err)
			at := start
			for at.Add(20 * time.Minute).Before(start.Add(tenants.SessionAbsoluteTimeout)) {
				at = at.Add(20 * time.Minute)
				if got, err := s.SessionByID(ctx, id, at); err != nil || got == nil {
					t.Fatalf("at %v, busy: %+v, %v; want the session", at.Sub(start), got, err)
				}
			}
			if got, err := s.SessionByID(ctx, id, start.Add(tenants.SessionAbsoluteTimeout)); err != nil || got != nil {
				t.Fatalf("at 12 h, however busy: %+v, %v; want none", got, err)
			}

			// Ending: gone for good.
			id, _, err = s.StartSession(ctx, tenant, member, "", start)
			must(t, err)
			must(t, s.EndSession(ctx, id))
			if got, err := s.SessionByID(ctx, id, start); err != nil || got != nil {
				t.Fatalf("after EndSession: %+v, %v; want none", got, err)
			}
		})
	}
}

func TestLoginAttemptIsSingleUseAndShortLived(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tenant := tenanttest.NewTenant(t, s)
			now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			a := tenants.LoginAttempt{TenantID: tenant, State: tenants.RandomToken(), Nonce: tenants.RandomToken(),
				CodeVerifier: tenants.RandomToken(), ReturnTo: "/cases"}

			id, err := s.SaveLoginAttempt(ctx, a, now)
			must(t, err)
			got, err := s.TakeLoginAttempt(ctx, id, now.Add(9*time.Minute))
			must(t, err)
			if got == nil || got.State != a.State || got.Nonce != a.Nonce || got.CodeVerifier != a.CodeVerifier || got.TenantID != tenant || got.ReturnTo != "/cases" {
				t.Fatalf("taken within ten minutes: %+v; want the attempt", got)
			}
			if again, err := s.TakeLoginAttempt(ctx, id, now.Add(9*time.Minute)); err != nil || again != nil {
				t.Fatalf("taken twice: %+v, %v; want nothing the second time", again, err)
			}

			id, err = s.SaveLoginAttempt(ctx, a, now)
			must(t, err)
			if late, err := s.TakeLoginAttempt(ctx, id, now.Add(tenants.LoginAttemptTimeout)); err != nil || late != nil {
				t.Fatalf("taken after ten minutes: %+v, %v; want nothing", late, err)
			}
			if other, err := s.TakeLoginAttempt(ctx, tenants.RandomToken(), now); err != nil || other != nil {
				t.Fatalf("another browser's id: %+v, %v; want nothing", other, err)
			}
		})
	}
}

func TestSessionEndsWithItsMembership(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	tenant, member := signedInMember(t, s)
	now := time.Now()
	keep, _, err := s.StartSession(ctx, tenant, member, "", now)
	must(t, err)
	end, _, err := s.StartSession(ctx, tenant, member, "", now)
	must(t, err)
	must(t, s.EndSession(ctx, end))
	if got, _ := s.SessionByID(ctx, keep, now); got == nil {
		t.Fatal("control: ending one session ended another")
	}
	must(t, s.EndSessionsOf(ctx, member))
	if got, _ := s.SessionByID(ctx, keep, now); got != nil {
		t.Fatal("EndSessionsOf left a session of the membership")
	}
}

// TestDisablingEndsSessions: a session from before a member was disabled
// does not come back when the member is enabled again; a colleague's
// session is untouched (the control).
func TestDisablingEndsSessions(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	tenant := orgWithProvider(t, s, testIssuer)
	admin := signIn(t, s, tenant, "admin", "g-tenant_admin")
	_, member, err := s.SignIn(ctx, tenant, testIssuer, "carol", []string{"staff"})
	must(t, err)
	_, colleague, err := s.SignIn(ctx, tenant, testIssuer, "dara", []string{"staff"})
	must(t, err)
	now := time.Now()
	old, _, err := s.StartSession(ctx, tenant, member.ID, "", now)
	must(t, err)
	kept, _, err := s.StartSession(ctx, tenant, colleague.ID, "", now)
	must(t, err)

	actx := tenants.WithPrincipal(ctx, admin)
	_, err = s.SetMemberDisabled(actx, member.ID, true)
	must(t, err)
	_, err = s.SetMemberDisabled(actx, member.ID, false)
	must(t, err)
	if got, _ := s.SessionByID(ctx, old, now); got != nil {
		t.Fatal("the session from before the member was disabled came back with re-enabling")
	}
	if got, _ := s.SessionByID(ctx, kept, now); got == nil {
		t.Fatal("control: a colleague's session ended")
	}
}
