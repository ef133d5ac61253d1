package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Browser sign-in (docs/architecture.md, "Sign-in"): each organisation
// signs its people in with its own OpenID provider, by authorization code
// with PKCE (S256), state and nonce, all three kept server-side in a login
// attempt bound to the browser by a short-lived cookie. A successful
// callback maps the provider groups to roles (Store.SignIn) and opens a
// server-side session, whose cookie then authenticates the browser
// (Principal, api.SessionResolver); every state change it authenticates
// needs the session's CSRF token (csrf.go).

// Cookie names. The __Host- prefix makes the browser refuse the cookie
// unless it is Secure, has Path=/ and no Domain: no other host, not even a
// sibling subdomain, can set or overwrite it.
const (
	sessionCookie       = "__Host-homeward"
	loginCookie         = "__Host-homeward-login"
	insecureSessionName = "homeward"       // demo over plain HTTP away from localhost only
	insecureLoginName   = "homeward-login" //
)

const (
	// providerTTL is how long a provider's discovery document is trusted
	// before it is fetched again (its keys are refreshed by go-oidc when an
	// unknown key id appears).
	providerTTL = time.Hour
	// providerTimeout bounds each call to a provider.
	providerTimeout = 10 * time.Second
)

// SignIn is the browser sign-in: the routes GET /login, GET /auth/callback,
// POST /auth/switch and POST /logout, and the session behind the cookie
// (it is the api.SessionResolver of Deps.Sessions).
type SignIn struct {
	store      *tenants.Store
	log        *slog.Logger
	base       *url.URL // HOMEWARD_BASE_URL: the callback and the origin CSRF checks expect
	origin     string   // scheme://host[:port] of base
	production bool
	secure     bool // cookies are Secure with the __Host- prefix
	now        func() time.Time
	client     *http.Client
	providers  providerCache
	// operator is the platform operators' own provider
	// (HOMEWARD_OPERATOR_*, or the demo provider's operator client); nil:
	// operators do not sign in through the browser here.
	operator *homeward.OperatorSignIn
}

// SignInOptions are the optional parts of NewSignIn.
type SignInOptions struct {
	// Now is the clock of sessions and token expiry (tests move it);
	// time.Now when nil.
	Now func() time.Time
	// HTTPClient talks to the providers (discovery, keys, token, userinfo);
	// a client with a 10-second timeout when nil.
	HTTPClient *http.Client
}

// NewSignIn builds the sign-in for cfg's base URL. The session cookie is
// __Host-homeward, Secure, HttpOnly, SameSite=Lax, Path=/. On plain HTTP
// (demo mode only: production requires https) browsers keep Secure cookies
// for localhost alone; anywhere else the demo falls back to a cookie named
// homeward without Secure, and NewSignIn logs a warning.
func NewSignIn(store *tenants.Store, cfg *homeward.Config, log *slog.Logger, opts SignInOptions) (*SignIn, error) {
	if store == nil || cfg == nil || cfg.BaseURL == nil {
		return nil, errors.New("api.NewSignIn: a store and a configuration with a base URL are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := *cfg.BaseURL
	base.Path = strings.TrimSuffix(base.Path, "/")
	s := &SignIn{
		store:      store,
		log:        log,
		base:       &base,
		origin:     base.Scheme + "://" + base.Host,
		production: !cfg.Demo(),
		now:        opts.Now,
		client:     opts.HTTPClient,
	}
	if o := cfg.OperatorSignIn; o != nil {
		if o.Issuer == "" || o.ClientID == "" || o.Group == "" || o.GroupsClaim == "" {
			return nil, errors.New("api.NewSignIn: the operators' provider needs an issuer, a client id, a groups claim and a group")
		}
		op := *o
		s.operator = &op
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: providerTimeout}
	}
	s.providers.client = s.client
	switch {
	case base.Scheme == "https":
		s.secure = true
	case s.production:
		return nil, errors.New("api.NewSignIn: production needs an https base URL")
	case isLoopback(base.Hostname()):
		// Browsers treat http://localhost as a secure context: Secure
		// cookies, and so the __Host- prefix, work there.
		s.secure = true
	default:
		log.Warn("sign-in cookies are not Secure: HOMEWARD_BASE_URL is plain http away from localhost, "+
			"so anyone on the network path can steal a session; use https, or localhost", "base_url", s.origin)
	}
	return s, nil
}

// isLoopback reports whether host is localhost (or under .localhost) or a
// loopback address, which browsers count as secure over plain HTTP.
func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *SignIn) sessionCookieName() string {
	if s.secure {
		return sessionCookie
	}
	return insecureSessionName
}

