package tenants_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// Each organisation counts on its own; a batch reserves consecutive
// numbers and returns the first; asking for none is refused.
func TestTakeNumbersCountsPerOrganisation(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			take := func(tenant uuid.UUID, table string, n int) (first int64, err error) {
				err = s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
					first, err = tenants.TakeNumbers(tx, table, n)
					return err
				})
				return first, err
			}
			for _, c := range []struct {
				tenant uuid.UUID
				table  string
				n      int
				want   int64
			}{
				{a, "case_numbers", 1, 1},
				{a, "case_numbers", 3, 2}, // 2, 3, 4
				{a, "case_numbers", 1, 5},
				{b, "case_numbers", 1, 1},    // b counts on its own
				{a, "handoff_numbers", 1, 1}, // and each table on its own
			} {
				if n, err := take(c.tenant, c.table, c.n); err != nil || n != c.want {
					t.Fatalf("%s +%d: %d %v, want %d", c.table, c.n, n, err, c.want)
				}
			}
			if _, err := take(a, "case_numbers", 0); err == nil {
				t.Fatal("taking no number was not refused")
			}
		})
	}
}
