package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The browser session behind the cookie: resolved on every request, so a
// disabled member, a removed role or a suspended organisation takes effect
// on the very next one; ended by logout, idleness or age
// (tenants.SessionIdleTimeout, tenants.SessionAbsoluteTimeout).

// CSRF: every state-changing request (anything but GET, HEAD, OPTIONS)
// that the session cookie authenticates must carry the session's token, in
// the form field csrf_token or the header X-CSRF-Token, and must come from
// Homeward's own origin (Sec-Fetch-Site, else Origin). Requests with bearer
// credentials carry no cookie and are not concerned.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

// sessionLocal caches the request's session once resolved.
const sessionLocal = "homeward.session"

// browserSession is the request's resolved session.
type browserSession struct {
	id        string // the cookie's value: the secret
	session   *tenants.Session
	principal *tenants.Principal
}

// Principal returns the principal of the request's session cookie
// (SessionResolver): nil without a cookie, or when its session has ended
// (logged out, idle, too old, or the membership no longer signs in: the
// session is then deleted and the cookie cleared). For a state-changing
// request it also checks CSRF, forbidden when the token or the origin is
// wrong: call it for the routes the session authenticates (the API, the
// pages), not for forms that are not Homeward's (the demo provider's login
// page, which a signed-in browser may post too).
func (s *SignIn) Principal(c *fiber.Ctx) (*tenants.Principal, error) {
	if s == nil {
		return nil, nil
	}
	bs, err := s.session(c)
	if err != nil || bs == nil {
		return nil, err
	}
	if err := s.checkCSRF(c, bs.session); err != nil {
		return nil, err
	}
	return bs.principal, nil
}

// session resolves the request's session cookie, once per request.
func (s *SignIn) session(c *fiber.Ctx) (*browserSession, error) {
	if bs, ok := c.Locals(sessionLocal).(*browserSession); ok {
		return bs, nil
	}
	id := strings.Clone(c.Cookies(s.sessionCookieName()))
	if id == "" {
		return nil, nil
	}
	ctx := c.UserContext()
	sess, err := s.store.SessionByID(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	if sess == nil {
		s.setCookie(c, s.sessionCookieName(), "", -1)
		return nil, nil
	}
	var p *tenants.Principal
	if sess.IdentityID != uuid.Nil {
		p, err = s.operatorPrincipal(c, sess) // a platform operator's: no organisation
	} else {
		p, err = s.store.PrincipalOf(ctx, sess.MembershipID)
	}
	if homeward.ErrorCode(err) == homeward.EUNAUTHENTICATED {
		// Disabled, no role left, organisation suspended (an operator:
		// operators sign in elsewhere now): this session is over, and
		// stays over whatever changes back later.
		if err := s.store.EndSession(ctx, id); err != nil {
			return nil, err
		}
		s.setCookie(c, s.sessionCookieName(), "", -1)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p.TenantID != sess.TenantID {
		return nil, homeward.Errorf(homeward.EINTERNAL, "session %s names another organisation than its membership", sessionHandle(id))
	}
	p.SessionID = sessionHandle(id)
	p.CSRFToken = sess.CSRFToken
	bs := &browserSession{id: id, session: sess, principal: p}
	c.Locals(sessionLocal, bs)
	return bs, nil
}

// sessionHandle names a session without revealing it: the first half of
// the hex SHA-256 the database keys it by (which cannot be turned back into
// a cookie).
func sessionHandle(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// safeMethod reports whether the method changes nothing (RFC 9110).
func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions || m == fiber.MethodTrace
}

// checkCSRF lets a state-changing request through only from Homeward's own
// origin and with the session's token.
func (s *SignIn) checkCSRF(c *fiber.Ctx, sess *tenants.Session) error {
	if safeMethod(c.Method()) {
		return nil
	}
	refused := homeward.Errorf(homeward.EFORBIDDEN, "this request did not come from a Homeward page (CSRF check); reload the page and try again")
	// Browsers say where a request comes from; a page on another site
	// cannot hide it. Sec-Fetch-Site is sent in secure contexts only, so
	// Origin (sent with every cross-origin POST) is the fallback.
	switch site := c.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
	case "":
		if origin := c.Get(fiber.HeaderOrigin); origin != "" && origin != s.origin {
			return refused
		}
	default: // same-site, cross-site
		return refused
	}
	token := c.Get(csrfHeader)
	if token == "" {
		token = formField(c, csrfField)
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRFToken)) != 1 {
		return refused
	}
	return nil
}

// formField reads a field of a form body (never the query string, where a
// token would end up in logs and histories). A document upload's body is
// still on the connection: the token is one of the fields before the file
// (uploads.go).
func formField(c *fiber.Ctx, name string) string {
	if uploadBodyOf(c) != nil {
		return FormValue(c, name)
	}
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		return string(c.Request().PostArgs().Peek(name))
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		form, err := c.MultipartForm()
		if err == nil && len(form.Value[name]) > 0 {
			return form.Value[name][0]
		}
	}
	return ""
}

// requireSession is the session of a cookie route: CSRF checked,
// unauthenticated without one.
func (s *SignIn) requireSession(c *fiber.Ctx) (*browserSession, error) {
	bs, err := s.session(c)
	if err != nil {
		return nil, err
	}
	if bs == nil {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	}
	if err := s.checkCSRF(c, bs.session); err != nil {
		return nil, err
	}
	return bs, nil
}

