package followup_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// The organisation and member fixtures every tenant package's tests share.
var (
	newOrg = tenanttest.NewOrg
	member = tenanttest.Member
)

// staff is one organisation with a member of each role that matters here.
type staff struct {
	org                                   uuid.UUID
	manager, social, social2, counsellor  context.Context
	medical, outreach, admin              context.Context
	managerP, socialP, social2P, counselP *tenants.Principal
	medicalP                              *tenants.Principal
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: newOrg(t, s)}
	st.manager, st.managerP = member(t, s, st.org, "manager", tenants.RoleCaseManager)
	st.social, st.socialP = member(t, s, st.org, "social", tenants.RoleSocialWorker)
	st.social2, st.social2P = member(t, s, st.org, "social2", tenants.RoleSocialWorker)
	st.counsellor, st.counselP = member(t, s, st.org, "counsellor", tenants.RoleCounsellor)
	st.medical, st.medicalP = member(t, s, st.org, "medical", tenants.RoleMedicalOfficer)
	st.outreach, _ = member(t, s, st.org, "outreach", tenants.RoleOutreachWorker)
	st.admin, _ = member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	return st
}

// shelterCase opens a case as the case manager with the services consent,
// assigns it to the members given, and moves it to shelter (admission is
// tenants/shelters' feature; here the stage is all that matters).
func shelterCase(t *testing.T, s *tenants.Store, st staff, first string, assigned ...*tenants.Principal) uuid.UUID {
	t.Helper()
	svc := cases.New(s)
	c, err := svc.Create(st.manager, cases.NewCase{
		Values: map[string]any{"prs_FirstName": first, "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"},
		Consents: []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl,
			GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}},
	})
	must(t, err)
	var ids []uuid.UUID
	for _, p := range assigned {
		ids = append(ids, *p.Actor.MemberID)
	}
	_, err = svc.Assign(st.manager, c.ID, nil, ids)
	must(t, err)
	must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
		return cases.MoveStage(tx, c.ID, cases.StageShelter, "", time.Now())
	}))
	return c.ID
}

// generate runs the schedule job's work for every reintegration of the
// case still unscheduled, as the worker would.
func generate(t *testing.T, s *tenants.Store, org, reintegrationID uuid.UUID) int {
	t.Helper()
	var n int
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		n, err = followup.GenerateSchedule(tx, reintegrationID)
		return err
	}))
	return n
}

// outboxJobs counts the outbox rows of kind for the organisation.
func outboxJobs(t *testing.T, s *tenants.Store, org uuid.UUID, kind string) int64 {
	t.Helper()
	var n int64
	must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Model(&tenants.OutboxMessage{}).Where("tenant_id = ? AND kind = ?", org, kind).Count(&n).Error
	}))
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

// day is a date n days from now, as a form sends it.
func day(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }
