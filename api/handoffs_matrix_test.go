package api

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
)

// The handoff records of the authorization matrix (the kinds of
// authz_matrix_test.go). Each organisation of the matrix (A, B) works with
// one partner organisation of its own: two handoff partnerships, the
// organisation sending to the partner and the partner sending to it.
// Another organisation's handoff is then one the caller's organisation
// holds no row of (404), as a third organisation's would be.
//
//   - "handoff": an outgoing handoff, sent (the sharing consent stands)
//     from a case assigned to the organisation's social worker, counsellor,
//     medical officer and lawyer (so that the social worker's "own" rights
//     answer on it), started by its case manager; a message in its thread;
//   - "fresh handoff": the same, made anew for each own call (withdrawing
//     or recording a stage changes it);
//   - "override handoff": an outgoing handoff waiting for the override (a
//     case without the sharing consent), asked by a second case manager
//     who is none of the callers, so that the approvers are a second
//     person; made anew for each own call;
//   - "incoming handoff": one the partner sent to the organisation, in its
//     inbox, made anew for each own call (accepting or declining decides
//     it); the organisation's canary in the fields it shares;
//   - "admitted handoff": an incoming handoff accepted and taken through
//     every stage to the admission, so that feedback may be sent;
//   - "shared document": an incoming handoff, in the inbox, that came with
//     an identity document of the partner's case: the handoff and the
//     organisation's copy of the document (:id and :document, matrixPath).
//
// Another organisation's and unknown ids are the other organisation's
// persistent records of the kind, or random. In a body, {partnership} is
// the organisation's outgoing partnership and {handoff_case} the case it
// hands over from.

// orgHandoffs are an organisation's handoff records for the matrix.
type orgHandoffs struct {
	service        *handoffs.Service
	partner        *testOrg
	outgoing       uuid.UUID       // the organisation sends to partner
	incoming       uuid.UUID       // partner sends to the organisation
	caseID         uuid.UUID       // the case handed over
	manager        context.Context // the organisation's case manager
	requester      context.Context // a second case manager, who asks for the overrides
	partnerManager context.Context // the partner's case manager
	canary         string

	handoffID, overrideID, incomingID, admittedID uuid.UUID
	sharedID, sharedDocumentID                    uuid.UUID // the "shared document": the handoff, the organisation's copy
}

// asMember is the context of member m of the store's organisations.
func asMember(t *testing.T, s *tenants.Store, m uuid.UUID) context.Context {
	t.Helper()
	p, err := s.PrincipalOf(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return tenants.WithPrincipal(context.Background(), p)
}

// handoffPartnership makes an active handoff partnership from → to
// (identity, family and legal travel, with their documents), proposed by
// from's admin and accepted by to's.
func handoffPartnership(t *testing.T, s *tenants.Store, svc *handoffs.Service, from, to *testOrg) uuid.UUID {
	t.Helper()
	ps, err := svc.ProposePartnership(asMember(t, s, from.members[tenants.RoleTenantAdmin]), handoffs.NewPartnership{
		Partner: to.slug, Purpose: handoffs.PurposeHandoffs, Sending: true,
		Groups:    []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily, tenants.FieldGroupLegal},
		Documents: true, AgreementRef: "MATRIX-DSA-1"})
	if err != nil {
		t.Fatalf("matrix partnership: propose: %v", err)
	}
	if _, err := svc.DecidePartnership(asMember(t, s, to.members[tenants.RoleTenantAdmin]), ps.ID, true, ""); err != nil {
		t.Fatalf("matrix partnership: accept: %v", err)
	}
	return ps.ID
}

