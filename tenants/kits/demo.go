package kits

import (
	"context"
	"fmt"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// demoKit is the demo's starter kit: a sewing business, priced in dollars
// and kip at a recorded rate, well within the default limit.
var demoKit = Request{
	BusinessPlan: "A tailoring stall at the village market: mending and school uniforms, sold to the families around; she trained six months in sewing.",
	Items: []NewItem{
		{Description: "Sewing machine (treadle)", Quantity: 1, UnitCostMinor: 180_00, Currency: USD},
		{Description: "Fabric, thread and buttons", Quantity: 10, UnitCostMinor: 50_000, Currency: LAK},
		{Description: "Market stall rent, first three months", Quantity: 3, UnitCostMinor: 150_000, Currency: LAK},
	},
	Rates: []NewRate{{Currency: LAK, UnitsPerUSD: "21700"}},
}

// SeedDemo gives the demo case cases.Service.SeedDemo chose for it
// (seeded.Kit; nothing when seeded is nil, so a second seed adds nothing)
// its starter kit, through the service as the demo staff: requested by the
// social worker assigned to her, approved by the case manager (a second
// person), and disbursed by the social worker today, each item at its
// quoted cost.
func (s *Service) SeedDemo(ctx context.Context, seeded *cases.DemoSeeded) error {
	if seeded == nil {
		return nil
	}
	social, manager := seeded.As(tenants.RoleSocialWorker), seeded.As(tenants.RoleCaseManager)
	k, err := s.Request(social, seeded.Kit, demoKit)
	if err != nil {
		return fmt.Errorf("request the demo kit: %w", err)
	}
	if k, err = s.Approve(manager, k.ID); err != nil {
		return fmt.Errorf("approve the demo kit: %w", err)
	}
	spent := make([]int64, len(k.Items))
	for i, it := range k.Items {
		spent[i] = int64(it.Quantity) * it.UnitCostMinor
	}
	if _, err := s.Disburse(social, k.ID, Spending{On: s.now().UTC().Format(time.DateOnly), Spent: spent}); err != nil {
		return fmt.Errorf("disburse the demo kit: %w", err)
	}
	return nil
}
