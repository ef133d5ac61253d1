package handoffs

import (
	"context"
	"time"

	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// StageCount is one row of the handoff dashboard.
type StageCount struct {
	Stage   Stage
	Open    int     // handoffs whose last stage is this one, not final
	AvgDays float64 // average days spent at this stage (finished stays)
}

// Dashboard is the organisation's handoffs by stage and the days spent at
// each stage, and by state.
type Dashboard struct {
	Stages  []StageCount
	ByState map[string]int
}

// Dashboard counts the organisation's handoffs (handoff.write,
// handoff.inbox or dashboard.read): counts and days only, never a record,
// so it is not audited (like the organisation's dashboard). A stay at a
// stage runs from the day it was recorded done to the day the next stage
// was; stays still running are counted as open, not in the average.
func (s *Service) Dashboard(ctx context.Context) (*Dashboard, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, err
	}
	if !p.Can(tenants.PermHandoffWrite) && !p.Can(tenants.PermHandoffInbox) && !p.Can(tenants.PermDashboardRead) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow the handoff dashboard")
	}
	out := &Dashboard{ByState: map[string]int{}}
	for _, st := range states {
		out.ByState[st] = 0
	}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var rows []handoffRow
		if err := tx.Select("tenant_id", "id", "state", "stage").Find(&rows).Error; err != nil {
			return err
		}
		open := map[Stage]int{}
		for _, r := range rows {
			out.ByState[r.State]++
			if r.State == StateSent || r.State == StateAccepted {
				open[r.stageOf()]++
			}
		}
		var entries []stageEntryRow
		if err := tx.Select("tenant_id", "id", "handoff_id", "stage", "action", "on_date", "recorded_at").
			Where("action = ?", ActionDone).Order("handoff_id, recorded_at, id").Find(&entries).Error; err != nil {
			return err
		}
		days := map[Stage]float64{}
		stays := map[Stage]int{}
		var prev *stageEntryRow
		for i := range entries {
			e := &entries[i]
			if prev != nil && prev.HandoffID == e.HandoffID {
				a, errA := time.Parse(time.DateOnly, prev.OnDate)
				b, errB := time.Parse(time.DateOnly, e.OnDate)
				if errA == nil && errB == nil && !b.Before(a) {
					days[Stage(prev.Stage)] += b.Sub(a).Hours() / 24
					stays[Stage(prev.Stage)]++
				}
			}
			prev = e
		}
		for _, info := range Stages {
			c := StageCount{Stage: info.Stage, Open: open[info.Stage]}
			if n := stays[info.Stage]; n > 0 {
				c.AvgDays = days[info.Stage] / float64(n)
			}
			out.Stages = append(out.Stages, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