// withHandoffs makes the organisation's handoff records with partner (an
// organisation of its own, which may be shared by A and B).
func (o *testOrg) withHandoffs(t *testing.T, s *tenants.Store, partner *testOrg) {
	t.Helper()
	if o.cases == nil {
		o.withCases(t, s)
	}
	svc := handoffs.New(s).WithDocuments(matrixDocuments, tenants.DocumentLimits{})
	oh := &orgHandoffs{service: svc, partner: partner, manager: o.cases.manager, canary: o.canary,
		requester:      tenants.WithPrincipal(context.Background(), o.signIn(t, s, o.subject("override-requester"), tenants.RoleCaseManager)),
		partnerManager: asMember(t, s, partner.members[tenants.RoleCaseManager])}
	oh.outgoing = handoffPartnership(t, s, svc, o, partner)
	oh.incoming = handoffPartnership(t, s, svc, partner, o)
	oh.caseID = o.cases.newCase(t, map[string]any{"prs_FirstName": o.canary})
	oh.handoffID = oh.newOutgoing(t)
	if _, err := svc.Post(oh.manager, oh.handoffID, o.canary, nil); err != nil {
		t.Fatalf("matrix handoff: message: %v", err)
	}
	oh.overrideID = oh.newOverride(t, o)
	oh.incomingID = oh.newIncoming(t)
	oh.admittedID = oh.newAdmitted(t)
	oh.sharedID, oh.sharedDocumentID = oh.newShared(t, s)
	o.handoffs = oh
}

// newShared is a handoff the partner sends to the organisation from a case
// of its own with an identity document: the handoff, and the
// organisation's copy of the document.
func (oh *orgHandoffs) newShared(t *testing.T, s *tenants.Store) (uuid.UUID, uuid.UUID) {
	t.Helper()
	k, err := cases.New(s).Create(oh.partnerManager, cases.NewCase{
		Values: map[string]any{"prs_FirstName": "Matrix", "prs_Birthdate": "2009-05-06", "prs_Gender": "Feminine"},
		Consents: []cases.NewConsent{{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10",
			Basis: cases.BasisSignedForm}}})
	if err != nil {
		t.Fatalf("matrix shared document: case: %v", err)
	}
	doc, err := casedocs.New(s, matrixDocuments, tenants.DocumentLimits{}).Add(oh.partnerManager, k.ID, casedocs.NewDocument{
		Part: tenants.FieldGroupIdentity, Filename: "passport.txt", Content: strings.NewReader("matrix passport")})
	if err != nil {
		t.Fatalf("matrix shared document: document: %v", err)
	}
	h, err := oh.service.Start(oh.partnerManager, handoffs.NewHandoff{PartnershipID: oh.incoming, CaseID: k.ID,
		Fields: []string{"prs_FirstName"}, Documents: []uuid.UUID{doc.ID}})
	if err != nil {
		t.Fatalf("matrix shared document: start: %v", err)
	}
	got, err := oh.service.Get(oh.manager, h.ID)
	if err != nil || got.Shared == nil || len(got.Shared.Documents) != 1 {
		t.Fatalf("matrix shared document: the organisation's copy: %v %+v", err, got)
	}
	return h.ID, got.Shared.Documents[0].ID
}

// newOutgoing sends the matrix case to the partner, as the case manager.
func (oh *orgHandoffs) newOutgoing(t *testing.T) uuid.UUID {
	t.Helper()
	h, err := oh.service.Start(oh.manager, handoffs.NewHandoff{PartnershipID: oh.outgoing, CaseID: oh.caseID,
		Fields: []string{"prs_FirstName", "prs_Birthdate"}, Note: "matrix"})
	if err != nil {
		t.Fatalf("matrix handoff: start: %v", err)
	}
	return h.ID
}

// newOverride starts a handoff of a new case without the sharing consent,
// as the second case manager: it waits for the override's approval.
func (oh *orgHandoffs) newOverride(t *testing.T, o *testOrg) uuid.UUID {
	t.Helper()
	k, err := o.cases.service.Create(oh.manager, cases.NewCase{Values: map[string]any{"prs_FirstName": "Matrix",
		"prs_Birthdate": "2008-02-03", "prs_Gender": "Feminine"}})
	if err != nil {
		t.Fatalf("matrix override case: %v", err)
	}
	h, err := oh.service.Start(oh.requester, handoffs.NewHandoff{PartnershipID: oh.outgoing, CaseID: k.ID,
		Fields: []string{"prs_FirstName"}, OverrideReason: "matrix: she is in danger here"})
	if err != nil {
		t.Fatalf("matrix override handoff: %v", err)
	}
	if h.State != handoffs.StateAwaitingOverride {
		t.Fatalf("matrix override handoff: state %s", h.State)
	}
	return h.ID
}

