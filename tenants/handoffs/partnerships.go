package handoffs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Partnerships (migration 00016_partnerships). A partnership is mirrored:
// one row in each organisation's tenant with the same id, both written in
// one Store.AcrossTenants transaction whose steps run From's side first,
// then To's, whoever acts (two moves at once lock the two rows in the same
// order, and wait instead of deadlocking; a deadlock between the two
// organisations' audit-chain heads, which work in the other direction can
// cause, is run again by Service.across). Each step sees only its own
// tenant. The acting organisation's step audits as its member; the other
// organisation's step audits as tenants.PartnerActor (the organisation,
// never its member) and notifies that organisation's admins (in-app, and
// mail when they gave a contact address).
//
// Who sees what: partnerships.read (tenant admins, case managers) sees
// every partnership of the organisation; a member who may start, receive
// or follow handoffs (handoff.write, .write_own, .inbox, .thread,
// .thread_own) sees the active handoff partnerships, which the start form
// offers; a member holding statistics.read sees the active partnerships
// that bring a partner's statistics to the organisation, which it may
// download (PartnerStatistics). Any other partnership of the organisation
// is not_found to them, like one of another organisation.

// RecordTypePartnership is the record type of a partnership in the audit
// log and in notifications.
const RecordTypePartnership = "partnership"

// ActionPartnershipStatistics is the audit action of reading a partner's
// statistics (in the reader's chain; the partner's chain records the
// export, "statistics.export", as tenants.PartnerActor).
const ActionPartnershipStatistics = "partnership.statistics"

// Events of a partnership, as audit purposes, notification mail templates
// ("partnership:EVENT", web/emails/templates/partnership/EVENT) and pages
// name them.
const (
	EventProposed  = "proposed"
	EventAccepted  = "accepted"
	EventDeclined  = "declined"
	EventSuspended = "suspended"
	EventResumed   = "resumed"
	EventEnded     = "ended"
)

// PartnershipEvents are the events, in the order they may come.
var PartnershipEvents = []string{EventProposed, EventAccepted, EventDeclined, EventSuspended, EventResumed, EventEnded}

// MailPartnership is the mail template of a partnership event.
func MailPartnership(event string) string { return "partnership:" + event }

// Limits of a partnership's texts (the migration checks them too).
const (
	MaxAgreementRef      = 200
	MaxPartnershipReason = 2000
	MaxStallDays         = 90
)

// partnershipRow is a row of partnerships: this side's copy.
type partnershipRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID `gorm:"type:uuid;primaryKey"`
	Purpose          string
	FromTenantID     uuid.UUID `gorm:"type:uuid"`
	ToTenantID       uuid.UUID `gorm:"type:uuid"`
	PartnerTenantID  uuid.UUID `gorm:"type:uuid"`
	Groups           string    // comma-separated field groups
	Documents        bool
	AgreementRef     string
	StallDays        int
	StatisticsBack   bool
	State            string
	ProposedByTenant uuid.UUID  `gorm:"type:uuid"`
	ProposedByMember *uuid.UUID `gorm:"type:uuid"` // this side's row only, when this side proposed
	ProposedAt       time.Time
	DecidedAt        *time.Time
	ChangedAt        time.Time
	StateReason      string
	Version          int64
}

func (partnershipRow) TableName() string { return "partnerships" }

// live: the states that hold the pair's place (one per purpose and
// direction).
var livePartnershipStates = []string{PartnershipProposed, PartnershipActive, PartnershipSuspended}

// mirror is the other side's copy of r: the same agreement, its own tenant,
// and no member of r's side.
func (r *partnershipRow) mirror() *partnershipRow {
	m := *r
	m.TenantID, m.PartnerTenantID = r.PartnerTenantID, r.TenantID
	if m.ProposedByTenant != m.TenantID {
		m.ProposedByMember = nil
	}
	return &m
}

