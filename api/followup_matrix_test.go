package api

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
)

// The follow-up's records for the authorization matrix (the kinds of
// authz_matrix_test.go):
//
//   - "reintegrated case": a case of the organisation's matrix cases
//     (owned by no one, assigned to its social worker, counsellor, medical
//     officer and lawyer) reintegrated on followUpMatrixDay with its
//     schedule generated, its place and its first visit's notes holding
//     the organisation's canary; the rows that read a follow-up;
//   - "shelter case": a new such case at shelter with the services
//     consent, made for each own call (a case is reintegrated once);
//   - "closing case": a new reintegrated case for each own call (closing
//     ends it);
//   - "visit": the first visit of the reintegrated case (recording a
//     visit again is a correction, so every own call may use it).
//
// Another organisation's and unknown ids are those of the reintegrated
// case and its visit, or random.

// followUpMatrixDay is the matrix's reintegration date: its visits fall
// from a month later, so that a visit made "2025-02-10" is one the rows
// may record.
const followUpMatrixDay = "2025-01-10"

// orgFollowUp is an organisation's follow-up records for the matrix.
type orgFollowUp struct {
	caseID, visitID uuid.UUID
}

// followUpTarget is the record of a follow-up kind in o (the caller's
// organisation for scope "own": made for the call where the kind says so);
// ok is false for a kind of no follow-up record.
func followUpTarget(t *testing.T, kind, scope string, o *testOrg) (string, bool) {
	t.Helper()
	switch kind {
	case "reintegrated case", "shelter case", "closing case", "visit":
	default:
		return "", false
	}
	if o.followup == nil {
		caseID := o.reintegratedCase(t, o.canary)
		oc := o.cases
		svc := followup.New(oc.service.Store())
		ov, err := svc.Overview(oc.manager, caseID)
		if err != nil || len(ov.Visits) == 0 {
			t.Fatalf("matrix follow-up: %v (%d visits)", err, len(ov.Visits))
		}
		if _, err := svc.RecordVisit(oc.manager, ov.Visits[0].ID,
			followup.VisitRecord{Outcome: followup.OutcomeMissed, Findings: followup.Findings{Notes: o.canary}}); err != nil {
			t.Fatalf("matrix follow-up: record a visit: %v", err)
		}
		o.followup = &orgFollowUp{caseID: caseID, visitID: ov.Visits[0].ID}
	}
	own := scope == "own"
	switch {
	case kind == "visit":
		return o.followup.visitID.String(), true
	case own && kind == "shelter case":
		return o.shelterCase(t).String(), true
	case own && kind == "closing case":
		return o.reintegratedCase(t, "matrix").String(), true
	}
	return o.followup.caseID.String(), true
}

// shelterCase is a new matrix case with the services consent, at shelter.
func (o *testOrg) shelterCase(t *testing.T) uuid.UUID {
	t.Helper()
	oc := o.cases
	id := oc.newCase(t, nil)
	if _, err := oc.service.RecordConsent(oc.manager, id, cases.NewConsent{Purpose: cases.PurposeServices,
		GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}); err != nil {
		t.Fatalf("matrix shelter case: consent: %v", err)
	}
	err := oc.service.Store().InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
		return cases.MoveStage(tx, id, cases.StageShelter, "", time.Now())
	})
	if err != nil {
		t.Fatalf("matrix shelter case: %v", err)
	}
	return id
}

// reintegratedCase is a new matrix case reintegrated at place on
// followUpMatrixDay, its schedule generated as the background job would.
func (o *testOrg) reintegratedCase(t *testing.T, place string) uuid.UUID {
	t.Helper()
	id := o.shelterCase(t)
	store := o.cases.service.Store()
	r, err := followup.New(store).Reintegrate(o.cases.manager, id, followup.NewReintegration{
		Destination: followup.DestinationFamily, Date: followUpMatrixDay, Place: place})
	if err != nil {
		t.Fatalf("matrix reintegration: %v", err)
	}
	err = store.InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
		_, err := followup.GenerateSchedule(tx, r.ID)
		return err
	})
	if err != nil {
		t.Fatalf("matrix schedule: %v", err)
	}
	return id
}
