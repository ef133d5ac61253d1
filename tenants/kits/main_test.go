package kits_test

import (
	"context"
	"os"
	"testing"
	"time"

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

// staff is one organisation with the members the kit tests need, and a
// case assigned to its social worker and counsellor.
type staff struct {
	org                          uuid.UUID
	caseID                       uuid.UUID
	manager, manager2, social    context.Context
	otherSocial, counsellor      context.Context
	admin, auditor               context.Context
	managerP, socialP, manager2P *tenants.Principal
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: newOrg(t, s)}
	st.manager, st.managerP = member(t, s, st.org, "manager", tenants.RoleCaseManager)
	st.manager2, st.manager2P = member(t, s, st.org, "manager2", tenants.RoleCaseManager)
	st.social, st.socialP = member(t, s, st.org, "social", tenants.RoleSocialWorker)
	st.otherSocial, _ = member(t, s, st.org, "social2", tenants.RoleSocialWorker)
	var counsellorP *tenants.Principal
	st.counsellor, counsellorP = member(t, s, st.org, "counsellor", tenants.RoleCounsellor)
	st.admin, _ = member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	st.auditor, _ = member(t, s, st.org, "auditor", tenants.RoleAuditor)
	svc := cases.New(s)
	c, err := svc.Create(st.manager, cases.NewCase{Values: map[string]any{"prs_FirstName": "Noy",
		"prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}})
	must(t, err)
	_, err = svc.Assign(st.manager, c.ID, nil, []uuid.UUID{*st.socialP.Actor.MemberID, *counsellorP.Actor.MemberID})
	must(t, err)
	st.caseID = c.ID
	return st
}

// today is the date of now, as forms send it.
func today() string { return time.Now().UTC().Format(time.DateOnly) }

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
