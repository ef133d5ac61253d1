package shelters

import (
	"context"
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

// onCase runs fn in the organisation's transaction on caseID opened for
// the principal: not_found unless it may read the case's core, forbidden
// unless it may write it when write is set (the case row then locked, so
// that the checks and the writes of one case do not interleave).
func (s *Service) onCase(ctx context.Context, caseID uuid.UUID, write bool,
	fn func(tx *gorm.DB, p *tenants.Principal, ref *cases.Ref) error) error {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return err
	}
	return s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, write)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.FieldGroupCore, write); err != nil {
			return err
		}
		return fn(tx, p, ref)
	})
}

// audit records an admission action on the case's core.
func audit(tx *gorm.DB, action string, caseID uuid.UUID, purpose string) error {
	return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: recordTypeCase, RecordID: caseID,
		FieldGroups: []string{tenants.FieldGroupCore}, Purpose: purpose})
}

// Admission is a case's admission (core read), audited
// case.admission.read.
func (s *Service) Admission(ctx context.Context, caseID uuid.UUID) (*Admission, error) {
	var out *Admission
	err := s.onCase(ctx, caseID, false, func(tx *gorm.DB, _ *tenants.Principal, ref *cases.Ref) error {
		var err error
		if out, err = state(tx, ref); err != nil {
			return err
		}
		return audit(tx, ActionAdmissionRead, caseID, "")
	})
	return out, err
}

// RecordAcceptance records the girl's acceptance, or her family's or
// guardian's (core write), at intake; each side is recorded once
// (conflict naming it otherwise). Audited case.acceptance.record with who
// accepted.
func (s *Service) RecordAcceptance(ctx context.Context, caseID uuid.UUID, na NewAcceptance) (*Admission, error) {
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if !slices.Contains(AcceptedBy, na.By) {
		fe.Add("accepted_by", "one of "+strings.Join(AcceptedBy, ", "))
	}
	checkDate(fe, "accepted_on", na.On, now)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Admission
	err := s.onCase(ctx, caseID, true, func(tx *gorm.DB, p *tenants.Principal, ref *cases.Ref) error {
		if ref.Stage != cases.StageIntake {
			return homeward.Errorf(homeward.ECONFLICT, "acceptances are recorded at intake; this case is at %s", ref.Stage)
		}
		row, err := admissionFor(tx, caseID, true)
		if err != nil {
			return err
		}
		side, changes := MissingGirl, map[string]any{"girl_accepted_on": na.On, "girl_recorded_by": p.Actor.MemberID,
			"girl_recorded_at": now}
		recorded := row.GirlAcceptedOn != nil
		if na.By != ByGirl {
			side, changes = MissingFamily, map[string]any{"family_accepted_by": na.By, "family_accepted_on": na.On,
				"family_recorded_by": p.Actor.MemberID, "family_recorded_at": now}
			recorded = row.FamilyAcceptedOn != nil
		}
		if recorded {
			return &homeward.Error{Code: homeward.ECONFLICT, Message: "this acceptance is recorded already",
				Fields: map[string]string{side: "recorded already"}}
		}
		if err := tx.Model(&admissionRow{}).Where("case_id = ?", caseID).Updates(changes).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if err := audit(tx, ActionAcceptance, caseID, na.By); err != nil {
			return err
		}
		out, err = state(tx, ref)
		return err
	})
	return out, err
}