func (s *SignIn) loginCookieName() string {
	if s.secure {
		return loginCookie
	}
	return insecureLoginName
}

// setCookie sets a cookie with the flags every Homeward cookie has; maxAge
// 0 makes a browser-session cookie, a negative one deletes the cookie.
func (s *SignIn) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{
		Name: name, Value: value, Path: "/",
		Secure: s.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	}
	switch {
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	case maxAge < 0:
		ck.Expires = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	default:
		ck.SessionOnly = true
	}
	c.Cookie(ck)
}

// errNoSignIn answers the sign-in routes of a server built without
// Deps.SignIn (tests of other parts, tools): nobody can sign in there.
var errNoSignIn = homeward.Errorf(homeward.EUNAVAILABLE, "sign-in is not configured")

// ---------------------------------------------------------------------------
// GET /login

// login starts a sign-in at the organisation named by ?tenant=SLUG, or, with
// ?operator=1, a platform operator's at the operators' own provider, or
// shows the organisations to choose from (found from ?email= when the
// organisations configured e-mail domains). The chooser is pages' page
// when the web pages are mounted, else signin_page.go's plain one.
func (s *SignIn) login(c *fiber.Ctx, pages Pages) error {
	if s == nil {
		return errNoSignIn
	}
	ctx := c.UserContext()
	next := localPath(c.Query("next"))
	if c.QueryBool("operator") {
		if c.Query("tenant") != "" || c.Query("email") != "" {
			return homeward.Invalid(map[string]string{"operator": "a platform operator signs in to no organisation: leave out tenant and email"})
		}
		return s.operatorLogin(c, next)
	}
	email := strings.TrimSpace(c.Query("email"))
	if email != "" {
		if _, err := mail.ParseAddress(email); err != nil || len(email) > 254 || strings.ContainsAny(email, "<> ") {
			return homeward.Invalid(map[string]string{"email": "an e-mail address such as name@example.org"})
		}
	}
	slug := strings.TrimSpace(c.Query("tenant"))
	if slug == "" {
		orgs, err := s.organisations(ctx)
		if err != nil {
			return err
		}
		notice := ""
		if email != "" {
			matches, err := s.organisationsOfEmail(ctx, orgs, email)
			if err != nil {
				return err
			}
			if len(matches) == 1 {
				return c.Redirect(loginURL(matches[0].Slug, next, email), fiber.StatusFound)
			}
			if len(matches) == 0 {
				notice = ChooserNoMatch
			} else {
				orgs = matches
			}
		}
		return renderChooser(c, pages, chooserOf(orgs, next, email, notice, s.operator != nil))
	}

	t, err := s.store.TenantBySlug(ctx, slug)
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusActive {
		return homeward.Errorf(homeward.EFORBIDDEN, "this organisation is suspended")
	}
	idp, err := s.identityProvider(ctx, t.ID)
	if err != nil {
		return err
	}
	p, err := s.providers.get(ctx, idp.Issuer, s.production, s.now())
	if err != nil {
		return s.unreachable(c, err, "tenant", t.ID)
	}
	var opts []oauth2.AuthCodeOption
	if email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", email))
	}
	return s.startAttempt(c, tenants.LoginAttempt{TenantID: t.ID, ReturnTo: next}, idp, p, opts...)
}

