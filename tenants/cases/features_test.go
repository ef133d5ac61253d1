package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// What a feature of the survivor's path gets from a case: Open decides
// visibility and access as Get does, MoveStage follows the path, Touch
// moves the case up the list.
func TestFeaturesOpenMoveAndTouchACase(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			other := newOrg(t, s)
			otherManager, _ := member(t, s, other, "cm-other", tenants.RoleCaseManager)
			c, err := svc.Create(st.manager, intake("Noy", "2008-03-01"))
			must(t, err)
			_, err = svc.Assign(st.manager, c.ID, c.OwnerID, []uuid.UUID{*st.socialP.Actor.MemberID})
			must(t, err)

			open := func(ctx context.Context, tenant uuid.UUID) (*cases.Ref, error) {
				var ref *cases.Ref
				err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
					var err error
					ref, err = cases.Open(tx, tenants.PrincipalFrom(ctx), c.ID, true)
					return err
				})
				return ref, err
			}
			ref, err := open(st.social, st.org)
			must(t, err)
			if ref.Reference != c.Reference || !ref.CanWrite(tenants.CaseSupport) || ref.CanRead(tenants.FieldGroupMedical) {
				t.Errorf("the assigned social worker's ref %+v", ref)
			}
			wantCode(t, "the social worker needs medical", ref.Need(tenants.FieldGroupMedical, false), homeward.EFORBIDDEN)
			must(t, ref.Need(tenants.CaseFollowUp, true))
			_, err = open(st.medical, st.org)
			wantCode(t, "a medical officer not assigned", err, homeward.ENOTFOUND)
			_, err = open(otherManager, other)
			wantCode(t, "another organisation's case manager", err, homeward.ENOTFOUND)

			move := func(to cases.Stage, reason string) error {
				return s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
					return cases.MoveStage(tx, c.ID, to, reason, time.Now())
				})
			}
			wantCode(t, "intake to reintegrated", move(cases.StageReintegrated, ""), homeward.ECONFLICT)
			must(t, move(cases.StageShelter, ""))
			must(t, move(cases.StageReintegrated, ""))
			wantCode(t, "closing without a reason", move(cases.StageClosed, ""), homeward.EINVALID)
			must(t, move(cases.StageClosed, "Follow-up completed after three years"))
			got, err := svc.Get(st.manager, c.ID)
			must(t, err)
			if got.Stage != cases.StageClosed || got.ClosedAt == nil || got.Version != c.Version+4 ||
				got.Values["cas_ReasonForCaseClosure"] != "Follow-up completed after three years" {
				t.Errorf("after the moves: stage %s closed %v version %d (created %d) reason %v",
					got.Stage, got.ClosedAt, got.Version, c.Version, got.Values["cas_ReasonForCaseClosure"])
			}

			later := got.LastActivityAt.Add(time.Hour)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error { return cases.Touch(tx, c.ID, later) }))
			got, err = svc.Get(st.manager, c.ID)
			must(t, err)
			if !got.LastActivityAt.Equal(later.UTC().Truncate(time.Microsecond)) {
				t.Errorf("touched at %v, last activity %v", later, got.LastActivityAt)
			}
		})
	}
}