// bringsStatistics reports whether the partnership brings the partner's
// anonymised statistics to the organisation of r: To of a statistics
// partnership, From of a handoff partnership with statistics back.
func (r *partnershipRow) bringsStatistics() bool {
	switch r.Purpose {
	case PurposeStatistics:
		return r.ToTenantID == r.TenantID
	case PurposeHandoffs:
		return r.StatisticsBack && r.FromTenantID == r.TenantID
	}
	return false
}

// pshipStamp is a time as the database keeps it (microseconds, UTC).
func pshipStamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

var errNoPartnership = homeward.Errorf(homeward.ENOTFOUND, "no such partnership")

// loadPartnership reads this organisation's copy of partnership id,
// locked (PostgreSQL: FOR UPDATE, or FOR SHARE when share) when lock is
// set: not_found when the organisation holds none.
func loadPartnership(tx *gorm.DB, id uuid.UUID, lock, share bool) (*partnershipRow, error) {
	q := tx.Session(&gorm.Session{NewDB: true}).Where("id = ?", id)
	if lock {
		strength := "UPDATE"
		if share {
			strength = "SHARE"
		}
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	var row partnershipRow
	err := q.Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoPartnership
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// organisationsOf reads the public facts of the organisations ids (the
// global tenants table), by id.
func organisationsOf(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]Organisation, error) {
	var ts []tenants.Tenant
	if err := tx.Session(&gorm.Session{NewDB: true}).Where("id IN ?", ids).Find(&ts).Error; err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]Organisation, len(ts))
	for _, t := range ts {
		out[t.ID] = Organisation{ID: t.ID, Slug: t.Slug, Name: t.Name, Country: t.Country}
	}
	return out, nil
}

// partnership is the row as its organisation sees it.
func (r *partnershipRow) partnership(orgs map[uuid.UUID]Organisation) Partnership {
	p := Partnership{ID: r.ID, Purpose: r.Purpose, From: orgs[r.FromTenantID], To: orgs[r.ToTenantID],
		Groups: []string{}, Documents: r.Documents, AgreementRef: r.AgreementRef, StallDays: r.StallDays,
		StatisticsBack: r.StatisticsBack, State: r.State, ProposedBy: r.ProposedByTenant,
		ProposedAt: r.ProposedAt.UTC(), ChangedAt: r.ChangedAt.UTC(), StateReason: r.StateReason, Version: r.Version}
	if p.From.ID == uuid.Nil {
		p.From.ID = r.FromTenantID
	}
	if p.To.ID == uuid.Nil {
		p.To.ID = r.ToTenantID
	}
	if r.Groups != "" {
		p.Groups = strings.Split(r.Groups, ",")
	}
	if r.DecidedAt != nil {
		d := r.DecidedAt.UTC()
		p.DecidedAt = &d
	}
	return p
}

// partnershipOf reads the organisations of one row and returns it as seen.
func partnershipOf(tx *gorm.DB, r *partnershipRow) (*Partnership, error) {
	orgs, err := organisationsOf(tx, []uuid.UUID{r.FromTenantID, r.ToTenantID})
	if err != nil {
		return nil, err
	}
	p := r.partnership(orgs)
	return &p, nil
}

// partnershipView is what a reader may see of the organisation's
// partnerships (the package comment above).
type partnershipView struct {
	all, handoffs, statistics bool
}

// partnershipReader is the principal of ctx when it acts for an
// organisation and may see some of its partnerships.
func partnershipReader(ctx context.Context) (*tenants.Principal, partnershipView, error) {
	p := tenants.PrincipalFrom(ctx)
	if p == nil || p.TenantID == uuid.Nil {
		_, err := tenants.OrgPrincipal(ctx, tenants.PermPartnershipsRead)
		if err == nil {
			err = homeward.Errorf(homeward.EFORBIDDEN, "partnerships belong to an organisation")
		}
		return nil, partnershipView{}, err
	}
	v := partnershipView{all: p.Can(tenants.PermPartnershipsRead), statistics: p.Can(tenants.PermStatisticsRead)}
	for _, perm := range []tenants.Permission{tenants.PermHandoffWrite, tenants.PermHandoffWriteOwn, tenants.PermHandoffInbox,
		tenants.PermHandoffThread, tenants.PermHandoffThreadOwn} {
		v.handoffs = v.handoffs || p.Can(perm)
	}
	if !v.all && !v.handoffs && !v.statistics {
		return nil, v, tenants.Authorize(p, tenants.PermPartnershipsRead)
	}
	return p, v, nil
}