// Admit admits a case at intake into a shelter (core write). It is
// refused (conflict, each missing piece named) until both acceptances and
// a standing services consent exist. With a bed for her (more free beds
// than cases waiting ahead of her) she is placed and the case moves to
// shelter, audited case.admit; otherwise she goes on the shelter's
// waiting list, keeping her place if she waits there already, audited
// case.admission.wait, and Admission.Waiting says where she stands.
func (s *Service) Admit(ctx context.Context, caseID uuid.UUID, a Admit) (*Admission, error) {
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if a.ShelterID == uuid.Nil {
		fe.Add("shelter_id", "required: the shelter to admit her into")
	}
	if !slices.Contains(ReferralSources, a.ReferralSource) {
		fe.Add("referral_source", "one of "+strings.Join(ReferralSources, ", "))
	}
	checkDate(fe, "admitted_on", a.AdmittedOn, now)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Admission
	err := s.onCase(ctx, caseID, true, func(tx *gorm.DB, p *tenants.Principal, ref *cases.Ref) error {
		if ref.Stage != cases.StageIntake {
			return homeward.Errorf(homeward.ECONFLICT, "only a case at intake is admitted; this one is at %s", ref.Stage)
		}
		row, err := admissionFor(tx, caseID, true)
		if err != nil {
			return err
		}
		consented, err := cases.Consented(tx, caseID, cases.PurposeServices)
		if err != nil {
			return err
		}
		if missing := missingFor(row, consented); len(missing) > 0 {
			return missingError(missing)
		}
		sh, err := shelterFor(tx, a.ShelterID, true)
		if err != nil {
			return err
		}
		if !sh.Active {
			return homeward.Errorf(homeward.ECONFLICT, "this shelter takes no admissions: it is inactive")
		}
		taken, err := occupancy(tx, []uuid.UUID{sh.ID})
		if err != nil {
			return err
		}
		queue, err := waitingRows(tx, sh.ID)
		if err != nil {
			return err
		}
		ahead := len(queue)
		if pos := position(queue, caseID); pos > 0 {
			ahead = pos - 1
		}
		if sh.Capacity-taken[sh.ID] <= ahead {
			out, err = wait(tx, ref, row, sh, a.ReferralSource, now)
			return err
		}
		if err := tx.Create(&placementRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, ShelterID: sh.ID,
			Arrival: ArrivalAdmission, PlacedOn: a.AdmittedOn, PlacedBy: p.Actor.MemberID, PlacedAt: now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&admissionRow{}).Where("case_id = ?", caseID).Updates(map[string]any{
			"referral_source": a.ReferralSource, "waiting_shelter_id": nil, "waiting_since": nil,
		}).Error; err != nil {
			return err
		}
		if err := cases.MoveStage(tx, caseID, cases.StageShelter, "", now); err != nil {
			return err
		}
		if err := audit(tx, ActionAdmit, caseID, string(cases.PurposeServices)); err != nil {
			return err
		}
		ref.Stage = cases.StageShelter
		out, err = state(tx, ref)
		return err
	})
	return out, err
}

// wait puts the case on sh's waiting list (or keeps its place there).
func wait(tx *gorm.DB, ref *cases.Ref, row *admissionRow, sh *shelterRow, source string, now time.Time) (*Admission, error) {
	since := now
	if row.WaitingShelterID != nil && *row.WaitingShelterID == sh.ID {
		since = *row.WaitingSince
	}
	if err := tx.Model(&admissionRow{}).Where("case_id = ?", ref.ID).Updates(map[string]any{
		"referral_source": source, "waiting_shelter_id": sh.ID, "waiting_since": since,
	}).Error; err != nil {
		return nil, err
	}
	if err := cases.Touch(tx, ref.ID, now); err != nil {
		return nil, err
	}
	if err := audit(tx, ActionWait, ref.ID, string(cases.PurposeServices)); err != nil {
		return nil, err
	}
	return state(tx, ref)
}

// CancelWaiting takes a case off the waiting list it is on (core write;
// conflict when it is on none), audited case.admission.wait_cancel.
func (s *Service) CancelWaiting(ctx context.Context, caseID uuid.UUID) (*Admission, error) {
	now := stamp(s.now())
	var out *Admission
	err := s.onCase(ctx, caseID, true, func(tx *gorm.DB, _ *tenants.Principal, ref *cases.Ref) error {
		row, err := admissionFor(tx, caseID, false)
		if err != nil {
			return err
		}
		if row == nil || row.WaitingShelterID == nil {
			return homeward.Errorf(homeward.ECONFLICT, "this case is on no waiting list")
		}
		if err := tx.Model(&admissionRow{}).Where("case_id = ?", caseID).Updates(map[string]any{
			"waiting_shelter_id": nil, "waiting_since": nil,
		}).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if err := audit(tx, ActionWaitCancel, caseID, ""); err != nil {
			return err
		}
		out, err = state(tx, ref)
		return err
	})
	return out, err
}

