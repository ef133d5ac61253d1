package handoffs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// stageProblem is a conflict naming "stage": the change is out of order.
func stageProblem(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &homeward.Error{Code: homeward.ECONFLICT, Message: msg, Fields: map[string]string{"stage": msg}}
}

// consentProblem is the conflict of a sending operation on a handoff
// whose sharing consent has been withdrawn: nothing more leaves.
var consentProblem = &homeward.Error{Code: homeward.ECONFLICT,
	Message: "the case's sharing consent was withdrawn: nothing more is shared with the partner",
	Fields:  map[string]string{"consent": "the sharing consent was withdrawn"}}

// checkChange checks a stage change's own input, naming each bad field.
func checkChange(ch *StageChange) (StageInfo, error) {
	fe := homeward.FieldErrors{}
	i := stageIndex(ch.Stage)
	if i < 0 {
		fe.Add("stage", "one of the handoff's stages: identification, interview, tracing_request, tracing_result, travel_documents, return_plan, handover, transit_centre, admission, feedback")
	}
	if !slices.Contains([]string{ActionDone, ActionConfirm, ActionReopen}, ch.Action) {
		fe.Add("action", "done, confirm or reopen")
	}
	ch.Note = checkText(fe, "note", ch.Note, maxNote, false)
	ch.Reason = checkText(fe, "reason", ch.Reason, maxReason, ch.Action == ActionReopen)
	if len(ch.Documents) > maxDocuments {
		fe.Add("documents", fmt.Sprintf("at most %d documents", maxDocuments))
	}
	if err := fe.Err(); err != nil {
		return StageInfo{}, err
	}
	return Stages[i], nil
}

// order checks that side may make change ch to row now: the side that owns
// the stage records and reopens it, the other confirms it; a stage is
// recorded right after the one before it (confirmed where the table says
// so), confirmed while it is the last one, reopened once recorded (never
// back over an admission already done). It returns the stage and
// confirmation the row moves to.
func order(row *handoffRow, info StageInfo, action string) (*string, bool, error) {
	cur := stageIndex(row.stageOf())
	idx := stageIndex(info.Stage)
	admission := stageIndex(StageAdmission)
	switch action {
	case ActionDone, ActionReopen:
		if info.Owner != row.Side {
			return nil, false, homeward.Errorf(homeward.EFORBIDDEN, "the %s organisation records the %s stage", info.Owner, info.Stage)
		}
	case ActionConfirm:
		if !info.Confirm {
			return nil, false, stageProblem("the %s stage needs no confirmation", info.Stage)
		}
		if info.Owner == row.Side {
			return nil, false, homeward.Errorf(homeward.EFORBIDDEN, "the %s organisation confirms the %s stage", other(info.Owner), info.Stage)
		}
	}
	switch action {
	case ActionDone:
		switch {
		case idx <= cur:
			return nil, false, stageProblem("the %s stage is recorded already: reopen it to record it again", info.Stage)
		case idx > cur+1:
			return nil, false, stageProblem("record the %s stage first", Stages[cur+1].Stage)
		case cur >= 0 && Stages[cur].Confirm && !row.Confirmed:
			return nil, false, stageProblem("the %s stage waits for the %s organisation's confirmation", Stages[cur].Stage, other(Stages[cur].Owner))
		case info.Stage == StageAdmission && row.State != StateAccepted:
			return nil, false, stageProblem("accept the handoff before recording the admission")
		}
		st := string(info.Stage)
		return &st, false, nil
	case ActionConfirm:
		if idx != cur || row.Confirmed {
			return nil, false, stageProblem("the %s stage is not waiting for a confirmation", info.Stage)
		}
		st := string(info.Stage)
		return &st, true, nil
	default: // reopen
		switch {
		case idx > cur:
			return nil, false, stageProblem("the %s stage is not recorded yet: nothing to reopen", info.Stage)
		case cur >= admission && idx <= admission:
			return nil, false, stageProblem("the admission is done: the stages up to it cannot be reopened")
		}
		if idx == 0 {
			return nil, true, nil
		}
		st := string(Stages[idx-1].Stage)
		return &st, true, nil
	}
}

