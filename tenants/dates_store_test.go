package tenants_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// An organisation's day follows its time_zone setting: at 17:30 UTC it is
// already the next day in Vientiane; an organisation without a time zone,
// or with one this machine does not know, has the UTC day.
func TestTodayFollowsTheOrganisationsTimeZone(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC)
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	for _, c := range []struct{ tz, want string }{
		{"", "2026-11-27"}, // control: no setting
		{"Asia/Vientiane", "2026-11-28"},
		{"Europe/Paris", "2026-11-27"},
		{"Not/AZone", "2026-11-27"},
	} {
		tenant := tenanttest.NewTenant(t, s)
		if c.tz != "" {
			if err := s.PutSettings(ctx, tenant, map[string]string{tenants.SettingTimeZone: c.tz}); err != nil {
				t.Fatal(err)
			}
		}
		var got time.Time
		if err := s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
			got, err = tenants.Today(tx, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got.Format(time.DateOnly) != c.want || got.Location() != time.UTC {
			t.Errorf("time zone %q: today %v, want %s", c.tz, got, c.want)
		}
	}
}
