package tenants

import "github.com/afesip/homeward"

// DistinctApprover checks a two-person rule (a starter kit, a case erasure,
// a consent override): the approver must be a person, signed in, other than
// the requester. It refuses an API token as approver (tokens never approve),
// the requester's own identity (issuer, subject) a second time, and the
// member who made the token that requested. Either missing is
// unauthenticated.
func DistinctApprover(requester, approver *Principal) error {
	switch {
	case requester == nil || approver == nil:
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	case approver.ViaToken || approver.Actor.Kind != ActorMember:
		return homeward.Errorf(homeward.EFORBIDDEN, "an API token never approves: a second person signs in and approves")
	case approver.Actor.Issuer == requester.Actor.Issuer && approver.Actor.Subject == requester.Actor.Subject:
		return homeward.Errorf(homeward.EFORBIDDEN, "the approver must be another person than the requester")
	case approver.Actor.MemberID != nil && requester.Actor.MemberID != nil && *approver.Actor.MemberID == *requester.Actor.MemberID:
		// The requester is a token this approver made: still one person.
		return homeward.Errorf(homeward.EFORBIDDEN, "the approver must be another person than the requester")
	}
	return nil
}
