package signintest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// serve runs h on a free loopback port until the test ends and returns its
// base URL.
func serve(t *testing.T, h http.Handler) (string, func(http.Handler)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handler := h
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), func(h http.Handler) { mu.Lock(); handler = h; mu.Unlock() }
}

// ---------------------------------------------------------------------------
// A real OpenID provider: zitadel/oidc's pkg/op with its example storage and
// login page (username and password), plus a groups claim.

// person is an account at the test provider.
type person struct {
	subject, username, password string
	groups                      []string
}

// zitadelOP is a running provider.
type zitadelOP struct {
	issuer string
	people map[string]person // by username
}

// people is the example storage's user store.
type people map[string]*storage.User

func (p people) GetUserByID(id string) *storage.User { return p[id] }
func (p people) GetUserByUsername(name string) *storage.User {
	for _, u := range p {
		if u.Username == name {
			return u
		}
	}
	return nil
}
func (p people) ExampleClientID() string { return "service" }

// groupStorage is the example storage with each person's groups in the ID
// token and at the userinfo endpoint, under the claim "groups".
type groupStorage struct {
	*storage.Storage
	groups map[string][]string // subject -> groups
}

func (g *groupStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := g.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	if gs, ok := g.groups[req.GetSubject()]; ok {
		info.AppendClaims("groups", gs)
	}
	return nil
}

func (g *groupStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := g.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if gs, ok := g.groups[info.Subject]; ok {
		info.AppendClaims("groups", gs)
	}
	return nil
}

// client is a relying party registered at a test provider.
type client struct{ id, secret, redirectURI string }

// startZitadelOP runs a provider knowing the people and the clients.
func startZitadelOP(t *testing.T, persons []person, clients ...client) *zitadelOP {
	t.Helper()
	users := people{}
	groups := map[string][]string{}
	byName := map[string]person{}
	for _, p := range persons {
		users[p.subject] = &storage.User{ID: p.subject, Username: p.username, Password: p.password,
			FirstName: "Test", LastName: "Person", Email: p.username + "@example.org", EmailVerified: true}
		groups[p.subject] = p.groups
		byName[p.username] = p
	}
	cs := map[string]*storage.Client{}
	for _, c := range clients {
		cs[c.id] = storage.WebClient(c.id, c.secret, c.redirectURI)
	}
	store := &groupStorage{Storage: storage.NewStorageWithClients(users, cs), groups: groups}
	base, set := serve(t, http.NotFoundHandler())
	set(exampleop.SetupServer(base, store, nil, false))
	return &zitadelOP{issuer: base, people: byName}
}

// ---------------------------------------------------------------------------
// A provider that mints ID tokens as told, faults included. Discovery and
// keys are go-oidc's own test server (oidctest), served over real HTTP;
// /auth and /token are a minimal authorization-code endpoint pair that
// still checks the client, the redirect URI and the PKCE verifier (S256).

type mintOP struct {
	t        *testing.T
	issuer   string
	key      *rsa.PrivateKey
	keyID    string
	clientID string
	secret   string

	mu       sync.Mutex
	grants   map[string]grant // code -> what /auth was asked
	mint     func(claims map[string]any) string
	requests []url.Values // the /auth requests, for checks
}

type grant struct {
	redirectURI, nonce, challenge string
}

// startMintOP runs a minting provider with one client.
func startMintOP(t *testing.T, clientID, secret string) *mintOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m := &mintOP{t: t, key: key, keyID: "key-" + clientID, clientID: clientID, secret: secret, grants: map[string]grant{}}
	keys := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: m.keyID, Algorithm: "RS256"}}}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/openid-configuration", keys)
	mux.Handle("/keys", keys)
	mux.HandleFunc("/auth", m.authorize)
	mux.HandleFunc("/token", m.token)
	base, set := serve(t, http.NotFoundHandler())
	keys.SetIssuer(base)
	set(mux)
	m.issuer = base
	m.mint = m.sign
	return m
}

// claims are the claims of a good ID token for subject and nonce.
func (m *mintOP) claims(subject, nonce string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": m.issuer, "sub": subject, "aud": m.clientID, "azp": m.clientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "groups": []string{"caseworkers"},
	}
}

// sign signs claims with the provider's key, as a good token is.
func (m *mintOP) sign(claims map[string]any) string {
	return signWith(m.key, m.keyID, "RS256", claims)
}

func signWith(key *rsa.PrivateKey, keyID, alg string, claims map[string]any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return oidctest.SignIDToken(key, keyID, alg, string(b))
}

func (m *mintOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m.mu.Lock()
	m.requests = append(m.requests, q)
	m.mu.Unlock()
	if q.Get("client_id") != m.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := base64.RawURLEncoding.EncodeToString(randomBytes(24))
	m.mu.Lock()
	m.grants[code] = grant{redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	m.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	back := to.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	to.RawQuery = back.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (m *mintOP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	m.mu.Lock()
	g, known := m.grants[r.PostFormValue("code")]
	delete(m.grants, r.PostFormValue("code")) // single use
	m.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != m.clientID || secret != m.secret:
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	case r.PostFormValue("grant_type") != "authorization_code" || !known ||
		g.redirectURI != r.PostFormValue("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	m.mu.Lock()
	mint := m.mint
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at-" + strconv.FormatInt(time.Now().UnixNano(), 36), "token_type": "Bearer", "expires_in": 300,
		"id_token": mint(m.claims("mint-person", g.nonce)),
	})
}

// setMint replaces how the next ID tokens are made.
func (m *mintOP) setMint(f func(claims map[string]any) string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mint = f
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
