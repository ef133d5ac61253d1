package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"gocloud.dev/blob/memblob"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The fixtures of the authentication and authorization tests: real
// organisations, members and API tokens on PostgreSQL as the app role, and
// small OpenID providers of our own (discovery and keys, on loopback) whose
// JWTs the server verifies with go-oidc like any organisation's provider.

// testProvider is an OpenID provider as far as bearer JWTs need one: a
// discovery document and a key set, served on loopback, and a key to sign
// with.
type testProvider struct {
	server *httptest.Server
	key    *rsa.PrivateKey
	kid    string
}

var (
	keysOnce sync.Once
	keys     [3]*rsa.PrivateKey // RSA keys are slow to make: three for the whole package
)

func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for n := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[n] = k
		}
	})
	return keys[i]
}

// newTestProvider serves a provider signing with key number keyIndex.
func newTestProvider(t *testing.T, keyIndex int) *testProvider {
	t.Helper()
	p := &testProvider{key: testKey(t, keyIndex), kid: "key-" + string(rune('a'+keyIndex))}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.issuer(),
			"authorization_endpoint":                p.issuer() + "/authorize",
			"token_endpoint":                        p.issuer() + "/token",
			"jwks_uri":                              p.issuer() + "/keys",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.RS256), Use: "sig"},
		}})
	})
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	return p
}

func (p *testProvider) issuer() string { return p.server.URL }

// jwtClaims are the claims of a token; zero fields get sensible values.
type jwtClaims struct {
	Issuer   string
	Subject  string
	Audience []string
	Groups   []string
	Expiry   time.Time
}

