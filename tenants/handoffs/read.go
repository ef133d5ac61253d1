package handoffs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// ActionList is the audit action of a list of handoffs (references,
// states and field names: no value).
const ActionList = "handoff.list"

// organisationOf is the public facts of organisation id.
func organisationOf(tx *gorm.DB, id uuid.UUID) (Organisation, error) {
	orgs, err := organisationsOf(tx, []uuid.UUID{id})
	if err != nil {
		return Organisation{}, err
	}
	o, ok := orgs[id]
	if !ok {
		return Organisation{}, fmt.Errorf("handoffs: no organisation %s", id)
	}
	return o, nil
}

// sharingStopped reports whether the sender's sharing has stopped: stopped
// by hand (both sides know), or, on the sender's side, the case's sharing
// consent withdrawn under a handoff sent on it.
func sharingStopped(tx *gorm.DB, row *handoffRow) (bool, error) {
	if row.SharingStoppedAt != nil {
		return true, nil
	}
	if row.Side != SideSender || row.Basis != BasisConsent || row.CaseID == nil || !live(row.State) {
		return false, nil
	}
	ok, err := cases.Consented(tx, *row.CaseID, cases.PurposeSharing)
	return !ok, err
}

// view is row as p sees it; with details, the timeline, the shared copy
// (receiver) and the override (sender). It returns the field groups of
// the values shown (for the audit).
func (s *Service) view(tx *gorm.DB, p *tenants.Principal, row *handoffRow, details bool) (*Handoff, error) {
	h, _, err := s.viewShown(tx, p, row, details)
	return h, err
}

func (s *Service) viewShown(tx *gorm.DB, p *tenants.Principal, row *handoffRow, details bool) (*Handoff, []string, error) {
	partner, err := organisationOf(tx, row.PartnerTenantID)
	if err != nil {
		return nil, nil, err
	}
	stopped, err := sharingStopped(tx, row)
	if err != nil {
		return nil, nil, err
	}
	h := &Handoff{
		ID: row.ID, Reference: Reference(row.Number), Side: row.Side, PartnershipID: row.PartnershipID,
		Partner: partner, State: row.State, Stage: row.stageOf(), Confirmed: row.Confirmed, CaseID: row.CaseID,
		Fields: unlist(row.Fields), Groups: unlist(row.Groups), Basis: row.Basis, SharingStopped: stopped,
		StartedBy: row.StartedBy, CreatedAt: row.CreatedAt.UTC(), SentAt: utcPtr(row.SentAt),
		DecidedAt: utcPtr(row.DecidedAt), DeclineReason: row.DeclineReason.Text(), WithdrawnAt: utcPtr(row.WithdrawnAt),
		StageChangedAt: row.StageChangedAt.UTC(), Version: row.Version,
	}
	if h.Fields == nil {
		h.Fields = []string{}
	}
	if h.Groups == nil {
		h.Groups = []string{}
	}
	if row.Side == SideSender {
		h.SharingStopped = stopped
	}
	if !details {
		return h, nil, nil
	}
	var entries []stageEntryRow
	if err := tx.Session(&gorm.Session{NewDB: true}).Where("handoff_id = ?", row.ID).
		Order("recorded_at, id").Find(&entries).Error; err != nil {
		return nil, nil, err
	}
	h.Timeline = make([]StageEntry, len(entries))
	for i, e := range entries {
		h.Timeline[i] = StageEntry{ID: e.ID, Stage: Stage(e.Stage), Action: e.Action, On: e.OnDate,
			Note: e.Note.Text(), Reason: e.Reason.Text(), BySide: e.BySide, RecordedBy: e.RecordedBy,
			RecordedAt: e.RecordedAt.UTC()}
	}
	var shown []string
	if row.Side == SideReceiver && (row.State == StateSent || row.State == StateAccepted || row.State == StateCompleted) {
		readable, err := readableGroups(tx, p, row)
		if err != nil {
			return nil, nil, err
		}
		shared := &SharedCopy{Values: map[string]any{}}
		var share shareRow
		err = tx.Session(&gorm.Session{NewDB: true}).Where("id = ?", row.ID).Take(&share).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return nil, nil, err
		default:
			var values map[string]any
			if err := json.Unmarshal([]byte(share.Content.Text()), &values); err != nil && share.Content.Text() != "" {
				return nil, nil, err
			}
			for name, v := range values {
				if f, ok := cases.Lookup(name); ok && slices.Contains(readable, f.Group) {
					shared.Values[name] = v
					if !slices.Contains(shown, f.Group) {
						shown = append(shown, f.Group)
					}
				}
			}
		}
		if shared.Documents, err = sharedDocuments(tx, row.ID, readable); err != nil {
			return nil, nil, err
		}
		for _, d := range shared.Documents {
			if !slices.Contains(shown, d.Group) {
				shown = append(shown, d.Group)
			}
		}
		h.Shared = shared
	}
	if row.Side == SideSender {
		var ov overrideRow
		err := tx.Session(&gorm.Session{NewDB: true}).Where("id = ?", row.ID).Take(&ov).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return nil, nil, err
		default:
			h.Override = &Override{Reason: ov.Reason.Text(), RequestedBy: derefID(ov.RequestedBy),
				RequestedAt: ov.RequestedAt.UTC(), DecidedBy: ov.DecidedBy, DecidedAt: utcPtr(ov.DecidedAt),
				Approved: ov.Approved}
		}
	}
	slices.SortFunc(shown, func(a, b string) int {
		return slices.Index(tenants.FieldGroups, a) - slices.Index(tenants.FieldGroups, b)
	})
	return h, shown, nil
}

