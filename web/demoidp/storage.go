package demoidp

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Lifetimes. A sign-in is a few clicks; Homeward keeps its own session
// after it, so the tokens need not live long.
const (
	authRequestLifetime = 10 * time.Minute
	accessTokenLifetime = time.Hour
	idTokenLifetime     = time.Hour
)

// storage is the provider's op.Storage: in memory (auth requests, codes and
// access tokens are gone after a restart, which costs at most a sign-in in
// progress) except the signing key, which is kept in the data folder.
type storage struct {
	clients map[string]*client
	key     signingKey

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]string // code -> auth request id
	tokens       map[string]*accessToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(clients map[string]*client, key *rsa.PrivateKey, keyID string) *storage {
	return &storage{
		clients:      clients,
		key:          signingKey{id: keyID, key: key},
		authRequests: map[string]*authRequest{},
		codes:        map[string]string{},
		tokens:       map[string]*accessToken{},
	}
}

// errNotFound is what an unknown request, code, token or client gets: the
// library turns it into the right OAuth error for each endpoint.
var errNotFound = errors.New("not found")

// authRequest is one sign-in in progress.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge

	// browser is the login cookie of the browser that was shown the login
	// page: only that browser may complete it.
	browser string
	// Set when an account was chosen.
	subject  string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return nil } // no password: nothing to claim
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// accessToken is an issued access token (a JWT), kept for the userinfo
// endpoint and revocation.
type accessToken struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

// CreateAuthRequest stores a validated authorization request. The library
// has checked the client, the redirect URI and the response type; Homeward's
// own rule is added here: PKCE with S256, always.
func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		// The provider keeps no session of its own: someone must choose.
		return nil, oidc.ErrLoginRequired()
	}
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	// Copies: mounted on fiber (through fasthttpadaptor), the request's
	// strings share buffers that the server reuses for the next request.
	req := &authRequest{
		id:            uuid.NewString(),
		created:       time.Now(),
		clientID:      strings.Clone(r.ClientID),
		redirectURI:   strings.Clone(r.RedirectURI),
		state:         strings.Clone(r.State),
		nonce:         strings.Clone(r.Nonce),
		responseType:  oidc.ResponseType(strings.Clone(string(r.ResponseType))),
		responseMode:  oidc.ResponseMode(strings.Clone(string(r.ResponseMode))),
		codeChallenge: &oidc.CodeChallenge{Challenge: strings.Clone(r.CodeChallenge), Method: oidc.CodeChallengeMethodS256},
	}
	for _, scope := range r.Scopes {
		req.scopes = append(req.scopes, strings.Clone(scope))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(req.created)
	s.authRequests[req.id] = req
	return req, nil
}

// prune forgets expired auth requests, codes and tokens; the caller holds mu.
func (s *storage) prune(now time.Time) {
	for id, r := range s.authRequests {
		if now.Sub(r.created) > authRequestLifetime {
			delete(s.authRequests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.authRequests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// liveRequest returns the auth request id, nil when unknown or expired.
// The caller holds mu.
func (s *storage) liveRequest(id string) *authRequest {
	r, ok := s.authRequests[id]
	if !ok || time.Since(r.created) > authRequestLifetime {
		return nil
	}
	return r
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.liveRequest(id); r != nil {
		return r, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.liveRequest(s.codes[code]); r != nil {
		return r, nil
	}
	return nil, errNotFound
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: the code goes
// with it, so a replayed code is refused.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// chooseAccount completes the auth request id with the account subject,
// chosen in browser. It refuses an unknown or expired request, one shown to
// another browser, one already completed, and an account that is not the
// client's to offer.
func (s *storage) chooseAccount(id, browser, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequest(id)
	switch {
	case r == nil:
		return errSignInGone
	case r.browser == "" || subtle.ConstantTimeCompare([]byte(r.browser), []byte(browser)) != 1:
		return errOtherBrowser
	case r.done:
		return errSignInGone
	}
	a, ok := account(subject)
	if !ok || a.Organisation != s.clients[r.clientID].organisation {
		return errNoSuchAccount
	}
	r.subject, r.authTime, r.done = a.Subject, time.Now(), true
	return nil
}

// showLogin binds the auth request id to the browser shown its login page
// and returns the request's client; nil when the request is unknown,
// expired, completed, or already shown to another browser.
func (s *storage) showLogin(id, browser string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequest(id)
	if r == nil || r.done || (r.browser != "" && r.browser != browser) {
		return nil
	}
	r.browser = strings.Clone(browser) // see CreateAuthRequest
	return s.clients[r.clientID]
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	var clientID string
	if r, ok := req.(op.AuthRequest); ok {
		clientID = r.GetClientID()
	}
	t := &accessToken{
		id:       uuid.NewString(),
		clientID: clientID,
		subject:  req.GetSubject(),
		scopes:   req.GetScopes(),
		expires:  time.Now().Add(accessTokenLifetime),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

// Refresh tokens are not offered: no client has the refresh_token grant,
// so the library never asks for one.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession is the end-session endpoint's: the provider keeps no
// sign-in session of its own (every sign-in shows the account list), so
// ending one revokes the account's access tokens for the client.
func (s *storage) TerminateSession(_ context.Context, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == subject && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, tokenID)
	}
	return nil
}

// signingKey is the provider's one RS256 key.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the signing key as published in the JWKS.
type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{&s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("unknown client or wrong secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated by the library in favour of
// SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return setUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || time.Now().After(t.expires) {
		return errors.New("access token unknown or expired")
	}
	return setUserinfo(info, subject, t.scopes)
}

// setUserinfo sets the account's claims: the subject and its groups always
// (the groups are what Homeward maps to roles), its name and locale with
// the profile scope.
func setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	a, ok := account(subject)
	if !ok {
		return errNotFound
	}
	info.Subject = a.Subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = a.Name
		info.PreferredUsername = a.Subject
		info.Locale = oidc.NewLocale(language.Make(a.Locale))
	}
	info.AppendClaims(GroupsClaim, []string{a.Group})
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || t.clientID != clientID || time.Now().After(t.expires) {
		return errors.New("access token unknown, expired or not this client's")
	}
	info := new(oidc.UserInfo)
	if err := setUserinfo(info, subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// GetPrivateClaimsFromScopes adds the groups to JWT access tokens too, so a
// program holding one can be authorised like the person it acts for.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, subject, _ string, _ []string) (map[string]any, error) {
	a, ok := account(subject)
	if !ok {
		return nil, errNotFound
	}
	return map[string]any{GroupsClaim: []string{a.Group}}, nil
}

// No client authenticates with a signed JWT (private_key_jwt), and the JWT
// profile grant is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient()
}

func (s *storage) Health(context.Context) error { return nil }