func (v partnershipView) sees(r *partnershipRow) bool {
	switch {
	case v.all:
		return true
	case r.State != PartnershipActive:
		return false
	case v.handoffs && r.Purpose == PurposeHandoffs:
		return true
	}
	return v.statistics && r.bringsStatistics()
}

// Organisations are the organisations this one may propose a partnership to
// (active, not itself), by name (partnerships.write).
func (s *Service) Organisations(ctx context.Context) ([]Organisation, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermPartnershipsWrite)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	out := []Organisation{}
	for _, t := range ts {
		if t.ID != p.TenantID && t.Status == tenants.StatusActive {
			out = append(out, Organisation{ID: t.ID, Slug: t.Slug, Name: t.Name, Country: t.Country})
		}
	}
	slices.SortFunc(out, func(a, b Organisation) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Slug, b.Slug)) })
	return out, nil
}

// textProblem is why s (trimmed) cannot be a partnership's text, "" when it
// can: required unless optional, at most max characters, no control
// characters (line breaks too when oneLine).
func textProblem(s string, max int, optional, oneLine bool) string {
	switch {
	case s == "" && !optional:
		return "required"
	case !utf8.ValidString(s):
		return "not valid text"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && (oneLine || r != '\n' && r != '\r' && r != '\t') {
			return "no control characters" + map[bool]string{true: " or line breaks", false: ""}[oneLine]
		}
	}
	return ""
}

// partnershipGroups checks the field groups of a handoff partnership and
// returns them in SharableGroups' order, each once.
func partnershipGroups(groups []string, f homeward.FieldErrors) []string {
	var out []string
	for _, g := range groups {
		switch {
		case g == tenants.FieldGroupPsychological:
			f.Add("groups", "the psychological group never leaves the organisation: no partnership may let it travel")
		case !slices.Contains(SharableGroups, g):
			f.Add("groups", "each one of "+strings.Join(SharableGroups, ", "))
		}
	}
	for _, g := range SharableGroups {
		if slices.Contains(groups, g) {
			out = append(out, g)
		}
	}
	if len(groups) == 0 {
		f.Add("groups", "choose at least one of "+strings.Join(SharableGroups, ", ")+": the field groups that may travel")
	}
	return out
}