func derefID(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

// readableGroups are the groups of the receiver's shared copy p may read:
// before acceptance those it reads on every case of its organisation;
// after it, those it reads on the case created from it (cases.Open).
func readableGroups(tx *gorm.DB, p *tenants.Principal, row *handoffRow) ([]string, error) {
	var out []string
	if row.CaseID == nil {
		for _, g := range SharableGroups {
			if p.CaseScope(g, false) == tenants.ScopeAll {
				out = append(out, g)
			}
		}
		return out, nil
	}
	ref, err := cases.Open(tx, p, *row.CaseID, false)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, g := range SharableGroups {
		if ref.CanRead(g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Get is one handoff with its timeline (and, receiver side, the shared copy).
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Handoff, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *Handoff
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, err := visible(tx, p, id, false, true)
		if err != nil {
			return err
		}
		h, shown, err := s.viewShown(tx, p, row, true)
		if err != nil {
			return err
		}
		out = h
		return audit(tx, ActionRead, id, shown)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// states are the handoff states, for a list's filter.
var states = []string{StateAwaitingOverride, StateOverrideRefused, StateSent, StateAccepted, StateDeclined,
	StateWithdrawn, StateCompleted}

// List lists the organisation's handoffs.
func (s *Service) List(ctx context.Context, q Query) (*Page, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	fe := homeward.FieldErrors{}
	limit := tenants.PageLimit(q.Limit, fe)
	side := ""
	switch q.Box {
	case "":
	case "incoming":
		side = SideReceiver
	case "outgoing":
		side = SideSender
	default:
		fe.Add("box", "incoming or outgoing")
	}
	if q.State != "" && !slices.Contains(states, q.State) {
		fe.Add("state", "one of awaiting_override, override_refused, sent, accepted, declined, withdrawn, completed")
	}
	scope := q.Box + "|" + q.State
	var (
		afterAt  time.Time
		afterID  uuid.UUID
		hasAfter bool
	)
	if q.Cursor != "" {
		if afterAt, afterID, hasAfter = tenants.DecodeKeysetCursor("h1", q.Cursor, scope); !hasAfter {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	page := &Page{Handoffs: []Handoff{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		db := tx.Select(clearHandoffColumns)
		if side != "" {
			db = db.Where("side = ?", side)
		}
		if q.State != "" {
			db = db.Where("state = ?", q.State)
		}
		if reachOf(p) == reachOwn {
			m := uuid.Nil
			if p.Actor.MemberID != nil {
				m = *p.Actor.MemberID
			}
			db = db.Where("case_id IN (?)", cases.LiveCases(tx, &m))
		}
		if hasAfter {
			db = db.Where("updated_at < ? OR (updated_at = ? AND id < ?)", afterAt, afterAt, afterID)
		}
		var rows []handoffRow
		if err := db.Order("updated_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[limit-1]
			page.Next = tenants.EncodeKeysetCursor("h1", last.UpdatedAt, last.ID, scope)
		}
		for i := range rows {
			h, err := s.view(tx, p, &rows[i], false)
			if err != nil {
				return err
			}
			page.Handoffs = append(page.Handoffs, *h)
		}
		return audit(tx, ActionList, uuid.Nil, nil)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}
