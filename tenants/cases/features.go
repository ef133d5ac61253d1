package cases

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// What the features of the survivor's path (tenants/shelters, tenants/care,
// tenants/kits, tenants/followup) and the handoffs use of a case: Open it
// for the principal in their own transaction, ask its Ref what the
// principal may do with each part, move its stage when their own rules
// allow, and Touch it when they record something on it. They write their
// own audit rows.

// Ref is a case as a feature sees it: its clear columns and what the
// principal may do with each part (tenants.CaseParts), decided exactly as
// Get decides.
type Ref struct {
	ID        uuid.UUID
	Number    int64
	Reference string
	Stage     Stage
	Version   int64
	OwnerID   *uuid.UUID
	Assigned  []uuid.UUID
	Access    map[string]Access // visible parts only
}

// CanRead reports whether the principal may read part of the case.
func (r *Ref) CanRead(part string) bool { return canRead(r.Access, part) }

// CanWrite reports whether the principal may write part of the case.
func (r *Ref) CanWrite(part string) bool { return canWrite(r.Access, part) }

// Need returns nil when the principal may read (write false) or write part
// of the case, else forbidden naming the part: a feature of a case the
// member sees but whose part it may not use is a whole feature refused.
func (r *Ref) Need(part string, write bool) error {
	if write && r.CanWrite(part) || !write && r.CanRead(part) {
		return nil
	}
	verb := "see"
	if write {
		verb = "change"
	}
	return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow you to %s the %s of this case", verb, part)
}

// Open returns the case id for p inside tx, the organisation's transaction:
// not_found unless p may read its core (another organisation's, one not
// its own under "own", an erased or unknown one). lock takes the case's row
// lock (PostgreSQL) so that checks and writes of one case do not interleave.
func Open(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock bool) (*Ref, error) {
	if p == nil {
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	}
	if p.CaseScope(tenants.FieldGroupCore, false) == tenants.ScopeNone {
		return nil, errNoCase
	}
	q := live(tx).Select(clearColumns).Where("id = ?", id)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row caseRow
	if err := q.Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errNoCase
		}
		return nil, err
	}
	assigned, err := assignedTo(tx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	own := isOwn(p, row.OwnerMemberID, assigned[id])
	if !covers(p.CaseScope(tenants.FieldGroupCore, false), own) {
		return nil, errNoCase
	}
	return &Ref{ID: row.ID, Number: row.Number, Reference: Reference(row.Number), Stage: row.Stage,
		Version: row.Version, OwnerID: row.OwnerMemberID, Assigned: slices.Clone(assigned[id]),
		Access: accessFor(p, own)}, nil
}

// LiveCases selects, as a subquery, the ids of the live cases of tx's
// organisation (neither erased nor anonymised: those the case files show)
// and, with ownedBy set, only those that member owns or is assigned to
// ("own" as Open decides it): Where("case_id IN (?)", cases.LiveCases(tx,
// nil)). A feature adds its own conditions (a stage, say). The subquery
// names the organisation itself (tenants.TxTenant), so that it holds
// whatever statement it ends up in; outside InTenant it carries
// tenants.ErrNoTenant.
func LiveCases(tx *gorm.DB, ownedBy *uuid.UUID) *gorm.DB {
	db := tx.Session(&gorm.Session{NewDB: true})
	tenant, err := tenants.TxTenant(tx)
	if err != nil {
		_ = db.AddError(err)
		return db
	}
	q := live(db.Model(&caseRow{})).Select("id").Where("tenant_id = ?", tenant)
	if ownedBy != nil {
		q = ownedByMember(q, db, tenant, *ownedBy)
	}
	return q
}

// MoveStage moves case id to stage to inside tx, for a feature whose own
// rules allow it (admission: intake → shelter; reintegration: shelter →
// reintegrated; the end of follow-up: reintegrated → closed; a handoff:
// → referred). The move must be one of the path's (conflict otherwise);
// closing needs a closure reason, given here or already on the case. It
// bumps the version and the last activity and sets closed_at at closed
// and referred. The caller has authorized and audits its own action.
func MoveStage(tx *gorm.DB, id uuid.UUID, to Stage, closureReason string, now time.Time) error {
	var values map[string]any
	if closureReason != "" {
		values = map[string]any{"cas_ReasonForCaseClosure": closureReason}
	}
	return MoveStageWith(tx, id, to, values, now)
}

