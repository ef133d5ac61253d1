package tenants

// Field groups of a case (docs: domain reference): the unit of access and of
// sharing. Every role with case access reads the core; each other group is
// granted on its own. A document belongs to exactly one group.
const (
	FieldGroupCore          = "core"          // stage, status, dates, assignment
	FieldGroupIdentity      = "identity"      // names, birth date, identity numbers, contacts, address
	FieldGroupFamily        = "family"        // family members, home village, tracing
	FieldGroupMedical       = "medical"       // visits, referrals, HIV/STI tests and results
	FieldGroupPsychological = "psychological" // assessments, sessions
	FieldGroupLegal         = "legal"         // lawsuit wish, proceedings, hearings, perpetrator roles
)

// FieldGroups lists every field group, core first.
var FieldGroups = []string{
	FieldGroupCore, FieldGroupIdentity, FieldGroupFamily,
	FieldGroupMedical, FieldGroupPsychological, FieldGroupLegal,
}

// IsFieldGroup reports whether g names a field group.
func IsFieldGroup(g string) bool {
	for _, x := range FieldGroups {
		if x == g {
			return true
		}
	}
	return false
}
