package cases_test

import (
	"context"
	"errors"
	"slices"
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

// LiveCases, the features' rule for "a live case" and "own case", used as
// a subquery under raw SQL: nothing but its own conditions scope it on
// SQLite (raw SQL is not rewritten), and row-level security as well on
// PostgreSQL. It never names another organisation's case, nor an erased or
// anonymised one; "own" is the owner and the assigned staff.
func TestLiveCasesIsTheOrganisationsLiveCases(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			second, _ := member(t, s, st.org, "manager-2", tenants.RoleCaseManager)
			other := newOrg(t, s)
			otherManager, otherManagerP := member(t, s, other, "cm-other", tenants.RoleCaseManager)
			create := func(ctx context.Context, svc *cases.Service, first string) uuid.UUID {
				c, err := svc.Create(ctx, intake(first, "2008-03-01"))
				must(t, err)
				return c.ID
			}
			social, counsellor := *st.socialP.Actor.MemberID, *st.counsellorP.Actor.MemberID
			manager, medical := *st.managerP.Actor.MemberID, *st.medicalP.Actor.MemberID

			// Owned by the case manager, assigned to the social worker.
			assigned := create(st.manager, svc, "Noy")
			_, err := svc.Assign(st.manager, assigned, &manager, []uuid.UUID{social})
			must(t, err)
			// Owned by the counsellor alone.
			counsellors := create(st.manager, svc, "Kham")
			_, err = svc.Assign(st.manager, counsellors, &counsellor, nil)
			must(t, err)
			// Erased (approved by a second person), though it was assigned.
			erased := create(st.manager, svc, "Dao")
			_, err = svc.Assign(st.manager, erased, &manager, []uuid.UUID{social})
			must(t, err)
			e, err := svc.RequestErasure(st.manager, erased, cases.ErasureDuplicate, "")
			must(t, err)
			_, err = svc.DecideErasure(second, e.ID, true)
			must(t, err)
			// Anonymised: closed eleven years ago, its retention over.
			old := cases.New(s).WithClock(func() time.Time { return time.Now().AddDate(-11, 0, 0) })
			anonymised := create(st.manager, old, "Old")
			closed := cases.StageClosed
			_, err = old.Update(st.manager, anonymised, cases.Patch{Stage: &closed,
				Values: map[string]any{"cas_ReasonForCaseClosure": "Follow-up finished"}})
			must(t, err)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				n, err := cases.AnonymiseDue(tx, time.Now())
				if err == nil && n != 1 {
					t.Errorf("anonymised %d cases, want 1", n)
				}
				return err
			}))
			// The other organisation's live case, its manager's own.
			theirs := create(otherManager, svc, "Other")

			// live lists what LiveCases(tx, ownedBy) selects in org's
			// transaction, under raw SQL: only the subquery's own
			// conditions (and PostgreSQL's policies) scope it.
			live := func(org uuid.UUID, ownedBy *uuid.UUID) []uuid.UUID {
				t.Helper()
				var ids []uuid.UUID
				must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
					return tx.Raw("SELECT id FROM cases WHERE id IN (?) ORDER BY number", cases.LiveCases(tx, ownedBy)).
						Scan(&ids).Error
				}))
				return ids
			}
			want := func(what string, got []uuid.UUID, want ...uuid.UUID) {
				t.Helper()
				if len(got) != len(want) {
					t.Errorf("%s: %v, want %v", what, got, want)
					return
				}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s: %v, want %v", what, got, want)
						return
					}
				}
			}
			// Allowed controls: the organisation's live cases, and each
			// member's own, are there.
			want("the organisation's live cases", live(st.org, nil), assigned, counsellors)
			want("the case manager's own (owner)", live(st.org, &manager), assigned)
			want("the social worker's own (assigned)", live(st.org, &social), assigned)
			want("the counsellor's own (owner)", live(st.org, &counsellor), counsellors)
			want("the other organisation's live cases", live(other, nil), theirs)
			want("the other manager's own", live(other, otherManagerP.Actor.MemberID), theirs)
			// Denied: a member with no case of its own, and a member of
			// another organisation, get none; the erased, anonymised and
			// other organisation's cases are in no list above.
			want("the medical officer's own", live(st.org, &medical))
			want("the other manager in this organisation", live(st.org, otherManagerP.Actor.MemberID))
			want("this manager in the other organisation", live(other, &manager))
			for _, id := range []uuid.UUID{erased, anonymised} {
				for _, ownedBy := range []*uuid.UUID{nil, &manager, &social} {
					for _, org := range []uuid.UUID{st.org, other} {
						if slices.Contains(live(org, ownedBy), id) {
							t.Errorf("case %s (erased or anonymised) is listed", id)
						}
					}
				}
			}

			// Outside InTenant the subquery carries ErrNoTenant.
			must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
				if err := cases.LiveCases(tx, nil).Error; !errors.Is(err, tenants.ErrNoTenant) {
					t.Errorf("outside InTenant: %v, want ErrNoTenant", err)
				}
				return nil
			}))
		})
	}
}
