// Package demoidp is demo mode's built-in OpenID provider. It offers the
// demo accounts (one per role in each demo organisation, and a platform
// operator) on a plain HTML page without passwords, and signs ID tokens
// with the github.com/zitadel/oidc provider library: authorization code
// with PKCE (S256, required), discovery, JWKS, userinfo and end session.
//
// The demo organisations use it as any organisation uses its own provider:
// ConfigureOrganisations writes each one's IdentityProvider settings (this
// issuer, its client id and secret, the groups claim and the group to role
// map) where production keeps them, so the login flow cannot tell.
//
// It refuses to exist outside demo mode. Its state is in memory except the
// RS256 signing key, kept in the data folder, so tokens it signed (an ID
// token hint at logout, a bearer JWT) stay valid across a restart.
package demoidp

import (
	"crypto"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
)

// Path is where the provider is mounted on the serve app; its issuer is
// BASE_URL + Path.
const Path = "/demo-idp"

// Paths of Homeward's side of a sign-in, under BASE_URL: every client's one
// redirect URI, and where the provider sends people after logout.
const (
	CallbackPath   = "/auth/callback"
	PostLogoutPath = "/"
)

// KeyFile is the signing key's file name in the data folder.
const KeyFile = "demo-idp-signing-key.pem"

// Scopes are what the demo organisations' settings ask for. The groups
// claim comes with openid alone; profile adds the name and locale.
var Scopes = []string{"openid", "profile"}

// Provider is the demo OpenID provider, an http.Handler for the paths under
// Path (mount it there, without stripping the prefix).
type Provider struct {
	issuer  string
	clients map[string]*client
	storage *storage
	op      *op.Provider
	mux     *http.ServeMux
	logger  *slog.Logger
	// secureCookie: the login cookie is Secure when the issuer is https.
	secureCookie bool
	// catalogue holds the pages' words in Homeward's languages (web/i18n).
	catalogue *i18n.Catalogue
}

// New builds the provider for cfg (BaseURL, DataDir, MasterKey), creating
// the signing key in the data folder on first use. It refuses production
// mode. logger may be nil.
func New(cfg *homeward.Config, logger *slog.Logger) (*Provider, error) {
	if !cfg.Demo() {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "the demo identity provider is part of demo mode and refused in production (HOMEWARD_MODE=%s): each organisation signs in with its own provider", cfg.Mode)
	}
	if cfg.BaseURL == nil || len(cfg.MasterKey) == 0 || cfg.DataDir == "" {
		return nil, errors.New("demoidp: the configuration needs BaseURL, MasterKey and DataDir")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	catalogue, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	base := cfg.BaseURL.String()
	p := &Provider{
		catalogue:    catalogue,
		issuer:       base + Path,
		clients:      map[string]*client{},
		logger:       logger,
		secureCookie: cfg.BaseURL.Scheme == "https",
	}
	add := func(id, organisation, name string) error {
		secret, err := derive(cfg.MasterKey, "client secret "+id)
		if err != nil {
			return err
		}
		p.clients[id] = &client{
			id: id, secret: base64.RawURLEncoding.EncodeToString(secret),
			organisation: organisation, name: name,
			redirectURI: base + CallbackPath, postLogoutURI: base + PostLogoutPath,
			loginURL: p.issuer + loginPath,
		}
		return nil
	}
	for _, org := range tenants.DemoOrganisations {
		if err := add(org.Slug, org.Slug, org.Name); err != nil {
			return nil, err
		}
	}
	if err := add(OperatorClientID, "", "Homeward platform operations"); err != nil {
		return nil, err
	}

	key, err := loadOrCreateKey(filepath.Join(cfg.DataDir, KeyFile))
	if err != nil {
		return nil, err
	}
	kid, err := keyID(key)
	if err != nil {
		return nil, err
	}
	p.storage = newStorage(p.clients, key, kid)

	// Access tokens are JWTs, but the library still wants a key for the
	// ones it encrypts; derived, so it too survives a restart.
	tokenKey, err := derive(cfg.MasterKey, "token encryption")
	if err != nil {
		return nil, err
	}
	opts := []op.Option{
		// Homeward's own pages are on this origin; nobody else calls it from a browser.
		op.WithCORSOptions(nil),
	}
	if cfg.BaseURL.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure()) // demo on http://localhost
	}
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                [32]byte(tokenKey),
		DefaultLogoutRedirectURI: base + PostLogoutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedClaims:          append(append([]string(nil), op.DefaultSupportedClaims...), GroupsClaim),
		SupportedScopes:          []string{"openid", "profile"},
	}, p.storage, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("demoidp: %w", err)
	}

	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET "+Path+"/{$}", p.index)
	p.mux.HandleFunc("GET "+Path, p.index)
	p.mux.HandleFunc("GET "+Path+loginPath, p.loginPage)
	p.mux.HandleFunc("POST "+Path+loginPath, p.login)
	p.mux.HandleFunc("GET "+Path+stylePath, serveStyle)
	p.mux.Handle(Path+"/", http.StripPrefix(Path, p.op))
	return p, nil
}