// Transfer moves a placed case to another active shelter with a free bed
// (core write), audited case.transfer. A transfer does not queue: a full
// shelter is a conflict.
func (s *Service) Transfer(ctx context.Context, caseID uuid.UUID, t Transfer) (*Admission, error) {
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if t.ShelterID == uuid.Nil {
		fe.Add("shelter_id", "required: the shelter she moves to")
	}
	checkDate(fe, "transferred_on", t.TransferredOn, now)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Admission
	err := s.onCase(ctx, caseID, true, func(tx *gorm.DB, p *tenants.Principal, ref *cases.Ref) error {
		cur, err := currentStay(tx, caseID)
		if err != nil {
			return err
		}
		if cur.ShelterID == t.ShelterID {
			return homeward.Invalid(map[string]string{"shelter_id": "she is in this shelter already"})
		}
		if t.TransferredOn < cur.PlacedOn {
			return homeward.Invalid(map[string]string{"transferred_on": "not before her stay began (" + cur.PlacedOn + ")"})
		}
		sh, err := shelterFor(tx, t.ShelterID, true)
		if err != nil {
			return err
		}
		if !sh.Active {
			return homeward.Errorf(homeward.ECONFLICT, "this shelter takes no transfers: it is inactive")
		}
		taken, err := occupancy(tx, []uuid.UUID{sh.ID})
		if err != nil {
			return err
		}
		if taken[sh.ID] >= sh.Capacity {
			return homeward.Errorf(homeward.ECONFLICT, "this shelter is full: all its %d beds are taken", sh.Capacity)
		}
		if err := endStay(tx, cur, t.TransferredOn, EndTransfer, p, now); err != nil {
			return err
		}
		if err := tx.Create(&placementRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, ShelterID: sh.ID,
			Arrival: ArrivalTransfer, PlacedOn: t.TransferredOn, PlacedBy: p.Actor.MemberID, PlacedAt: now}).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if err := audit(tx, ActionTransfer, caseID, ""); err != nil {
			return err
		}
		out, err = state(tx, ref)
		return err
	})
	return out, err
}

// Discharge ends a placed case's stay (core write), audited
// case.discharge with the reason. The case's stage is left to the feature
// that moves it (reintegration, a referral).
func (s *Service) Discharge(ctx context.Context, caseID uuid.UUID, d Discharge) (*Admission, error) {
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	if !slices.Contains(DischargeReasons, d.Reason) {
		fe.Add("reason", "one of "+strings.Join(DischargeReasons, ", "))
	}
	checkDate(fe, "discharged_on", d.DischargedOn, now)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Admission
	err := s.onCase(ctx, caseID, true, func(tx *gorm.DB, p *tenants.Principal, ref *cases.Ref) error {
		cur, err := currentStay(tx, caseID)
		if err != nil {
			return err
		}
		if d.DischargedOn < cur.PlacedOn {
			return homeward.Invalid(map[string]string{"discharged_on": "not before her stay began (" + cur.PlacedOn + ")"})
		}
		if err := endStay(tx, cur, d.DischargedOn, d.Reason, p, now); err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if err := audit(tx, ActionDischarge, caseID, d.Reason); err != nil {
			return err
		}
		out, err = state(tx, ref)
		return err
	})
	return out, err
}

// admissionFor reads the case's admission file; when create is set, a
// case without one gets an empty one, else nil is returned.
func admissionFor(tx *gorm.DB, caseID uuid.UUID, create bool) (*admissionRow, error) {
	var row admissionRow
	err := tx.Where("case_id = ?", caseID).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) && create:
		row = admissionRow{CaseID: caseID}
		return &row, tx.Create(&row).Error
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &row, nil
}

// RecordReferral records where case caseID was referred from (one of
// ReferralSources) inside tx, the organisation's transaction, for a
// feature that brings a case in (a repatriation handoff accepted:
// SourcePartnerHandoff). The admission form then offers it; a source
// already recorded is kept. The caller authorizes and audits.
func RecordReferral(tx *gorm.DB, caseID uuid.UUID, source string) error {
	if !slices.Contains(ReferralSources, source) {
		return fmt.Errorf("shelters: %q is not a referral source", source)
	}
	row, err := admissionFor(tx, caseID, true)
	if err != nil || row.ReferralSource != nil {
		return err
	}
	return tx.Model(&admissionRow{}).Where("case_id = ? AND referral_source IS NULL", caseID).
		Update("referral_source", source).Error
}

