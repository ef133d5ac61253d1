package tenants

import (
	"context"
	"time"
)

// WithAuditClock dates the audit rows written under ctx by now, so that
// retention tests can write rows that are years old.
func WithAuditClock(ctx context.Context, now func() time.Time) context.Context {
	return withAuditClock(ctx, now)
}

// WithVerifyBatch makes VerifyAudit read n rows at a time.
func WithVerifyBatch(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, verifyBatchKey{}, n)
}
