package cases

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Audit actions of a case.
const (
	ActionCreate = "case.create"
	ActionRead   = "case.read"
	ActionUpdate = "case.update"
	ActionAssign = "case.assign"
	ActionList   = "case.list"
)

// recordType is the audit log's record type for a case.
const recordType = "case"

// maxEvents bounds the trafficking events of one case.
const maxEvents = 50

// intakeGroups are the parts anyone holding case.create may write at
// intake, whatever their access afterwards (an outreach worker records who
// she is, what happened and what she consented to, then loses sight of
// the case).
var intakeGroups = []string{tenants.FieldGroupCore, tenants.FieldGroupIdentity, tenants.CaseConsent}

// Create records a new case (case.create): stage intake, the creator as
// owner when it may read the core of its own cases, audited case.create.
// The identity, the core and consent may be written by anyone holding
// case.create; any other group needs write access to it. A creator who may
// not read the case afterwards gets only its id, number and stage back.
func (s *Service) Create(ctx context.Context, nc NewCase) (*Case, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermCaseCreate)
	if err != nil {
		return nil, err
	}
	var out *Case
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		out, err = s.CreateIn(tx, p, nc, CreateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateOptions are what a feature creating a case in its own transaction
// (CreateIn) says beside the case.
type CreateOptions struct {
	// AnyGroup writes every field group of the new case whatever p may
	// write by hand: the values were chosen elsewhere under rules of their
	// own (a repatriation handoff's shared copy, accepted by a member of
	// the receiving organisation who may not write the medical or legal
	// group itself).
	AnyGroup bool
}

// CreateIn is Create inside tx, the caller's transaction of p's
// organisation, for a feature that creates a case as part of its own work
// (a handoff started from the short intake form; a handoff accepted by the
// receiver): the same checks, numbering, owner, consents and audit
// (case.create), committed or rolled back with the caller's work. The
// caller has authorized p (Create asks case.create).
func (s *Service) CreateIn(tx *gorm.DB, p *tenants.Principal, nc NewCase, o CreateOptions) (*Case, error) {
	now := stamp(s.now())
	if nc.Stage != "" && nc.Stage != StageIntake {
		return nil, homeward.Invalid(map[string]string{"stage": "a new case starts at intake; it moves on with an update"})
	}
	checked, err := checkNewCase(nc, now)
	if err != nil {
		return nil, err
	}
	rec := checked.rec
	if p.Actor.MemberID != nil && p.CaseScope(tenants.FieldGroupCore, false) != tenants.ScopeNone {
		id := *p.Actor.MemberID
		checked.owner = &id
	}
	access := accessFor(p, checked.owner != nil)
	denied := map[string]string{}
	for name := range rec.values {
		g := byName[name].Group
		if !o.AnyGroup && !slices.Contains(intakeGroups, g) && !canWrite(access, g) {
			denied[name] = fmt.Sprintf("your roles do not allow writing the %s group", g)
		}
	}
	if len(denied) > 0 {
		return nil, &homeward.Error{Code: homeward.EFORBIDDEN, Message: "your roles do not allow writing some of these fields", Fields: denied}
	}

	number, err := tenants.TakeNumbers(tx, "case_numbers", 1)
	if err != nil {
		return nil, err
	}
	row, err := insertCases(tx, now, []newCase{checked}, number)
	if err != nil {
		return nil, err
	}
	if _, err := insertConsents(tx, now, row[0].ID, p.Actor.MemberID, nc.Consents); err != nil {
		return nil, err
	}
	groups := groupsOf(rec)
	if len(nc.Consents) > 0 {
		groups = append(groups, tenants.CaseConsent)
	}
	if err := tenants.Audit(tx, tenants.AuditEntry{Action: ActionCreate, RecordType: recordType,
		RecordID: row[0].ID, FieldGroups: groups}); err != nil {
		return nil, err
	}
	if !canRead(access, tenants.FieldGroupCore) {
		return &Case{ID: row[0].ID, Number: number, Reference: Reference(number), Stage: StageIntake,
			Access: map[string]Access{}}, nil
	}
	out, _, err := view(tx, p, row[0], nil, rec)
	return out, err
}

// newCase is a checked NewCase, ready to insert.
type newCase struct {
	rec   record
	stage Stage
	owner *uuid.UUID
}

// checkNewCase checks a new case's values, events, consents and stage as
// a client sent them.
func checkNewCase(nc NewCase, now time.Time) (newCase, error) {
	fe := homeward.FieldErrors{}
	values, err := NormalizeValues(nc.Values, now)
	mergeInvalid(fe, err)
	events, err := normalizeEvents(nc.Events, now)
	mergeInvalid(fe, err)
	for i, c := range nc.Consents {
		checkConsent(fe, fmt.Sprintf("consent[%d].", i), c, now)
	}
	stage := nc.Stage
	switch {
	case stage == "":
		stage = StageIntake
	case !slices.Contains(Stages, stage):
		fe.Add("stage", fmt.Sprintf("one of %v", Stages))
	case stage == StageClosed && values["cas_ReasonForCaseClosure"] == nil:
		fe.Add("cas_ReasonForCaseClosure", "required to close the case")
	}
	if err := fe.Err(); err != nil {
		return newCase{}, err
	}
	rec := record{values: map[string]any{}, events: events}
	for k, v := range values {
		if v != nil {
			rec.values[k] = v
		}
	}
	return newCase{rec: rec, stage: stage}, nil
}

// mergeInvalid adds the field reasons of an invalid error to fe.
func mergeInvalid(fe homeward.FieldErrors, err error) {
	if e, ok := err.(*homeward.Error); ok {
		for k, v := range e.Fields {
			fe.Add(k, v)
		}
	}
}

// normalizeEvents checks trafficking events against the event catalogue;
// errors name trafficking_events[i].hte_….
func normalizeEvents(events []Event, now time.Time) ([]Event, error) {
	fe := homeward.FieldErrors{}
	if len(events) > maxEvents {
		fe.Add("trafficking_events", fmt.Sprintf("at most %d events", maxEvents))
		return nil, fe.Err()
	}
	out := make([]Event, 0, len(events))
	for i, e := range events {
		parts := []struct {
			name string
			v    *string
		}{{"hte_Type", &e.Type}, {"hte_Date", &e.Date}, {"hte_City", &e.City}, {"hte_Country", &e.Country},
			{"hte_Description", &e.Description}}
		for _, part := range parts {
			key := fmt.Sprintf("trafficking_events[%d].%s", i, part.name)
			v, reason := byName[part.name].Normalize(*part.v, now)
			if reason != "" {
				fe.Add(key, reason)
				continue
			}
			s, _ := v.(string)
			if part.name == "hte_Type" && s == "" {
				fe.Add(key, "required: one of "+fmt.Sprint(byName["hte_Type"].Values))
			}
			*part.v = s
		}
		out = append(out, e)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// groupsOf lists the field groups a record has values in, in catalogue
// order (the core always: its events and stage).
func groupsOf(rec record) []string {
	var out []string
	for _, g := range tenants.FieldGroups {
		has := g == tenants.FieldGroupCore
		for name := range rec.values {
			has = has || byName[name].Group == g
		}
		if has {
			out = append(out, g)
		}
	}
	return out
}

// insertCases writes new cases numbered from first in one statement.
func insertCases(tx *gorm.DB, now time.Time, ncs []newCase, first int64) ([]*caseRow, error) {
	rows := make([]*caseRow, len(ncs))
	for i, nc := range ncs {
		id := uuid.Must(uuid.NewV7())
		rows[i] = &caseRow{ID: id, DataKeyID: id, Number: first + int64(i), Stage: nc.stage, Version: 1,
			OwnerMemberID: nc.owner, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
		if nc.stage.final() {
			rows[i].ClosedAt = &now
		}
		if err := rows[i].setColumns(nc.rec); err != nil {
			return nil, err
		}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return nil, err
	}
	return rows, nil
}

// Get returns a case as the principal may see it, audited case.read with
// the field groups shown.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Case, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *Case
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, assigned, err := visibleCaseParts(tx, p, id)
		if err != nil {
			return err
		}
		rec, err := row.record()
		if err != nil {
			return err
		}
		var shown []string
		out, shown, err = view(tx, p, row, assigned, rec)
		if err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionRead, RecordType: recordType, RecordID: id,
			FieldGroups: shown})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleCase loads a live case whose core p may read, with its assigned
// staff; not_found otherwise, exactly as for a case that does not exist.
func visibleCase(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock bool) (*caseRow, []uuid.UUID, error) {
	if p.CaseScope(tenants.FieldGroupCore, false) == tenants.ScopeNone {
		return nil, nil, errNoCase
	}
	row, err := loadCase(tx, id, lock)
	if err != nil {
		return nil, nil, err
	}
	assigned, err := assignedTo(tx, []uuid.UUID{id})
	if err != nil {
		return nil, nil, err
	}
	if !covers(p.CaseScope(tenants.FieldGroupCore, false), isOwn(p, row.OwnerMemberID, assigned[id])) {
		return nil, nil, errNoCase
	}
	return row, assigned[id], nil
}

// clearColumns are the columns of cases that are not encrypted.
var clearColumns = []string{"tenant_id", "id", "data_key_id", "number", "stage", "version", "owner_member_id",
	"created_at", "updated_at", "last_activity_at", "closed_at", "erased_at", "anonymised_at"}

// visibleCaseParts is visibleCase reading only what p may read: the clear
// columns first, then the encrypted columns of the groups p may read of
// this case. A hidden group is never even decrypted, and a member who
// reads the core alone does not pay for the rest.
func visibleCaseParts(tx *gorm.DB, p *tenants.Principal, id uuid.UUID) (*caseRow, []uuid.UUID, error) {
	if p.CaseScope(tenants.FieldGroupCore, false) == tenants.ScopeNone {
		return nil, nil, errNoCase
	}
	var row caseRow
	err := live(tx).Select(clearColumns).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, errNoCase
	}
	if err != nil {
		return nil, nil, err
	}
	assigned, err := assignedTo(tx, []uuid.UUID{id})
	if err != nil {
		return nil, nil, err
	}
	own := isOwn(p, row.OwnerMemberID, assigned[id])
	if !covers(p.CaseScope(tenants.FieldGroupCore, false), own) {
		return nil, nil, errNoCase
	}
	access := accessFor(p, own)
	var cols []string
	for _, group := range tenants.FieldGroups {
		if canRead(access, group) {
			cols = append(cols, groupColumns[group]...)
		}
	}
	if err := tx.Select(append([]string{"tenant_id", "id", "data_key_id"}, cols...)).Where("id = ?", id).
		Take(&row).Error; err != nil {
		return nil, nil, err
	}
	return &row, assigned[id], nil
}

// view is the case as p may see it, and the parts shown (for the audit).
func view(tx *gorm.DB, p *tenants.Principal, row *caseRow, assigned []uuid.UUID, rec record) (*Case, []string, error) {
	access := accessFor(p, isOwn(p, row.OwnerMemberID, assigned))
	c := caseOf(row, assigned, access)
	for name, v := range rec.values {
		if canRead(access, byName[name].Group) {
			c.Values[name] = v
		}
	}
	c.Events = rec.events
	var shown []string
	for _, part := range tenants.CaseParts {
		if canRead(access, part) {
			shown = append(shown, part)
		}
	}
	if canRead(access, tenants.CaseConsent) {
		current, err := currentConsents(tx, []uuid.UUID{row.ID})
		if err != nil {
			return nil, nil, err
		}
		c.Consent = current[row.ID]
	}
	return c, shown, nil
}

// caseOf is the case's clear part, with no values yet.
func caseOf(row *caseRow, assigned []uuid.UUID, access map[string]Access) *Case {
	return &Case{
		ID: row.ID, Number: row.Number, Reference: Reference(row.Number), Stage: row.Stage, Version: row.Version,
		OwnerID: row.OwnerMemberID, Assigned: slices.Clone(assigned), CreatedAt: row.CreatedAt.UTC(),
		UpdatedAt: row.UpdatedAt.UTC(), LastActivityAt: row.LastActivityAt.UTC(), ClosedAt: utcPtr(row.ClosedAt),
		Access: access, Values: map[string]any{},
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// stageMoves are the moves of the survivor's path; closed and referred are
// final.
var stageMoves = map[Stage][]Stage{
	StageIntake:       {StageShelter, StageClosed, StageReferred},
	StageShelter:      {StageReintegrated, StageClosed, StageReferred},
	StageReintegrated: {StageClosed, StageShelter},
}

// featureMove is why an update may not make the move from → to itself,
// "" when it may: admission, reintegration and the end of follow-up have
// rules of their own (tenants/shelters, tenants/followup), which call
// MoveStage. Closing or referring a case before reintegration is an
// update's.
func featureMove(from, to Stage) string {
	switch {
	case to == StageShelter && from == StageIntake:
		return "admit her through admission: both acceptances and the services consent"
	case to == StageShelter:
		return "a case returns to a shelter through admission"
	case to == StageReintegrated:
		return "record her reintegration through follow-up"
	case from == StageReintegrated:
		return "close the follow-up instead: it ends the planned visits"
	}
	return ""
}

// UpdateMoves are the stages an update may move a case at stage from to
// (closing or referring it before reintegration); the other moves are the
// features'.
func UpdateMoves(from Stage) []Stage {
	var out []Stage
	for _, to := range stageMoves[from] {
		if featureMove(from, to) == "" {
			out = append(out, to)
		}
	}
	return out
}

// final reports whether the case ends at stage s: it then has a closed_at,
// from which retention counts.
func (s Stage) final() bool { return s == StageClosed || s == StageReferred }

// Update changes a case, audited case.update with the groups changed. Each
// field needs write access to its group on this case (forbidden names the
// fields refused); the stage moves along the path (closing needs
// cas_ReasonForCaseClosure); a patch that changes nothing changes nothing,
// not even the version.
func (s *Service) Update(ctx context.Context, id uuid.UUID, patch Patch) (*Case, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	values, err := NormalizeValues(patch.Values, now)
	if err != nil {
		return nil, err
	}
	var events []Event
	if patch.Events != nil {
		if events, err = normalizeEvents(*patch.Events, now); err != nil {
			return nil, err
		}
	}
	if patch.Stage != nil && !slices.Contains(Stages, *patch.Stage) {
		return nil, homeward.Invalid(map[string]string{"stage": fmt.Sprintf("one of %v", Stages)})
	}
	var out *Case
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, assigned, err := visibleCase(tx, p, id, true)
		if err != nil {
			return err
		}
		access := accessFor(p, isOwn(p, row.OwnerMemberID, assigned))
		denied := map[string]string{}
		for name := range values {
			if g := byName[name].Group; !canWrite(access, g) {
				denied[name] = fmt.Sprintf("your roles do not allow changing the %s group of this case", g)
			}
		}
		if !canWrite(access, tenants.FieldGroupCore) {
			if patch.Events != nil {
				denied["trafficking_events"] = "your roles do not allow changing the core of this case"
			}
			if patch.Stage != nil {
				denied["stage"] = "your roles do not allow changing the core of this case"
			}
		}
		if len(denied) > 0 {
			return &homeward.Error{Code: homeward.EFORBIDDEN, Message: "your roles do not allow changing some of these fields", Fields: denied}
		}
		if patch.Version != 0 && patch.Version != row.Version {
			return homeward.Errorf(homeward.ECONFLICT, "the case changed since you read it (version %d, now %d): read it again", patch.Version, row.Version)
		}
		old, err := row.record()
		if err != nil {
			return err
		}
		next := record{values: maps.Clone(old.values), events: old.events}
		for name, v := range values {
			if v == nil {
				delete(next.values, name)
			} else {
				next.values[name] = v
			}
		}
		if patch.Events != nil {
			next.events = events
		}
		changes, groups, err := changedColumns(old, next)
		if err != nil {
			return err
		}
		if patch.Stage != nil && *patch.Stage != row.Stage {
			to := *patch.Stage
			if !slices.Contains(stageMoves[row.Stage], to) {
				return homeward.Invalid(map[string]string{"stage": fmt.Sprintf("a case at %s cannot move to %s", row.Stage, to)})
			}
			if why := featureMove(row.Stage, to); why != "" {
				return homeward.Invalid(map[string]string{"stage": why})
			}
			if to == StageClosed && next.values["cas_ReasonForCaseClosure"] == nil {
				return homeward.Invalid(map[string]string{"cas_ReasonForCaseClosure": "required to close the case"})
			}
			changes["stage"] = to
			row.Stage = to
			if to.final() {
				changes["closed_at"] = now
				row.ClosedAt = &now
			}
			if !slices.Contains(groups, tenants.FieldGroupCore) {
				groups = append(groups, tenants.FieldGroupCore)
			}
		}
		if len(changes) > 0 {
			row.Version++
			row.UpdatedAt, row.LastActivityAt = now, now
			changes["version"], changes["updated_at"], changes["last_activity_at"] = row.Version, now, now
			res := tx.Model(&caseRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("version = ?", row.Version-1).Updates(changes)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return homeward.Errorf(homeward.ECONFLICT, "the case changed meanwhile: read it again")
			}
		}
		out, _, err = view(tx, p, row, assigned, next)
		if err != nil {
			return err
		}
		slices.SortFunc(groups, func(a, b string) int {
			return slices.Index(tenants.FieldGroups, a) - slices.Index(tenants.FieldGroups, b)
		})
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionUpdate, RecordType: recordType, RecordID: id,
			FieldGroups: groups})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changedColumns compares two records column by column: the columns to
// write (as values to encrypt) and the field groups they belong to.
func changedColumns(old, next record) (map[string]any, []string, error) {
	before, err := old.columns()
	if err != nil {
		return nil, nil, err
	}
	after, err := next.columns()
	if err != nil {
		return nil, nil, err
	}
	changes := map[string]any{}
	var groups []string
	for col := range (&caseRow{}).secretColumns() {
		if before[col] == after[col] {
			continue
		}
		changes[col] = tenants.NewSecret(after[col])
		if g := columnGroup(col); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return changes, groups, nil
}

// Assign sets the owner and the assigned staff (case.assign), audited
// case.assign. Both must be active members of the organisation.
func (s *Service) Assign(ctx context.Context, id uuid.UUID, owner *uuid.UUID, assigned []uuid.UUID) (*Case, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermCaseAssign)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var staff []uuid.UUID
	for _, m := range assigned {
		if (owner == nil || m != *owner) && !slices.Contains(staff, m) {
			staff = append(staff, m)
		}
	}
	if len(staff) > 50 {
		return nil, homeward.Invalid(map[string]string{"assigned_to": "at most 50 members"})
	}
	var out *Case
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, err := visibleCase(tx, p, id, true)
		if err != nil {
			return err
		}
		fe := homeward.FieldErrors{}
		if owner != nil {
			if err := checkMembers(tx, p.TenantID, []uuid.UUID{*owner}, "cas_CaseOwner", fe); err != nil {
				return err
			}
		}
		if err := checkMembers(tx, p.TenantID, staff, "assigned_to", fe); err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if err := tx.Where("case_id = ?", id).Delete(&assignmentRow{}).Error; err != nil {
			return err
		}
		if len(staff) > 0 {
			rows := make([]assignmentRow, len(staff))
			for i, m := range staff {
				rows[i] = assignmentRow{CaseID: id, MemberID: m}
			}
			if err := tx.Create(&rows).Error; err != nil {
				return err
			}
		}
		row.OwnerMemberID = owner
		row.Version++
		row.UpdatedAt, row.LastActivityAt = now, now
		if err := tx.Model(&caseRow{}).Where("id = ?", id).Updates(map[string]any{"owner_member_id": owner,
			"version": row.Version, "updated_at": now, "last_activity_at": now}).Error; err != nil {
			return err
		}
		if err := tenants.Audit(tx, tenants.AuditEntry{Action: ActionAssign, RecordType: recordType, RecordID: id,
			FieldGroups: []string{tenants.FieldGroupCore}}); err != nil {
			return err
		}
		rec, err := row.record()
		if err != nil {
			return err
		}
		out, _, err = view(tx, p, row, staff, rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Staff lists the members a case may be assigned to (case.assign): the
// organisation's enabled members who hold a role, by subject, with their
// roles (tenants.StaffOf), for the assignment form. Not audited, like the
// members page: it names staff, not a case.
func (s *Service) Staff(ctx context.Context) ([]tenants.Member, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermCaseAssign)
	if err != nil {
		return nil, err
	}
	var out []tenants.Member
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		out, err = tenants.StaffOf(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkMembers reports on field any of ids that is not an active member of
// the organisation. memberships is a global table: the organisation is
// named here.
func checkMembers(tx *gorm.DB, tenantID uuid.UUID, ids []uuid.UUID, field string, fe homeward.FieldErrors) error {
	if len(ids) == 0 {
		return nil
	}
	var found []uuid.UUID
	err := tx.Table("memberships").Where("tenant_id = ? AND id IN ? AND disabled = ?", tenantID, ids, false).
		Pluck("id", &found).Error
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			fe.Add(field, fmt.Sprintf("%s is not an active member of this organisation", id))
		}
	}
	return nil
}

// readCase is the whole case (every group, consent included), without
// authorization or audit: for the exports, which check role and consent
// themselves. not_found for an erased, anonymised or unknown case.
func readCase(tx *gorm.DB, id uuid.UUID) (*Case, error) {
	row, err := loadCase(tx, id, false)
	if err != nil {
		return nil, err
	}
	cs, err := wholeCases(tx, []*caseRow{row})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// eachCaseBatch is how many cases eachCase reads at once.
const eachCaseBatch = 500

// eachCase calls fn with every case of the transaction's organisation that
// is neither erased nor anonymised, whole (as readCase), reading in batches
// in the order of their ids.
func eachCase(tx *gorm.DB, fn func(*Case) error) error {
	var after uuid.UUID
	for {
		var rows []*caseRow
		q := live(tx).Order("id").Limit(eachCaseBatch)
		if after != uuid.Nil {
			q = q.Where("id > ?", after)
		}
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		cs, err := wholeCases(tx, rows)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := fn(c); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].ID
	}
}

// wholeCases are the cases of rows with every part (Access reads them all:
// nothing here authorizes a write), their staff and consent state.
func wholeCases(tx *gorm.DB, rows []*caseRow) ([]*Case, error) {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	assigned, err := assignedTo(tx, ids)
	if err != nil {
		return nil, err
	}
	consents, err := currentConsents(tx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*Case, len(rows))
	for i, r := range rows {
		rec, err := r.record()
		if err != nil {
			return nil, err
		}
		access := map[string]Access{}
		for _, part := range tenants.CaseParts {
			access[part] = AccessRead
		}
		c := caseOf(r, assigned[r.ID], access)
		c.Values, c.Events, c.Consent = rec.values, rec.events, consents[r.ID]
		out[i] = c
	}
	return out, nil
}
