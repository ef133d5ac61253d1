package followup

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// demoReintegrations are how the demo's reintegrated cases went home, in
// the order of cases.DemoSeeded.Reintegrate: the first's first visit is
// recorded, the second's is overdue, so that the due lists and the
// reminders have something to show.
var demoReintegrations = []struct {
	destination string
	daysAgo     int
	visited     *Findings // the first visit, recorded the day after it was due; nil: not made yet
}{
	{DestinationFamily, 45, &Findings{
		LivingSituation: "Lives with her mother and two younger brothers; the family welcomed her back.",
		BusinessIncome:  "Sells grilled fish at the morning market, about 400,000 kip a week.",
		TrainingWanted:  "Bookkeeping, to keep track of the stall's money.",
	}},
	{DestinationHomeVillage, 40, nil},
}

// SeedDemo reintegrates the demo cases that cases.Service.SeedDemo left for
// it (seeded.Reintegrate; nothing when seeded is nil, so a second seed adds
// nothing), through the service as the demo social worker assigned to
// them, weeks ago; writes each schedule as the followup:schedule job does
// (GenerateSchedule in the organisation's transaction: the job, when a
// worker runs it later, finds it made and writes nothing); and records the
// first visit of the first case, leaving the second's overdue.
func (s *Service) SeedDemo(ctx context.Context, seeded *cases.DemoSeeded) error {
	if seeded == nil {
		return nil
	}
	social := seeded.As(tenants.RoleSocialWorker)
	today := s.now().UTC()
	for i, r := range seeded.Reintegrate {
		how := demoReintegrations[i%len(demoReintegrations)]
		went := today.AddDate(0, 0, -how.daysAgo)
		ri, err := s.Reintegrate(social, r.CaseID, NewReintegration{Destination: how.destination,
			Date: went.Format(time.DateOnly), Place: r.Place})
		if err != nil {
			return fmt.Errorf("reintegrate demo case %s: %w", r.CaseID, err)
		}
		err = s.store.InTenant(ctx, seeded.TenantID, func(tx *gorm.DB) error {
			_, err := GenerateSchedule(tx, ri.ID)
			return err
		})
		if err != nil {
			return fmt.Errorf("schedule demo case %s: %w", r.CaseID, err)
		}
		if how.visited == nil {
			continue
		}
		o, err := s.Overview(social, r.CaseID)
		if err != nil {
			return err
		}
		if len(o.Visits) == 0 {
			return fmt.Errorf("demo case %s: no visit scheduled", r.CaseID)
		}
		first := o.Visits[0]
		due, err := time.Parse(time.DateOnly, first.Due)
		if err != nil {
			return err
		}
		visited := due.AddDate(0, 0, 1)
		if visited.After(today) {
			visited = today
		}
		if _, err := s.RecordVisit(social, first.ID, VisitRecord{Outcome: OutcomeDone,
			VisitedOn: visited.Format(time.DateOnly), Findings: *how.visited}); err != nil {
			return fmt.Errorf("record the demo visit of %s: %w", r.CaseID, err)
		}
	}
	return nil
}