// ServeHTTP serves everything under Path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// Issuer is the provider's issuer URL, BASE_URL + Path.
func (p *Provider) Issuer() string { return p.issuer }

// IdentityProvider is the settings through which organisation slug signs in
// here, as production keeps any organisation's provider: this issuer, the
// client (id = slug) and its secret, the groups claim and one group per
// role. Slug OperatorClientID gives the platform operator's client, whose
// one group maps to platform_operator. ok is false for any other slug.
func (p *Provider) IdentityProvider(slug string) (idp tenants.IdentityProvider, ok bool) {
	c, ok := p.clients[slug]
	if !ok {
		return tenants.IdentityProvider{}, false
	}
	groups := map[string][]tenants.Role{}
	for _, a := range AccountsOf(c.organisation) {
		groups[a.Group] = []tenants.Role{a.Role}
	}
	return tenants.IdentityProvider{
		Issuer:       p.issuer,
		ClientID:     c.id,
		ClientSecret: c.secret,
		Scopes:       append([]string(nil), Scopes...),
		GroupsClaim:  GroupsClaim,
		GroupRoles:   groups,
	}, true
}

// OperatorSignIn is the platform operators' provider settings
// (homeward.Config.OperatorSignIn, as HOMEWARD_OPERATOR_* would give them)
// for signing operators in here: this issuer, the OperatorClientID client
// and its secret, the groups claim and OperatorGroup. Demo serve uses it
// when no operators' provider is configured.
func (p *Provider) OperatorSignIn() *homeward.OperatorSignIn {
	c := p.clients[OperatorClientID]
	return &homeward.OperatorSignIn{Issuer: p.issuer, ClientID: c.id, ClientSecret: c.secret,
		GroupsClaim: GroupsClaim, Group: OperatorGroup}
}

// derive is a key for purpose, derived from the master key: the client
// secrets and the token key need no file of their own, and stay the same
// across restarts.
func derive(masterKey []byte, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, masterKey, []byte("homeward demo identity provider"), purpose, 32)
}

// loadOrCreateKey reads the RSA signing key at path (PEM, PKCS #8),
// creating it (mode 0600) when missing. Two processes starting at once
// agree on one key: the file is written aside, then linked into place, and
// the one whose link fails reads the other's.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("demoidp: %s is not a PEM private key; delete it to have a new one made (people signed in to the demo sign in again)", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("demoidp: %s: %w", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("demoidp: %s is not an RSA key", path)
		}
		return rk, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("demoidp: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-idp-key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("demoidp: %w", err)
	}
	defer os.Remove(tmp.Name())
	werr := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("demoidp: write the signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("demoidp: %w", err)
	}
	return key, nil
}

// keyID names the key by its JWK thumbprint (RFC 7638): the same key has
// the same id after a restart.
func keyID(key *rsa.PrivateKey) (string, error) {
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
