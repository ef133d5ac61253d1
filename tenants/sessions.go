package tenants

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Browser sign-in keeps two kinds of global rows (docs/architecture.md,
// "Sign-in"): a login attempt between GET /login and the provider's
// callback, and a session once signed in. Both are found from a random id
// the browser holds in a cookie; only the SHA-256 of that id is stored, so a
// copy of the database signs nobody in.

// Session and login-attempt lifetimes.
const (
	// SessionIdleTimeout ends a session nobody used for this long.
	SessionIdleTimeout = 30 * time.Minute
	// SessionAbsoluteTimeout ends every session this long after sign-in,
	// however busy: the person signs in again with their provider, which
	// also re-reads their groups.
	SessionAbsoluteTimeout = 12 * time.Hour
	// LoginAttemptTimeout is how long a sign-in may take at the provider.
	LoginAttemptTimeout = 10 * time.Minute
	// sessionTouchInterval spares a write per request: last_seen_at moves
	// at most once a minute, so the idle timeout is exact to a minute.
	sessionTouchInterval = time.Minute
)

// LoginAttempt is one sign-in in progress: what the callback must find
// again, bound to the browser that started it.
type LoginAttempt struct {
	TenantID uuid.UUID // the organisation signed in to; uuid.Nil for an operator
	// Operator marks a platform operator's sign-in, at the operators' own
	// provider: it has no organisation.
	Operator     bool
	State        string // echoed by the provider; compared in constant time
	Nonce        string // must come back inside the ID token
	CodeVerifier string // PKCE (S256): only the browser's own attempt can redeem its code
	ReturnTo     string // a local path to land on afterwards
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

type loginAttemptRow struct {
	IDHash       []byte     `gorm:"primaryKey"`
	TenantID     *uuid.UUID `gorm:"type:uuid"` // nil for an operator's attempt
	Operator     bool
	State        string
	Nonce        string
	CodeVerifier string
	ReturnTo     string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

func (loginAttemptRow) TableName() string { return "login_attempts" }

// Session is a signed-in browser acting for one membership, or for a
// platform operator (IdentityID set, no organisation, no membership).
type Session struct {
	TenantID     uuid.UUID // uuid.Nil for an operator
	MembershipID uuid.UUID // uuid.Nil for an operator
	// IdentityID is the operator's identity (issuer, subject) in an
	// operator's session; uuid.Nil in a member's.
	IdentityID uuid.UUID
	// CSRFToken must be echoed by every state-changing request the session
	// cookie authenticates.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute
	// IDToken is the provider's ID token, for its logout (id_token_hint);
	// empty when none was kept.
	IDToken string
}

type sessionRow struct {
	IDHash       []byte     `gorm:"primaryKey"`
	TenantID     *uuid.UUID `gorm:"type:uuid"` // nil in an operator's session
	MembershipID *uuid.UUID `gorm:"type:uuid"` // nil in an operator's session
	IdentityID   *uuid.UUID `gorm:"type:uuid"` // the operator's identity; nil in a member's session
	CSRFToken    string     `gorm:"column:csrf_token"`
	IDToken      []byte
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// RandomToken returns 32 random bytes, base64url without padding (43
// characters): session ids, login ids, state, nonce and CSRF tokens.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretHash is what is stored of a browser's secret id.
func secretHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// SaveLoginAttempt keeps a sign-in in progress for LoginAttemptTimeout and
// returns the id to give the browser (in an HttpOnly cookie, nowhere else).
// It also removes the attempts that have expired.
func (s *Store) SaveLoginAttempt(ctx context.Context, a LoginAttempt, now time.Time) (string, error) {
	now = now.UTC()
	if a.ReturnTo == "" {
		a.ReturnTo = "/"
	}
	if a.Operator != (a.TenantID == uuid.Nil) {
		return "", errors.New("tenants: a login attempt is either an operator's (no organisation) or an organisation's")
	}
	id := RandomToken()
	row := loginAttemptRow{
		IDHash: secretHash(id), Operator: a.Operator, State: a.State, Nonce: a.Nonce,
		CodeVerifier: a.CodeVerifier, ReturnTo: a.ReturnTo, CreatedAt: now, ExpiresAt: now.Add(LoginAttemptTimeout),
	}
	if !a.Operator {
		row.TenantID = &a.TenantID
	}
	err := s.Global(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ?", now).Delete(&loginAttemptRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return "", fmt.Errorf("tenants: save login attempt: %w", err)
	}
	return id, nil
}

// TakeLoginAttempt removes the attempt the browser's id names and returns
// it: nil when there is none (never started, already taken, or expired).
// Two callbacks racing for one attempt: only one gets it.
func (s *Store) TakeLoginAttempt(ctx context.Context, id string, now time.Time) (*LoginAttempt, error) {
	if id == "" {
		return nil, nil
	}
	var row loginAttemptRow
	taken := false
	err := s.Global(ctx, func(tx *gorm.DB) error {
		err := tx.Where("id_hash = ?", secretHash(id)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res := tx.Where("id_hash = ?", row.IDHash).Delete(&loginAttemptRow{})
		taken = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: take login attempt: %w", err)
	}
	if !taken || !now.Before(row.ExpiresAt) {
		return nil, nil
	}
	a := &LoginAttempt{
		Operator: row.Operator, State: row.State, Nonce: row.Nonce, CodeVerifier: row.CodeVerifier,
		ReturnTo: row.ReturnTo, CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt,
	}
	if row.TenantID != nil {
		a.TenantID = *row.TenantID
	}
	return a, nil
}

// StartSession opens a session for the membership with a fresh id, which it
// returns for the browser's cookie. idToken (may be empty) is sealed under a
// key derived from that id. It also removes the sessions that have ended.
func (s *Store) StartSession(ctx context.Context, tenantID, membershipID uuid.UUID, idToken string, now time.Time) (string, *Session, error) {
	var (
		id   string
		sess *Session
	)
	err := s.Global(ctx, func(tx *gorm.DB) error {
		var err error
		id, sess, err = startSession(tx, tenantID, membershipID, idToken, now)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("tenants: start session: %w", err)
	}
	return id, sess, nil
}

func startSession(tx *gorm.DB, tenantID, membershipID uuid.UUID, idToken string, now time.Time) (string, *Session, error) {
	if tenantID == uuid.Nil || membershipID == uuid.Nil {
		return "", nil, errors.New("tenants: a member's session needs its organisation and membership")
	}
	return insertSession(tx, sessionRow{TenantID: &tenantID, MembershipID: &membershipID}, idToken, now)
}

// insertSession writes row (its owner: a membership, or an operator's
// identity) as a new session with a fresh id, which it returns.
func insertSession(tx *gorm.DB, row sessionRow, idToken string, now time.Time) (string, *Session, error) {
	now = now.UTC()
	id := RandomToken()
	row.IDHash, row.CSRFToken = secretHash(id), RandomToken()
	row.CreatedAt, row.LastSeenAt, row.ExpiresAt = now, now, now.Add(SessionAbsoluteTimeout)
	if idToken != "" {
		sealed, err := sealIDToken(id, row.IDHash, idToken)
		if err != nil {
			return "", nil, err
		}
		row.IDToken = sealed
	}
	if err := tx.Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-SessionIdleTimeout)).
		Delete(&sessionRow{}).Error; err != nil {
		return "", nil, err
	}
	if err := tx.Create(&row).Error; err != nil {
		return "", nil, err
	}
	return id, row.session(idToken), nil
}

// SwitchSession moves a browser to another organisation of the same
// identity: in one transaction it ends the session oldID, opens one (fresh
// id, returned) for the membership p acts as, and records auth.switch in
// p's organisation. The caller has checked that p is that identity's, as of
// now (PrincipalOf).
func (s *Store) SwitchSession(ctx context.Context, oldID string, p *Principal, idToken string, now time.Time) (string, *Session, error) {
	if p == nil || p.Actor.MemberID == nil {
		return "", nil, errors.New("tenants: SwitchSession needs a member's principal")
	}
	var (
		id   string
		sess *Session
	)
	err := s.InTenant(WithPrincipal(ctx, p), p.TenantID, func(tx *gorm.DB) error {
		if err := tx.Where("id_hash = ?", secretHash(oldID)).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		var err error
		if id, sess, err = startSession(tx, p.TenantID, *p.Actor.MemberID, idToken, now); err != nil {
			return err
		}
		return Audit(tx, AuditEntry{Action: "auth.switch", RecordType: "membership", RecordID: *p.Actor.MemberID})
	})
	if err != nil {
		return "", nil, fmt.Errorf("tenants: switch session: %w", err)
	}
	return id, sess, nil
}

// SessionByID returns the live session the browser's id names, nil when
// there is none: unknown, ended, idle for SessionIdleTimeout or older than
// SessionAbsoluteTimeout (an ended one is deleted). It records the use, at
// most once per minute.
func (s *Store) SessionByID(ctx context.Context, id string, now time.Time) (*Session, error) {
	if id == "" {
		return nil, nil
	}
	now = now.UTC()
	var (
		row   sessionRow
		found bool
	)
	err := s.Global(ctx, func(tx *gorm.DB) error {
		err := tx.Where("id_hash = ?", secretHash(id)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(SessionIdleTimeout)) {
			return tx.Where("id_hash = ?", row.IDHash).Delete(&sessionRow{}).Error
		}
		found = true
		if now.Sub(row.LastSeenAt) >= sessionTouchInterval {
			row.LastSeenAt = now
			return tx.Model(&sessionRow{}).Where("id_hash = ?", row.IDHash).Update("last_seen_at", now).Error
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: read session: %w", err)
	}
	if !found {
		return nil, nil
	}
	idToken := ""
	if len(row.IDToken) > 0 {
		// A token that does not open (it cannot happen short of tampering)
		// only costs the provider's logout its hint.
		idToken, _ = openIDToken(id, row.IDHash, row.IDToken)
	}
	return row.session(idToken), nil
}

// EndSession deletes the session the browser's id names (a session whose
// membership no longer signs in). Ending an unknown one is no error.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	err := s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Where("id_hash = ?", secretHash(id)).Delete(&sessionRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("tenants: end session: %w", err)
	}
	return nil
}

// Logout ends the session the browser's id names and records auth.logout
// in p's organisation, in one transaction.
func (s *Store) Logout(ctx context.Context, id string, p *Principal) error {
	if p == nil || p.Actor.MemberID == nil {
		return errors.New("tenants: Logout needs a member's principal")
	}
	err := s.InTenant(WithPrincipal(ctx, p), p.TenantID, func(tx *gorm.DB) error {
		if err := tx.Where("id_hash = ?", secretHash(id)).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return Audit(tx, AuditEntry{Action: "auth.logout", RecordType: "membership", RecordID: *p.Actor.MemberID})
	})
	if err != nil {
		return fmt.Errorf("tenants: logout: %w", err)
	}
	return nil
}

// EndSessionsOf deletes every session of a membership (a member removed,
// or signed out everywhere). Disabling a member or suspending an
// organisation needs no call: every request checks both (PrincipalOf).
func (s *Store) EndSessionsOf(ctx context.Context, membershipID uuid.UUID) error {
	err := s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Where("membership_id = ?", membershipID).Delete(&sessionRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("tenants: end sessions: %w", err)
	}
	return nil
}

func (r *sessionRow) session(idToken string) *Session {
	s := &Session{
		CSRFToken: r.CSRFToken, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt, IDToken: idToken,
	}
	if r.TenantID != nil {
		s.TenantID = *r.TenantID
	}
	if r.MembershipID != nil {
		s.MembershipID = *r.MembershipID
	}
	if r.IdentityID != nil {
		s.IdentityID = *r.IdentityID
	}
	return s
}

// idTokenKey derives the key sealing a session's ID token from the session
// id, which only the browser holds: the database alone cannot open it.
func idTokenKey(id string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(id), nil, "homeward/session/id-token/v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealIDToken encrypts the token, bound (associated data) to its session.
func sealIDToken(id string, idHash []byte, token string) ([]byte, error) {
	aead, err := idTokenKey(id)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(token), idHash), nil
}

func openIDToken(id string, idHash, sealed []byte) (string, error) {
	aead, err := idTokenKey(id)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", ErrDecrypt
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], idHash)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}
