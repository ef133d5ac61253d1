package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Platform operators in the browser (docs/architecture.md, "Sign-in"): they
// sign in at the platform's own OpenID provider (HOMEWARD_OPERATOR_*), which
// must list them in the operator group; the api layer checks the ID token and
// the group exactly as for an organisation. Here they are an identity
// (issuer, subject) in the global identities table and a session that names
// that identity and no organisation. Their principal has no organisation and
// the one role platform_operator, so every organisation's service refuses
// them (Authorize, errNoOrganisation); only the platform's own pages
// (metrics, queues) let them in.
//
// They have no organisation's audit chain to write to: their sign-in and
// sign-out are recorded in the log stream by the api layer.

// StartOperatorSession opens a platform operator's session for the identity
// (issuer, subject) the operators' provider vouched for, with a fresh id,
// which it returns for the browser's cookie, and the operator's principal.
// The caller has verified the ID token and the operator group. idToken (may
// be empty) is sealed as for a member's session.
func (s *Store) StartOperatorSession(ctx context.Context, issuer, subject, idToken string, now time.Time) (string, *Session, *Principal, error) {
	if issuer == "" || subject == "" || len(issuer) > 500 || len(subject) > 500 {
		return "", nil, nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "the identity provider named nobody")
	}
	var (
		id   string
		sess *Session
		p    *Principal
	)
	err := s.Global(ctx, func(tx *gorm.DB) error {
		ident, err := ensureIdentity(tx, issuer, subject, now.UTC())
		if err != nil {
			return err
		}
		if id, sess, err = insertSession(tx, sessionRow{IdentityID: &ident.ID}, idToken, now); err != nil {
			return err
		}
		p = operatorSessionPrincipal(ident)
		return nil
	})
	if err != nil {
		return "", nil, nil, fmt.Errorf("tenants: start operator session: %w", err)
	}
	return id, sess, p, nil
}

// OperatorSessionPrincipal is the principal of an operator's session, from
// its identity (Session.IdentityID): unauthenticated when the identity is
// gone. Whether that identity's issuer is still the operators' provider is
// the caller's to check (the configuration is not the store's).
func (s *Store) OperatorSessionPrincipal(ctx context.Context, identityID uuid.UUID) (*Principal, error) {
	var ident identityRow
	err := s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Where("id = ?", identityID).Take(&ident).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errSignInAgain
	}
	if err != nil {
		return nil, fmt.Errorf("tenants: operator session: %w", err)
	}
	return operatorSessionPrincipal(&ident), nil
}

// operatorSessionPrincipal is a platform operator signed in to the browser:
// no organisation, platform_operator alone, the actor kind operator (as at
// the command line, OperatorPrincipal) named by the provider's (issuer,
// subject).
func operatorSessionPrincipal(ident *identityRow) *Principal {
	return &Principal{
		Actor: Actor{Kind: ActorOperator, Issuer: ident.Issuer, Subject: ident.Subject},
		Roles: []Role{RolePlatformOperator}, Locale: "en",
	}
}