// ProposePartnership proposes a partnership to another organisation
// (partnerships.write); the other organisation's admin accepts or declines
// it. Each mistake is named: partner (unknown, suspended, or this
// organisation), purpose, groups (handoffs: at least one of SharableGroups;
// psychological never; statistics: none), documents and statistics_back
// (not on a statistics partnership), agreement_ref (required, at most 200
// characters), stall_days (1 to 90; 0 is DefaultStallDays). A partnership of
// the pair for the same purpose and direction that is proposed, active or
// suspended already: conflict naming partner.
func (s *Service) ProposePartnership(ctx context.Context, np NewPartnership) (*Partnership, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermPartnershipsWrite)
	if err != nil {
		return nil, err
	}
	f := homeward.FieldErrors{}
	partner := s.proposedPartner(ctx, p, strings.TrimSpace(np.Partner), f)
	var groups []string
	switch np.Purpose {
	case PurposeHandoffs:
		groups = partnershipGroups(np.Groups, f)
	case PurposeStatistics:
		if len(np.Groups) > 0 {
			f.Add("groups", "a statistics partnership lets no field group travel: leave it empty")
		}
		if np.Documents {
			f.Add("documents", "a statistics partnership lets no document travel")
		}
		if np.StatisticsBack {
			f.Add("statistics_back", "only for a handoff partnership: a statistics partnership is statistics already")
		}
	default:
		f.Add("purpose", "one of "+PurposeHandoffs+", "+PurposeStatistics)
	}
	ref := strings.TrimSpace(np.AgreementRef)
	if why := textProblem(ref, MaxAgreementRef, false, true); why != "" {
		f.Add("agreement_ref", why+": the reference of the written data-sharing agreement")
	}
	stall := np.StallDays
	if stall == 0 {
		stall = DefaultStallDays
	}
	if stall < 1 || stall > MaxStallDays {
		f.Add("stall_days", fmt.Sprintf("a number of days from 1 to %d", MaxStallDays))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}

	from, to := p.TenantID, partner.ID
	if !np.Sending {
		from, to = to, from
	}
	now := pshipStamp(s.now())
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	own := &partnershipRow{TenantID: p.TenantID, ID: id, Purpose: np.Purpose, FromTenantID: from, ToTenantID: to,
		PartnerTenantID: partner.ID, Groups: strings.Join(groups, ","), Documents: np.Documents, AgreementRef: ref,
		StallDays: stall, StatisticsBack: np.StatisticsBack, State: PartnershipProposed, ProposedByTenant: p.TenantID,
		ProposedByMember: p.Actor.MemberID, ProposedAt: now, ChangedAt: now, Version: 1}
	theirs := own.mirror()
	write := func(row *partnershipRow, acting bool) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			if !acting {
				tx = tenants.AsPartner(tx, p.TenantID)
			}
			if err := insertPartnership(tx, row); err != nil {
				return err
			}
			if err := tenants.Audit(tx, tenants.AuditEntry{Action: ActionPartnershipPropose, RecordType: RecordTypePartnership,
				RecordID: id, FieldGroups: groups, Purpose: EventProposed}); err != nil {
				return err
			}
			if acting {
				return nil
			}
			return notifyPartnershipAdmins(tx, id, EventProposed)
		}
	}
	steps := orderedSteps(own, write(own, true), write(theirs, false))
	if err := s.across(ctx, steps...); err != nil {
		return nil, err
	}
	return s.partnershipAs(ctx, p.TenantID, id)
}

// proposedPartner finds the organisation a proposal names by its slug,
// noting on f why it cannot be one.
func (s *Service) proposedPartner(ctx context.Context, p *tenants.Principal, slug string, f homeward.FieldErrors) *tenants.Tenant {
	if slug == "" {
		f.Add("partner", "required: the other organisation's short name (slug)")
		return nil
	}
	t, err := s.store.TenantBySlug(ctx, slug)
	switch {
	case err != nil:
		f.Add("partner", "no organisation has this short name")
		return nil
	case t.ID == p.TenantID:
		f.Add("partner", "an organisation cannot be its own partner")
		return nil
	case t.Status != tenants.StatusActive:
		f.Add("partner", "this organisation is suspended: it can take no partnership")
		return nil
	}
	return t
}

// insertPartnership writes a new row, refusing a second live partnership
// of the pair for the purpose and direction.
func insertPartnership(tx *gorm.DB, row *partnershipRow) error {
	taken := homeward.Error{Code: homeward.ECONFLICT,
		Message: "a partnership with this organisation for this purpose and direction is already proposed, active or suspended",
		Fields:  map[string]string{"partner": "already proposed, active or suspended for this purpose and direction"}}
	var n int64
	if err := tx.Session(&gorm.Session{NewDB: true}).Model(&partnershipRow{}).
		Where("purpose = ? AND from_tenant_id = ? AND to_tenant_id = ? AND state IN ?", row.Purpose, row.FromTenantID,
			row.ToTenantID, livePartnershipStates).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &taken
	}
	err := tx.Session(&gorm.Session{NewDB: true}).Create(row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) { // proposed at the same moment
		return &taken
	}
	return err
}

