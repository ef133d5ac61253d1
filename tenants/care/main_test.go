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

const testIssuer = "https://idp.care.test"

// newOrg adds an organisation whose provider maps the group "g-ROLE" to
// ROLE for every organisation role.
func newOrg(t testing.TB, s *tenants.Store) uuid.UUID {
	t.Helper()
	tenant := tenanttest.NewTenant(t, s)
	groups := map[string][]tenants.Role{}
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			groups["g-"+string(r)] = []tenants.Role{r}
		}
	}
	secret := "s3cret-" + tenant.String()
	operator := tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
	if _, err := s.PutIdentityProvider(operator, tenant, tenants.IdentityProviderChange{
		Issuer: testIssuer, ClientID: "client-" + tenant.String(), ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: groups,
	}); err != nil {
		t.Fatalf("identity provider: %v", err)
	}
	return tenant
}

// member signs subject in to tenant with role and returns a context acting
// as it, and its principal.
func member(t testing.TB, s *tenants.Store, tenant uuid.UUID, subject string, role tenants.Role) (context.Context, *tenants.Principal) {
	t.Helper()
	p, _, err := s.SignIn(context.Background(), tenant, testIssuer, subject, []string{"g-" + string(role)})
	if err != nil {
		t.Fatalf("sign in %s: %v", subject, err)
	}
	return tenants.WithPrincipal(context.Background(), p), p
}

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
