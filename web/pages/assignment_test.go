package pages_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// assignmentOf is a case's owner and assigned staff as the domain reads
// them now (as a's case manager).
func (w *world) assignmentOf(t *testing.T, id uuid.UUID) (*uuid.UUID, []uuid.UUID) {
	t.Helper()
	c, err := cases.New(w.s).Get(ctxOf(w.a.members[tenants.RoleCaseManager]), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.OwnerID, c.Assigned
}

// TestCaseAssignmentForm: the case manager finds the assignment form on
// the case's core tab, the organisation's active staff by subject with
// their roles (as the members page shows them), the owner and the staff
// assigned chosen; saves another assignment (303, a confirmation, the
// domain has it); a member who is not one of the organisation's active
// staff is refused beside its field (422, in the reader's language),
// nothing stored; those who may not assign see no form and are refused.
func TestCaseAssignmentForm(t *testing.T) {
	w := newWorld(t)
	id := w.newCase(t, "Noy") // owned by the case manager; social worker, counsellor, medical officer assigned
	cm := w.a.members[tenants.RoleCaseManager]
	member := func(r tenants.Role) string { return w.a.members[r].Actor.MemberID.String() }
	page, action := "/cases/"+id.String(), "/cases/"+id.String()+"/assignment"
	app := w.as(t, cm)

	r := get(t, app, page)
	wantStatus(t, "case manager", r, 200)
	mustContain(t, r, `id="assignment"`, `action="`+action+`"`, `name="csrf_token" value="csrf-a-case_manager"`,
		`<option value="`+member(tenants.RoleCaseManager)+`" selected>a.case_manager (You) · Case manager</option>`,
		`<option value="`+member(tenants.RoleLawyer)+`">a.lawyer · Lawyer</option>`,
		`id="assign-staff-`+member(tenants.RoleSocialWorker)+`" name="assigned_to" value="`+member(tenants.RoleSocialWorker)+`" checked>`,
		`id="assign-staff-`+member(tenants.RoleCounsellor)+`" name="assigned_to" value="`+member(tenants.RoleCounsellor)+`" checked>`,
		`id="assign-staff-`+member(tenants.RoleLawyer)+`" name="assigned_to" value="`+member(tenants.RoleLawyer)+`">`,
		`<span class="ident">a.target</span> · Social worker, Counsellor</label>`)
	mustNotContain(t, r, "b.case_manager", w.b.members[tenants.RoleCaseManager].Actor.MemberID.String(), `aria-invalid`)
	// Not on the other tabs.
	mustNotContain(t, get(t, app, page+"?tab=identity"), `id="assignment"`)

	// Refused members: beside their field, what was chosen kept, nothing
	// stored. A disabled member is offered no more, and refused.
	admin := w.a.members[tenants.RoleTenantAdmin]
	if _, err := w.s.SetMemberDisabled(ctxOf(admin), w.a.target, true); err != nil {
		t.Fatal(err)
	}
	beforeOwner, beforeStaff := w.assignmentOf(t, id)
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"owner not an id", form(cm, "owner", "someone", "assigned_to", member(tenants.RoleLawyer)), "assign-owner-error"},
		{"owner of another organisation", form(cm, "owner", w.b.members[tenants.RoleCaseManager].Actor.MemberID.String()), "assign-owner-error"},
		{"staff of another organisation", form(cm, "owner", "", "assigned_to", w.b.members[tenants.RoleSocialWorker].Actor.MemberID.String()), "assign-staff-error"},
		{"disabled staff", form(cm, "owner", "", "assigned_to", w.a.target.String()), "assign-staff-error"},
		{"staff not an id", form(cm, "owner", "", "assigned_to", "x"), "assign-staff-error"},
	} {
		r := post(t, app, action, c.form)
		wantStatus(t, c.name, r, 422)
		want := map[string]string{
			"assign-owner-error": "Choose the owner among the active members of staff, or nobody.",
			"assign-staff-error": "Choose the staff assigned among the active members of staff (at most 50).",
		}[c.field]
		mustContain(t, r, `<p class="field-error" id="`+c.field+`">`+want+`</p>`, `aria-describedby="`+c.field+`"`,
			"Some answers need correcting")
		owner, staff := w.assignmentOf(t, id)
		if *owner != *beforeOwner || !slices.Equal(staff, beforeStaff) {
			t.Errorf("%s: stored owner %v, staff %v", c.name, owner, staff)
		}
	}
	r = get(t, app, page)
	mustNotContain(t, r, "a.target", w.a.target.String())
	// The typed choice is kept: the lawyer stays ticked after a mistake.
	r = post(t, app, action, form(cm, "owner", "someone", "assigned_to", member(tenants.RoleLawyer)))
	mustContain(t, r, `value="`+member(tenants.RoleLawyer)+`" checked>`, `<option value="" selected>Nobody</option>`)
	// In Thai: the reason in Thai.
	r = post(t, app, action, form(cm, "owner", "x"), "Cookie", "homeward_lang=th")
	wantStatus(t, "th mistake", r, 422)
	mustContain(t, r, "เลือกผู้รับผิดชอบจากเจ้าหน้าที่ที่ใช้งานอยู่")

	// Refused before the form is read: no CSRF token, roles that may not
	// assign (the social worker writes the case's core, yet does not
	// assign), anyone not signed in; another organisation's case is not
	// found.
	wantStatus(t, "without CSRF", post(t, app, action, url.Values{"owner": {""}}), 403)
	for _, role := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleTenantAdmin, tenants.RoleCounsellor} {
		p := w.a.members[role]
		wantStatus(t, string(role), post(t, w.as(t, p), action, form(p, "owner", member(tenants.RoleSocialWorker))), 403)
	}
	wantRedirect(t, "anonymous", post(t, w.as(t, nil), action, url.Values{"owner": {""}}), "/login?next=%2Fcases%2F"+id.String())
	bcm := w.b.members[tenants.RoleCaseManager]
	wantStatus(t, "b's case manager", post(t, w.as(t, bcm), action, form(bcm, "owner", "")), 404)
	if owner, staff := w.assignmentOf(t, id); *owner != *beforeOwner || !slices.Equal(staff, beforeStaff) {
		t.Errorf("a refused form stored owner %v, staff %v", owner, staff)
	}
	// The social worker reads the case, without the form.
	r = get(t, w.as(t, w.a.members[tenants.RoleSocialWorker]), page)
	wantStatus(t, "social worker", r, 200)
	mustNotContain(t, r, `id="assignment"`, `action="`+action+`"`, "a.lawyer")

	// Saved: the social worker owns it, the lawyer and the counsellor are
	// assigned (the owner ticked again counts once, as owner).
	r = post(t, app, action, form(cm, "owner", member(tenants.RoleSocialWorker), "assigned_to", member(tenants.RoleLawyer),
		"assigned_to", member(tenants.RoleCounsellor), "assigned_to", member(tenants.RoleSocialWorker)))
	wantRedirect(t, "saved", r, page)
	if flashOf(r) != "cases.flash_assigned" {
		t.Errorf("flash %q", flashOf(r))
	}
	owner, staff := w.assignmentOf(t, id)
	if owner == nil || owner.String() != member(tenants.RoleSocialWorker) {
		t.Errorf("owner %v, want the social worker", owner)
	}
	slices.SortFunc(staff, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	want := []uuid.UUID{*w.a.members[tenants.RoleLawyer].Actor.MemberID, *w.a.members[tenants.RoleCounsellor].Actor.MemberID}
	slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(staff, want) {
		t.Errorf("assigned %v, want %v", staff, want)
	}
	r = get(t, app, page, "Cookie", "homeward_flash=cases.flash_assigned")
	mustContain(t, r, `<p class="flash" role="status">The assignment is saved.`,
		`<option value="`+member(tenants.RoleSocialWorker)+`" selected>a.social_worker · Social worker</option>`,
		`value="`+member(tenants.RoleLawyer)+`" checked>`)
	mustNotContain(t, r, `value="`+member(tenants.RoleMedicalOfficer)+`" checked>`)
	// The medical officer, no longer assigned, no longer sees the case.
	wantStatus(t, "medical officer unassigned", get(t, w.as(t, w.a.members[tenants.RoleMedicalOfficer]), page), 404)

	// Nobody owns it, nobody is assigned.
	wantRedirect(t, "cleared", post(t, app, action, form(cm, "owner", "")), page)
	if owner, staff := w.assignmentOf(t, id); owner != nil || len(staff) != 0 {
		t.Errorf("cleared: owner %v, staff %v", owner, staff)
	}
}
