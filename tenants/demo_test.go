package tenants_test

import (
	"context"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"gorm.io/gorm"
)

func TestSeedDemoOnce(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	added, err := s.SeedDemo(ctx)
	must(t, err)
	want := []string{"afesip-laos", "afesip-france", "demo-partner-th", "demo-partner-my"}
	if len(added) != len(want) {
		t.Fatalf("first seed added %v, want %v", added, want)
	}
	for i := range want {
		if added[i] != want[i] {
			t.Fatalf("first seed added %v, want %v", added, want)
		}
	}
	again, err := s.SeedDemo(ctx)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("second seed added %v, want nothing", again)
	}
	ts, err := s.Tenants(ctx)
	must(t, err)
	if len(ts) != 4 {
		t.Fatalf("%d organisations after two seeds, want 4", len(ts))
	}
	laos, err := s.TenantBySlug(ctx, "afesip-laos")
	must(t, err)
	var settings map[string]string
	must(t, s.InTenant(ctx, laos.ID, func(tx *gorm.DB) error {
		settings, err = tenants.Settings(tx)
		return err
	}))
	if settings["default_language"] != "lo" || settings["time_zone"] != "Asia/Vientiane" {
		t.Fatalf("AFESIP Laos settings = %v", settings)
	}
	th, _ := s.TenantBySlug(ctx, "demo-partner-th")
	if !th.Demo || th.Country != "TH" {
		t.Fatalf("Thai partner = %+v, want a demo organisation in TH", th)
	}
}
