package pages

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The assignment form of a case (its core tab), for the members who assign
// (case.assign: case managers by default): the case's owner and the other
// staff assigned, chosen among the organisation's staff (cases.Service.Staff:
// its enabled members who hold a role). Memberships hold no names, so the
// staff are shown as the members page shows them: by the subject their
// provider signs them in with, with their roles. The domain
// (cases.Service.Assign) authorizes, checks each member and audits
// case.assign; the page refuses the form before reading it when the member
// may not assign.

// mayAssign: the member assigns cases in its organisation.
func mayAssign(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.Can(tenants.PermCaseAssign)
}

// staffChoice is one member of staff as the form offers it.
type staffChoice struct {
	ID       string // the element's id
	Value    string // the membership id
	Subject  string
	Roles    string // in the reader's language
	Self     bool
	Selected bool // the owner (in the owner's list)
	Checked  bool // assigned (among the boxes)
}

// assignmentForm is the case's assignment form.
type assignmentForm struct {
	Action                    string
	Owners                    []staffChoice // the owner's choices; none selected: nobody
	NoOwner                   bool
	Staff                     []staffChoice // the boxes of the staff assigned
	OwnerError, AssignedError string        // message keys, beside their fields
	FormError                 bool
}

// assignmentOf builds the form for the case at owner with assigned, or as
// it came back in st.
func (p *Pages) assignmentOf(c *fiber.Ctx, r *request, caseID uuid.UUID, owner *uuid.UUID, assigned []uuid.UUID, st *caseState) (*assignmentForm, error) {
	staff, err := p.deps.Cases.Staff(c.UserContext())
	if err != nil {
		return nil, err
	}
	ownerValue := ""
	if owner != nil {
		ownerValue = owner.String()
	}
	var checked []string
	for _, m := range assigned {
		checked = append(checked, m.String())
	}
	f := &assignmentForm{Action: casePath(caseID) + "/assignment"}
	if st.form == "assignment" {
		ownerValue, checked = st.typed.Get("owner"), st.typed["assigned_to"]
		f.OwnerError, f.AssignedError = st.errs["owner"], st.errs["assigned_to"]
		f.FormError = len(st.errs) > 0
	}
	me := r.principal.Actor.MemberID
	for _, m := range staff {
		var roles []string
		for _, key := range roleKeys(m.Roles) {
			roles = append(roles, r.locale.T(key))
		}
		ch := staffChoice{Value: m.ID.String(), Subject: m.Subject, Roles: strings.Join(roles, ", "),
			Self: me != nil && *me == m.ID}
		owner, box := ch, ch
		owner.Selected = ch.Value == ownerValue
		box.ID, box.Checked = "assign-staff-"+ch.Value, slices.Contains(checked, ch.Value)
		f.Owners, f.Staff = append(f.Owners, owner), append(f.Staff, box)
	}
	f.NoOwner = !slices.ContainsFunc(f.Owners, func(o staffChoice) bool { return o.Selected })
	return f, nil
}

// AssignCase is POST /cases/:id/assignment (form: owner, a member's id or
// empty for nobody; assigned_to, each member assigned besides the owner):
// the case's owner and staff, replaced whole. A member who is not one of
// the organisation's active members draws the page again (422) with the
// reason beside its field; nothing is stored.
func (p *Pages) AssignCase(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseForm(c, casePath(id), mayAssign)
	if r == nil {
		return err
	}
	st := &caseState{form: "assignment", typed: postForm(c), errs: fieldErrors{}}
	var owner *uuid.UUID
	if v := strings.TrimSpace(st.typed.Get("owner")); v != "" {
		if m, err := uuid.Parse(v); err == nil {
			owner = &m
		} else {
			st.errs["owner"] = "cases.assign_error_owner"
		}
	}
	var assigned []uuid.UUID
	for _, v := range st.typed["assigned_to"] {
		m, err := uuid.Parse(strings.TrimSpace(v))
		if err != nil {
			st.errs["assigned_to"] = "cases.assign_error_staff"
			continue
		}
		assigned = append(assigned, m)
	}
	if len(st.errs) == 0 {
		_, err = p.deps.Cases.Assign(c.UserContext(), id, owner, assigned)
		if codeOf(err, homeward.EINVALID) == "" {
			if err != nil {
				return err
			}
			p.flash(c, "cases.flash_assigned")
			return c.Redirect(casePath(id), fiber.StatusSeeOther)
		}
		for name := range fieldsOf(err) {
			if name == "cas_CaseOwner" {
				st.errs["owner"] = "cases.assign_error_owner"
			} else {
				st.errs["assigned_to"] = "cases.assign_error_staff"
			}
		}
	}
	return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
}
