package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Who is asking. The authenticate middleware resolves the principal of every
// request once, from (in this order):
//
//   - Authorization: Bearer hw_...  an API token (tenants.AuthenticateAPIToken);
//   - Authorization: Bearer <JWT>   a token from an organisation's own OpenID
//     provider, verified with go-oidc against that provider's keys: the
//     organisation is the one whose provider has the JWT's issuer AND whose
//     client id is in its audience (one issuer, such as a shared Keycloak
//     or Google, may serve several organisations, each with its own client);
//   - the browser session cookie (Deps.Sessions), when no Authorization
//     header is sent.
//
// A credential that is present but malformed, unknown, expired or revoked
// answers 401 with WWW-Authenticate: Bearer, whatever the route; no
// credential leaves the request anonymous, and routes that need a principal
// refuse it (401). The principal goes into c.UserContext()
// (tenants.WithPrincipal), where the domain layer reads it to authorize.

// SessionResolver resolves a browser session cookie (the sign-in's, in
// signin.go and session.go): nil and no error when the request carries no
// live session.
type SessionResolver interface {
	Principal(c *fiber.Ctx) (*tenants.Principal, error)
}

// providerRoutesTTL is how long the list of organisations' providers (which
// issuer and client belong to which organisation) is kept before it is read
// again. A change made through this server is seen at once; one made by
// another replica or by homeward tenants set-idp within this time.
const providerRoutesTTL = time.Minute

// discoveryTimeout bounds fetching a provider's discovery document and keys.
const discoveryTimeout = 10 * time.Second

// authenticator resolves principals; built once per server.
type authenticator struct {
	store    *tenants.Store
	sessions SessionResolver
	jwt      *bearerVerifier
	logger   *slog.Logger
}

func newAuthenticator(deps Deps) *authenticator {
	a := &authenticator{store: deps.Store, sessions: deps.Sessions, logger: deps.Logger}
	if deps.Store != nil {
		a.jwt = &bearerVerifier{store: deps.Store, logger: deps.Logger,
			client: &http.Client{Timeout: discoveryTimeout}, verifiers: map[string]*oidc.IDTokenVerifier{}}
	}
	return a
}

// middleware resolves the request's principal; see the comment above.
func (a *authenticator) middleware(c *fiber.Ctx) error {
	p, err := a.resolve(c)
	if err != nil {
		if homeward.ErrorCode(err) == homeward.EUNAUTHENTICATED {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
		}
		return err
	}
	if p != nil {
		c.SetUserContext(tenants.WithPrincipal(c.UserContext(), p))
	}
	err = c.Next()
	if homeward.ErrorCode(err) == homeward.EUNAUTHENTICATED && len(c.Response().Header.Peek(fiber.HeaderWWWAuthenticate)) == 0 {
		c.Set(fiber.HeaderWWWAuthenticate, "Bearer")
	}
	return err
}

var errBadAuthorization = homeward.Errorf(homeward.EUNAUTHENTICATED, "send Authorization: Bearer with an API token or a JWT from your organisation's provider")

func (a *authenticator) resolve(c *fiber.Ctx) (*tenants.Principal, error) {
	header := c.Get(fiber.HeaderAuthorization)
	if header == "" {
		if a.sessions == nil {
			return nil, nil
		}
		return a.sessions.Principal(c)
	}
	scheme, credential, _ := strings.Cut(header, " ")
	credential = strings.TrimSpace(credential)
	if !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, errBadAuthorization
	}
	if a.store == nil {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "this server accepts no bearer credentials")
	}
	ctx := c.UserContext()
	if tenants.LooksLikeAPIToken(credential) {
		return a.store.AuthenticateAPIToken(ctx, credential)
	}
	return a.jwt.principal(ctx, credential)
}

// requirePermission lets only principals that may do perm through (for the
// operator pages, which have no domain service of their own to ask):
// anonymous 401, others 403.
func requirePermission(perm tenants.Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := tenants.Authorize(tenants.PrincipalFrom(c.UserContext()), perm); err != nil {
			return err
		}
		return c.Next()
	}
}

// bearerVerifier verifies JWTs from the organisations' providers.
type bearerVerifier struct {
	store  *tenants.Store
	client *http.Client
	logger *slog.Logger

	mu        sync.Mutex
	routes    []tenants.ProviderRoute
	loadedAt  time.Time
	providers sync.Map // issuer -> *oidc.Provider (discovery done once per issuer)
	verifiers map[string]*oidc.IDTokenVerifier
}

var errTokenRefused = homeward.Errorf(homeward.EUNAUTHENTICATED, "the bearer token was refused")