// orderedSteps are the two sides' steps, From's first (see the package
// comment): own is the acting side's row, ownStep and otherStep its and
// the other side's work.
func orderedSteps(own *partnershipRow, ownStep, otherStep func(tx *gorm.DB) error) []tenants.TenantStep {
	a := tenants.TenantStep{Tenant: own.TenantID, Fn: ownStep}
	b := tenants.TenantStep{Tenant: own.PartnerTenantID, Fn: otherStep}
	if own.FromTenantID != own.TenantID {
		a, b = b, a
	}
	return []tenants.TenantStep{a, b}
}

// notifyPartnershipAdmins tells the admins of the transaction's
// organisation (who hold partnerships.write, a fixed row: tenant admins)
// of an event of partnership id: an in-app notification each, and a mail
// to those who gave a contact address. Neither carries more than the
// partnership's id; the page says the rest.
func notifyPartnershipAdmins(tx *gorm.DB, id uuid.UUID, event string) error {
	staff, err := tenants.StaffOf(tx)
	if err != nil {
		return err
	}
	for _, m := range staff {
		if !slices.Contains(m.Roles, tenants.RoleTenantAdmin) {
			continue
		}
		if err := tenants.Tell(tx, m.ID, tenants.Notice{Kind: NoticePartnership, RecordType: RecordTypePartnership,
			RecordID: id, Template: MailPartnership(event), MailIDs: map[string]uuid.UUID{"partnership": id}}); err != nil {
			return err
		}
	}
	return nil
}

// partnershipAs reads partnership id as organisation tenant holds it (no
// visibility check: the caller has just acted on it).
func (s *Service) partnershipAs(ctx context.Context, tenant, id uuid.UUID) (*Partnership, error) {
	var out *Partnership
	err := s.store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		row, err := loadPartnership(tx, id, false, false)
		if err != nil {
			return err
		}
		out, err = partnershipOf(tx, row)
		return err
	})
	return out, err
}

// Partnerships lists the organisation's partnerships the reader may see
// (the package comment above), the most recently changed first.
func (s *Service) Partnerships(ctx context.Context) ([]Partnership, error) {
	p, v, err := partnershipReader(ctx)
	if err != nil {
		return nil, err
	}
	out := []Partnership{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var rows []partnershipRow
		if err := tx.Order("changed_at DESC, id").Find(&rows).Error; err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, r := range rows {
			ids = append(ids, r.FromTenantID, r.ToTenantID)
		}
		if len(ids) == 0 {
			return nil
		}
		orgs, err := organisationsOf(tx, ids)
		if err != nil {
			return err
		}
		for i := range rows {
			if v.sees(&rows[i]) {
				out = append(out, rows[i].partnership(orgs))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Partnership is one partnership of the organisation the reader may see;
// not_found otherwise, like another organisation's.
func (s *Service) Partnership(ctx context.Context, id uuid.UUID) (*Partnership, error) {
	p, v, err := partnershipReader(ctx)
	if err != nil {
		return nil, err
	}
	var out *Partnership
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, err := loadPartnership(tx, id, false, false)
		if err != nil {
			return err
		}
		if !v.sees(row) {
			return errNoPartnership
		}
		out, err = partnershipOf(tx, row)
		return err
	})
	return out, err
}

// DecidePartnership accepts or declines a proposal made to the
// organisation (partnerships.write; only the side that did not propose:
// forbidden for the proposer). Declining needs a reason (reason, at most
// 2000 characters); a partnership no longer proposed: conflict.
func (s *Service) DecidePartnership(ctx context.Context, id uuid.UUID, accept bool, reason string) (*Partnership, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermPartnershipsWrite)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	to, event := PartnershipActive, EventAccepted
	if accept {
		reason = ""
	} else {
		to, event = PartnershipDeclined, EventDeclined
		if why := textProblem(reason, MaxPartnershipReason, false, false); why != "" {
			return nil, homeward.Invalid(map[string]string{"reason": why + ": why the proposal is declined"})
		}
	}
	check := func(row *partnershipRow) error {
		if row.State != PartnershipProposed {
			return partnershipStateConflict(row.State, "decided")
		}
		if row.ProposedByTenant == p.TenantID {
			return homeward.Errorf(homeward.EFORBIDDEN, "your organisation proposed this partnership: the other organisation's admin accepts or declines it")
		}
		return nil
	}
	return s.movePartnership(ctx, p, id, check, to, reason, event, ActionPartnershipDecide)
}

// ChangePartnership suspends (to = PartnershipSuspended), resumes
// (PartnershipActive) or ends (PartnershipEnded, final) a partnership;
// either side (partnerships.write); a reason is required to suspend or end
// (reason). Suspending needs an active partnership, resuming a suspended
// one; ending a proposed, active or suspended one (a proposal ended is
// withdrawn); any other move: conflict.
func (s *Service) ChangePartnership(ctx context.Context, id uuid.UUID, to, reason string) (*Partnership, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermPartnershipsWrite)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	var from []string
	var event string
	switch to {
	case PartnershipSuspended:
		from, event = []string{PartnershipActive}, EventSuspended
	case PartnershipActive:
		from, event = []string{PartnershipSuspended}, EventResumed
	case PartnershipEnded:
		from, event = livePartnershipStates, EventEnded
	default:
		return nil, homeward.Invalid(map[string]string{"state": "suspended, active (to resume) or ended"})
	}
	if why := textProblem(reason, MaxPartnershipReason, to == PartnershipActive, false); why != "" {
		return nil, homeward.Invalid(map[string]string{"reason": why + ": why the partnership is " + to})
	}
	check := func(row *partnershipRow) error {
		if !slices.Contains(from, row.State) {
			return partnershipStateConflict(row.State, to)
		}
		return nil
	}
	return s.movePartnership(ctx, p, id, check, to, reason, event, ActionPartnershipChange)
}