// startAttempt keeps a new login attempt (fresh state, nonce and PKCE
// verifier) for this browser, sets its login cookie and sends the browser
// to the provider's authorization endpoint.
func (s *SignIn) startAttempt(c *fiber.Ctx, attempt tenants.LoginAttempt, idp *tenants.IdentityProvider, p *cachedProvider, opts ...oauth2.AuthCodeOption) error {
	attempt.State = tenants.RandomToken()
	attempt.Nonce = tenants.RandomToken()
	attempt.CodeVerifier = oauth2.GenerateVerifier()
	id, err := s.store.SaveLoginAttempt(c.UserContext(), attempt, s.now())
	if err != nil {
		return err
	}
	opts = append(opts, oidc.Nonce(attempt.Nonce), oauth2.S256ChallengeOption(attempt.CodeVerifier))
	s.setCookie(c, s.loginCookieName(), id, tenants.LoginAttemptTimeout)
	return c.Redirect(s.oauth2Config(idp, p.provider).AuthCodeURL(attempt.State, opts...), fiber.StatusFound)
}

// unreachable answers 503 for a provider whose discovery failed, and logs it.
func (s *SignIn) unreachable(c *fiber.Ctx, err error, attrs ...any) error {
	attrs = append(attrs, "reason", "discovery_failed", "request_id", requestIDOf(c), "error", clip(err.Error()))
	s.log.WarnContext(c.UserContext(), "identity provider unreachable", attrs...)
	return homeward.Errorf(homeward.EUNAVAILABLE, "the identity provider does not answer; try again later")
}

// loginURL is /login for one organisation.
func loginURL(slug, next, email string) string {
	q := url.Values{"tenant": {slug}}
	if next != "/" {
		q.Set("next", next)
	}
	if email != "" {
		q.Set("email", email)
	}
	return "/login?" + q.Encode()
}

// localPath keeps p when it is a path on this site, else "/": the page to
// land on after signing in must never be another site.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || len(p) > 2000 ||
		strings.ContainsAny(p, "\\\r\n\t\x00") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// organisations lists the active organisations, for the chooser.
func (s *SignIn) organisations(ctx context.Context) ([]tenants.Tenant, error) {
	all, err := s.store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t tenants.Tenant) bool { return t.Status != tenants.StatusActive }), nil
}

// organisationsOfEmail returns the organisations whose identity provider
// lists the address's domain.
func (s *SignIn) organisationsOfEmail(ctx context.Context, orgs []tenants.Tenant, email string) ([]tenants.Tenant, error) {
	domain := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	routes, err := s.store.IdentityProviderRoutes(ctx)
	if err != nil {
		return nil, err
	}
	var out []tenants.Tenant
	for _, t := range orgs {
		if slices.ContainsFunc(routes, func(r tenants.ProviderRoute) bool {
			return r.TenantID == t.ID && slices.Contains(r.EmailDomains, domain)
		}) {
			out = append(out, t)
		}
	}
	return out, nil
}

// identityProvider reads an organisation's provider settings.
func (s *SignIn) identityProvider(ctx context.Context, tenantID uuid.UUID) (*tenants.IdentityProvider, error) {
	var idp *tenants.IdentityProvider
	err := s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		var err error
		idp, err = tenants.IdentityProviderOf(tx)
		return err
	})
	if homeward.ErrorCode(err) == homeward.ENOTFOUND {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "this organisation has no identity provider yet")
	}
	return idp, err
}

