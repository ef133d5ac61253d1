package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// API tokens let programs call the API: "hw_" and 32 random bytes in
// base64url, shown once when made and stored only as their SHA-256 in the
// global table api_tokens (looked up by that hash before the organisation is
// known). A plain SHA-256 is the right hash for a 256-bit random secret:
// there is nothing to guess and no dictionary to precompute, so a slow
// password hash would only slow down every request.
//
// A token carries roles (those its maker could grant, never
// platform_operator for an organisation's token), an expiry (at most
// MaxAPITokenLifetime) and may be revoked. It never approves (two-person
// rules: Principal.ViaToken). A token made by a tenant admin works only
// while that admin is an enabled member who may still grant roles; one made
// by an operator on the command line stands alone.

// MaxAPITokenLifetime bounds a token's expiry.
const MaxAPITokenLifetime = 366 * 24 * time.Hour

// tokenUseAuditInterval: token.use is audited at most once per token per
// interval (see AuthenticateAPIToken).
const tokenUseAuditInterval = time.Hour

// apiTokenPrefix starts every token, so that a leaked one is recognisable
// (secret scanners) and is told apart from a JWT.
const apiTokenPrefix = "hw_"

var apiTokenPattern = regexp.MustCompile(`^hw_[A-Za-z0-9_-]{43}$`)

// LooksLikeAPIToken reports whether a bearer credential is meant as an API
// token (rather than a JWT).
func LooksLikeAPIToken(s string) bool { return strings.HasPrefix(s, apiTokenPrefix) }

// APIToken is a token as listed: never the token itself.
type APIToken struct {
	ID         uuid.UUID
	TenantID   *uuid.UUID // nil: a platform operator's token
	Name       string
	Roles      []Role
	Prefix     string     // the token's first characters, to recognise it
	CreatedBy  *uuid.UUID // the membership that made it; nil: an operator
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time // to the hour
}

// Token statuses.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// Status is active, expired or revoked at now.
func (t *APIToken) Status(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return TokenRevoked
	case !now.Before(t.ExpiresAt):
		return TokenExpired
	}
	return TokenActive
}

// NewAPIToken is what a token is made from.
type NewAPIToken struct {
	Name      string
	Roles     []Role
	ExpiresAt time.Time // required, in the future, at most MaxAPITokenLifetime away
}

// CreatedAPIToken is a token just made: Token is shown this once.
type CreatedAPIToken struct {
	APIToken
	Token string
}

type apiTokenRow struct {
	ID         uuid.UUID  `gorm:"type:uuid;primaryKey"`
	TenantID   *uuid.UUID `gorm:"type:uuid"`
	CreatedBy  *uuid.UUID `gorm:"type:uuid"`
	Name       string
	Roles      string
	TokenHash  []byte
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r *apiTokenRow) token() APIToken {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return APIToken{
		ID: r.ID, TenantID: r.TenantID, Name: r.Name, Roles: parseRoles(r.Roles), Prefix: r.Prefix, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: utc(r.RevokedAt), LastUsedAt: utc(r.LastUsedAt),
	}
}

func apiTokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// validate names what is wrong with n for an organisation's token (platform:
// a platform operator's token, whose only role is platform_operator).
func (n *NewAPIToken) validate(now time.Time, platform bool) error {
	f := homeward.FieldErrors{}
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 100 || !printable(n.Name) {
		f.Add("name", "required: 1 to 100 printable characters naming what the token is for")
	}
	switch {
	case len(n.Roles) == 0:
		f.Add("roles", "give the token at least one role")
	case platform:
		if len(n.Roles) != 1 || n.Roles[0] != RolePlatformOperator {
			f.Add("roles", "a platform operator's token has the role platform_operator alone")
		}
	default:
		for _, r := range n.Roles {
			if !ValidRole(r) || r == RolePlatformOperator {
				f.Add("roles", fmt.Sprintf("%q is not an organisation role (one of %s)", r, orgRoleNames()))
			}
		}
	}
	switch {
	case n.ExpiresAt.IsZero():
		f.Add("expires_at", "required: when the token stops working")
	case !n.ExpiresAt.After(now):
		f.Add("expires_at", "must be in the future")
	case n.ExpiresAt.After(now.Add(MaxAPITokenLifetime)):
		f.Add("expires_at", fmt.Sprintf("at most %d days from now", int(MaxAPITokenLifetime/(24*time.Hour))))
	}
	n.Roles = sortRoles(n.Roles)
	return f.Err()
}

// newAPITokenSecret is a fresh token: hw_ and 32 random bytes, base64url.
func newAPITokenSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return apiTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreateAPIToken makes a token for the principal's organisation
// (members.write: a tenant admin), audited token.create. Its roles are
// organisation roles. A token cannot make tokens (forbidden): a leaked one
// must not be able to outlive its own expiry or revocation.
func (s *Store) CreateAPIToken(ctx context.Context, n NewAPIToken) (*CreatedAPIToken, error) {
	p, err := orgPrincipal(ctx, PermMembersWrite)
	if err != nil {
		return nil, err
	}
	if p.ViaToken {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "an API token cannot make API tokens: sign in")
	}
	return s.createAPIToken(ctx, p.TenantID, p.Actor.MemberID, n)
}

