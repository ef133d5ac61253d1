package handoffs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
)

// prepare reads the principal's row of handoff id for a change: visible,
// on side (else forbidden: the other organisation's to do), allowed by
// may (else forbidden).
func (s *Service) prepare(ctx context.Context, id uuid.UUID, side string, may func(access) bool, what string) (*tenants.Principal, *handoffRow, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	var row *handoffRow
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		r, a, err := visible(tx, p, id, false, false)
		if err != nil {
			return err
		}
		if side != "" && r.Side != side {
			return homeward.Errorf(homeward.EFORBIDDEN, "only the %s organisation may %s this handoff", side, what)
		}
		if !may(a) {
			return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow you to %s this handoff", what)
		}
		row = r
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p, row, nil
}

// stateConflict is the answer to a change the handoff's state does not
// allow.
func stateConflict(row *handoffRow, what string) error {
	return &homeward.Error{Code: homeward.ECONFLICT, Message: "this handoff is " + row.State + ": it cannot be " + what,
		Fields: map[string]string{"state": row.State}}
}

// Accept accepts an incoming handoff (handoff.inbox): the receiver's case,
// with the documents received so far as its own (adoptDocuments).
func (s *Service) Accept(ctx context.Context, id uuid.UUID) (*Handoff, error) {
	p, own, err := s.prepare(ctx, id, SideReceiver, func(a access) bool { return a.inbox }, "accept")
	if err != nil {
		return nil, err
	}
	if own.State != StateSent {
		return nil, stateConflict(own, "accepted")
	}
	now := stamp(s.now())
	var out *Handoff
	err = s.mirror(ctx, own, nil, func(tx *gorm.DB, row *handoffRow) error {
		var share shareRow
		if err := tx.Where("id = ?", id).Take(&share).Error; err != nil {
			return err
		}
		values := map[string]any{}
		if text := share.Content.Text(); text != "" {
			if err := json.Unmarshal([]byte(text), &values); err != nil {
				return err
			}
		}
		partner, err := organisationOf(tx, row.PartnerTenantID)
		if err != nil {
			return err
		}
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		if _, ok := cases.Lookup("cas_ReferringOrganisation"); ok {
			values["cas_ReferringOrganisation"] = partner.Name
		}
		if _, ok := cases.Lookup("cas_IncomingReferralDate"); ok {
			values["cas_IncomingReferralDate"] = day.Format(time.DateOnly)
		}
		c, err := s.cases.CreateIn(tx, p, cases.NewCase{Values: values}, cases.CreateOptions{AnyGroup: true})
		if err != nil {
			return err
		}
		if err := shelters.RecordReferral(tx, c.ID, shelters.SourcePartnerHandoff); err != nil {
			return err
		}
		row.CaseID, row.State, row.DecidedAt = &c.ID, StateAccepted, &now
		if err := save(tx, row, map[string]any{"case_id": c.ID, "state": StateAccepted, "decided_at": now}, now); err != nil {
			return err
		}
		if err := s.adoptDocuments(tx, row); err != nil {
			return err
		}
		if err := audit(tx, ActionAccept, id, unlist(row.Groups)); err != nil {
			return err
		}
		out, err = s.view(tx, p, row, false)
		return err
	}, func(tx *gorm.DB, row *handoffRow) error {
		row.State, row.DecidedAt = StateAccepted, &now
		if err := save(tx, row, map[string]any{"state": StateAccepted, "decided_at": now}, now); err != nil {
			return err
		}
		if err := audit(tx, ActionAccept, id, nil); err != nil {
			return err
		}
		_, err := notice(tx, row, NoticeAccepted)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Decline declines an incoming handoff with a reason (handoff.inbox).
func (s *Service) Decline(ctx context.Context, id uuid.UUID, reason string) (*Handoff, error) {
	fe := homeward.FieldErrors{}
	reason = checkText(fe, "reason", reason, maxReason, true)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	p, own, err := s.prepare(ctx, id, SideReceiver, func(a access) bool { return a.inbox }, "decline")
	if err != nil {
		return nil, err
	}
	if own.State != StateSent {
		return nil, stateConflict(own, "declined")
	}
	now := stamp(s.now())
	changes := func() map[string]any {
		return map[string]any{"state": StateDeclined, "decided_at": now, "decline_reason": tenants.NewSecret(reason)}
	}
	var out *Handoff
	err = s.mirror(ctx, own, nil, func(tx *gorm.DB, row *handoffRow) error {
		// The receiver keeps nothing of what it declined: the shared copy
		// and the documents go (the reason and the timeline stay).
		if err := tx.Where("id = ?", id).Delete(&shareRow{}).Error; err != nil {
			return err
		}
		if err := dropDocuments(tx, id); err != nil {
			return err
		}
		if err := save(tx, row, changes(), now); err != nil {
			return err
		}
		row.State, row.DecidedAt, row.DeclineReason = StateDeclined, &now, tenants.NewSecret(reason)
		if err := audit(tx, ActionDecline, id, nil); err != nil {
			return err
		}
		out, err = s.view(tx, p, row, false)
		return err
	}, func(tx *gorm.DB, row *handoffRow) error {
		if err := save(tx, row, changes(), now); err != nil {
			return err
		}
		if err := audit(tx, ActionDecline, id, nil); err != nil {
			return err
		}
		_, err := notice(tx, row, NoticeDeclined)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Withdraw withdraws an outgoing handoff before acceptance (the shared copy
// is shredded), or stops sharing further updates after it.
func (s *Service) Withdraw(ctx context.Context, id uuid.UUID, reason string) (*Handoff, error) {
	fe := homeward.FieldErrors{}
	reason = checkText(fe, "reason", reason, maxReason, true)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	p, own, err := s.prepare(ctx, id, SideSender, func(a access) bool { return a.write }, "withdraw")
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out *Handoff
	switch own.State {
	case StateAwaitingOverride:
		// Nothing has left: the sender's rows alone.
		err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
			row, err := loadHandoff(tx, id, true, true)
			if err != nil {
				return err
			}
			if row.Version != own.Version {
				return errChanged
			}
			if err := save(tx, row, map[string]any{"state": StateWithdrawn, "withdrawn_at": now,
				"withdraw_reason": tenants.NewSecret(reason)}, now); err != nil {
				return err
			}
			row.State, row.WithdrawnAt = StateWithdrawn, &now
			if err := audit(tx, ActionWithdraw, id, nil); err != nil {
				return err
			}
			out, err = s.view(tx, p, row, false)
			return err
		})
	case StateSent:
		err = s.mirror(ctx, own, nil, func(tx *gorm.DB, row *handoffRow) error {
			if err := save(tx, row, map[string]any{"state": StateWithdrawn, "withdrawn_at": now,
				"withdraw_reason": tenants.NewSecret(reason)}, now); err != nil {
				return err
			}
			row.State, row.WithdrawnAt = StateWithdrawn, &now
			if err := audit(tx, ActionWithdraw, id, nil); err != nil {
				return err
			}
			out, err = s.view(tx, p, row, false)
			return err
		}, func(tx *gorm.DB, row *handoffRow) error {
			return s.shredReceived(tx, row, now)
		})
	case StateAccepted, StateCompleted:
		if own.SharingStoppedAt != nil {
			return nil, &homeward.Error{Code: homeward.ECONFLICT, Message: "sharing has stopped already",
				Fields: map[string]string{"state": own.State}}
		}
		err = s.mirror(ctx, own, nil, func(tx *gorm.DB, row *handoffRow) error {
			if err := save(tx, row, map[string]any{"sharing_stopped_at": now,
				"withdraw_reason": tenants.NewSecret(reason)}, now); err != nil {
				return err
			}
			row.SharingStoppedAt = &now
			if err := audit(tx, ActionStopSharing, id, nil); err != nil {
				return err
			}
			out, err = s.view(tx, p, row, false)
			return err
		}, func(tx *gorm.DB, row *handoffRow) error {
			if err := save(tx, row, map[string]any{"sharing_stopped_at": now}, now); err != nil {
				return err
			}
			if err := audit(tx, ActionStopSharing, id, nil); err != nil {
				return err
			}
			_, err := notice(tx, row, NoticeSharingStopped)
			return err
		})
	default:
		return nil, stateConflict(own, "withdrawn")
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// shredReceived is the receiver's side of a withdrawal before acceptance:
// the copies of the documents deleted, the shared copy, timeline and
// thread removed, the receiver's handoff data key shredded (nothing it
// encrypted can be read again, here or in a later backup), and the row
// left with its state, reference and dates.
func (s *Service) shredReceived(tx *gorm.DB, row *handoffRow, now time.Time) error {
	id := row.ID
	if err := dropDocuments(tx, id); err != nil {
		return err
	}
	for _, m := range []any{&shareRow{}, &stageEntryRow{}, &messageRow{}} {
		q := tx.Session(&gorm.Session{NewDB: true})
		if _, ok := m.(*shareRow); ok {
			q = q.Where("id = ?", id)
		} else {
			q = q.Where("handoff_id = ?", id)
		}
		if err := q.Delete(m).Error; err != nil {
			return err
		}
	}
	if err := save(tx, row, map[string]any{"state": StateWithdrawn, "withdrawn_at": now, "fields": "", "groups": "",
		"decline_reason": nil}, now); err != nil {
		return err
	}
	if err := tenants.Shred(tx, id); err != nil {
		return err
	}
	if err := audit(tx, ActionWithdraw, id, nil); err != nil {
		return err
	}
	_, err := notice(tx, row, NoticeWithdrawn)
	return err
}