// sign makes a JWT signed with key (the provider's own unless another is
// given) under the provider's key id.
func (p *testProvider) sign(t *testing.T, c jwtClaims, key ...*rsa.PrivateKey) string {
	t.Helper()
	k := p.key
	if len(key) > 0 {
		k = key[0]
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(p.claims(c)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (p *testProvider) claims(c jwtClaims) map[string]any {
	if c.Issuer == "" {
		c.Issuer = p.issuer()
	}
	if c.Expiry.IsZero() {
		c.Expiry = time.Now().Add(time.Hour)
	}
	return map[string]any{
		"iss": c.Issuer, "sub": c.Subject, "aud": c.Audience, "groups": c.Groups,
		"iat": time.Now().Add(-time.Minute).Unix(), "exp": c.Expiry.Unix(),
	}
}

// unsigned makes the same token with alg "none" and no signature.
func (p *testProvider) unsigned(t *testing.T, c jwtClaims) string {
	t.Helper()
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	payload, _ := json.Marshal(p.claims(c))
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// testOrg is an organisation of the tests: its provider and client, a
// member signed in with each organisation role, a JWT for each, a target
// member and a target API token that callers act on, and its canary: a
// random string inside every piece of its member data, settings and token
// names, which no response to another organisation may contain.
type testOrg struct {
	id           uuid.UUID
	slug         string
	provider     *testProvider
	clientID     string
	canary       string
	jwt          map[tenants.Role]string    // a bearer JWT per organisation role
	members      map[tenants.Role]uuid.UUID // the membership of each role's caller
	target       uuid.UUID                  // a member the callers act on
	token        uuid.UUID                  // an API token the callers act on
	idpBody      string                     // its identity-provider settings as PUT takes them
	cases        *orgCases                  // its case records the callers act on, once withCases made them
	followup     *orgFollowUp               // its follow-up records (followup_matrix_test.go), made at first use
	shelters     *orgShelters               // its shelters and admitted cases, once withShelters made them
	kits         *orgKits                   // its kit requests, once withKits made them
	care         *orgCare                   // its case's care records (care_test.go), made at first use
	handoffs     *orgHandoffs               // its handoffs with a partner (handoffs_matrix_test.go), once withHandoffs made them
	partnerships *orgPartnerships           // its partnerships (partnerships_matrix_test.go), once withPartnerships made them
}

// orgRoles are the roles an organisation's members may hold.
func orgRoles() []tenants.Role {
	var out []tenants.Role
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			out = append(out, r)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newTestOrg adds an organisation whose provider is p, with the group
// "CANARY-g-ROLE" mapped to each role, and signs a member in with each role.
func newTestOrg(t *testing.T, s *tenants.Store, p *testProvider) *testOrg {
	t.Helper()
	slug := "org-" + randomHex(5)
	tn, err := s.AddTenant(context.Background(), tenants.NewTenant{Slug: slug, Name: "Organisation " + slug, Country: "LA"})
	if err != nil {
		t.Fatal(err)
	}
	return adoptTestOrg(t, s, p, tn)
}

// adoptTestOrg makes an existing organisation (a demo one) an
// organisation of the tests, as newTestOrg does a new one: its provider
// is p (replacing any it had), and a member signs in with each role.
func adoptTestOrg(t *testing.T, s *tenants.Store, p *testProvider, tn *tenants.Tenant) *testOrg {
	t.Helper()
	ctx := context.Background()
	o := &testOrg{provider: p, canary: "canary" + randomHex(6), jwt: map[tenants.Role]string{}, members: map[tenants.Role]uuid.UUID{}}
	o.id, o.slug = tn.ID, tn.Slug
	o.clientID = o.canary + "-client"
	groups := map[string][]tenants.Role{}
	for _, r := range orgRoles() {
		groups[o.group(r)] = []tenants.Role{r}
	}
	secret := o.canary + "-secret"
	change := tenants.IdentityProviderChange{Issuer: p.issuer(), ClientID: o.clientID, ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: groups, EmailDomains: []string{o.canary + ".example.org"}}
	operatorCtx := tenants.WithPrincipal(ctx, tenants.OperatorPrincipal("test"))
	if _, err := s.PutIdentityProvider(operatorCtx, o.id, change); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"issuer": change.Issuer, "client_id": change.ClientID,
		"groups_claim": "groups", "group_roles": groups, "email_domains": change.EmailDomains})
	o.idpBody = string(body)

	for _, r := range orgRoles() {
		p := o.signIn(t, s, o.subject(string(r)), r)
		o.members[r] = *p.Actor.MemberID
		o.jwt[r] = o.bearer(t, o.subject(string(r)), r)
	}
	o.target = *o.signIn(t, s, o.subject("target"), tenants.RoleSocialWorker).Actor.MemberID
	admin, err := s.PrincipalOf(ctx, o.members[tenants.RoleTenantAdmin])
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateAPIToken(tenants.WithPrincipal(ctx, admin), tenants.NewAPIToken{
		Name: o.canary + " token", Roles: []tenants.Role{tenants.RoleAuditor}, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	o.token = tok.ID
	return o
}

func (o *testOrg) group(r tenants.Role) string { return o.canary + "-g-" + string(r) }
func (o *testOrg) subject(who string) string   { return o.canary + "-" + who }

// signIn signs the subject in with the groups of roles.
func (o *testOrg) signIn(t *testing.T, s *tenants.Store, subject string, roles ...tenants.Role) *tenants.Principal {
	t.Helper()
	var groups []string
	for _, r := range roles {
		groups = append(groups, o.group(r))
	}
	p, _, err := s.SignIn(context.Background(), o.id, o.provider.issuer(), subject, groups)
	if err != nil {
		t.Fatalf("sign in %s: %v", subject, err)
	}
	return p
}

// bearer is a valid JWT for subject with the groups of roles.
func (o *testOrg) bearer(t *testing.T, subject string, roles ...tenants.Role) string {
	t.Helper()
	var groups []string
	for _, r := range roles {
		groups = append(groups, o.group(r))
	}
	return o.provider.sign(t, jwtClaims{Subject: subject, Audience: []string{o.clientID}, Groups: groups})
}

// platformToken is a platform operator's API token.
func platformToken(t *testing.T, s *tenants.Store) string {
	t.Helper()
	ctx := tenants.WithActor(context.Background(), tenants.OperatorPrincipal("test").Actor)
	tok, err := s.IssueOperatorToken(ctx, uuid.Nil, tenants.NewAPIToken{Name: "prometheus",
		Roles: []tenants.Role{tenants.RolePlatformOperator}, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// authServer is the whole server on the store, with the sign-in's session
// resolver, every optional route mounted (the pages as stand-ins), and no
// rate limit to speak of.
func authServer(t *testing.T, s *tenants.Store) *fiber.App {
	t.Helper()
	return authServerWith(t, s, func(*homeward.Config) Pages { return stubPages{} })
}

// authServerWith is authServer with the pages pages makes.
func authServerWith(t *testing.T, s *tenants.Store, pages func(*homeward.Config) Pages) *fiber.App {
	t.Helper()
	base, _ := url.Parse("http://127.0.0.1:8080")
	cfg := &homeward.Config{Mode: homeward.ModeDemo, BaseURL: base}
	signIn, err := NewSignIn(s, cfg, nil, SignInOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newTestServer(t, Deps{
		Config: cfg, Database: s, Store: s, SignIn: signIn, Sessions: signIn, RateLimit: 1 << 30,
		QueueMonitor: newQueueMonitor(t), DemoMailbox: stubMailbox, DemoIdentityProvider: stubIdentityProvider, Pages: pages(cfg),
		Documents: matrixDocuments,
	}, nil)
	return app
}

// matrixDocuments is the document storage of the servers authServerWith
// builds, where the matrix's documents are (withCases).
var matrixDocuments = memblob.OpenBucket(nil)

// call sends one request with a bearer credential ("" for none) and an
// optional body: JSON, or a form (a page's).
func call(t *testing.T, app *fiber.App, method, target, bearer, body string) response {
	t.Helper()
	var header []string
	if bearer != "" {
		header = append(header, "Authorization", "Bearer "+bearer)
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
		header = append(header, "Content-Type", bodyType(body))
	}
	return do(t, app, method, target, r, header...)
}

// bodyType is the Content-Type of a matrix row's body: JSON, a multipart
// upload (matrixUpload), or a page's form.
func bodyType(body string) string {
	if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
		return "application/json"
	}
	if strings.HasPrefix(body, "--"+matrixBoundary) {
		return "multipart/form-data; boundary=" + matrixBoundary
	}
	return "application/x-www-form-urlencoded"
}

// realPages builds the real web pages on s (PagesForMatrix), for the tests
// that hold the pages to the authorization matrix.
func realPages(t *testing.T, s *tenants.Store, cfg *homeward.Config) Pages {
	t.Helper()
	if PagesForMatrix == nil {
		t.Fatal("the real pages are not linked in (pages_matrix_test.go sets PagesForMatrix)")
	}
	p, err := PagesForMatrix(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// storeForTest is the package's PostgreSQL database as the app role.
func storeForTest(t *testing.T) *tenants.Store {
	t.Helper()
	return tenanttest.OpenPostgres(t)
}