// IssueOperatorToken is homeward tokens create: an operator on the command
// line (the context's actor must be ActorOperator) makes a token for
// organisation tenantID with organisation roles, or with tenantID uuid.Nil a
// platform operator's token (role platform_operator alone, for /metrics and
// the queue monitor). The operator holds the database and the master key
// already, so this grants nothing they do not have; no HTTP route reaches
// it. An organisation's token is audited token.create in its chain with the
// operator as actor; a platform token has no organisation's chain to go to.
func (s *Store) IssueOperatorToken(ctx context.Context, tenantID uuid.UUID, n NewAPIToken) (*CreatedAPIToken, error) {
	if ActorFrom(ctx).Kind != ActorOperator {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "only an operator on the command line issues tokens this way")
	}
	return s.createAPIToken(ctx, tenantID, nil, n)
}

func (s *Store) createAPIToken(ctx context.Context, tenantID uuid.UUID, createdBy *uuid.UUID, n NewAPIToken) (*CreatedAPIToken, error) {
	now := time.Now().UTC()
	platform := tenantID == uuid.Nil
	if err := n.validate(now, platform); err != nil {
		return nil, err
	}
	secret := newAPITokenSecret()
	row := apiTokenRow{
		ID: newID(), CreatedBy: createdBy, Name: n.Name, Roles: joinRoles(n.Roles),
		TokenHash: apiTokenHash(secret), Prefix: secret[:len(apiTokenPrefix)+6],
		CreatedAt: now, ExpiresAt: n.ExpiresAt.UTC(),
	}
	var err error
	if platform {
		err = s.Global(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error })
	} else {
		row.TenantID = &tenantID
		err = s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
			if err := tx.Session(&gorm.Session{NewDB: true}).Create(&row).Error; err != nil {
				return err
			}
			return Audit(tx, AuditEntry{Action: "token.create", RecordType: "api_token", RecordID: row.ID})
		})
	}
	if err != nil {
		return nil, err
	}
	return &CreatedAPIToken{APIToken: row.token(), Token: secret}, nil
}

// APITokenQuery selects a page of tokens, newest first.
type APITokenQuery struct {
	Limit  int    // 1 to MaxPage; 0 means DefaultPage
	Cursor string // Next of the previous page
}

// APITokenPage is a page of tokens; Next is "" on the last page.
type APITokenPage struct {
	Tokens []APIToken
	Next   string
}

// APITokens lists the principal's organisation's tokens, revoked and
// expired ones too, newest first (members.read).
func (s *Store) APITokens(ctx context.Context, q APITokenQuery) (*APITokenPage, error) {
	p, err := orgPrincipal(ctx, PermMembersRead)
	if err != nil {
		return nil, err
	}
	f := homeward.FieldErrors{}
	limit := pageLimit(q.Limit, f)
	var before uuid.UUID
	if q.Cursor != "" {
		var ok bool
		if before, ok = decodeListCursor("t1", q.Cursor, ""); !ok {
			f.Add("cursor", badCursor)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var rows []apiTokenRow
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		db := tx.Session(&gorm.Session{NewDB: true}).Where("tenant_id = ?", p.TenantID)
		if before != uuid.Nil {
			db = db.Where("id < ?", before)
		}
		return db.Order("id DESC").Limit(limit + 1).Find(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	page := &APITokenPage{Tokens: []APIToken{}}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeListCursor("t1", rows[len(rows)-1].ID, "")
	}
	for i := range rows {
		page.Tokens = append(page.Tokens, rows[i].token())
	}
	return page, nil
}

// RevokeAPIToken revokes a token of the principal's organisation
// (members.write), audited token.revoke; it stops working with its next
// request. Revoking a revoked token changes nothing; another organisation's
// token is not_found.
func (s *Store) RevokeAPIToken(ctx context.Context, id uuid.UUID) (*APIToken, error) {
	p, err := orgPrincipal(ctx, PermMembersWrite)
	if err != nil {
		return nil, err
	}
	var out APIToken
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		db := tx.Session(&gorm.Session{NewDB: true})
		var row apiTokenRow
		err := db.Where("id = ? AND tenant_id = ?", id, p.TenantID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return homeward.Errorf(homeward.ENOTFOUND, "no such API token")
		}
		if err != nil {
			return err
		}
		if row.RevokedAt == nil {
			now := time.Now().UTC()
			if err := db.Model(&apiTokenRow{}).Where("id = ? AND tenant_id = ? AND revoked_at IS NULL", id, p.TenantID).
				Update("revoked_at", now).Error; err != nil {
				return err
			}
			row.RevokedAt = &now
			if err := Audit(tx, AuditEntry{Action: "token.revoke", RecordType: "api_token", RecordID: id}); err != nil {
				return err
			}
		}
		out = row.token()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AuthenticateAPIToken returns the principal of an API token, checked as of
// now: unauthenticated when it is malformed, unknown, revoked or expired, when
// its organisation is suspended, or when the tenant admin who made it is
// disabled or may no longer grant roles.
//
// token.use is audited at most once per token per hour, when last_used_at
// moves (a conditional update, so replicas agree on who writes it): auditing
// every request would put a write and the organisation's audit-chain lock
// (tenants/audit.go) on every call a program makes, serialising a busy
// integration; what a token does to case files is audited by those actions
// themselves, with the token as actor.
func (s *Store) AuthenticateAPIToken(ctx context.Context, token string) (*Principal, error) {
	if !apiTokenPattern.MatchString(token) {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "not an API token")
	}
	now := time.Now().UTC()
	var p *Principal
	var row apiTokenRow
	err := s.globalThenTenant(ctx,
		func(tx *gorm.DB) (uuid.UUID, error) {
			err := tx.Where("token_hash = ?", apiTokenHash(token)).Take(&row).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				return uuid.Nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "unknown API token")
			case err != nil:
				return uuid.Nil, err
			case row.RevokedAt != nil:
				return uuid.Nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "this API token was revoked")
			case !now.Before(row.ExpiresAt):
				return uuid.Nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "this API token has expired")
			}
			if row.TenantID == nil {
				return uuid.Nil, nil
			}
			return *row.TenantID, nil
		},
		func(tx *gorm.DB, tenantID uuid.UUID) error {
			actor := Actor{Kind: ActorAPIToken, Issuer: "homeward", Subject: "api_token:" + row.ID.String(), MemberID: row.CreatedBy}
			used, err := markTokenUsed(tx, &row, now)
			if err != nil {
				return err
			}
			if tenantID == uuid.Nil {
				p = &Principal{Actor: actor, Roles: []Role{RolePlatformOperator}, Locale: "en", ViaToken: true}
				return nil
			}
			t, err := activeTenant(tx, tenantID)
			if err != nil {
				return err
			}
			if row.CreatedBy != nil {
				if err := makerMayStillGrant(tx, tenantID, *row.CreatedBy); err != nil {
					return err
				}
			}
			locale, err := localeOf(tx, "")
			if err != nil {
				return err
			}
			if used {
				atx := tx.WithContext(WithActor(tx.Statement.Context, actor))
				if err := Audit(atx, AuditEntry{Action: "token.use", RecordType: "api_token", RecordID: row.ID}); err != nil {
					return err
				}
			}
			p, err = withAdjustments(tx, &Principal{Actor: actor, TenantID: t.ID, TenantSlug: t.Slug, TenantName: t.Name,
				Roles: parseRoles(row.Roles), Locale: locale, ViaToken: true})
			return err
		})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// markTokenUsed moves last_used_at when it is an hour old or unset, and