func (s *SignIn) oauth2Config(idp *tenants.IdentityProvider, p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	for _, sc := range idp.Scopes {
		if sc != "" && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return &oauth2.Config{
		ClientID:     idp.ClientID,
		ClientSecret: idp.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  s.base.JoinPath("/auth/callback").String(),
		Scopes:       scopes,
	}
}

// ---------------------------------------------------------------------------
// GET /auth/callback

// Failure reasons, in the log and the audit log. Codes only: never the
// token's content.
const (
	failNoAttempt      = "no_login_attempt" // no login cookie, or its attempt is gone (expired, already used)
	failStateMismatch  = "state_mismatch"
	failProviderDenied = "provider_denied" // the provider answered with an error (the person cancelled, ...)
	failIssuerMismatch = "wrong_issuer"
	failExchange       = "code_exchange_failed"
	failNoIDToken      = "no_id_token"
	failAudience       = "wrong_audience"
	failExpired        = "token_expired"
	failSignature      = "bad_signature"
	failToken          = "bad_token"
	failNonce          = "nonce_mismatch"
	failNoAccess       = "no_access" // signed in at the provider, but no role here (or disabled, or suspended)
)

// callback completes a sign-in: the browser's attempt (its cookie), the
// state, the code exchanged with the attempt's PKCE verifier, the ID token
// verified (signature, the organisation's own issuer, audience, expiry) and
// its nonce, then the groups mapped to roles and a new session. A platform
// operator's attempt goes on in operatorCallback, through the same checks.
func (s *SignIn) callback(c *fiber.Ctx) error {
	if s == nil {
		return errNoSignIn
	}
	ctx := c.UserContext()
	loginID := strings.Clone(c.Cookies(s.loginCookieName()))
	s.setCookie(c, s.loginCookieName(), "", -1) // single use, whatever happens next
	attempt, err := s.store.TakeLoginAttempt(ctx, loginID, s.now())
	if err != nil {
		return err
	}
	if attempt == nil {
		return s.refuse(c, uuid.Nil, failNoAttempt, nil)
	}
	tenantID := attempt.TenantID
	fail := func(reason string, cause error) error {
		if attempt.Operator {
			return s.refuseOperator(c, reason, cause)
		}
		return s.refuse(c, tenantID, reason, cause)
	}
	if subtle.ConstantTimeCompare([]byte(c.Query("state")), []byte(attempt.State)) != 1 {
		return fail(failStateMismatch, nil)
	}
	if e := c.Query("error"); e != "" {
		return fail(failProviderDenied, errors.New("provider error "+oauthErrorCode(e)))
	}
	if attempt.Operator {
		return s.operatorCallback(c, attempt, fail)
	}

	t, err := s.store.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusActive {
		s.logRefusal(c, tenantID, tenants.LoginFailedSuspended, nil)
		return homeward.Errorf(homeward.EFORBIDDEN, "this organisation is suspended")
	}
	idp, err := s.identityProvider(ctx, tenantID)
	if err != nil {
		return err
	}
	v, err := s.redeem(c, attempt, idp, fail, "tenant", tenantID)
	if err != nil {
		return err
	}

	principal, membership, err := s.store.SignIn(ctx, tenantID, v.idToken.Issuer, v.idToken.Subject, v.groups)
	if err != nil {
		if homeward.ErrorCode(err) == homeward.EFORBIDDEN || homeward.ErrorCode(err) == homeward.EUNAUTHENTICATED {
			// SignIn audited its refusal (no role, disabled, suspended).
			s.logRefusal(c, uuid.Nil, failNoAccess, nil, "tenant", tenantID)
			return homeward.Errorf(homeward.EFORBIDDEN, "you signed in, but your account has no access to %s; ask its administrator", t.Name)
		}
		return err
	}
	// A fresh session id at every sign-in; whatever session this browser
	// had ends (no session fixation, one principal per browser).
	if err := s.endPreviousSession(c); err != nil {
		return err
	}
	id, _, err := s.store.StartSession(ctx, tenantID, membership.ID, v.raw, s.now())
	if err != nil {
		return err
	}
	s.setCookie(c, s.sessionCookieName(), id, 0)
	s.log.InfoContext(ctx, "signed in", "tenant", tenantID, "membership", membership.ID,
		"roles", len(principal.Roles), "request_id", requestIDOf(c))
	return c.Redirect(localPath(attempt.ReturnTo), fiber.StatusSeeOther)
}

// endPreviousSession ends the session this browser had, if any.
func (s *SignIn) endPreviousSession(c *fiber.Ctx) error {
	if old := c.Cookies(s.sessionCookieName()); old != "" {
		return s.store.EndSession(c.UserContext(), old)
	}
	return nil
}

// redeemed is what a verified callback yields.
type redeemed struct {
	raw     string // the ID token as the provider sent it
	idToken *oidc.IDToken
	groups  []string // from the provider's groups claim
}

// redeem finishes the protocol half of a callback at idp, the provider the
// attempt went to: the issuer it names (RFC 9207), the code exchanged with
// the attempt's PKCE verifier, the ID token verified (signature, issuer,
// audience, expiry; azp with several audiences) and its nonce, and the
// groups. Refusals go through fail; attrs name the organisation in the log.
func (s *SignIn) redeem(c *fiber.Ctx, attempt *tenants.LoginAttempt, idp *tenants.IdentityProvider,
	fail func(reason string, cause error) error, attrs ...any) (*redeemed, error) {
	ctx := c.UserContext()
	// RFC 9207: a provider that names itself in the response must be the
	// one this attempt went to (a mix-up attack sends it elsewhere).
	if iss := c.Query("iss"); iss != "" && iss != idp.Issuer {
		return nil, fail(failIssuerMismatch, nil)
	}
	p, err := s.providers.get(ctx, idp.Issuer, s.production, s.now())
	if err != nil {
		return nil, s.unreachable(c, err, attrs...)
	}

	exCtx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, s.client), providerTimeout)
	defer cancel()
	conf := s.oauth2Config(idp, p.provider)
	tok, err := conf.Exchange(exCtx, c.Query("code"), oauth2.VerifierOption(attempt.CodeVerifier))
	if err != nil {
		return nil, fail(failExchange, exchangeError(err))
	}
	rawIDToken, _ := tok.Extra("id_token").(string)
	if rawIDToken == "" {
		return nil, fail(failNoIDToken, nil)
	}
	verifier := p.provider.Verifier(&oidc.Config{ClientID: idp.ClientID, Now: s.now})
	idToken, err := verifier.Verify(exCtx, rawIDToken)
	if err != nil {
		return nil, fail(verifyFailure(err), err)
	}
	if idToken.Issuer != idp.Issuer {
		return nil, fail(failIssuerMismatch, nil)
	}
	var std struct {
		AuthorizedParty string `json:"azp"`
	}
	if err := idToken.Claims(&std); err != nil {
		return nil, fail(failToken, err)
	}
	// OpenID Connect Core 3.1.3.7: with several audiences, the token must
	// have been issued to this client.
	if len(idToken.Audience) > 1 && std.AuthorizedParty != idp.ClientID {
		return nil, fail(failAudience, nil)
	}
	// go-oidc leaves the nonce to the caller: it ties the token to this
	// browser's attempt, so a token issued for another sign-in is refused.
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(attempt.Nonce)) != 1 {
		return nil, fail(failNonce, nil)
	}
	groups, err := s.groups(exCtx, p.provider, idp, idToken, tok)
	if err != nil {
		return nil, fail(failToken, err)
	}
	return &redeemed{raw: rawIDToken, idToken: idToken, groups: groups}, nil
}