// MoveStageWith is MoveStage setting fields of the case core in the same
// change (a handoff's admission refers the sender's case and records
// cas_ReferredOrganisation and cas_OutgoingReferralDate): each value is
// checked by the catalogue (invalid naming the field) and must belong to
// the core. Closing needs cas_ReasonForCaseClosure, given here or already
// on the case.
func MoveStageWith(tx *gorm.DB, id uuid.UUID, to Stage, values map[string]any, now time.Time) error {
	now = stamp(now)
	row, err := loadCase(tx, id, true)
	if err != nil {
		return err
	}
	if !slices.Contains(stageMoves[row.Stage], to) {
		return homeward.Errorf(homeward.ECONFLICT, "a case at %s cannot move to %s", row.Stage, to)
	}
	changes := map[string]any{}
	old, err := row.record()
	if err != nil {
		return err
	}
	if len(values) > 0 {
		next := record{values: maps.Clone(old.values), events: old.events}
		for name, v := range values {
			f, ok := byName[name]
			if !ok || f.Group != tenants.FieldGroupCore {
				return homeward.Invalid(map[string]string{name: "not a field of the case core"})
			}
			norm, problem := f.Normalize(v, now)
			if problem != "" {
				return homeward.Invalid(map[string]string{name: problem})
			}
			if norm == nil {
				delete(next.values, name)
			} else {
				next.values[name] = norm
			}
		}
		if changes, _, err = changedColumns(old, next); err != nil {
			return err
		}
		old = next
	}
	if to == StageClosed && old.values["cas_ReasonForCaseClosure"] == nil {
		return homeward.Invalid(map[string]string{"cas_ReasonForCaseClosure": "required to close the case"})
	}
	changes["stage"] = to
	if to.final() {
		changes["closed_at"] = now
	}
	changes["version"], changes["updated_at"], changes["last_activity_at"] = row.Version+1, now, now
	res := tx.Model(&caseRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("version = ?", row.Version).Updates(changes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return homeward.Errorf(homeward.ECONFLICT, "the case changed meanwhile: read it again")
	}
	return nil
}

// Touch records activity on case id (a service entry, a visit, a kit):
// the case's last activity becomes now, so lists sort it first.
func Touch(tx *gorm.DB, id uuid.UUID, now time.Time) error {
	res := live(tx.Model(&caseRow{})).Where("id = ?", id).Update("last_activity_at", stamp(now))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("cases: touch: no live case %s", id)
	}
	return nil
}

// RefOf is case id's clear columns and staff (owner, assigned) read inside
// tx without a principal, for background work on a feature's own records
// of the case (a handoff's reminders and automatic feedback, addressed to
// the case's staff or derived from its stage): Access is empty, nothing
// here authorizes anything. not_found for an erased, anonymised or
// unknown case.
func RefOf(tx *gorm.DB, id uuid.UUID) (*Ref, error) {
	var row caseRow
	err := live(tx.Session(&gorm.Session{NewDB: true})).Select(clearColumns).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoCase
	}
	if err != nil {
		return nil, err
	}
	assigned, err := assignedTo(tx.Session(&gorm.Session{NewDB: true}), []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	return &Ref{ID: row.ID, Number: row.Number, Reference: Reference(row.Number), Stage: row.Stage,
		Version: row.Version, OwnerID: row.OwnerMemberID, Assigned: slices.Clone(assigned[id]),
		Access: map[string]Access{}}, nil
}

// ValuesOf is the values of case id in the field groups given, read inside
// tx without a principal (only those groups' columns are decrypted), for
// a feature that has decided itself which of them it may use (a handoff
// sends the fields its starter chose under a partnership, approved perhaps
// by a second person who does not read them all). not_found for an
// erased, anonymised or unknown case.
func ValuesOf(tx *gorm.DB, id uuid.UUID, groups []string) (map[string]any, error) {
	cols := []string{"tenant_id", "id", "data_key_id"}
	for _, g := range groups {
		cols = append(cols, groupColumns[g]...)
	}
	var row caseRow
	err := live(tx.Session(&gorm.Session{NewDB: true})).Select(cols).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoCase
	}
	if err != nil {
		return nil, err
	}
	rec, err := row.record()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for name, v := range rec.values {
		if slices.Contains(groups, byName[name].Group) {
			out[name] = v
		}
	}
	return out, nil
}
