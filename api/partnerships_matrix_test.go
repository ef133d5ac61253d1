package api

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The partnership records of the authorization matrix (the kinds of
// authz_matrix_test.go). Each organisation of the matrix (A, B) has
// partner organisations of its own (tenanttest.NewOrg, each with an admin),
// none shared with the other, so that another organisation's partnership
// is one the caller's organisation holds no copy of (404):
//
//   - "partnership": an active statistics partnership from a partner to
//     the organisation (it receives the partner's statistics: the
//     statistics.csv rows), its agreement reference the organisation's
//     canary;
//   - "proposed partnership": a handoff partnership a partner proposed to
//     the organisation, waiting for its decision (accept, decline); one is
//     made whenever the last one was decided;
//   - "fresh partnership": an active handoff partnership from the
//     organisation to a partner (suspend, end), made anew once the last one
//     moved on;
//   - "suspended partnership": the same, suspended (resume).
//
// Another organisation's id is its "partnership" whatever the kind. In a
// body, {partner} is the slug of an organisation the caller's admin may
// propose to (the API proposes handoffs to it, the page statistics: two
// different partnerships).

// orgPartnerships are an organisation's partnership records for the
// matrix.
type orgPartnerships struct {
	service    *handoffs.Service
	store      *tenants.Store
	org        uuid.UUID
	admin      context.Context // the organisation's tenant admin
	statistics uuid.UUID       // "partnership"
	proposeTo  string          // {partner}
	last       map[string]uuid.UUID
}

// partnerOrg is a new organisation with a tenant admin, as the matrix's
// partners are: its slug and its admin.
func partnerOrg(t *testing.T, s *tenants.Store) (string, context.Context) {
	t.Helper()
	id := tenanttest.NewOrg(t, s)
	tn, err := s.TenantByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := tenanttest.Member(t, s, id, "admin-"+tn.Slug, tenants.RoleTenantAdmin)
	return tn.Slug, ctx
}

// withPartnerships makes the organisation's partnership records.
func (o *testOrg) withPartnerships(t *testing.T, s *tenants.Store) {
	t.Helper()
	op := &orgPartnerships{service: handoffs.New(s), store: s, org: o.id, admin: asMember(t, s, o.members[tenants.RoleTenantAdmin]),
		last: map[string]uuid.UUID{}}
	slug, admin := partnerOrg(t, s)
	p, err := op.service.ProposePartnership(admin, handoffs.NewPartnership{Partner: o.slug, Purpose: handoffs.PurposeStatistics,
		Sending: true, AgreementRef: o.canary})
	if err != nil {
		t.Fatalf("matrix partnership from %s: %v", slug, err)
	}
	if _, err := op.service.DecidePartnership(op.admin, p.ID, true, ""); err != nil {
		t.Fatalf("matrix partnership: accept: %v", err)
	}
	op.statistics = p.ID
	op.proposeTo, _ = partnerOrg(t, s)
	o.partnerships = op
}

// stateOf is the state of the organisation's partnership id.
func (op *orgPartnerships) stateOf(t *testing.T, id uuid.UUID) string {
	t.Helper()
	p, err := op.service.Partnership(op.admin, id)
	if err != nil {
		t.Fatalf("matrix partnership %s: %v", id, err)
	}
	return p.State
}

// fresh is the organisation's partnership of kind, in the state the kind
// needs: the last one made while it still is, else a new one.
func (op *orgPartnerships) fresh(t *testing.T, kind string) uuid.UUID {
	t.Helper()
	want := map[string]string{"proposed partnership": handoffs.PartnershipProposed, "fresh partnership": handoffs.PartnershipActive,
		"suspended partnership": handoffs.PartnershipSuspended}[kind]
	if id, ok := op.last[kind]; ok && op.stateOf(t, id) == want {
		return id
	}
	slug, admin := partnerOrg(t, op.store)
	groups := []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily}
	var id uuid.UUID
	if kind == "proposed partnership" {
		p, err := op.service.ProposePartnership(admin, handoffs.NewPartnership{Partner: op.slug(t), Purpose: handoffs.PurposeHandoffs,
			Sending: true, Groups: groups, AgreementRef: "MATRIX-DSA"})
		if err != nil {
			t.Fatalf("matrix proposal to the organisation: %v", err)
		}
		id = p.ID
	} else {
		p, err := op.service.ProposePartnership(op.admin, handoffs.NewPartnership{Partner: slug, Purpose: handoffs.PurposeHandoffs,
			Sending: true, Groups: groups, AgreementRef: "MATRIX-DSA"})
		if err != nil {
			t.Fatalf("matrix proposal: %v", err)
		}
		if _, err := op.service.DecidePartnership(admin, p.ID, true, ""); err != nil {
			t.Fatalf("matrix partnership: accept: %v", err)
		}
		if kind == "suspended partnership" {
			if _, err := op.service.ChangePartnership(op.admin, p.ID, handoffs.PartnershipSuspended, "matrix"); err != nil {
				t.Fatalf("matrix partnership: suspend: %v", err)
			}
		}
		id = p.ID
	}
	op.last[kind] = id
	return id
}

func (op *orgPartnerships) slug(t *testing.T) string {
	t.Helper()
	tn, err := op.store.TenantByID(context.Background(), op.org)
	if err != nil {
		t.Fatal(err)
	}
	return tn.Slug
}

// partnershipTarget is the record of a partnership kind in o (the
// caller's organisation for scope "own", the other's otherwise); ok is
// false for a kind of no partnership record.
func partnershipTarget(t *testing.T, kind, scope string, o *testOrg) (string, bool) {
	t.Helper()
	switch kind {
	case "partnership", "proposed partnership", "fresh partnership", "suspended partnership":
	default:
		return "", false
	}
	if o.partnerships == nil {
		t.Fatalf("matrix: %s without withPartnerships", kind)
	}
	if scope != "own" || kind == "partnership" {
		return o.partnerships.statistics.String(), true
	}
	return o.partnerships.fresh(t, kind).String(), true
}

// matrixPartnershipBody fills {partner} in a row's body.
func matrixPartnershipBody(body string, o *testOrg) string {
	if o.partnerships == nil {
		return body
	}
	return strings.ReplaceAll(body, "{partner}", o.partnerships.proposeTo)
}