// partnershipStateConflict is the conflict of a move the partnership's
// state does not allow.
func partnershipStateConflict(state, move string) error {
	msg := fmt.Sprintf("the partnership is %s: it cannot be %s", state, move)
	return &homeward.Error{Code: homeward.ECONFLICT, Message: msg, Fields: map[string]string{"state": msg}}
}

// movePartnership moves both copies of partnership id to state to, in one
// transaction: the first copy read (From's) is locked and checked (check,
// which judges the move for organisation p acts for), the second must
// agree with it; both get the new state, reason and version; each side
// audits (action, purpose event), and the other side's admins are told.
func (s *Service) movePartnership(ctx context.Context, p *tenants.Principal, id uuid.UUID, check func(*partnershipRow) error,
	to, reason, event, action string) (*Partnership, error) {
	// Which organisation is the other side, and which goes first.
	var own *partnershipRow
	err := s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) (err error) {
		own, err = loadPartnership(tx, id, false, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := pshipStamp(s.now())
	var first *partnershipRow // the copy read first, checked
	move := func(acting bool) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			if !acting {
				tx = tenants.AsPartner(tx, p.TenantID)
			}
			row, err := loadPartnership(tx, id, true, false)
			if err != nil {
				if !acting && errors.Is(err, errNoPartnership) {
					return fmt.Errorf("handoffs: partnership %s: the other side holds no copy", id)
				}
				return err
			}
			if first == nil {
				if err := check(row); err != nil {
					return err
				}
				first = row
			} else if row.State != first.State || row.Version != first.Version {
				return fmt.Errorf("handoffs: partnership %s: the two copies disagree (%s v%d, %s v%d)", id,
					first.State, first.Version, row.State, row.Version)
			}
			updates := map[string]any{"state": to, "state_reason": reason, "changed_at": now, "version": row.Version + 1}
			if row.State == PartnershipProposed {
				updates["decided_at"] = now
			}
			res := tx.Session(&gorm.Session{NewDB: true}).Model(&partnershipRow{}).
				Where("id = ? AND version = ?", id, row.Version).Updates(updates)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return homeward.Errorf(homeward.ECONFLICT, "the partnership changed meanwhile: read it again")
			}
			if err := tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: RecordTypePartnership, RecordID: id,
				Purpose: event}); err != nil {
				return err
			}
			if acting {
				return nil
			}
			return notifyPartnershipAdmins(tx, id, event)
		}
	}
	steps := orderedSteps(own, move(true), move(false))
	firstStep := steps[0].Fn
	steps[0].Fn = func(tx *gorm.DB) error {
		first = nil // a run again after a deadlock reads afresh
		return firstStep(tx)
	}
	if err := s.across(ctx, steps...); err != nil {
		return nil, err
	}
	return s.partnershipAs(ctx, p.TenantID, id)
}

