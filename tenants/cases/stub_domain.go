package cases

// STUB: the domain helper replaces every function of this file with the
// real one (in cases_store.go, consent.go, comments.go, erasure.go,
// retention.go) and deletes this file.

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

var errNotImplemented = homeward.Errorf(homeward.EUNAVAILABLE, "case files are being built")

// Create records a new case (case.create): stage intake, the creator as
// owner when it may read the core of its own cases, audited case.create.
func (s *Service) Create(ctx context.Context, nc NewCase) (*Case, error) { return nil, errNotImplemented }

// Get returns a case as the principal may see it, audited case.read with
// the field groups shown.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Case, error) { return nil, errNotImplemented }

// Update changes a case, audited case.update with the groups changed.
func (s *Service) Update(ctx context.Context, id uuid.UUID, p Patch) (*Case, error) {
	return nil, errNotImplemented
}

// Assign sets the owner and the assigned staff (case.assign), audited case.assign.
func (s *Service) Assign(ctx context.Context, id uuid.UUID, owner *uuid.UUID, assigned []uuid.UUID) (*Case, error) {
	return nil, errNotImplemented
}

// List returns a page of cases, one audit row (case.list) per call.
func (s *Service) List(ctx context.Context, q Query) (*Page, error) { return nil, errNotImplemented }

// RecordConsent records a consent on a case, audited case.consent.record.
func (s *Service) RecordConsent(ctx context.Context, caseID uuid.UUID, nc NewConsent) (*Consent, error) {
	return nil, errNotImplemented
}

// WithdrawConsent withdraws every standing consent of purpose on a case at
// once, audited case.consent.withdraw; it returns the records withdrawn.
func (s *Service) WithdrawConsent(ctx context.Context, caseID uuid.UUID, purpose Purpose, reason string) ([]Consent, error) {
	return nil, errNotImplemented
}

// ConsentHistory is every consent record of a case, newest first.
func (s *Service) ConsentHistory(ctx context.Context, caseID uuid.UUID) ([]Consent, error) {
	return nil, errNotImplemented
}

// Consented is the one question features ask: does the case have a
// standing consent for purpose? Inside the organisation's transaction.
func Consented(tx *gorm.DB, caseID uuid.UUID, purpose Purpose) (bool, error) { return false, errNotImplemented }

// AddComment adds a comment (core write), audited case.comment.
func (s *Service) AddComment(ctx context.Context, caseID uuid.UUID, text string) (*Comment, error) {
	return nil, errNotImplemented
}

// Comments lists a case's comments, oldest first (core read).
func (s *Service) Comments(ctx context.Context, caseID uuid.UUID, limit int, cursor string) (*CommentPage, error) {
	return nil, errNotImplemented
}

// RequestErasure asks for a case to be erased (case.erase.request).
func (s *Service) RequestErasure(ctx context.Context, caseID uuid.UUID, reason, note string) (*Erasure, error) {
	return nil, errNotImplemented
}

// DecideErasure approves (shredding the case) or cancels an erasure request
// (case.erase.approve; approving needs tenants.DistinctApprover).
func (s *Service) DecideErasure(ctx context.Context, erasureID uuid.UUID, approve bool) (*Erasure, error) {
	return nil, errNotImplemented
}

// Erasures lists the requests waiting for a decision (case.erase.request or .approve).
func (s *Service) Erasures(ctx context.Context) ([]Erasure, error) { return nil, errNotImplemented }

// Retention is the organisation's retention rule (settings.read).
func (s *Service) Retention(ctx context.Context) (Retention, error) { return Retention{}, errNotImplemented }

// SetRetention changes the retention rule (settings.write), audited.
func (s *Service) SetRetention(ctx context.Context, r Retention) (Retention, error) {
	return Retention{}, errNotImplemented
}

// RetentionDue lists the closed cases the rule will anonymise within the
// next `within` (settings.read), soonest first, for the admin to review.
func (s *Service) RetentionDue(ctx context.Context, within time.Duration) ([]RetentionCandidate, error) {
	return nil, errNotImplemented
}

// AnonymiseDue anonymises the closed cases of the transaction's
// organisation whose retention ended by now (the scheduled job).
func AnonymiseDue(tx *gorm.DB, now time.Time) (int, error) { return 0, errNotImplemented }

// CaseAudit is a case's audit trail (audit.read), newest first.
func (s *Service) CaseAudit(ctx context.Context, caseID uuid.UUID, q tenants.AuditQuery) (tenants.AuditPage, error) {
	return tenants.AuditPage{}, errNotImplemented
}