// groups reads the organisation's groups claim from the ID token or, when
// the token does not carry it, from the provider's userinfo endpoint.
func (s *SignIn) groups(ctx context.Context, p *oidc.Provider, idp *tenants.IdentityProvider, idToken *oidc.IDToken, tok *oauth2.Token) ([]string, error) {
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return nil, err
	}
	if _, ok := claims[idp.GroupsClaim]; ok || p.UserInfoEndpoint() == "" || tok.AccessToken == "" {
		return idp.GroupsFrom(claims), nil
	}
	info, err := p.UserInfo(oidc.ClientContext(ctx, s.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if info.Subject != idToken.Subject {
		return nil, errors.New("userinfo: another subject")
	}
	claims = nil
	if err := info.Claims(&claims); err != nil {
		return nil, err
	}
	return idp.GroupsFrom(claims), nil
}

// verifyFailure names why go-oidc refused a token.
func verifyFailure(err error) string {
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return failExpired
	case strings.Contains(msg, "issued by a different provider"):
		return failIssuerMismatch
	case strings.Contains(msg, "expected audience"):
		return failAudience
	case strings.Contains(msg, "signature"), strings.Contains(msg, "malformed jwt"),
		strings.Contains(msg, "signing algorithm"), strings.Contains(msg, "signed with unsupported algorithm"):
		return failSignature
	}
	return failToken
}