// principal verifies raw and returns its principal in the organisation it
// belongs to. Only the issuers organisations configured are ever contacted:
// the token's own claims choose among them, they never name a new address.
func (v *bearerVerifier) principal(ctx context.Context, raw string) (*tenants.Principal, error) {
	issuer, audience, ok := unverifiedClaims(raw)
	if !ok {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "the bearer token is neither an API token nor a JWT")
	}
	route, err := v.route(ctx, issuer, audience)
	if err != nil {
		return nil, err
	}
	verifier, err := v.verifier(ctx, route)
	if err != nil {
		return nil, err
	}
	// Signature (the provider's keys; "none" and unlisted algorithms are
	// refused), issuer, audience (the organisation's client id) and expiry.
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, errTokenRefused
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, errTokenRefused
	}
	return v.store.BearerPrincipal(ctx, route.TenantID, tok.Issuer, tok.Subject, claims)
}

// route finds the one organisation whose provider has this issuer and whose
// client id is in the audience. None, or more than one, is refused.
func (v *bearerVerifier) route(ctx context.Context, issuer string, audience []string) (tenants.ProviderRoute, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if time.Since(v.loadedAt) > providerRoutesTTL {
		routes, err := v.store.IdentityProviderRoutes(ctx)
		if err != nil {
			return tenants.ProviderRoute{}, err
		}
		v.routes, v.loadedAt = routes, time.Now()
	}
	var found []tenants.ProviderRoute
	for _, r := range v.routes {
		if r.Issuer == issuer && slices.Contains(audience, r.ClientID) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return tenants.ProviderRoute{}, homeward.Errorf(homeward.EUNAUTHENTICATED, "no organisation accepts tokens of this issuer for this audience")
	}
	return found[0], nil
}

// forget drops the cached routes: an identity provider changed.
func (v *bearerVerifier) forget() {
	if v == nil {
		return
	}
	v.mu.Lock()
	v.loadedAt = time.Time{}
	v.mu.Unlock()
}

// verifier is the go-oidc verifier of the route's provider and client; the
// provider's discovery document is fetched once per issuer, its keys as
// go-oidc needs them (again when a token names a key it does not know).
func (v *bearerVerifier) verifier(ctx context.Context, r tenants.ProviderRoute) (*oidc.IDTokenVerifier, error) {
	key := r.Issuer + "\x00" + r.ClientID
	v.mu.Lock()
	ver := v.verifiers[key]
	v.mu.Unlock()
	if ver != nil {
		return ver, nil
	}
	var provider *oidc.Provider
	if p, ok := v.providers.Load(r.Issuer); ok {
		provider = p.(*oidc.Provider)
	} else {
		dctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
		defer cancel()
		p, err := oidc.NewProvider(oidc.ClientContext(dctx, v.client), r.Issuer)
		if err != nil {
			v.logger.WarnContext(ctx, "identity provider discovery failed", "issuer", r.Issuer, "error", err.Error())
			return nil, &providerUnreachable{err}
		}
		provider = p
		v.providers.Store(r.Issuer, p)
	}
	ver = provider.Verifier(&oidc.Config{ClientID: r.ClientID})
	v.mu.Lock()
	v.verifiers[key] = ver
	v.mu.Unlock()
	return ver, nil
}

// providerUnreachable: the organisation's provider did not answer its
// discovery; the token can be neither accepted nor refused now (503).
type providerUnreachable struct{ err error }

func (p *providerUnreachable) Error() string {
	return "identity provider unreachable: " + p.err.Error()
}
func (p *providerUnreachable) Unwrap() error {
	return homeward.Errorf(homeward.EUNAVAILABLE, "your organisation's identity provider does not answer; try again later")
}

// unverifiedClaims reads a JWT's issuer and audience without verifying it,
// only to choose the organisation whose provider will verify it.
func unverifiedClaims(raw string) (issuer string, audience []string, ok bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 16<<10 {
		return "", nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", nil, false
	}
	var claims struct {
		Issuer   string          `json:"iss"`
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Issuer == "" {
		return "", nil, false
	}
	var one string
	if err := json.Unmarshal(claims.Audience, &one); err == nil {
		return claims.Issuer, []string{one}, true
	}
	if err := json.Unmarshal(claims.Audience, &audience); err == nil {
		return claims.Issuer, audience, true
	}
	return "", nil, false
}

// principalOf is the request's principal, nil when anonymous.
func principalOf(c *fiber.Ctx) *tenants.Principal { return tenants.PrincipalFrom(c.UserContext()) }
