// Package care is the services a survivor receives while her case is open
// (psychological, medical, legal, education, vocational training, life
// skills and group activities) and her support plan (HTCDS spl_*) with its
// progress.
//
// A service entry is one dated record of one kind (a session, a hospital
// referral, an HIV test, a hearing, a school enrolment...). Its kind decides
// its part of the case (Kinds), and the part decides who may see and add it:
// the medical, psychological and legal field groups, or the support part
// (education, training, support plan, activities). Support plans belong to
// the support part; a group activity belongs to no case, and its
// attendance is recorded per case, under that case's support part.
//
// Every function takes the principal from the context, opens the case with
// cases.Open inside the organisation's transaction, checks the part
// (Ref.Need), does its work, moves the case's last activity (cases.Touch)
// and writes its audit row (RecordType "case" and the case's id, so the
// case's audit trail holds every service; FieldGroups the part; never a
// value), all in that one transaction. A case the member may not see is
// not_found; a part of a case it sees but may not use is forbidden; one
// entry of a part it may not read is not_found, as an unknown one.
//
// What an entry says is one JSON document encrypted with the case's data
// key (tenants.Secret, DataKeyID = the case's id), so erasing the case
// shreds it; the clear columns hold ids, kinds, dates and statuses.
package care

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// Service is the care of every organisation's cases on a store.
type Service struct {
	store *tenants.Store
	now   func() time.Time
}

// New returns the care service on store.
func New(store *tenants.Store) *Service {
	return &Service{store: store, now: time.Now}
}

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }

// principal is the context's principal acting in an organisation.
func principal(ctx context.Context) (*tenants.Principal, error) {
	return tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
}

// stamp is a time as the database keeps it.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// audit writes the audit row of action on part of case caseID. Every row
// names the case, so that the case's audit trail (cases.Service.CaseAudit)
// lists its services.
func audit(tx *gorm.DB, action string, caseID uuid.UUID, part string) error {
	return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: "case", RecordID: caseID,
		FieldGroups: []string{part}})
}
