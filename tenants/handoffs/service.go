package handoffs

import (
	"time"

	"gocloud.dev/blob"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Service is the partnerships and handoffs of every organisation on a
// store.
type Service struct {
	store  *tenants.Store
	cases  *cases.Service
	now    func() time.Time
	bucket *blob.Bucket // documents: nil refuses a handoff that shares one (unavailable)
	limits tenants.DocumentLimits
}

// New returns the handoff service on store.
func New(store *tenants.Store) *Service {
	return &Service{store: store, cases: cases.New(store), now: time.Now}
}

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	c.cases = c.cases.WithClock(now)
	return &c
}

// WithDocuments returns a copy of the service that shares documents: the
// copies go into the other side's document storage (bucket,
// HOMEWARD_BLOB_URL: tenants.OpenDocumentBucket) within limits. Without
// it, a handoff, stage or message carrying a document is refused
// (unavailable).
func (s *Service) WithDocuments(bucket *blob.Bucket, limits tenants.DocumentLimits) *Service {
	c := *s
	c.bucket, c.limits = bucket, limits
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }
