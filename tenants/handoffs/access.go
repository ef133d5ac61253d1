package handoffs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Who may do what with a handoff (docs/permissions.md, "Handoffs"):
// handoff.write starts handoffs and advances this side's stages on every
// handoff of the organisation, handoff.write_own on the handoffs of the
// member's own cases (owner or assigned, as cases.Open decides);
// handoff.inbox accepts and declines incoming ones; handoff.thread (or
// thread_own) reads and writes the thread; handoff.override.approve is the
// second person of a send without consent. Whoever holds any of them sees
// the handoffs it reaches; a handoff this organisation holds no row of is
// not_found, like one that does not exist.

// reach is how far a principal sees the organisation's handoffs.
type reach int

const (
	reachNone reach = iota
	reachOwn        // handoffs of its own cases
	reachAll
)

func reachOf(p *tenants.Principal) reach {
	switch {
	case p.Can(tenants.PermHandoffWrite), p.Can(tenants.PermHandoffInbox), p.Can(tenants.PermHandoffThread),
		p.Can(tenants.PermHandoffOverrideApprove):
		return reachAll
	case p.Can(tenants.PermHandoffWriteOwn), p.Can(tenants.PermHandoffThreadOwn):
		return reachOwn
	}
	return reachNone
}

// principal is the context's principal acting for an organisation that may
// see handoffs at all: forbidden otherwise (a whole feature refused).
func principal(ctx context.Context) (*tenants.Principal, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, err
	}
	if reachOf(p) == reachNone {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow handoffs")
	}
	return p, nil
}

// ownCase reports whether caseID (this side's case of a handoff, may be
// nil) is p's own: it owns it or is assigned to it.
func ownCase(tx *gorm.DB, p *tenants.Principal, caseID *uuid.UUID) (bool, error) {
	if caseID == nil || p.Actor.MemberID == nil {
		return false, nil
	}
	ref, err := cases.Open(tx, p, *caseID, false)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	m := *p.Actor.MemberID
	return ref.OwnerID != nil && *ref.OwnerID == m || slices.Contains(ref.Assigned, m), nil
}

// access is what p may do with one handoff of its organisation.
type access struct {
	own     bool // this side's case is p's own
	write   bool // advance this side's stages, withdraw (sender), feedback (receiver)
	thread  bool
	inbox   bool
	approve bool
}

// visible loads the handoff id of p's organisation with what p may do with
// it: not_found when the organisation holds no row of it or p does not
// reach it.
func visible(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock, secrets bool) (*handoffRow, access, error) {
	row, err := loadHandoff(tx, id, lock, secrets)
	if err != nil {
		return nil, access{}, err
	}
	own, err := ownCase(tx, p, row.CaseID)
	if err != nil {
		return nil, access{}, err
	}
	a := access{
		own:     own,
		write:   p.Can(tenants.PermHandoffWrite) || own && p.Can(tenants.PermHandoffWriteOwn),
		thread:  p.Can(tenants.PermHandoffThread) || own && p.Can(tenants.PermHandoffThreadOwn),
		inbox:   p.Can(tenants.PermHandoffInbox),
		approve: p.Can(tenants.PermHandoffOverrideApprove),
	}
	if reachOf(p) == reachAll || own && (a.write || a.thread) {
		return row, a, nil
	}
	return nil, access{}, errNoHandoff
}

var errChanged = homeward.Errorf(homeward.ECONFLICT, "the handoff changed meanwhile: read it again")

// step is what one side does to its row of a handoff, in its own tenant's
// step of the transaction (its row locked, at the version read).
type step func(tx *gorm.DB, row *handoffRow) error

// mirror runs mine on the acting organisation's row of handoff own and
// theirs on the partner's row, in one Store.AcrossTenants transaction,
// the sender's step first whichever side acts (two changes of one handoff
// lock its rows in the same order). Each row is locked and must still be
// at own's version (conflict otherwise). theirs acts as the acting
// organisation (tenants.AsPartner): its audit rows name the organisation,
// never a member of it. pre, when given, runs first of all in the acting
// organisation, locking nothing: it reads what travels (documents, the
// day in the acting organisation's time zone) before either row changes.
func (s *Service) mirror(ctx context.Context, own *handoffRow, pre func(tx *gorm.DB) error, mine, theirs step) error {
	acting := own.TenantID
	myStep := tenants.TenantStep{Tenant: acting, Fn: func(tx *gorm.DB) error {
		row, err := loadHandoff(tx, own.ID, true, true)
		if err != nil {
			return err
		}
		if row.Version != own.Version {
			return errChanged
		}
		return mine(tx, row)
	}}
	theirStep := tenants.TenantStep{Tenant: own.PartnerTenantID, Fn: func(tx *gorm.DB) error {
		tx = tenants.AsPartner(tx, acting)
		row, err := loadHandoff(tx, own.ID, true, true)
		if err != nil {
			// The rows are written together: a missing one is a fault, not
			// the caller's not_found.
			return fmt.Errorf("handoffs: the partner's row of handoff %s: %v", own.ID, err)
		}
		if row.Version != own.Version {
			return errChanged
		}
		return theirs(tx, row)
	}}
	steps := []tenants.TenantStep{theirStep, myStep}
	if own.Side == SideSender {
		steps = []tenants.TenantStep{myStep, theirStep}
	}
	if pre != nil {
		steps = append([]tenants.TenantStep{{Tenant: acting, Fn: pre}}, steps...)
	}
	return s.across(ctx, steps...)
}

// across is Store.AcrossTenants, run again (twice at most) when
// PostgreSQL broke a deadlock by aborting it. Each organisation's audit
// chain head is locked by the first audit row of a transaction until it
// ends, and a step reading documents audits the acting side before the
// sender's step: two transactions between the same organisations may take
// the two heads in opposite orders. The steps compute everything afresh on
// each run.
func (s *Service) across(ctx context.Context, steps ...tenants.TenantStep) error {
	var err error
	for range 3 {
		if err = s.store.AcrossTenants(ctx, steps...); !deadlocked(err) {
			return err
		}
	}
	return err
}

// deadlocked reports whether err is PostgreSQL's deadlock_detected.
func deadlocked(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

// bump moves a row's version and change time in the update changes.
func bump(row *handoffRow, changes map[string]any, now time.Time) {
	row.Version++
	row.UpdatedAt = now
	changes["version"], changes["updated_at"] = row.Version, now
}

// save writes changes to row (locked by the step) and applies them.
func save(tx *gorm.DB, row *handoffRow, changes map[string]any, now time.Time) error {
	bump(row, changes, now)
	res := tx.Model(&handoffRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("version = ?", row.Version-1).
		Updates(changes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errChanged
	}
	return nil
}

// audit writes this side's audit row about handoff id.
func audit(tx *gorm.DB, action string, id uuid.UUID, groups []string) error {
	return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: RecordType, RecordID: id,
		FieldGroups: groups, Purpose: purpose})
}

// purpose is why handoff data is read or moved, for the audit log.
const purpose = "repatriation"
