package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// contactOf is tenants.ContactOf in an organisation's transaction.
func contactOf(t *testing.T, s *tenants.Store, tenant, member uuid.UUID) (tenants.MemberContact, bool) {
	t.Helper()
	var c tenants.MemberContact
	var ok bool
	must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		c, ok, err = tenants.ContactOf(tx, member)
		return err
	}))
	return c, ok
}

// fieldsOf is the fields an invalid error names.
func fieldsOf(err error) map[string]string {
	var he *homeward.Error
	if errors.As(err, &he) {
		return he.Fields
	}
	return nil
}

// TestMemberContact: any signed-in member sets, reads and removes its own
// contact address (audited without the address), and features read it
// with ContactOf in their transaction; a bad address or language is
// invalid, naming the field, and changes nothing.
func TestMemberContact(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := orgWithProvider(t, s, testIssuer)
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			finance := signIn(t, s, a, "a-finance", "g-finance_officer") // follows no case: a contact all the same
			wctx, fctx := tenants.WithPrincipal(ctx, worker), tenants.WithPrincipal(ctx, finance)
			member := *worker.Actor.MemberID

			c, err := s.MemberContact(wctx)
			must(t, err)
			if c != (tenants.MemberContact{Language: "en"}) {
				t.Errorf("before any: %+v, want no address and the member's language", c)
			}
			if _, ok := contactOf(t, s, a, member); ok {
				t.Error("ContactOf finds a contact before any was given")
			}

			before := auditActions(t, s, a)
			c, err = s.SetMemberContact(wctx, tenants.MemberContact{Address: "  somchai@afesip.example.org ", Language: "lo"})
			must(t, err)
			want := tenants.MemberContact{Address: "somchai@afesip.example.org", Language: "lo"}
			if c != want {
				t.Errorf("set: %+v", c)
			}
			if c, err := s.MemberContact(wctx); err != nil || c != want {
				t.Errorf("read back: %+v, %v", c, err)
			}
			if c, ok := contactOf(t, s, a, member); !ok || c != want {
				t.Errorf("ContactOf: %+v %v", c, ok)
			}
			after := auditActions(t, s, a)
			if len(after) != len(before)+1 || after[len(after)-1] != tenants.ActionContactChange {
				t.Errorf("audit after setting: %v", after[len(before):])
			}
			must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
				page, err := tenants.ListAudit(tx, tenants.AuditQuery{Limit: 200})
				if err == nil && strings.Contains(fmt.Sprintf("%+v", page.Entries), "somchai") {
					t.Error("the audit log holds the address")
				}
				return err
			}))

			_, err = s.SetMemberContact(fctx, tenants.MemberContact{Address: "finance@afesip.example.org", Language: "fr"})
			must(t, err)
			if c, ok := contactOf(t, s, a, *finance.Actor.MemberID); !ok || c.Address != "finance@afesip.example.org" || c.Language != "fr" {
				t.Errorf("the finance officer's: %+v %v", c, ok)
			}
			if c, _ := s.MemberContact(wctx); c != want {
				t.Errorf("another member's change reached the worker's: %+v", c)
			}

			bad := []struct {
				what, field string
				c           tenants.MemberContact
			}{
				{"a display name", "address", tenants.MemberContact{Address: "Somchai <s@afesip.example.org>", Language: "lo"}},
				{"no address at all", "address", tenants.MemberContact{Address: "somchai", Language: "lo"}},
				{"two addresses", "address", tenants.MemberContact{Address: "a@example.org, b@example.org", Language: "lo"}},
				{"too long", "address", tenants.MemberContact{Address: strings.Repeat("a", 250) + "@example.org", Language: "lo"}},
				{"another language", "language", tenants.MemberContact{Address: "s@afesip.example.org", Language: "de"}},
				{"no language", "language", tenants.MemberContact{Address: "", Language: ""}},
			}
			for _, b := range bad {
				_, err := s.SetMemberContact(wctx, b.c)
				wantCode(t, b.what, err, homeward.EINVALID)
				if f := fieldsOf(err); f[b.field] == "" || len(f) != 1 {
					t.Errorf("%s: fields %v, want %s alone", b.what, f, b.field)
				}
			}
			if c, _ := s.MemberContact(wctx); c != want {
				t.Errorf("a refused change was stored: %+v", c)
			}

			// Changed, then removed: no contact, no mail.
			_, err = s.SetMemberContact(wctx, tenants.MemberContact{Address: "s@afesip.example.org", Language: "th"})
			must(t, err)
			if c, ok := contactOf(t, s, a, member); !ok || c.Address != "s@afesip.example.org" || c.Language != "th" {
				t.Errorf("after the change: %+v %v", c, ok)
			}
			c, err = s.SetMemberContact(wctx, tenants.MemberContact{Address: " ", Language: "th"})
			must(t, err)
			if c.Address != "" {
				t.Errorf("removing answers %+v", c)
			}
			if _, ok := contactOf(t, s, a, member); ok {
				t.Error("ContactOf finds the removed contact")
			}
			if c, _ := s.MemberContact(wctx); c.Address != "" {
				t.Errorf("read after removing: %+v", c)
			}
			if n := slices.Index(auditActions(t, s, a)[len(before):], tenants.ActionContactChange); n < 0 {
				t.Error("no audit entry")
			}

			// Outside an organisation's transaction: refused.
			err = s.Global(ctx, func(tx *gorm.DB) error {
				_, _, err := tenants.ContactOf(tx, member)
				return err
			})
			if !errors.Is(err, tenants.ErrNoTenant) {
				t.Errorf("ContactOf outside InTenant: %v", err)
			}
		})
	}
}