// newIncoming is a handoff the partner sends to the organisation, from a
// short intake whose first name is the organisation's canary.
func (oh *orgHandoffs) newIncoming(t *testing.T) uuid.UUID {
	t.Helper()
	h, err := oh.service.StartFromIntake(oh.partnerManager, cases.NewCase{
		Values: map[string]any{"prs_FirstName": oh.canary, "prs_Birthdate": "2009-05-06", "prs_Gender": "Feminine"},
		Consents: []cases.NewConsent{{Purpose: cases.PurposeSharing, GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10",
			Basis: cases.BasisSignedForm}}},
		handoffs.NewHandoff{PartnershipID: oh.incoming, Fields: []string{"prs_FirstName", "prs_Birthdate"}})
	if err != nil {
		t.Fatalf("matrix incoming handoff: %v", err)
	}
	return h.ID
}

// newAdmitted is an incoming handoff accepted and taken through the stages
// of both sides to the admission.
func (oh *orgHandoffs) newAdmitted(t *testing.T) uuid.UUID {
	t.Helper()
	id := oh.newIncoming(t)
	if _, err := oh.service.Accept(oh.manager, id); err != nil {
		t.Fatalf("matrix admitted handoff: accept: %v", err)
	}
	steps := []struct {
		receiver bool
		stage    handoffs.Stage
		action   string
	}{
		{false, handoffs.StageInterview, handoffs.ActionDone},
		{false, handoffs.StageTracingRequest, handoffs.ActionDone},
		{true, handoffs.StageTracingResult, handoffs.ActionDone},
		{false, handoffs.StageTravelDocuments, handoffs.ActionDone},
		{false, handoffs.StageReturnPlan, handoffs.ActionDone},
		{true, handoffs.StageReturnPlan, handoffs.ActionConfirm},
		{false, handoffs.StageHandover, handoffs.ActionDone},
		{true, handoffs.StageHandover, handoffs.ActionConfirm},
		{true, handoffs.StageTransitCentre, handoffs.ActionDone},
		{true, handoffs.StageAdmission, handoffs.ActionDone},
	}
	for _, st := range steps {
		who := oh.partnerManager
		if st.receiver {
			who = oh.manager
		}
		if _, err := oh.service.Advance(who, id, handoffs.StageChange{Stage: st.stage, Action: st.action}); err != nil {
			t.Fatalf("matrix admitted handoff: %s %s: %v", st.action, st.stage, err)
		}
	}
	return id
}

// handoffTarget is the record of a handoff kind in o (made for the call
// where the kind says so); ok is false for a kind of no handoff record.
func handoffTarget(t *testing.T, kind, scope string, o *testOrg) (string, bool) {
	t.Helper()
	oh := o.handoffs
	own := scope == "own"
	switch kind {
	case "handoff":
		return oh.handoffID.String(), true
	case "fresh handoff":
		if own {
			return oh.newOutgoing(t).String(), true
		}
		return oh.handoffID.String(), true
	case "override handoff":
		if own {
			return oh.newOverride(t, o).String(), true
		}
		return oh.overrideID.String(), true
	case "incoming handoff":
		if own {
			return oh.newIncoming(t).String(), true
		}
		return oh.incomingID.String(), true
	case "admitted handoff":
		return oh.admittedID.String(), true
	case "shared document":
		return oh.sharedID.String() + "/" + oh.sharedDocumentID.String(), true
	}
	return "", false
}

// matrixPath is a row's path for the record id names (matrixTarget), and
// its path parameters: :id is the record, or, for a record under another
// ("PARENT/CHILD": a handoff's shared document), :id the parent and
// :document the child (random for an unknown record); wildcards fill the
// rest.
func matrixPath(path, id string) (string, map[string]string) {
	params := map[string]string{}
	parent, child, _ := strings.Cut(id, "/")
	if strings.Contains(path, ":document") {
		if child == "" {
			child = uuid.NewString()
		}
		params["document"] = child
	}
	if strings.Contains(path, ":id") {
		params["id"] = parent
	}
	return wildcards.Replace(strings.NewReplacer(":id", parent, ":document", child).Replace(path)), params
}

// matrixHandoffBody fills a row's body (or query) with the organisation's
// handoff records.
func matrixHandoffBody(body string, o *testOrg) string {
	if o.handoffs == nil {
		return body
	}
	return strings.NewReplacer("{partnership}", o.handoffs.outgoing.String(),
		"{handoff_case}", o.handoffs.caseID.String()).Replace(body)
}
