package tenants_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// An organisation's adjustments to the permission table reach its members'
// principals on their next request; fixed rows, unknown names and the
// platform operator are refused; a change is audited.
func TestPermissionAdjustments(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := orgWithProvider(t, s, testIssuer), orgWithProvider(t, s, testIssuer)
			admin := signIn(t, s, a, "a-admin", "g-tenant_admin")
			auditor := signIn(t, s, a, "a-auditor", "g-auditor")
			worker := signIn(t, s, a, "a-worker", "g-social_worker")
			counsellor := signIn(t, s, a, "a-counsellor", "g-counsellor")
			bWorker := signIn(t, s, b, "b-worker", "g-social_worker")
			as := func(p *tenants.Principal) context.Context { return tenants.WithPrincipal(ctx, p) }
			again := func(p *tenants.Principal) *tenants.Principal { // the next request
				t.Helper()
				q, err := s.PrincipalOf(ctx, *p.Actor.MemberID)
				must(t, err)
				return q
			}
			listMembers := func(p *tenants.Principal) error {
				_, err := s.Members(as(again(p)), tenants.MemberQuery{})
				return err
			}

			wantCode(t, "worker before", listMembers(worker), homeward.EFORBIDDEN)
			_, err := s.SetPermissionAdjustments(as(auditor), tenants.PermissionAdjustments{})
			wantCode(t, "auditor writes", err, homeward.EFORBIDDEN)
			_, err = s.SetPermissionAdjustments(as(worker), tenants.PermissionAdjustments{})
			wantCode(t, "worker writes", err, homeward.EFORBIDDEN)
			_, err = s.PermissionTable(as(worker))
			wantCode(t, "worker reads", err, homeward.EFORBIDDEN)
			_, err = s.SetPermissionAdjustments(operatorCtx(), tenants.PermissionAdjustments{})
			wantCode(t, "operator writes", err, homeward.EFORBIDDEN)

			// Grant members.read to social workers.
			rows, err := s.SetPermissionAdjustments(as(admin), tenants.PermissionAdjustments{
				tenants.PermMembersRead: {Add: []tenants.Role{tenants.RoleSocialWorker}},
			})
			must(t, err)
			row := rows[slices.IndexFunc(rows, func(r tenants.PermissionRow) bool { return r.Permission == tenants.PermMembersRead })]
			want := []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleSocialWorker, tenants.RoleAuditor}
			if !slices.Equal(row.Roles, want) || !slices.Equal(row.Add, []tenants.Role{tenants.RoleSocialWorker}) || row.Fixed {
				t.Fatalf("members.read row %+v", row)
			}
			must(t, listMembers(worker))
			wantCode(t, "counsellor", listMembers(counsellor), homeward.EFORBIDDEN)
			// Another organisation keeps the default.
			if again(bWorker).Can(tenants.PermMembersRead) {
				t.Error("B's social worker may read members: A's adjustment leaked")
			}
			// The principal as built by an API token carries it too.
			created, err := s.CreateAPIToken(as(admin), tenants.NewAPIToken{Name: "w", Roles: []tenants.Role{tenants.RoleSocialWorker},
				ExpiresAt: time.Now().Add(7 * 24 * time.Hour)})
			must(t, err)
			tp, err := s.AuthenticateAPIToken(ctx, created.Token)
			must(t, err)
			if !tp.Can(tenants.PermMembersRead) {
				t.Error("an API token's principal ignores the adjustment")
			}

			// Take members.read from auditors: denied on the next request.
			must(t, listMembers(auditor))
			_, err = s.SetPermissionAdjustments(as(admin), tenants.PermissionAdjustments{
				tenants.PermMembersRead: {Add: []tenants.Role{tenants.RoleSocialWorker}, Remove: []tenants.Role{tenants.RoleAuditor}},
			})
			must(t, err)
			wantCode(t, "auditor after removal", listMembers(auditor), homeward.EFORBIDDEN)
			rows, err = s.PermissionTable(as(again(auditor)))
			must(t, err)
			for _, r := range rows {
				if r.Permission == tenants.PermMembersRead && !slices.Equal(r.Remove, []tenants.Role{tenants.RoleAuditor}) {
					t.Errorf("members.read row %+v", r)
				}
			}

			// Refused, the field named; nothing changes.
			before := auditActions(t, s, a)
			for _, tc := range []struct {
				adj    tenants.PermissionAdjustments
				field  string
				reason string
			}{
				{tenants.PermissionAdjustments{tenants.PermAuditRead: {Remove: []tenants.Role{tenants.RoleAuditor}}}, "adjustments.audit.read", "fixed"},
				{tenants.PermissionAdjustments{"cases.erase": {Add: []tenants.Role{tenants.RoleLawyer}}}, "adjustments.cases.erase", "not a permission"},
				{tenants.PermissionAdjustments{tenants.PermMembersRead: {Add: []tenants.Role{"chief"}}}, "adjustments.members.read", "not a role"},
				{tenants.PermissionAdjustments{tenants.PermMembersWrite: {Add: []tenants.Role{tenants.RolePlatformOperator}}}, "adjustments.members.write", "platform_operator"},
				{tenants.PermissionAdjustments{tenants.PermIDPWrite: {Remove: []tenants.Role{tenants.RolePlatformOperator}}}, "adjustments.idp.write", "platform_operator"},
				{tenants.PermissionAdjustments{tenants.PermSettingsWrite: {Remove: []tenants.Role{tenants.RoleTenantAdmin}}}, "adjustments.settings.write", "tenant_admin"},
			} {
				_, err := s.SetPermissionAdjustments(as(admin), tc.adj)
				var he *homeward.Error
				if !errors.As(err, &he) || he.Code != homeward.EINVALID || !strings.Contains(he.Fields[tc.field], tc.reason) {
					t.Errorf("%v: err = %v, want %s: ...%s...", tc.adj, err, tc.field, tc.reason)
				}
			}
			if !again(auditor).Can(tenants.PermAuditRead) {
				t.Error("the fixed audit.read row lost the auditor")
			}
			if got := auditActions(t, s, a); !slices.Equal(got, before) {
				t.Errorf("refused changes audited: %v", got[len(before):])
			}
			if n := countOf(auditActions(t, s, a), "permissions.change"); n != 2 {
				t.Errorf("permissions.change audited %d times, want 2", n)
			}
			if n := countOf(auditActions(t, s, b), "permissions.change"); n != 0 {
				t.Errorf("B audited %d permission changes", n)
			}
		})
	}
}