// currentStay is the case's open stay (conflict when she is in no shelter).
func currentStay(tx *gorm.DB, caseID uuid.UUID) (*placementRow, error) {
	var row placementRow
	err := tx.Where("case_id = ? AND ended_on IS NULL", caseID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ECONFLICT, "this case is in no shelter now")
	}
	return &row, err
}

// endStay closes a stay on a date, for a reason.
func endStay(tx *gorm.DB, stay *placementRow, on, reason string, p *tenants.Principal, now time.Time) error {
	return tx.Model(&placementRow{}).Where("id = ? AND ended_on IS NULL", stay.ID).Updates(map[string]any{
		"ended_on": on, "end_reason": reason, "ended_by": p.Actor.MemberID, "ended_at": now,
	}).Error
}

// missingFor is what an admission still needs, in a stable order.
func missingFor(row *admissionRow, consented bool) []string {
	var missing []string
	if row == nil || row.GirlAcceptedOn == nil {
		missing = append(missing, MissingGirl)
	}
	if row == nil || row.FamilyAcceptedOn == nil {
		missing = append(missing, MissingFamily)
	}
	if !consented {
		missing = append(missing, MissingConsent)
	}
	return missing
}

// missingReasons say what each missing piece is.
var missingReasons = map[string]string{
	MissingGirl:    "the girl's acceptance is not recorded",
	MissingFamily:  "her family's or guardian's acceptance is not recorded",
	MissingConsent: "no standing services consent",
}

// missingError refuses an admission, naming what is missing.
func missingError(missing []string) error {
	fields := make(map[string]string, len(missing))
	for _, m := range missing {
		fields[m] = missingReasons[m]
	}
	return &homeward.Error{Code: homeward.ECONFLICT, Message: "admission needs both acceptances and the services consent: " +
		strings.Join(missing, ", ") + " missing", Fields: fields}
}

// checkDate reports on fe what is wrong with the date v of field.
func checkDate(fe homeward.FieldErrors, field, v string, now time.Time) {
	d, err := time.Parse(time.DateOnly, v)
	switch {
	case err != nil:
		fe.Add(field, "expected a date as YYYY-MM-DD")
	case d.After(tenants.LatestToday(now)):
		fe.Add(field, "may not lie in the future")
	case d.Year() < 1900:
		fe.Add(field, "a date from 1900 on")
	}
}

// state is the case's admission as it stands in tx.
func state(tx *gorm.DB, ref *cases.Ref) (*Admission, error) {
	out := &Admission{CaseID: ref.ID, Reference: ref.Reference, Stage: ref.Stage, Placements: []Placement{},
		CanWrite: ref.CanWrite(tenants.FieldGroupCore)}
	row, err := admissionFor(tx, ref.ID, false)
	if err != nil {
		return nil, err
	}
	if out.ServicesConsent, err = cases.Consented(tx, ref.ID, cases.PurposeServices); err != nil {
		return nil, err
	}
	out.Missing = missingFor(row, out.ServicesConsent)
	var stays []placementRow
	if err := tx.Where("case_id = ?", ref.ID).Order("placed_at, id").Find(&stays).Error; err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(stays)+1)
	for _, st := range stays {
		ids = append(ids, st.ShelterID)
	}
	if row != nil && row.WaitingShelterID != nil {
		ids = append(ids, *row.WaitingShelterID)
	}
	names, err := shelterNames(tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range stays {
		out.Placements = append(out.Placements, stays[i].placement(names[stays[i].ShelterID]))
	}
	for i := range out.Placements {
		if out.Placements[i].Current() {
			out.Current = &out.Placements[i]
		}
	}
	if row == nil {
		return out, nil
	}
	if row.ReferralSource != nil {
		out.ReferralSource = *row.ReferralSource
	}
	out.Girl, out.Family = row.girl(), row.family()
	if row.WaitingShelterID != nil && ref.Stage == cases.StageIntake {
		queue, err := waitingRows(tx, *row.WaitingShelterID)
		if err != nil {
			return nil, err
		}
		out.Waiting = &WaitingFor{ShelterID: *row.WaitingShelterID, ShelterName: names[*row.WaitingShelterID],
			Since: row.WaitingSince.UTC(), Position: position(queue, ref.ID)}
	}
	return out, nil
}
