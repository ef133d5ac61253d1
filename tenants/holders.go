package tenants

import (
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// MembersWith lists the enabled members of the transaction's organisation
// who may do perm now, by the organisation's permission table (its
// adjustments applied, as Principal.Can decides), in StaffOf's order: a
// feature addressing a notice to whoever does a kind of work (a handoff in
// the inbox to the members who accept handoffs) asks it inside its own
// transaction. The caller has authorized what it does with the list.
func MembersWith(tx *gorm.DB, perm Permission) ([]uuid.UUID, error) {
	adj, err := adjustmentsOf(tx)
	if err != nil {
		return nil, err
	}
	roles, ok := rolesFor(perm, adj)
	if !ok {
		return nil, nil
	}
	staff, err := StaffOf(tx)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, m := range staff {
		if slices.ContainsFunc(m.Roles, func(r Role) bool { return slices.Contains(roles, r) }) {
			out = append(out, m.ID)
		}
	}
	return out, nil
}
