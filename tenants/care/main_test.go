package care_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// The organisation and member fixtures every tenant package's tests share.
var (
	newOrg = tenanttest.NewOrg
	member = tenanttest.Member
)

// staff is one organisation with a member of each role the care parts
// name, and a case owned by the case manager and assigned to the social
// worker, the counsellor, the medical officer and the lawyer.
type staff struct {
	org                                  uuid.UUID
	manager, social, counsellor, medical context.Context
	lawyer, outreach                     context.Context
	caseID                               uuid.UUID
	cases                                *cases.Service
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: newOrg(t, s), cases: cases.New(s)}
	var assigned []uuid.UUID
	ctxs := map[tenants.Role]*context.Context{tenants.RoleCaseManager: &st.manager, tenants.RoleSocialWorker: &st.social,
		tenants.RoleCounsellor: &st.counsellor, tenants.RoleMedicalOfficer: &st.medical, tenants.RoleLawyer: &st.lawyer,
		tenants.RoleOutreachWorker: &st.outreach}
	for role, ctx := range ctxs {
		var p *tenants.Principal
		*ctx, p = member(t, s, st.org, string(role), role)
		if role != tenants.RoleCaseManager && role != tenants.RoleOutreachWorker {
			assigned = append(assigned, *p.Actor.MemberID)
		}
	}
	st.caseID = st.newCase(t, assigned...)
	return st
}

// newCase opens a case as the case manager, assigned to members.
func (st staff) newCase(t *testing.T, members ...uuid.UUID) uuid.UUID {
	t.Helper()
	c, err := st.cases.Create(st.manager, cases.NewCase{Values: map[string]any{
		"prs_FirstName": "Noy", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}})
	must(t, err)
	if len(members) > 0 {
		_, err = st.cases.Assign(st.manager, c.ID, c.OwnerID, members)
		must(t, err)
	}
	return c.ID
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

// wantField checks that err is invalid and names field.
func wantField(t testing.TB, what string, err error, field string) {
	t.Helper()
	var he *homeward.Error
	if homeward.ErrorCode(err) != homeward.EINVALID || !errors.As(err, &he) || he.Fields[field] == "" {
		t.Errorf("%s: err = %v, want invalid naming %s", what, err, field)
	}
}
