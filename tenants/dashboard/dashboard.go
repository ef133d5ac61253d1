// Package dashboard is the organisation's dashboard: how many cases are at
// each stage of the survivor's path, how many were admitted to a shelter
// this year, how full the shelters are, how many follow-up visits are due
// and overdue, how many starter kits were disbursed and what they cost.
// Counts only: no name, no case, nothing to single a survivor out.
//
// A member with dashboard.read counts every case of the organisation; one
// with dashboard.read_own (social workers, counsellors, medical officers,
// lawyers) counts its own cases only, those it owns or is assigned to, as
// everywhere else in the case files. Each figure comes from the feature
// that owns it, asked for its counts of the cases in scope; a figure whose
// feature the member may not use (the shelters without shelters.read, the
// follow-up or the kits without their part of the case files) is left out
// rather than shown as zero.
//
// Reading the dashboard is not audited: it shows counts, never a record,
// and the home page would otherwise take the organisation's audit-chain
// lock on every visit.
package dashboard

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
)

// Summary is the dashboard as the member may see it.
type Summary struct {
	Own        bool               // counts of the member's own cases only
	Year       int                // the organisation's current year (its time zone)
	Stages     []StageCount       // every stage, in path order
	Admissions int                // cases admitted to a shelter this year
	Shelters   []Occupancy        // nil: the member may not read the shelters
	Visits     *followup.DueCount // follow-up visits overdue and due soon; nil: not the member's part
	Kits       *Kits              // nil: the member may not read the starter kits
}

// Kits is the starter kits disbursed this year.
type Kits struct {
	Disbursed     int64
	SpentUSDCents int64 // what they actually cost, at each request's recorded rates
}

// StageCount is how many cases are at a stage.
type StageCount struct {
	Stage cases.Stage
	Cases int
}

// Occupancy is one shelter's beds: its name is the organisation's own,
// never a survivor's.
type Occupancy struct {
	Name      string
	Capacity  int
	Occupancy int
	Waiting   int
}

// Service reads the dashboard.
type Service struct {
	store    *tenants.Store
	shelters *shelters.Service
	now      func() time.Time
}

// New returns the dashboard of the store's organisations.
func New(store *tenants.Store) *Service {
	return &Service{store: store, shelters: shelters.New(store), now: time.Now}
}

// WithClock returns a copy reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Dashboard returns the counts the principal in ctx may see: forbidden
// without dashboard.read or dashboard.read_own.
func (s *Service) Dashboard(ctx context.Context) (*Summary, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, err
	}
	own := !p.Can(tenants.PermDashboardRead)
	if own && !p.Can(tenants.PermDashboardReadOwn) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not include the organisation's dashboard")
	}
	out := &Summary{Own: own}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		now := s.now()
		start, err := yearStart(tx, now)
		if err != nil {
			return err
		}
		out.Year = start.Year()
		// ids are the cases in scope, nil for every case; inScope keeps,
		// of q, the rows whose column names one of them.
		var ids []uuid.UUID
		inScope := func(q *gorm.DB, column string) *gorm.DB { return q }
		if own {
			if ids, err = ownCases(tx, p); err != nil {
				return err
			}
			inScope = func(q *gorm.DB, column string) *gorm.DB {
				if len(ids) == 0 {
					return q.Where("1 = 0")
				}
				return q.Where(column+" IN ?", ids)
			}
		}
		if out.Stages, err = stageCounts(inScope(liveCases(tx), "id")); err != nil {
			return err
		}
		if out.Admissions, err = admissionsSince(inScope(tx.Table("audit_log"), "record_id"), start); err != nil {
			return err
		}
		if p.CaseScope(tenants.CaseFollowUp, false) != tenants.ScopeNone {
			due, err := followup.DueCounts(tx, now, ids)
			if err != nil {
				return err
			}
			out.Visits = &due
		}
		if p.CaseScope(tenants.CaseKit, false) != tenants.ScopeNone {
			k := &Kits{}
			if k.Disbursed, k.SpentUSDCents, err = kits.Disbursed(tx, start, ids); err != nil {
				return err
			}
			out.Kits = k
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p.Can(tenants.PermSheltersRead) {
		list, err := s.shelters.List(ctx)
		if err != nil {
			return nil, err
		}
		out.Shelters = make([]Occupancy, 0, len(list))
		for _, sh := range list {
			if sh.Active || sh.Occupancy > 0 {
				out.Shelters = append(out.Shelters, Occupancy{Name: sh.Name, Capacity: sh.Capacity, Occupancy: sh.Occupancy, Waiting: sh.Waiting})
			}
		}
	}
	return out, nil
}

// yearStart is the first moment of the current year in the organisation's
// time zone (UTC when it has none).
func yearStart(tx *gorm.DB, now time.Time) (time.Time, error) {
	loc, err := tenants.Location(tx)
	if err != nil {
		return time.Time{}, err
	}
	now = now.In(loc)
	return time.Date(now.Year(), 1, 1, 0, 0, 0, 0, loc), nil
}

// liveCases are the organisation's cases neither erased nor anonymised,
// as the case files count them (cases.LiveCases).
func liveCases(tx *gorm.DB) *gorm.DB {
	return tx.Table("cases").Where("id IN (?)", cases.LiveCases(tx, nil))
}

// ownCases are the ids of the live cases p owns or is assigned to: "own"
// as tenants/cases decides it (cases.LiveCases). Never nil: the features'
// counts read nil as every case.
func ownCases(tx *gorm.DB, p *tenants.Principal) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	me := p.Actor.MemberID
	if me == nil {
		return ids, nil
	}
	return ids, tx.Table("cases").Where("id IN (?)", cases.LiveCases(tx, me)).Pluck("id", &ids).Error
}

// stageCounts counts the cases of q per stage, every stage listed.
func stageCounts(q *gorm.DB) ([]StageCount, error) {
	var rows []struct {
		Stage cases.Stage
		N     int
	}
	if err := q.Select("stage, count(*) AS n").Group("stage").Scan(&rows).Error; err != nil {
		return nil, err
	}
	n := map[cases.Stage]int{}
	for _, r := range rows {
		n[r.Stage] = r.N
	}
	out := make([]StageCount, 0, len(cases.Stages))
	for _, st := range cases.Stages {
		out = append(out, StageCount{Stage: st, Cases: n[st]})
	}
	return out, nil
}

// admissionsSince counts the cases admitted to a shelter since start: the
// admissions the shelters recorded (their audit entries, written in the
// admission's own transaction; the audit log keeps at least a year), each
// case once.
func admissionsSince(auditLog *gorm.DB, start time.Time) (int, error) {
	var n int64
	err := auditLog.Where("action = ? AND record_type = ? AND occurred_at >= ?", shelters.ActionAdmit, "case", start.UTC()).
		Distinct("record_id").Count(&n).Error
	return int(n), err
}
