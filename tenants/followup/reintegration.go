package followup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// text trims s and checks it is valid text of at most max characters
// (required: at least one), reporting on fe under field.
func text(fe homeward.FieldErrors, field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s) || n > max:
		fe.Add(field, fmt.Sprintf("at most %d characters of text", max))
	case required && n == 0:
		fe.Add(field, "required")
	}
	return s
}

// date checks a YYYY-MM-DD date from notBefore (if set) to notAfter,
// reporting on fe under field.
func date(fe homeward.FieldErrors, field, s string, notBefore, notAfter time.Time) {
	d, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		fe.Add(field, "expected a date as YYYY-MM-DD")
	case d.After(notAfter):
		fe.Add(field, "may not lie in the future")
	case !notBefore.IsZero() && d.Before(notBefore):
		fe.Add(field, "may not lie before "+notBefore.Format(time.DateOnly))
	case d.Year() < 1900:
		fe.Add(field, "a date from 1900 on")
	}
}

// openFollowUp opens caseID for p, locked for a write, and checks its
// followup part: forbidden when the case is visible but its follow-up is
// not the member's to read (write false) or write.
func openFollowUp(tx *gorm.DB, p *tenants.Principal, caseID uuid.UUID, write bool) (*cases.Ref, error) {
	ref, err := cases.Open(tx, p, caseID, write)
	if err != nil {
		return nil, err
	}
	return ref, ref.Need(tenants.CaseFollowUp, write)
}

// currentReintegration is the case's open reintegration, or nil.
func currentReintegration(tx *gorm.DB, caseID uuid.UUID) (*reintegrationRow, error) {
	var r reintegrationRow
	err := tx.Where("case_id = ? AND ended_at IS NULL", caseID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// endReintegration ends r's follow-up for reason and cancels its visits
// still planned.
func endReintegration(tx *gorm.DB, r *reintegrationRow, by *uuid.UUID, reason string, now time.Time) error {
	if err := tx.Model(&reintegrationRow{}).Where("id = ? AND ended_at IS NULL", r.ID).
		Updates(map[string]any{"ended_at": now, "ended_by": by, "end_reason": reason}).Error; err != nil {
		return err
	}
	return tx.Model(&visitRow{}).Where("reintegration_id = ? AND status = ?", r.ID, VisitPlanned).
		Update("status", VisitCancelled).Error
}

// Reintegrate records that the survivor of a case at shelter went back to
// her family, her home village or a city (write access to the case's
// follow-up; a standing services consent: the follow-up is a service). In
// one transaction the case moves to reintegrated, the follow-up schedule
// is asked for (a followup:schedule job, GenerateSchedule) and the action
// is audited followup.reintegrate. A case that was reintegrated before and
// came back to a shelter starts a new follow-up; the old one ends and its
// planned visits are cancelled.
func (s *Service) Reintegrate(ctx context.Context, caseID uuid.UUID, nr NewReintegration) (*Reintegration, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if !slices.Contains(Destinations, nr.Destination) {
		fe.Add("destination", "one of "+strings.Join(Destinations, ", "))
	}
	place := text(fe, "place", nr.Place, maxPlace, true)
	note := text(fe, "note", nr.Note, maxText, false)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Reintegration
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := openFollowUp(tx, p, caseID, true)
		if err != nil {
			return err
		}
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		if date(fe, "date", nr.Date, time.Time{}, day); fe.Err() != nil {
			return fe.Err()
		}
		if ref.Stage != cases.StageShelter {
			return homeward.Errorf(homeward.ECONFLICT, "a case at %s cannot be reintegrated: only a case at shelter", ref.Stage)
		}
		consented, err := cases.Consented(tx, caseID, cases.PurposeServices)
		if err != nil {
			return err
		}
		if !consented {
			return homeward.Errorf(homeward.ECONFLICT, "the case has no standing services consent: record it before the reintegration")
		}
		if old, err := currentReintegration(tx, caseID); err != nil {
			return err
		} else if old != nil {
			if err := endReintegration(tx, old, p.Actor.MemberID, EndReintegratedAgain, now); err != nil {
				return err
			}
		}
		row := reintegrationRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID, Destination: nr.Destination,
			ReintegratedOn: nr.Date, Place: tenants.NewSecret(place), Note: tenants.NewSecret(note),
			RecordedBy: p.Actor.MemberID, RecordedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := cases.MoveStage(tx, caseID, cases.StageReintegrated, "", now); err != nil {
			return err
		}
		if _, err := tenants.Enqueue(tx, tenants.Job{Kind: KindSchedule, IDs: map[string]uuid.UUID{"reintegration": row.ID}}); err != nil {
			return err
		}
		out = row.reintegration()
		return audit(tx, ActionReintegrate, caseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Overview is a case's follow-up (read access to it): the latest
// reintegration and every visit, audited followup.read.
func (s *Service) Overview(ctx context.Context, caseID uuid.UUID) (*Overview, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *Overview
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := openFollowUp(tx, p, caseID, false)
		if err != nil {
			return err
		}
		out = &Overview{CaseID: ref.ID, Reference: ref.Reference, Stage: ref.Stage, Visits: []Visit{},
			CanWrite: ref.CanWrite(tenants.CaseFollowUp),
			CanClose: ref.CanWrite(tenants.CaseFollowUp) && ref.CanWrite(tenants.FieldGroupCore)}
		var rs []reintegrationRow
		if err := tx.Where("case_id = ?", caseID).Order("recorded_at DESC, id DESC").Limit(1).Find(&rs).Error; err != nil {
			return err
		}
		if len(rs) > 0 {
			out.Reintegration = rs[0].reintegration()
		}
		var vs []visitRow
		if err := tx.Where("case_id = ?", caseID).Order("due_on, seq, id").Find(&vs).Error; err != nil {
			return err
		}
		for i := range vs {
			out.Visits = append(out.Visits, vs[i].visit(ref.Number))
		}
		return audit(tx, ActionRead, caseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Close ends the follow-up of a reintegrated case and closes the case
// with reason (its cas_ReasonForCaseClosure): write access to the case's
// follow-up and to its core, since closing writes the core's stage and
// closure reason. In one transaction the case moves to closed, the
// reintegration ends and the visits still planned are cancelled; audited
// followup.close. It returns the reintegration ended: nil for a case moved
// to reintegrated by hand (cases.Update), which has none and is closed all
// the same.
func (s *Service) Close(ctx context.Context, caseID uuid.UUID, reason string) (*Reintegration, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	reason = text(fe, "reason", reason, maxReason, true)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Reintegration
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := openFollowUp(tx, p, caseID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.FieldGroupCore, true); err != nil {
			return err
		}
		if ref.Stage != cases.StageReintegrated {
			return homeward.Errorf(homeward.ECONFLICT, "a case at %s has no follow-up to close", ref.Stage)
		}
		if err := cases.MoveStage(tx, caseID, cases.StageClosed, reason, now); err != nil {
			if homeward.ErrorCode(err) == homeward.EINVALID {
				return homeward.Invalid(map[string]string{"reason": "at most 2000 characters of text"})
			}
			return err
		}
		r, err := currentReintegration(tx, caseID)
		if err != nil {
			return err
		}
		if r != nil {
			if err := endReintegration(tx, r, p.Actor.MemberID, EndClosed, now); err != nil {
				return err
			}
			ended := EndClosed
			r.EndedAt, r.EndedBy, r.EndReason = &now, p.Actor.MemberID, &ended
			out = r.reintegration()
		}
		return audit(tx, ActionClose, caseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