// PartnerStatistics is the partner's anonymised statistics CSV (k = 11,
// the table of cases.Statistics: only cases with the statistics consent,
// every row under 11 cases dropped), for the organisation the partnership
// brings them to: To of a statistics partnership, From of a handoff
// partnership with statistics back (statistics.read; another organisation
// or one that does not receive them: forbidden), while the partnership is
// active (else conflict). Audited in both chains: partnership.statistics
// here, statistics.export in the partner's as tenants.PartnerActor.
func (s *Service) PartnerStatistics(ctx context.Context, id uuid.UUID) ([]byte, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermStatisticsRead)
	if err != nil {
		return nil, err
	}
	var own *partnershipRow
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) (err error) {
		own, err = loadPartnership(tx, id, false, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	usable := func(row *partnershipRow) error {
		if row.State != PartnershipActive {
			return partnershipStateConflict(row.State, "read for statistics")
		}
		return nil
	}
	if !own.bringsStatistics() {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "this partnership brings no statistics to your organisation")
	}
	if err := usable(own); err != nil {
		return nil, err
	}
	var csv []byte
	side := func(acting bool) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			if !acting {
				tx = tenants.AsPartner(tx, p.TenantID)
			}
			row, err := loadPartnership(tx, id, true, true)
			if err != nil {
				return err
			}
			if err := usable(row); err != nil {
				return err
			}
			if acting {
				return tenants.Audit(tx, tenants.AuditEntry{Action: ActionPartnershipStatistics, RecordType: RecordTypePartnership,
					RecordID: id, Purpose: string(cases.PurposeStatistics)})
			}
			if csv, err = cases.StatisticsOf(tx); err != nil {
				return err
			}
			return tenants.Audit(tx, tenants.AuditEntry{Action: "statistics.export", RecordType: RecordTypePartnership, RecordID: id,
				FieldGroups: []string{tenants.FieldGroupCore, tenants.FieldGroupIdentity}, Purpose: string(cases.PurposeStatistics)})
		}
	}
	if err := s.across(ctx, orderedSteps(own, side(true), side(false))...); err != nil {
		return nil, err
	}
	return csv, nil
}

// demoPartnership is one of the demo's partnerships.
type demoPartnership struct {
	from, to       string // slugs
	purpose        string
	groups         []string
	documents      bool
	stallDays      int
	statisticsBack bool
	agreementRef   string
}

// DemoPartnerships are the demo's partnerships, active from the start:
// the two demo partners send handoffs to AFESIP Laos (identity, family,
// legal and their documents; AFESIP Laos shares its statistics back), and
// AFESIP Laos shares its statistics with its headquarters.
var demoPartnerships = []demoPartnership{
	{from: "demo-partner-th", to: "afesip-laos", purpose: PurposeHandoffs,
		groups:    []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily, tenants.FieldGroupLegal},
		documents: true, stallDays: 14, statisticsBack: true, agreementRef: "DEMO-DSA-TH-LA-2024 (demo data)"},
	{from: "demo-partner-my", to: "afesip-laos", purpose: PurposeHandoffs,
		groups:    []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily, tenants.FieldGroupLegal},
		documents: true, stallDays: 14, statisticsBack: true, agreementRef: "DEMO-DSA-MY-LA-2024 (demo data)"},
	{from: "afesip-laos", to: "afesip-france", purpose: PurposeStatistics, stallDays: DefaultStallDays,
		agreementRef: "DEMO-STATS-LA-FR-2024 (demo data)"},
}