// reports whether this call moved it.
func markTokenUsed(tx *gorm.DB, row *apiTokenRow, now time.Time) (bool, error) {
	if row.LastUsedAt != nil && now.Sub(*row.LastUsedAt) < tokenUseAuditInterval {
		return false, nil
	}
	res := tx.Session(&gorm.Session{NewDB: true}).Model(&apiTokenRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", row.ID, now.Add(-tokenUseAuditInterval)).
		Update("last_used_at", now)
	return res.RowsAffected == 1, res.Error
}

// makerMayStillGrant checks that the tenant admin who made a token is still
// an enabled member who may grant roles: a token outlives nobody's rights.
func makerMayStillGrant(tx *gorm.DB, tenantID, membershipID uuid.UUID) error {
	var m membershipRow
	err := tx.Session(&gorm.Session{NewDB: true}).Where("id = ? AND tenant_id = ?", membershipID, tenantID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "the member who made this API token is gone")
	}
	if err != nil {
		return err
	}
	maker, err := withAdjustments(tx, &Principal{Roles: m.membership().Roles()})
	if err != nil {
		return err
	}
	if m.Disabled || !maker.Can(PermMembersWrite) {
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "the member who made this API token may no longer grant its roles")
	}
	return nil
}

// RevokeOperatorToken is homeward tokens revoke: an operator on the command
// line (the context's actor must be ActorOperator) revokes any token, a
// platform token included. An organisation's token's revocation is audited
// token.revoke in its chain.
func (s *Store) RevokeOperatorToken(ctx context.Context, id uuid.UUID) (*APIToken, error) {
	if ActorFrom(ctx).Kind != ActorOperator {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "only an operator on the command line revokes tokens this way")
	}
	var row apiTokenRow
	err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&row).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no such API token")
	}
	if err != nil || row.RevokedAt != nil {
		out := row.token()
		return &out, err
	}
	now := time.Now().UTC()
	revoke := func(tx *gorm.DB) error {
		return tx.Session(&gorm.Session{NewDB: true}).Model(&apiTokenRow{}).Where("id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error
	}
	if row.TenantID == nil {
		err = s.Global(ctx, revoke)
	} else {
		err = s.InTenant(ctx, *row.TenantID, func(tx *gorm.DB) error {
			if err := revoke(tx); err != nil {
				return err
			}
			return Audit(tx, AuditEntry{Action: "token.revoke", RecordType: "api_token", RecordID: id})
		})
	}
	if err != nil {
		return nil, err
	}
	row.RevokedAt = &now
	out := row.token()
	return &out, nil
}
