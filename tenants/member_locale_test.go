package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
)

// TestMember: one member of the principal's organisation, for tenant
// admins and auditors; another organisation's member is not_found, like
// one that does not exist.
func TestMember(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
			admin := signIn(t, s, a, "a-admin", "g-tenant_admin")
			auditor := signIn(t, s, a, "a-auditor", "g-auditor")
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			bAdmin := signIn(t, s, b, "b-admin", "g-tenant_admin")
			target := *worker.Actor.MemberID

			for _, p := range []*tenants.Principal{admin, auditor} {
				m, err := s.Member(tenants.WithPrincipal(ctx, p), target)
				must(t, err)
				if m.Subject != "a-worker" || m.ID != target || len(m.Roles) != 1 || m.Roles[0] != tenants.RoleSocialWorker {
					t.Errorf("%v reads %+v", p.Roles, m)
				}
			}
			_, err := s.Member(tenants.WithPrincipal(ctx, bAdmin), target)
			wantCode(t, "another organisation's admin", err, homeward.ENOTFOUND)
			_, err = s.Member(tenants.WithPrincipal(ctx, admin), uuid.New())
			wantCode(t, "an unknown member", err, homeward.ENOTFOUND)
			_, err = s.Member(tenants.WithPrincipal(ctx, worker), target)
			wantCode(t, "a social worker", err, homeward.EFORBIDDEN)
			_, err = s.Member(operatorCtx(), target)
			wantCode(t, "the operator", err, homeward.EFORBIDDEN)
			_, err = s.Member(ctx, target)
			wantCode(t, "anonymous", err, homeward.EUNAUTHENTICATED)
		})
	}
}

// TestSetMemberLocale: a member keeps their own language with their
// membership; the next principal carries it as chosen, ahead of the
// organisation's default; "" forgets it. Nobody sets another's, and an API
// token or the operator has no membership to keep one in.
func TestSetMemberLocale(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := orgWithProvider(t, s, testIssuer)
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			other := signIn(t, s, a, "a-other", "g-social_worker")
			if worker.LocaleChosen || worker.Locale != "en" {
				t.Fatalf("control: before choosing, %q chosen=%v", worker.Locale, worker.LocaleChosen)
			}
			before := auditActions(t, s, a)

			must(t, s.SetMemberLocale(tenants.WithPrincipal(ctx, worker), "lo"))
			p, err := s.PrincipalOf(ctx, *worker.Actor.MemberID)
			must(t, err)
			if p.Locale != "lo" || !p.LocaleChosen {
				t.Errorf("after choosing Lao: %q chosen=%v", p.Locale, p.LocaleChosen)
			}
			// Only their own membership changed.
			if q, _ := s.PrincipalOf(ctx, *other.Actor.MemberID); q.LocaleChosen {
				t.Errorf("another member's language changed: %q", q.Locale)
			}
			// A preference, not an audited change.
			if after := auditActions(t, s, a); len(after) != len(before) {
				t.Errorf("audited: %v", after[len(before):])
			}

			err = s.SetMemberLocale(tenants.WithPrincipal(ctx, worker), "de")
			wantCode(t, "an unsupported language", err, homeward.EINVALID)
			must(t, s.SetMemberLocale(tenants.WithPrincipal(ctx, worker), ""))
			if p, _ := s.PrincipalOf(ctx, *worker.Actor.MemberID); p.LocaleChosen || p.Locale != "en" {
				t.Errorf("after forgetting: %q chosen=%v", p.Locale, p.LocaleChosen)
			}

			wantCode(t, "anonymous", s.SetMemberLocale(ctx, "fr"), homeward.EUNAUTHENTICATED)
			wantCode(t, "the operator", s.SetMemberLocale(operatorCtx(), "fr"), homeward.EFORBIDDEN)
			admin := signIn(t, s, a, "a-admin", "g-tenant_admin")
			tok, err := s.CreateAPIToken(tenants.WithPrincipal(ctx, admin), tenants.NewAPIToken{
				Name: "sync", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: time.Now().Add(time.Hour)})
			must(t, err)
			tp, err := s.AuthenticateAPIToken(ctx, tok.Token)
			must(t, err)
			wantCode(t, "an API token", s.SetMemberLocale(tenants.WithPrincipal(ctx, tp), "fr"), homeward.EFORBIDDEN)
		})
	}
}