// Advance records a stage (done, confirm, reopen) for this side.
func (s *Service) Advance(ctx context.Context, id uuid.UUID, ch StageChange) (*Handoff, error) {
	info, err := checkChange(&ch)
	if err != nil {
		return nil, err
	}
	p, own, err := s.prepare(ctx, id, "", func(a access) bool { return a.write }, "advance")
	if err != nil {
		return nil, err
	}
	if own.State != StateSent && own.State != StateAccepted {
		return nil, stateConflict(own, "advanced")
	}
	stage, confirmed, err := order(own, info, ch.Action)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	entryID := uuid.Must(uuid.NewV7())
	var (
		out       *Handoff
		docs      []outDoc
		on        string
		noteOut   string // what the other side's copy carries
		reasonOut string
	)
	changes := func() map[string]any {
		c := map[string]any{"stage": stage, "confirmed": confirmed, "stage_changed_at": now}
		if ch.Action == ActionDone && info.Stage == StageFeedback {
			c["state"] = StateCompleted
		}
		return c
	}
	apply := func(row *handoffRow) {
		row.Stage, row.Confirmed, row.StageChangedAt = stage, confirmed, now
		if ch.Action == ActionDone && info.Stage == StageFeedback {
			row.State = StateCompleted
		}
	}
	err = s.mirror(ctx, own, func(tx *gorm.DB) error {
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		if on, err = parseDay("on", ch.On, day); err != nil {
			return err
		}
		noteOut, reasonOut = ch.Note, ch.Reason
		if own.Side == SideSender {
			stopped, err := sharingStopped(tx, own)
			if err != nil {
				return err
			}
			if stopped && own.SharingStoppedAt == nil && (ch.Note != "" || ch.Reason != "" || len(ch.Documents) > 0) {
				return consentProblem
			}
			if stopped {
				if len(ch.Documents) > 0 {
					return &homeward.Error{Code: homeward.ECONFLICT, Message: "sharing has stopped: no document reaches the partner",
						Fields: map[string]string{"documents": "sharing has stopped"}}
				}
				noteOut, reasonOut = "", "" // the note stays the sender's own
			}
		}
		docs, err = s.stageDocs(tx, p, own, ch.Documents)
		return err
	}, func(tx *gorm.DB, row *handoffRow) error {
		entry := stageEntryRow{ID: entryID, HandoffID: id, DataKeyID: id, Stage: string(info.Stage), Action: ch.Action,
			OnDate: on, Note: tenants.NewSecret(ch.Note), Reason: tenants.NewSecret(ch.Reason), BySide: row.Side,
			RecordedBy: p.Actor.MemberID, RecordedAt: now}
		if err := tx.Create(&entry).Error; err != nil {
			return err
		}
		if err := save(tx, row, changes(), now); err != nil {
			return err
		}
		apply(row)
		if err := audit(tx, ActionStage, id, nil); err != nil {
			return err
		}
		out, err = s.view(tx, p, row, false)
		return err
	}, func(tx *gorm.DB, row *handoffRow) error {
		entry := stageEntryRow{ID: entryID, HandoffID: id, DataKeyID: id, Stage: string(info.Stage), Action: ch.Action,
			OnDate: on, Note: tenants.NewSecret(noteOut), Reason: tenants.NewSecret(reasonOut), BySide: own.Side,
			RecordedAt: now}
		if err := tx.Create(&entry).Error; err != nil {
			return err
		}
		st := info.Stage
		if _, err := s.writeDocs(tx, row, docs, &st, nil, now); err != nil {
			return err
		}
		if err := save(tx, row, changes(), now); err != nil {
			return err
		}
		apply(row)
		if ch.Action == ActionDone && info.Stage == StageAdmission && row.Side == SideSender {
			if err := referSenderCase(tx, row, own.TenantID, on, now); err != nil {
				return err
			}
		}
		if err := audit(tx, ActionStage, id, nil); err != nil {
			return err
		}
		_, err := notice(tx, row, NoticeStage)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stageDocs reads the documents a stage change carries from this side's
// case: only once this side has a case, within the partnership's groups
// when it lets documents travel.
func (s *Service) stageDocs(tx *gorm.DB, p *tenants.Principal, row *handoffRow, ids []uuid.UUID) ([]outDoc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if row.CaseID == nil {
		return nil, homeward.Invalid(map[string]string{"documents": "this side has no case yet: accept the handoff first"})
	}
	part, err := activePartnership(tx, row.PartnershipID, row.Side == SideSender)
	if err != nil {
		return nil, err
	}
	ref, err := cases.Open(tx, p, *row.CaseID, false)
	if err != nil {
		return nil, err
	}
	health, err := cases.Consented(tx, ref.ID, cases.PurposeHealthSharing)
	if err != nil {
		return nil, err
	}
	return s.readDocs(tx, ref, ids, part.Groups, part.Documents, health)
}

// referSenderCase is the sender's side of the receiver's admission: the
// sender's case moves to referred (cases.MoveStageWith), recording the
// receiving organisation (cas_ReferredOrganisation) and the day
// (cas_OutgoingReferralDate), audited on the case as the receiver
// organisation's doing. A case that is gone (erased) or has moved on
// (closed, reintegrated) stays as it is.
func referSenderCase(tx *gorm.DB, row *handoffRow, receiver uuid.UUID, on string, now time.Time) error {
	if row.CaseID == nil {
		return nil
	}
	ref, err := cases.RefOf(tx, *row.CaseID)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if ref.Stage != cases.StageIntake && ref.Stage != cases.StageShelter {
		return nil
	}
	partner, err := organisationOf(tx, receiver)
	if err != nil {
		return err
	}
	values := map[string]any{}
	if _, ok := cases.Lookup("cas_ReferredOrganisation"); ok {
		values["cas_ReferredOrganisation"] = partner.Name
	}
	if _, ok := cases.Lookup("cas_OutgoingReferralDate"); ok {
		values["cas_OutgoingReferralDate"] = on
	}
	if err := cases.MoveStageWith(tx, ref.ID, cases.StageReferred, values, now); err != nil {
		return err
	}
	return tenants.Audit(tx, tenants.AuditEntry{Action: cases.ActionUpdate, RecordType: "case", RecordID: ref.ID,
		FieldGroups: []string{tenants.FieldGroupCore}, Purpose: purpose})
}
