package tenants_test

import (
	"context"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// BenchmarkInTenant measures a read in an InTenant transaction (set_config,
// the GORM tenant callback, row-level security) against the same read in a
// plain transaction with the tenant condition written by hand, as the owner
// (no row-level security). docs/performance.md records the ratio.
func BenchmarkInTenant(b *testing.B) {
	s := tenanttest.OpenPostgres(b)
	ctx := context.Background()
	tenant := tenanttest.NewTenant(b, s)
	if err := s.PutSettings(ctx, tenant, map[string]string{"default_language": "lo", "time_zone": "Asia/Vientiane"}); err != nil {
		b.Fatal(err)
	}
	plain, err := gorm.Open(postgres.Open(tenanttest.Postgres(b).OwnerURL), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		b.Fatal(err)
	}
	sqlDB, _ := plain.DB()
	defer sqlDB.Close()

	b.Run("InTenant", func(b *testing.B) {
		for b.Loop() {
			var rows []tenants.Setting
			err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Find(&rows).Error })
			if err != nil || len(rows) != 2 {
				b.Fatalf("%v, %d rows", err, len(rows))
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			var rows []tenants.Setting
			err := plain.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				return tx.Where("tenant_id = ?", tenant).Find(&rows).Error
			})
			if err != nil || len(rows) != 2 {
				b.Fatalf("%v, %d rows", err, len(rows))
			}
		}
	})
}
