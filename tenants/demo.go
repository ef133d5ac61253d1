package tenants

import (
	"context"
	"errors"

	"github.com/afesip/homeward"
)

// demoOrganisation is one organisation seeded in demo mode.
type demoOrganisation struct {
	NewTenant
	Settings map[string]string
}

// DemoOrganisations are the organisations of demo mode. AFESIP's own are
// modelled on the real organisation (../shared/seed); the two partners are
// invented and say so in their names.
var DemoOrganisations = []demoOrganisation{
	{NewTenant{Slug: "afesip-laos", Name: "AFESIP Laos", Country: "LA", City: "Vientiane", Demo: true},
		map[string]string{"default_language": "lo", "time_zone": "Asia/Vientiane", "currency": "LAK"}},
	{NewTenant{Slug: "afesip-france", Name: "AFESIP France (headquarters)", Country: "FR", City: "Marseille", Demo: true},
		map[string]string{"default_language": "fr", "time_zone": "Europe/Paris", "currency": "EUR"}},
	{NewTenant{Slug: "demo-partner-th", Name: "Demo partner NGO, Thailand (demo data)", Country: "TH", City: "Nong Khai", Demo: true},
		map[string]string{"default_language": "th", "time_zone": "Asia/Bangkok", "currency": "THB"}},
	{NewTenant{Slug: "demo-partner-my", Name: "Demo partner NGO, Malaysia (demo data)", Country: "MY", City: "Kuala Lumpur", Demo: true},
		map[string]string{"default_language": "ms", "time_zone": "Asia/Kuala_Lumpur", "currency": "MYR"}},
}

// SeedDemo adds the demo organisations that are missing and returns the
// slugs it added: running it again adds nothing and changes nothing.
func (s *Store) SeedDemo(ctx context.Context) ([]string, error) {
	var added []string
	for _, org := range DemoOrganisations {
		t, err := s.AddTenant(ctx, org.NewTenant)
		var he *homeward.Error
		if errors.As(err, &he) && he.Code == homeward.ECONFLICT {
			continue
		}
		if err != nil {
			return added, err
		}
		if err := s.PutSettings(ctx, t.ID, org.Settings); err != nil {
			return added, err
		}
		added = append(added, t.Slug)
	}
	return added, nil
}
