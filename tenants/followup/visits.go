package followup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

var errNoVisit = homeward.Errorf(homeward.ENOTFOUND, "no such visit")

// openVisit reads visit id and opens its case for p (locked for a write):
// not_found unless p may read the case's follow-up (a visit is an entry
// of the followup part), forbidden for a write it may not make.
func openVisit(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, write bool) (*visitRow, *cases.Ref, error) {
	var v visitRow
	err := tx.Where("id = ?", id).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, errNoVisit
	}
	if err != nil {
		return nil, nil, err
	}
	ref, err := cases.Open(tx, p, v.CaseID, write)
	switch {
	case homeward.ErrorCode(err) == homeward.ENOTFOUND:
		return nil, nil, errNoVisit
	case err != nil:
		return nil, nil, err
	case !ref.CanRead(tenants.CaseFollowUp):
		return nil, nil, errNoVisit
	}
	if write {
		if err := ref.Need(tenants.CaseFollowUp, true); err != nil {
			return nil, nil, err
		}
		// Read again under the case's lock: a write decides on the
		// visit as it is now.
		if err := tx.Where("id = ?", id).Take(&v).Error; err != nil {
			return nil, nil, err
		}
	}
	return &v, ref, nil
}

// Visit is one visit (read access to its case's follow-up), audited
// followup.read.
func (s *Service) Visit(ctx context.Context, id uuid.UUID) (*Visit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out Visit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		v, ref, err := openVisit(tx, p, id, false)
		if err != nil {
			return err
		}
		out = v.visit(ref.Number)
		return audit(tx, ActionRead, ref.ID)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RecordVisit records a visit's outcome (write access to its case's
// follow-up): done, on a date from the reintegration to today, by the
// member recording it, with the findings; or missed, with notes. A visit
// recorded already may be recorded again (a correction: the last record
// stands, each audited); a cancelled visit, or one of a follow-up that has
// ended, is a conflict. Audited followup.visit.done or .missed.
func (s *Service) RecordVisit(ctx context.Context, id uuid.UUID, rec VisitRecord) (*Visit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if rec.Outcome != OutcomeDone && rec.Outcome != OutcomeMissed {
		fe.Add("outcome", OutcomeDone+" or "+OutcomeMissed)
	}
	f := rec.Findings
	f.LivingSituation = text(fe, "living_situation", f.LivingSituation, maxText, false)
	f.BusinessIncome = text(fe, "business_income", f.BusinessIncome, maxText, false)
	f.Schooling = text(fe, "schooling", f.Schooling, maxText, false)
	f.TrainingWanted = text(fe, "training_wanted", f.TrainingWanted, maxText, false)
	f.Notes = text(fe, "notes", f.Notes, maxText, false)
	flags := []string{}
	for _, flag := range f.RiskFlags {
		switch {
		case !slices.Contains(RiskFlags, flag):
			fe.Add("risk_flags", "each one of "+strings.Join(RiskFlags, ", "))
		case !slices.Contains(flags, flag):
			flags = append(flags, flag)
		}
	}
	slices.Sort(flags)
	if rec.Outcome == OutcomeMissed && (f.LivingSituation != "" || f.BusinessIncome != "" || f.Schooling != "" ||
		f.TrainingWanted != "" || len(flags) > 0 || rec.VisitedOn != "") {
		fe.Add("outcome", "a missed visit has notes only")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	flagsJSON, err := json.Marshal(flags)
	if err != nil {
		return nil, err
	}
	var out Visit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		v, ref, err := openVisit(tx, p, id, true)
		if err != nil {
			return err
		}
		var r reintegrationRow
		if err := tx.Where("id = ?", v.ReintegrationID).Take(&r).Error; err != nil {
			return err
		}
		if v.Status == VisitCancelled || r.EndedAt != nil {
			return homeward.Errorf(homeward.ECONFLICT, "this visit's follow-up has ended")
		}
		changes := map[string]any{"status": rec.Outcome, "recorded_by": p.Actor.MemberID, "recorded_at": now,
			"notes": tenants.NewSecret(f.Notes)}
		action := ActionVisitMissed
		if rec.Outcome == OutcomeDone {
			day, err := tenants.Today(tx, now)
			if err != nil {
				return err
			}
			from, _ := time.Parse(time.DateOnly, r.ReintegratedOn)
			if date(fe, "visited_on", rec.VisitedOn, from, day); fe.Err() != nil {
				return fe.Err()
			}
			action = ActionVisitDone
			changes["visited_on"], changes["visited_by"] = rec.VisitedOn, p.Actor.MemberID
			changes["living_situation"] = tenants.NewSecret(f.LivingSituation)
			changes["business_income"] = tenants.NewSecret(f.BusinessIncome)
			changes["schooling"] = tenants.NewSecret(f.Schooling)
			changes["training_wanted"] = tenants.NewSecret(f.TrainingWanted)
			changes["risk_flags"] = tenants.NewSecret(string(flagsJSON))
		} else {
			changes["visited_on"], changes["visited_by"] = nil, nil
			for _, col := range []string{"living_situation", "business_income", "schooling", "training_wanted", "risk_flags"} {
				changes[col] = nil
			}
		}
		if err := tx.Model(&visitRow{ID: v.ID, DataKeyID: v.DataKeyID}).Updates(changes).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", v.ID).Take(v).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, ref.ID, now); err != nil {
			return err
		}
		out = v.visit(ref.Number)
		return audit(tx, action, ref.ID)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// dueCursor names the due list's cursors.
const dueCursor = "followup-due1"

// Due lists the planned visits of the reintegrated cases the member may
// follow (it reads their core and follow-up, on every case or on its
// own), overdue first, soonest first: those due before the organisation's
// today and, with Within, those due within that many days. Audited
// followup.list, once per call.
func (s *Service) Due(ctx context.Context, q DueQuery) (*DuePage, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	scope := min(p.CaseScope(tenants.FieldGroupCore, false), p.CaseScope(tenants.CaseFollowUp, false))
	if scope == tenants.ScopeNone {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow following up cases")
	}
	fe := homeward.FieldErrors{}
	limit := tenants.PageLimit(q.Limit, fe)
	if q.Within < 0 || q.Within > 366 {
		fe.Add("days", "a whole number of days from 0 to 366")
	}
	scopeKey := fmt.Sprintf("%d|%t", q.Within, q.Mine)
	var afterDue time.Time
	var afterID uuid.UUID
	if q.Cursor != "" {
		var ok bool
		if afterDue, afterID, ok = tenants.DecodeKeysetCursor(dueCursor, q.Cursor, scopeKey); !ok {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var member *uuid.UUID
	if scope == tenants.ScopeOwn || q.Mine {
		if p.Actor.MemberID == nil {
			return &DuePage{Visits: []DueVisit{}}, nil // no membership: nothing is its own
		}
		member = p.Actor.MemberID
	}
	page := &DuePage{Visits: []DueVisit{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		day, err := tenants.Today(tx, s.now())
		if err != nil {
			return err
		}
		page.Today = day.Format(time.DateOnly)
		db := pendingVisits(tx, member)
		if q.Within > 0 {
			db = db.Where("due_on <= ?", day.AddDate(0, 0, q.Within).Format(time.DateOnly))
		} else {
			db = db.Where("due_on < ?", page.Today)
		}
		if q.Cursor != "" {
			after := afterDue.Format(time.DateOnly)
			db = db.Where("due_on > ? OR (due_on = ? AND id > ?)", after, after, afterID)
		}
		var rows []visitRow
		if err := db.Select("tenant_id", "id", "case_id", "due_on").Order("due_on, id").Limit(limit + 1).
			Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			lastDue, _ := time.Parse(time.DateOnly, last.DueOn)
			page.Next = tenants.EncodeKeysetCursor(dueCursor, lastDue, last.ID, scopeKey)
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.CaseID)
		}
		nums, err := numbers(tx, ids)
		if err != nil {
			return err
		}
		for _, r := range rows {
			page.Visits = append(page.Visits, DueVisit{VisitID: r.ID, CaseID: r.CaseID, Reference: cases.Reference(nums[r.CaseID]),
				Due: r.DueOn, Overdue: r.DueOn < page.Today})
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionList, RecordType: recordType,
			FieldGroups: []string{tenants.CaseFollowUp}})
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// DueCount is how many visits of some cases are overdue and due soon.
type DueCount struct {
	Overdue int64 // due before the organisation's today
	DueSoon int64 // due from today to Within days ahead
	Within  int   // days: the schedule's RemindDaysBefore, as the reminders count them
}

// DueCounts counts, in the organisation's transaction tx, the visits still
// to make of the followed cases among caseIDs (nil: every one) as the
// reminders see them at now: overdue, and due soon (within the schedule's
// RemindDaysBefore). Counts only, never a visit: the caller decides which
// cases the reader may count (the dashboard's scope).
func DueCounts(tx *gorm.DB, now time.Time, caseIDs []uuid.UUID) (DueCount, error) {
	sc, err := scheduleOf(tx)
	if err != nil {
		return DueCount{}, err
	}
	day, err := tenants.Today(tx, now)
	if err != nil {
		return DueCount{}, err
	}
	var out DueCount
	if caseIDs == nil || len(caseIDs) > 0 {
		todayISO := day.Format(time.DateOnly)
		q := pendingVisits(tx, nil).Where("due_on <= ?", day.AddDate(0, 0, sc.RemindDaysBefore).Format(time.DateOnly))
		if caseIDs != nil {
			q = q.Where("case_id IN ?", caseIDs)
		}
		err = q.Select("COUNT(CASE WHEN due_on < ? THEN 1 END) AS overdue, COUNT(CASE WHEN due_on >= ? THEN 1 END) AS due_soon",
			todayISO, todayISO).Scan(&out).Error
	}
	out.Within = sc.RemindDaysBefore
	return out, err
}
