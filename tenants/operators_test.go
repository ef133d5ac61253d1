package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// TestOperatorSession: a platform operator's session names an identity and
// no organisation; its principal is platform_operator alone, actor kind
// operator, with no organisation, and the organisation's services refuse it
// while the platform's permission lets it through. A member's session on
// the same store (the control) keeps its organisation and membership.
func TestOperatorSession(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			issuer, subject := "https://operators.example.org", "op-"+uuid.NewString()
			const idToken = "header.operator-payload.signature"

			id, sess, p, err := s.StartOperatorSession(ctx, issuer, subject, idToken, now)
			must(t, err)
			if len(id) != 43 || sess.IdentityID == uuid.Nil || sess.TenantID != uuid.Nil || sess.MembershipID != uuid.Nil {
				t.Fatalf("operator session %+v: want an identity, no organisation, no membership", sess)
			}
			wantOperator := func(what string, p *tenants.Principal) {
				t.Helper()
				if p == nil || p.TenantID != uuid.Nil || len(p.Roles) != 1 || p.Roles[0] != tenants.RolePlatformOperator ||
					p.Actor.Kind != tenants.ActorOperator || p.Actor.Issuer != issuer || p.Actor.Subject != subject || p.Actor.MemberID != nil {
					t.Fatalf("%s: principal %+v, want platform_operator alone, actor operator (%s, %s), no organisation", what, p, issuer, subject)
				}
			}
			wantOperator("at the start", p)

			got, err := s.SessionByID(ctx, id, now.Add(time.Minute))
			must(t, err)
			if got == nil || got.IdentityID != sess.IdentityID || got.TenantID != uuid.Nil || got.IDToken != idToken {
				t.Fatalf("read back: %+v, want the operator's session with its ID token", got)
			}
			again, err := s.OperatorSessionPrincipal(ctx, got.IdentityID)
			must(t, err)
			wantOperator("read back", again)
			if _, err := s.OperatorSessionPrincipal(ctx, uuid.New()); homeward.ErrorCode(err) != homeward.EUNAUTHENTICATED {
				t.Errorf("an unknown identity: %v, want unauthenticated", err)
			}

			// The platform's pages yes, an organisation's data no.
			if err := tenants.Authorize(again, tenants.PermOperations); err != nil {
				t.Errorf("operations: %v, want allowed", err)
			}
			octx := tenants.WithPrincipal(ctx, again)
			if _, err := s.Members(octx, tenants.MemberQuery{}); homeward.ErrorCode(err) != homeward.EFORBIDDEN {
				t.Errorf("members as an operator: %v, want forbidden", err)
			}
			if _, err := s.IdentityProviderSettings(octx); homeward.ErrorCode(err) != homeward.EFORBIDDEN {
				t.Errorf("identity-provider settings as an operator: %v, want forbidden", err)
			}

			// Idle and absolute timeouts as for members.
			if got, err := s.SessionByID(ctx, id, now.Add(time.Minute+tenants.SessionIdleTimeout)); err != nil || got != nil {
				t.Fatalf("after 30 minutes idle: %+v, %v; want none", got, err)
			}

			// Control: a member's session next to it.
			tenant, member := signedInMember(t, s)
			mid, _, err := s.StartSession(ctx, tenant, member, "", now)
			must(t, err)
			if m, err := s.SessionByID(ctx, mid, now); err != nil || m == nil || m.TenantID != tenant || m.MembershipID != member || m.IdentityID != uuid.Nil {
				t.Fatalf("member session: %+v, %v", m, err)
			}
			t.Cleanup(func() { s.EndSession(ctx, mid) }) // other tests count the session rows

			// The table takes one shape or the other, never both nor neither
			// (control: the member's shape, written the same way, is taken).
			for what, row := range map[string]map[string]any{
				"control": {"tenant_id": tenant.String(), "membership_id": member.String()},
				"both":    {"tenant_id": tenant.String(), "membership_id": member.String(), "identity_id": sess.IdentityID.String()},
				"neither": {},
			} {
				row["id_hash"] = make([]byte, 32)
				row["id_hash"].([]byte)[0] = byte(len(what))
				row["csrf_token"] = tenants.RandomToken()
				row["created_at"], row["last_seen_at"], row["expires_at"] = now, now, now.Add(time.Hour)
				err := s.Global(ctx, func(tx *gorm.DB) error {
					if err := tx.Table("sessions").Create(row).Error; err != nil {
						return err
					}
					return tx.Exec("DELETE FROM sessions WHERE id_hash = ?", row["id_hash"]).Error
				})
				if what == "control" && err != nil {
					t.Errorf("control: a member's session row was refused: %v", err)
				} else if what != "control" && err == nil {
					t.Errorf("a session row with %s an organisation's membership and an operator's identity was accepted", what)
				}
			}
		})
	}
}

// TestOperatorLoginAttempt: an operator's attempt has no organisation and
// comes back marked as an operator's; an attempt claiming both is refused.
func TestOperatorLoginAttempt(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now()
			a := tenants.LoginAttempt{Operator: true, State: tenants.RandomToken(), Nonce: tenants.RandomToken(),
				CodeVerifier: tenants.RandomToken(), ReturnTo: "/ops/queues"}
			id, err := s.SaveLoginAttempt(ctx, a, now)
			must(t, err)
			got, err := s.TakeLoginAttempt(ctx, id, now)
			must(t, err)
			if got == nil || !got.Operator || got.TenantID != uuid.Nil || got.State != a.State || got.ReturnTo != "/ops/queues" {
				t.Fatalf("operator attempt taken: %+v", got)
			}
			// Control: an organisation's attempt is not an operator's.
			tenant := tenanttest.NewTenant(t, s)
			org := a
			org.Operator, org.TenantID = false, tenant
			id, err = s.SaveLoginAttempt(ctx, org, now)
			must(t, err)
			if got, err := s.TakeLoginAttempt(ctx, id, now); err != nil || got == nil || got.Operator || got.TenantID != tenant {
				t.Fatalf("organisation attempt taken: %+v, %v", got, err)
			}
			both := a
			both.TenantID = tenant
			if _, err := s.SaveLoginAttempt(ctx, both, now); err == nil {
				t.Error("an operator's attempt naming an organisation was saved")
			}
			if _, err := s.SaveLoginAttempt(ctx, tenants.LoginAttempt{State: a.State, Nonce: a.Nonce, CodeVerifier: a.CodeVerifier}, now); err == nil {
				t.Error("an organisation's attempt without an organisation was saved")
			}
		})
	}
}
