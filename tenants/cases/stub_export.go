package cases

// STUB: the export helper replaces these with the real ones (export.go,
// statistics.go) and deletes this file.

import (
	"context"

	"github.com/google/uuid"
)

// ExportHTCDS returns one case as HTCDS 2.0 JSON (case.export), only while
// the case has the sharing consent, audited case.export.
func (s *Service) ExportHTCDS(ctx context.Context, caseID uuid.UUID) ([]byte, error) {
	return nil, errNotImplemented
}

// Statistics is the organisation's anonymised statistics as CSV
// (statistics.read), k-anonymous with k = 11, audited statistics.export.
func (s *Service) Statistics(ctx context.Context) ([]byte, error) { return nil, errNotImplemented }

// PlatformStatistics is the same table summed over every organisation, for
// the platform operator (statistics.read without an organisation).
func (s *Service) PlatformStatistics(ctx context.Context) ([]byte, error) { return nil, errNotImplemented }
