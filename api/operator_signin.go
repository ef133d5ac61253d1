package api

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Platform operators in the browser (docs/architecture.md, "Sign-in"). They
// belong to no organisation, so they sign in at the platform's own OpenID
// provider (HOMEWARD_OPERATOR_*; in demo mode the demo provider's operator
// client) by the same flow as an organisation's people: GET
// /login?operator=1 keeps a login attempt marked as an operator's, the
// callback checks state, code, PKCE, the ID token (signature, that
// provider's issuer, the operators' client as audience, expiry) and nonce
// exactly as for an organisation (redeem), then requires the operator
// group. The session names the operator's identity and no organisation; its
// principal is platform_operator alone (tenants.StartOperatorSession), which
// the platform's pages (/metrics, /ops/queues) let in and every
// organisation's service refuses.
//
// Operators have no organisation's audit chain: their sign-in, refused
// sign-in and sign-out go to the log stream, at info (warn for a refusal),
// with stable keys:
//
//	audit=auth.login | auth.login_failed | auth.logout
//	actor_kind=operator
//	identity=<uuid>    the identities row of the operator's (issuer, subject)
//	session=<handle>   half the SHA-256 the session is stored under (ties a sign-out to its sign-in)
//	reason=<code>      refusals only
//	request_id=<id>
//
// The subject itself is not logged: like a member's membership id, the
// identity id names the operator to whoever holds the database, and nobody
// else (a log stream is read more widely and kept elsewhere).

// errNoOperatorSignIn: this server has no operators' provider.
var errNoOperatorSignIn = homeward.Errorf(homeward.ENOTFOUND,
	"platform operators do not sign in through the browser here (HOMEWARD_OPERATOR_ISSUER is not set)")

// operatorIdentityProvider is the operators' provider as the shared parts
// of the flow take a provider. Scope openid alone: Homeward needs the
// subject and the groups, nothing else about the person.
func (s *SignIn) operatorIdentityProvider() *tenants.IdentityProvider {
	o := s.operator
	return &tenants.IdentityProvider{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Scopes: []string{"openid"}, GroupsClaim: o.GroupsClaim,
	}
}

// operatorLogin is GET /login?operator=1: a sign-in at the operators'
// provider, its attempt marked as an operator's (it has no organisation).
func (s *SignIn) operatorLogin(c *fiber.Ctx, next string) error {
	if s.operator == nil {
		return errNoOperatorSignIn
	}
	idp := s.operatorIdentityProvider()
	p, err := s.providers.get(c.UserContext(), idp.Issuer, s.production, s.now())
	if err != nil {
		return s.unreachable(c, err, "actor_kind", tenants.ActorOperator)
	}
	return s.startAttempt(c, tenants.LoginAttempt{Operator: true, ReturnTo: next}, idp, p)
}

// operatorCallback completes an operator's sign-in: the protocol checks as
// for an organisation (redeem), then the operator group, then a session with
// no organisation.
func (s *SignIn) operatorCallback(c *fiber.Ctx, attempt *tenants.LoginAttempt, fail func(string, error) error) error {
	if s.operator == nil {
		// Operator sign-in was turned off while this attempt was at the provider.
		return fail(failNoAttempt, nil)
	}
	v, err := s.redeem(c, attempt, s.operatorIdentityProvider(), fail, "actor_kind", tenants.ActorOperator)
	if err != nil {
		return err
	}
	if !slices.Contains(v.groups, s.operator.Group) {
		s.logOperatorRefusal(c, failNoAccess, nil)
		return homeward.Errorf(homeward.EFORBIDDEN, "you signed in, but you are not a platform operator here")
	}
	if err := s.endPreviousSession(c); err != nil {
		return err
	}
	ctx := c.UserContext()
	id, sess, _, err := s.store.StartOperatorSession(ctx, v.idToken.Issuer, v.idToken.Subject, v.raw, s.now())
	if err != nil {
		return err
	}
	s.setCookie(c, s.sessionCookieName(), id, 0)
	s.log.InfoContext(ctx, "operator signed in", "audit", "auth.login", "actor_kind", tenants.ActorOperator,
		"identity", sess.IdentityID, "session", sessionHandle(id), "request_id", requestIDOf(c))
	return c.Redirect(localPath(attempt.ReturnTo), fiber.StatusSeeOther)
}

// refuseOperator ends a failed operator sign-in: logged, answered 401.
func (s *SignIn) refuseOperator(c *fiber.Ctx, reason string, cause error) error {
	s.logOperatorRefusal(c, reason, cause)
	return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign-in failed; please start again")
}

// logOperatorRefusal logs a refused operator sign-in: a reason code, never
// who it was.
func (s *SignIn) logOperatorRefusal(c *fiber.Ctx, reason string, cause error) {
	attrs := []any{"audit", "auth.login_failed", "actor_kind", tenants.ActorOperator, "reason", reason, "request_id", requestIDOf(c)}
	if cause != nil && reason != failToken {
		attrs = append(attrs, "error", cause.Error()) // see logRefusal
	}
	s.log.WarnContext(c.UserContext(), "operator sign-in refused", attrs...)
}

// operatorLogout ends an operator's session (there is no organisation to
// audit it in: the log stream records it).
func (s *SignIn) operatorLogout(c *fiber.Ctx, bs *browserSession) error {
	ctx := c.UserContext()
	if err := s.store.EndSession(ctx, bs.id); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "operator signed out", "audit", "auth.logout", "actor_kind", tenants.ActorOperator,
		"identity", bs.session.IdentityID, "session", sessionHandle(bs.id), "request_id", requestIDOf(c))
	return nil
}

// operatorPrincipal is the principal of an operator's session:
// unauthenticated (the session ends) when operators no longer sign in here,
// or sign in at another provider than the one that vouched for this one.
func (s *SignIn) operatorPrincipal(c *fiber.Ctx, sess *tenants.Session) (*tenants.Principal, error) {
	p, err := s.store.OperatorSessionPrincipal(c.UserContext(), sess.IdentityID)
	if err != nil {
		return nil, err
	}
	if s.operator == nil || p.Actor.Issuer != s.operator.Issuer {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "platform operators sign in elsewhere now; sign in again")
	}
	return p, nil
}
