package care

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/cases/htcds"
)

// Statuses of a support plan: a plan starts not started, and each progress
// note leaves it in the status it names.
const (
	PlanNotStarted = "not_started"
	PlanInProgress = "in_progress"
	PlanDone       = "done"
)

// PlanStatuses lists the statuses in order.
var PlanStatuses = []string{PlanNotStarted, PlanInProgress, PlanDone}

// Plan is a support plan (HTCDS spl_*), with its progress notes, oldest
// first.
type Plan struct {
	ID         uuid.UUID
	CaseID     uuid.UUID
	Type       string // spl_Type, a value of the standard's list
	Objectives string // spl_Objectives
	ActionPlan string // spl_ActionPlan
	PlannedEnd string // spl_PlannedEndDate, YYYY-MM-DD or ""
	ActualEnd  string // spl_ActualEndDate, YYYY-MM-DD or ""
	Status     string // PlanStatuses
	Version    int64
	CreatedBy  *uuid.UUID
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Progress   []Progress
}

// Progress is one dated progress note of a plan.
type Progress struct {
	ID         uuid.UUID
	Date       string // YYYY-MM-DD
	Status     string // the plan's status from then on
	Note       string
	RecordedBy *uuid.UUID
	RecordedAt time.Time
}

// NewPlan is a support plan being made.
type NewPlan struct {
	Type, Objectives, ActionPlan, PlannedEnd string
}

// PlanChange changes the plan's fields that are not nil ("" clears an
// optional one). Version, when not 0, must equal the plan's.
type PlanChange struct {
	Type, Objectives, ActionPlan, PlannedEnd, ActualEnd *string
	Version                                             int64
}

// NewProgress is a progress note: its date, the plan's status from then on,
// and what happened. A plan done gets its actual end date from the note,
// unless it has one.
type NewProgress struct {
	Date, Status, Note string
}

// CasePlans is a case's support plans, oldest first.
type CasePlans struct {
	Case  *cases.Ref
	Plans []Plan
}

// The plan's fields as HTCDS names them; the type's values are the
// standard's own list (tenants/cases/htcds).
var planFields = func() map[string]cases.Field {
	typ, ok := htcds.Load().Field("spl_Type")
	if !ok || len(typ.Values) == 0 {
		panic("care: the HTCDS file has no spl_Type list") // the embedded file is part of the build
	}
	return map[string]cases.Field{
		"spl_Type":           {Name: "spl_Type", Kind: cases.KindPicklist, Values: typ.Values},
		"spl_Objectives":     {Name: "spl_Objectives", Kind: cases.KindLongText, Max: maxParagraph},
		"spl_ActionPlan":     {Name: "spl_ActionPlan", Kind: cases.KindLongText, Max: maxParagraph},
		"spl_PlannedEndDate": {Name: "spl_PlannedEndDate", Kind: cases.KindDate},
		"spl_ActualEndDate":  {Name: "spl_ActualEndDate", Kind: cases.KindDate, Past: true},
	}
}()

// PlanTypes are the values of spl_Type, from the HTCDS file.
func PlanTypes() []string { return slices.Clone(planFields["spl_Type"].Values) }

// Audit actions of support plans.
const (
	ActionPlanCreate   = "care.support_plan.create"
	ActionPlanUpdate   = "care.support_plan.update"
	ActionPlanProgress = "care.support_plan.progress"
	ActionPlanRead     = "care.support_plan.read"
	ActionPlansRead    = "care.support_plans.read"
)