// TestMemberContactDisabledMember: a disabled member gets no mail (ContactOf
// finds none) until enabled again; the address stays.
func TestMemberContactDisabledMember(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := orgWithProvider(t, s, testIssuer)
			admin := tenants.WithPrincipal(ctx, signIn(t, s, a, "a-admin", "g-tenant_admin"))
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			other := signIn(t, s, a, "a-other", "g-social_worker")
			for _, p := range []*tenants.Principal{worker, other} {
				_, err := s.SetMemberContact(tenants.WithPrincipal(ctx, p), tenants.MemberContact{Address: p.Actor.Subject + "@afesip.example.org", Language: "en"})
				must(t, err)
			}
			_, err := s.SetMemberDisabled(admin, *worker.Actor.MemberID, true)
			must(t, err)
			if c, ok := contactOf(t, s, a, *worker.Actor.MemberID); ok {
				t.Errorf("a disabled member's contact: %+v", c)
			}
			if _, ok := contactOf(t, s, a, *other.Actor.MemberID); !ok {
				t.Error("control: an enabled member's contact is not found")
			}
			_, err = s.SetMemberDisabled(admin, *worker.Actor.MemberID, false)
			must(t, err)
			if c, ok := contactOf(t, s, a, *worker.Actor.MemberID); !ok || c.Address != "a-worker@afesip.example.org" {
				t.Errorf("enabled again: %+v %v", c, ok)
			}
		})
	}
}

// TestMemberContactIsolation: another organisation's member's contact is
// invisible: ContactOf in another organisation finds nothing (the same
// call in the member's own finds it), its rows are not listed there, and
// on PostgreSQL row-level security hides them from raw SQL too.
func TestMemberContactIsolation(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
			worker := signIn(t, s, a, "same-person", "g-social_worker")
			inB := signIn(t, s, b, "same-person", "g-social_worker") // the same identity, a member of b too
			_, err := s.SetMemberContact(tenants.WithPrincipal(ctx, worker), tenants.MemberContact{Address: "a-only@afesip.example.org", Language: "lo"})
			must(t, err)

			if _, ok := contactOf(t, s, a, *worker.Actor.MemberID); !ok {
				t.Fatal("control: the contact is not found in its own organisation")
			}
			if c, ok := contactOf(t, s, b, *worker.Actor.MemberID); ok {
				t.Errorf("a's member's contact read in b: %+v", c)
			}
			if c, err := s.MemberContact(tenants.WithPrincipal(ctx, inB)); err != nil || c.Address != "" {
				t.Errorf("the same identity in b reads %+v, %v: a's contact is a's", c, err)
			}
			count := func(tenant uuid.UUID, raw bool) (n int64) {
				t.Helper()
				must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
					if raw {
						return tx.Raw("SELECT count(*) FROM member_contacts").Scan(&n).Error
					}
					return tx.Table("member_contacts").Count(&n).Error
				}))
				return n
			}
			if ownN, otherN := count(a, false), count(b, false); ownN != 1 || otherN != 0 {
				t.Errorf("member_contacts through GORM: %d in a (want 1), %d in b (want 0)", ownN, otherN)
			}
			if name == homeward.DriverPostgres {
				if ownN, otherN := count(a, true), count(b, true); ownN != 1 || otherN != 0 {
					t.Errorf("member_contacts in raw SQL: %d in a (want 1), %d in b (want 0)", ownN, otherN)
				}
			}
		})
	}
}

// TestMemberContactWho: anyone not signed in is unauthenticated; a
// platform operator and an API token have no contact (forbidden), while
// the member who made the token has one.
func TestMemberContactWho(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := orgWithProvider(t, s, testIssuer)
			admin := tenants.WithPrincipal(ctx, signIn(t, s, a, "a-admin", "g-tenant_admin"))
			tok, err := s.CreateAPIToken(admin, tenants.NewAPIToken{
				Name: "sync", Roles: []tenants.Role{tenants.RoleSocialWorker}, ExpiresAt: time.Now().Add(time.Hour)})
			must(t, err)
			tp, err := s.AuthenticateAPIToken(ctx, tok.Token)
			must(t, err)
			token := tenants.WithPrincipal(ctx, tp)
			set := tenants.MemberContact{Address: "admin@afesip.example.org", Language: "en"}

			// The control: the member who made the token.
			if _, err := s.SetMemberContact(admin, set); err != nil {
				t.Fatalf("the member: %v", err)
			}
			if c, err := s.MemberContact(admin); err != nil || c != set {
				t.Fatalf("the member reads %+v, %v", c, err)
			}

			for _, who := range []struct {
				what string
				ctx  context.Context
				code string
			}{
				{"anonymous", ctx, homeward.EUNAUTHENTICATED},
				{"the operator", operatorCtx(), homeward.EFORBIDDEN},
				{"an API token", token, homeward.EFORBIDDEN},
			} {
				_, err := s.MemberContact(who.ctx)
				wantCode(t, who.what+" reads", err, who.code)
				_, err = s.SetMemberContact(who.ctx, set)
				wantCode(t, who.what+" sets", err, who.code)
			}
		})
	}
}