// clip shortens a provider's error for the log (discovery errors quote the
// provider's answer, which may be a whole page).
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// exchangeError keeps what may be logged of a failed code exchange: the
// OAuth error code, never the provider's free text.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("token endpoint answered %d %s", re.Response.StatusCode, oauthErrorCode(re.ErrorCode))
	}
	return errors.New("token endpoint unreachable")
}

// oauthErrorCode keeps an OAuth error code when it looks like one.
func oauthErrorCode(code string) string {
	if len(code) > 64 || strings.IndexFunc(code, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) >= 0 {
		return "(unrecognised)"
	}
	return code
}

// refuse ends a failed sign-in: logged (reason code, no personal data),
// audited in the organisation when it is known, answered 401.
func (s *SignIn) refuse(c *fiber.Ctx, tenantID uuid.UUID, reason string, cause error) error {
	s.logRefusal(c, tenantID, reason, cause)
	return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign-in failed; please start again")
}

// logRefusal logs a refused sign-in and, when tenantID is set, audits it
// there.
func (s *SignIn) logRefusal(c *fiber.Ctx, tenantID uuid.UUID, reason string, cause error, attrs ...any) {
	ctx := c.UserContext()
	attrs = append(attrs, "reason", reason, "request_id", requestIDOf(c))
	if tenantID != uuid.Nil {
		attrs = append(attrs, "tenant", tenantID)
	}
	if cause != nil && reason != failToken {
		// go-oidc's and our own messages name claims and codes, never a
		// claim's value; bad_token errors may quote the token, so not them.
		attrs = append(attrs, "error", cause.Error())
	}
	s.log.WarnContext(ctx, "sign-in refused", attrs...)
	if tenantID == uuid.Nil {
		return
	}
	// Nobody the provider vouched for yet: the actor is anonymous.
	if err := s.store.AuditLoginFailed(ctx, tenantID, reason); err != nil {
		s.log.ErrorContext(ctx, "audit of a refused sign-in failed", "tenant", tenantID, "request_id", requestIDOf(c), "error", err.Error())
	}
}

// ---------------------------------------------------------------------------
// Providers

// providerCache keeps one go-oidc provider per issuer (discovery fetched at
// most once an hour; a failed discovery is not kept).
type providerCache struct {
	client *http.Client
	mu     sync.Mutex
	byURL  map[string]*cachedProvider
}

type cachedProvider struct {
	provider   *oidc.Provider
	endSession string // end_session_endpoint; "" when the provider has none
	fetched    time.Time
}

func (pc *providerCache) get(ctx context.Context, issuer string, production bool, now time.Time) (*cachedProvider, error) {
	pc.mu.Lock()
	cp, ok := pc.byURL[issuer]
	pc.mu.Unlock()
	if ok && now.Sub(cp.fetched) < providerTTL && now.Sub(cp.fetched) >= 0 {
		return cp, nil
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && (production || u.Scheme != "http")) {
		return nil, fmt.Errorf("issuer %q is not an https URL", issuer)
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, pc.client), providerTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, err
	}
	cp = &cachedProvider{provider: p, endSession: meta.EndSession, fetched: now}
	pc.mu.Lock()
	if pc.byURL == nil {
		pc.byURL = map[string]*cachedProvider{}
	}
	pc.byURL[issuer] = cp
	pc.mu.Unlock()
	return cp, nil
}