type planRow struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID       uuid.UUID `gorm:"type:uuid"`
	DataKeyID    uuid.UUID `gorm:"type:uuid"`
	PlanType     string
	Objectives   tenants.Secret
	ActionPlan   tenants.Secret
	PlannedEndOn *string
	ActualEndOn  *string
	Status       string
	Version      int64
	CreatedBy    *uuid.UUID `gorm:"type:uuid"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (planRow) TableName() string { return "support_plans" }

type progressRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	PlanID     uuid.UUID `gorm:"type:uuid"`
	CaseID     uuid.UUID `gorm:"type:uuid"`
	DataKeyID  uuid.UUID `gorm:"type:uuid"`
	NotedOn    string
	Status     string
	Note       tenants.Secret
	RecordedBy *uuid.UUID `gorm:"type:uuid"`
	RecordedAt time.Time
}

func (progressRow) TableName() string { return "support_plan_progress" }

func (r *planRow) plan(progress []progressRow) Plan {
	p := Plan{ID: r.ID, CaseID: r.CaseID, Type: r.PlanType, Objectives: r.Objectives.Text(), ActionPlan: r.ActionPlan.Text(),
		PlannedEnd: deref(r.PlannedEndOn), ActualEnd: deref(r.ActualEndOn), Status: r.Status, Version: r.Version,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Progress: []Progress{}}
	for _, g := range progress {
		p.Progress = append(p.Progress, Progress{ID: g.ID, Date: g.NotedOn, Status: g.Status, Note: g.Note.Text(),
			RecordedBy: g.RecordedBy, RecordedAt: g.RecordedAt.UTC()})
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optional is "" as nil, for an optional date column.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// normalizePlan checks the values of a plan's fields by HTCDS name and
// returns their stored forms ("" for none); the type and the objectives
// are required.
func normalizePlan(values map[string]string, now time.Time) (map[string]string, error) {
	fe := homeward.FieldErrors{}
	out := map[string]string{}
	for name, v := range values {
		nv, reason := planFields[name].Normalize(v, now)
		if reason != "" {
			fe.Add(name, reason)
			continue
		}
		out[name], _ = nv.(string)
	}
	for _, name := range []string{"spl_Type", "spl_Objectives"} {
		if _, sent := values[name]; sent && out[name] == "" && fe[name] == "" {
			fe.Add(name, "required")
		}
	}
	return out, fe.Err()
}

// AddPlan makes a support plan on a case (write access to its support
// part), not started, audited care.support_plan.create.
func (s *Service) AddPlan(ctx context.Context, caseID uuid.UUID, np NewPlan) (*Plan, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	v, err := normalizePlan(map[string]string{"spl_Type": np.Type, "spl_Objectives": np.Objectives,
		"spl_ActionPlan": np.ActionPlan, "spl_PlannedEndDate": np.PlannedEnd}, now)
	if err != nil {
		return nil, err
	}
	var out Plan
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseSupport, true); err != nil {
			return err
		}
		row := planRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID, PlanType: v["spl_Type"],
			Objectives: tenants.NewSecret(v["spl_Objectives"]), ActionPlan: tenants.NewSecret(v["spl_ActionPlan"]),
			PlannedEndOn: optional(v["spl_PlannedEndDate"]), Status: PlanNotStarted, Version: 1, CreatedBy: p.Actor.MemberID,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		out = row.plan(nil)
		return audit(tx, ActionPlanCreate, caseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Plans lists a case's support plans with their progress, oldest first
// (read access to its support part: forbidden without it), audited
// care.support_plans.read.
func (s *Service) Plans(ctx context.Context, caseID uuid.UUID) (*CasePlans, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := &CasePlans{Plans: []Plan{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseSupport, false); err != nil {
			return err
		}
		out.Case = ref
		var rows []planRow
		if err := tx.Where("case_id = ?", caseID).Order("created_at, id").Find(&rows).Error; err != nil {
			return err
		}
		var progress []progressRow
		if err := tx.Where("case_id = ?", caseID).Order("noted_on, recorded_at, id").Find(&progress).Error; err != nil {
			return err
		}
		for i := range rows {
			mine := slices.DeleteFunc(slices.Clone(progress), func(g progressRow) bool { return g.PlanID != rows[i].ID })
			out.Plans = append(out.Plans, rows[i].plan(mine))
		}
		return audit(tx, ActionPlansRead, caseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errNoPlan = homeward.Errorf(homeward.ENOTFOUND, "no such support plan")

// visiblePlan loads plan id and opens its case for p: not_found unless p
// may read the case's support part.
func visiblePlan(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock bool) (*planRow, *cases.Ref, error) {
	var row planRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, errNoPlan
		}
		return nil, nil, err
	}
	ref, err := cases.Open(tx, p, row.CaseID, lock)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND || err == nil && !ref.CanRead(tenants.CaseSupport) {
		return nil, nil, errNoPlan
	}
	if err != nil {
		return nil, nil, err
	}
	return &row, ref, nil
}

// planWithProgress is plan row with its progress notes.
func planWithProgress(tx *gorm.DB, row *planRow) (Plan, error) {
	var progress []progressRow
	if err := tx.Where("plan_id = ?", row.ID).Order("noted_on, recorded_at, id").Find(&progress).Error; err != nil {
		return Plan{}, err
	}
	return row.plan(progress), nil
}

// Plan returns one support plan with its progress (read access to its
// case's support part: not_found otherwise), audited care.support_plan.read.
func (s *Service) Plan(ctx context.Context, id uuid.UUID) (*Plan, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out Plan
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, err := visiblePlan(tx, p, id, false)
		if err != nil {
			return err
		}
		if out, err = planWithProgress(tx, row); err != nil {
			return err
		}
		return audit(tx, ActionPlanRead, row.CaseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdatePlan changes a support plan's fields (write access to its case's
// support part: forbidden for a reader), audited care.support_plan.update.
func (s *Service) UpdatePlan(ctx context.Context, id uuid.UUID, ch PlanChange) (*Plan, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	sent := map[string]string{}
	for name, v := range map[string]*string{"spl_Type": ch.Type, "spl_Objectives": ch.Objectives,
		"spl_ActionPlan": ch.ActionPlan, "spl_PlannedEndDate": ch.PlannedEnd, "spl_ActualEndDate": ch.ActualEnd} {
		if v != nil {
			sent[name] = *v
		}
	}
	v, err := normalizePlan(sent, now)
	if err != nil {
		return nil, err
	}
	var out Plan
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, err := visiblePlan(tx, p, id, true)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseSupport, true); err != nil {
			return err
		}
		if ch.Version != 0 && ch.Version != row.Version {
			return errChanged
		}
		changes := map[string]any{"version": row.Version + 1, "updated_at": now}
		for name, value := range v {
			switch name {
			case "spl_Type":
				changes["plan_type"], row.PlanType = value, value
			case "spl_Objectives":
				changes["objectives"], row.Objectives = tenants.NewSecret(value), tenants.NewSecret(value)
			case "spl_ActionPlan":
				changes["action_plan"], row.ActionPlan = tenants.NewSecret(value), tenants.NewSecret(value)
			case "spl_PlannedEndDate":
				changes["planned_end_on"], row.PlannedEndOn = optional(value), optional(value)
			case "spl_ActualEndDate":
				changes["actual_end_on"], row.ActualEndOn = optional(value), optional(value)
			}
		}
		if err := s.savePlan(tx, row, changes, now); err != nil {
			return err
		}
		if out, err = planWithProgress(tx, row); err != nil {
			return err
		}
		return audit(tx, ActionPlanUpdate, row.CaseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// savePlan writes changes to the plan if it is still at its version, and
// moves its case's last activity.
func (s *Service) savePlan(tx *gorm.DB, row *planRow, changes map[string]any, now time.Time) error {
	res := tx.Model(&planRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("version = ?", row.Version).Updates(changes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errChanged
	}
	row.Version, row.UpdatedAt = row.Version+1, now
	return cases.Touch(tx, row.CaseID, now)
}

// AddProgress records a progress note on a support plan and moves the
// plan to the note's status (write access to its case's support part),
// audited care.support_plan.progress.
func (s *Service) AddProgress(ctx context.Context, planID uuid.UUID, np NewProgress) (*Plan, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	day, reason := cases.Field{Name: "date", Kind: cases.KindDate, Past: true}.Normalize(np.Date, now)
	if reason == "" && day == nil {
		reason = "required: the day of the progress, as YYYY-MM-DD"
	}
	if reason != "" {
		fe.Add("date", reason)
	}
	if !slices.Contains(PlanStatuses, np.Status) {
		fe.Add("status", "one of "+strings.Join(PlanStatuses, ", "))
	}
	note, reason := cases.Field{Name: "note", Kind: cases.KindLongText, Max: maxParagraph}.Normalize(np.Note, now)
	if reason == "" && note == nil {
		reason = "required: what was done or seen"
	}
	if reason != "" {
		fe.Add("note", reason)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out Plan
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, err := visiblePlan(tx, p, planID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseSupport, true); err != nil {
			return err
		}
		g := progressRow{ID: uuid.Must(uuid.NewV7()), PlanID: row.ID, CaseID: row.CaseID, DataKeyID: row.DataKeyID,
			NotedOn: day.(string), Status: np.Status, Note: tenants.NewSecret(note.(string)), RecordedBy: p.Actor.MemberID,
			RecordedAt: now}
		if err := tx.Create(&g).Error; err != nil {
			return err
		}
		changes := map[string]any{"status": np.Status, "version": row.Version + 1, "updated_at": now}
		row.Status = np.Status
		if np.Status == PlanDone && row.ActualEndOn == nil {
			changes["actual_end_on"], row.ActualEndOn = g.NotedOn, &g.NotedOn
		}
		if err := s.savePlan(tx, row, changes, now); err != nil {
			return err
		}
		if out, err = planWithProgress(tx, row); err != nil {
			return err
		}
		return audit(tx, ActionPlanProgress, row.CaseID, tenants.CaseSupport)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
