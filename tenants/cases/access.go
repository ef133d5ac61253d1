package cases

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// Access to one case follows from the principal's scope on each part
// (tenants.Principal.CaseScope) and from whether the case is its own: the
// member owns it or is assigned to it. A part the principal may not read is
// absent from the map; a case whose core it may not read is not_found.

// principal is the context's principal acting in an organisation: every
// case function starts here (unauthenticated without one; a platform
// operator, who acts for no organisation, is forbidden).
func principal(ctx context.Context) (*tenants.Principal, error) {
	return tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
}

// covers reports whether scope reaches a case that is (own) or is not the
// principal's own.
func covers(scope tenants.Scope, own bool) bool {
	return scope == tenants.ScopeAll || scope == tenants.ScopeOwn && own
}

// isOwn reports whether the case with owner and assigned staff is the
// principal's own.
func isOwn(p *tenants.Principal, owner *uuid.UUID, assigned []uuid.UUID) bool {
	m := p.Actor.MemberID
	return m != nil && (owner != nil && *owner == *m || slices.Contains(assigned, *m))
}

// accessFor is what p may do with each part of a case that is (own) or is
// not its own; visible parts only.
func accessFor(p *tenants.Principal, own bool) map[string]Access {
	out := map[string]Access{}
	for _, part := range tenants.CaseParts {
		switch {
		case covers(p.CaseScope(part, true), own):
			out[part] = AccessWrite
		case covers(p.CaseScope(part, false), own):
			out[part] = AccessRead
		}
	}
	return out
}

// canRead reports whether access lets part be read.
func canRead(access map[string]Access, part string) bool {
	_, ok := access[part]
	return ok
}

// canWrite reports whether access lets part be written.
func canWrite(access map[string]Access, part string) bool { return access[part] == AccessWrite }