// SeedDemoPartnerships adds the demo partnerships (demo-partner-th →
// afesip-laos, demo-partner-my → afesip-laos, statistics afesip-laos →
// afesip-france) when missing; it returns how many it added. A pair that
// has had a partnership for the purpose and direction, in any state, gets
// none (running it again adds nothing); one whose organisations are not
// there is skipped. Both copies are written as the system and audited.
func (s *Service) SeedDemoPartnerships(ctx context.Context) (int, error) {
	added := 0
	for _, d := range demoPartnerships {
		from, err := s.store.TenantBySlug(ctx, d.from)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			continue
		}
		if err != nil {
			return added, err
		}
		to, err := s.store.TenantBySlug(ctx, d.to)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			continue
		}
		if err != nil {
			return added, err
		}
		var had int64
		err = s.store.InTenant(ctx, from.ID, func(tx *gorm.DB) error {
			return tx.Model(&partnershipRow{}).Where("purpose = ? AND from_tenant_id = ? AND to_tenant_id = ?", d.purpose,
				from.ID, to.ID).Count(&had).Error
		})
		if err != nil || had > 0 {
			if err != nil {
				return added, err
			}
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return added, err
		}
		now := pshipStamp(s.now())
		row := &partnershipRow{TenantID: from.ID, ID: id, Purpose: d.purpose, FromTenantID: from.ID, ToTenantID: to.ID,
			PartnerTenantID: to.ID, Groups: strings.Join(d.groups, ","), Documents: d.documents, AgreementRef: d.agreementRef,
			StallDays: d.stallDays, StatisticsBack: d.statisticsBack, State: PartnershipActive, ProposedByTenant: from.ID,
			ProposedAt: now, DecidedAt: &now, ChangedAt: now, Version: 1}
		write := func(r *partnershipRow) func(tx *gorm.DB) error {
			return func(tx *gorm.DB) error {
				if err := insertPartnership(tx, r); err != nil {
					return err
				}
				return tenants.Audit(tx, tenants.AuditEntry{Action: ActionPartnershipPropose, RecordType: RecordTypePartnership,
					RecordID: id, FieldGroups: d.groups, Purpose: "demo"})
			}
		}
		sys := tenants.WithActor(ctx, tenants.SystemActor)
		if err := s.across(sys, orderedSteps(row, write(row), write(row.mirror()))...); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}

// activePartnership is the partnership row of tx's organisation with id,
// active and of purpose handoffs, where the organisation is on the side
// sending (sending) or receiving; conflict naming "partnership_id"
// otherwise (none of this organisation, a statistics partnership, the
// other direction, or not active: proposed, suspended, declined, ended).
// The row is read with a share lock (PostgreSQL), so that a suspension
// waits for the handoff work in progress, and that work sees the
// partnership as it stands.
func activePartnership(tx *gorm.DB, id uuid.UUID, sending bool) (*Partnership, error) {
	refuse := func(why string) error {
		return &homeward.Error{Code: homeward.ECONFLICT, Message: why, Fields: map[string]string{"partnership_id": why}}
	}
	row, err := loadPartnership(tx, id, true, true)
	switch {
	case errors.Is(err, errNoPartnership):
		return nil, refuse("no partnership of your organisation has this id")
	case err != nil:
		return nil, err
	case row.Purpose != PurposeHandoffs:
		return nil, refuse("a statistics partnership carries no handoff")
	case sending && row.FromTenantID != row.TenantID:
		return nil, refuse("under this partnership your organisation receives handoffs: it does not send them")
	case !sending && row.ToTenantID != row.TenantID:
		return nil, refuse("under this partnership your organisation sends handoffs: it does not receive them")
	case row.State != PartnershipActive:
		return nil, refuse(fmt.Sprintf("the partnership is %s: no new handoff until it is active", row.State))
	}
	return partnershipOf(tx, row)
}