// ---------------------------------------------------------------------------
// POST /logout

// logout ends the session here, audits it, clears the cookie and sends the
// browser to the provider's end-session endpoint (with the ID token as hint
// and the way back), or home when the provider has none. Without a live
// session there is nothing to end: the cookie is cleared and the browser
// sent home.
func (s *SignIn) logout(c *fiber.Ctx) error {
	if s == nil {
		return errNoSignIn
	}
	bs, err := s.session(c)
	if err != nil {
		return err
	}
	if bs == nil {
		s.setCookie(c, s.sessionCookieName(), "", -1)
		return c.Redirect(s.base.JoinPath("/").String(), fiber.StatusSeeOther)
	}
	if err := s.checkCSRF(c, bs.session); err != nil {
		return err
	}
	ctx := tenants.WithPrincipal(c.UserContext(), bs.principal)
	if bs.session.IdentityID != uuid.Nil {
		if err := s.operatorLogout(c, bs); err != nil {
			return err
		}
	} else {
		if err := s.store.Logout(ctx, bs.id, bs.principal); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "signed out", "tenant", bs.principal.TenantID, "request_id", requestIDOf(c))
	}
	s.setCookie(c, s.sessionCookieName(), "", -1)
	return c.Redirect(s.endSessionURL(ctx, bs), fiber.StatusSeeOther)
}

// endSessionURL is where the browser goes after logout: the provider's
// end_session_endpoint (OpenID Connect RP-Initiated Logout) when it has one,
// else Homeward's home page.
func (s *SignIn) endSessionURL(ctx context.Context, bs *browserSession) string {
	home := s.base.JoinPath("/").String()
	var idp *tenants.IdentityProvider
	if bs.session.IdentityID != uuid.Nil {
		if s.operator == nil {
			return home
		}
		idp = s.operatorIdentityProvider()
	} else {
		var err error
		if idp, err = s.identityProvider(ctx, bs.principal.TenantID); err != nil {
			return home
		}
	}
	p, err := s.providers.get(ctx, idp.Issuer, s.production, s.now())
	if err != nil || p.endSession == "" {
		// Signed out here; the provider's own session, if any, stays.
		return home
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return home
	}
	q := u.Query()
	if bs.session.IDToken != "" {
		q.Set("id_token_hint", bs.session.IDToken)
	}
	q.Set("client_id", idp.ClientID)
	q.Set("post_logout_redirect_uri", home)
	u.RawQuery = q.Encode()
	return u.String()
}

// ---------------------------------------------------------------------------
// POST /auth/switch

// switchOrganisation moves the browser to another organisation the same
// identity is a member of (form field tenant: its slug): the current
// session ends and a new one, with a fresh id, starts for that membership.
// An organisation whose provider is not the one this identity signed in
// with needs a sign-in there instead: the browser is sent to its /login.
func (s *SignIn) switchOrganisation(c *fiber.Ctx) error {
	if s == nil {
		return errNoSignIn
	}
	bs, err := s.requireSession(c)
	if err != nil {
		return err
	}
	if bs.session.IdentityID != uuid.Nil {
		// Signing in as an operator and as a member are separate sign-ins
		// (another provider or client, another group): no switching.
		return homeward.Errorf(homeward.EFORBIDDEN, "a platform operator's session belongs to no organisation: sign out, then sign in to the organisation")
	}
	slug := strings.TrimSpace(formField(c, "tenant"))
	if slug == "" {
		return homeward.Invalid(map[string]string{"tenant": "required: the slug of the organisation to switch to"})
	}
	if slug == bs.principal.TenantSlug {
		return c.Redirect(s.base.JoinPath("/").String(), fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	choices, err := s.store.OrganisationsOf(ctx, bs.principal.Actor.Issuer, bs.principal.Actor.Subject)
	if err != nil {
		return err
	}
	var target *tenants.OrganisationChoice
	for i := range choices {
		if choices[i].Slug == slug {
			target = &choices[i]
		}
	}
	if target == nil {
		return homeward.Errorf(homeward.EFORBIDDEN, "you are not a member of this organisation")
	}
	idp, err := s.identityProvider(ctx, target.TenantID)
	if err != nil {
		return err
	}
	if idp.Issuer != bs.principal.Actor.Issuer {
		return c.Redirect(loginURL(slug, "/", ""), fiber.StatusSeeOther)
	}
	p, err := s.store.PrincipalOf(ctx, target.MembershipID)
	if err != nil {
		if homeward.ErrorCode(err) == homeward.EUNAUTHENTICATED {
			return homeward.Errorf(homeward.EFORBIDDEN, "your membership of this organisation does not allow signing in")
		}
		return err
	}
	// The ID token keeps serving as the provider's logout hint only for the
	// client it was issued to.
	idToken := ""
	if cur, err := s.identityProvider(ctx, bs.principal.TenantID); err == nil && cur.ClientID == idp.ClientID && cur.Issuer == idp.Issuer {
		idToken = bs.session.IDToken
	}
	id, _, err := s.store.SwitchSession(ctx, bs.id, p, idToken, s.now())
	if err != nil {
		return err
	}
	s.setCookie(c, s.sessionCookieName(), id, 0)
	return c.Redirect(s.base.JoinPath("/").String(), fiber.StatusSeeOther)
}
