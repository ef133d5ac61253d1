package tenants

import (
	"context"

	"github.com/google/uuid"
)

type currentTenantKey struct{}

// WithTenant records the organisation a request or task acts for (from the
// session, or from a task's header). It selects nothing by itself: data is
// reached only through InTenant with this id.
func WithTenant(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, currentTenantKey{}, id)
}

// TenantFrom returns the organisation recorded by WithTenant.
func TenantFrom(ctx context.Context) (uuid.UUID, bool) {
	id, ok := ctx.Value(currentTenantKey{}).(uuid.UUID)
	return id, ok && id != uuid.Nil
}
