package handoffs

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Notices: each event tells the other side (sometimes this one) through
// the outbox, in the transaction of the event: an in-app notification
// (tenants.Notify, kind = the Notice* name, record type "handoff") and,
// to each recipient who gave a contact address (tenants.ContactOf), a mail
// in the contact's language whose template key is the same name
// (web/emails/templates/handoff/...). Both carry the handoff's id only;
// the mail shows its reference (MailReference), never a name or a value.

// recipients are the members of row's side (the transaction's
// organisation) a notice about it goes to, each once, enabled members
// only. Receiver: the members who accept handoffs (handoff.inbox) and,
// once accepted, the receiver case's owner and assigned staff. Sender: the
// member who started it and the sender case's owner and assigned staff.
func recipients(tx *gorm.DB, row *handoffRow) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if row.Side == SideReceiver {
		inbox, err := tenants.MembersWith(tx, tenants.PermHandoffInbox)
		if err != nil {
			return nil, err
		}
		ids = append(ids, inbox...)
	} else if row.StartedBy != nil {
		ids = append(ids, *row.StartedBy)
	}
	if row.CaseID != nil {
		ref, err := cases.RefOf(tx, *row.CaseID)
		switch {
		case homeward.ErrorCode(err) == homeward.ENOTFOUND: // erased: nobody works on it
		case err != nil:
			return nil, err
		default:
			if ref.OwnerID != nil {
				ids = append(ids, *ref.OwnerID)
			}
			ids = append(ids, ref.Assigned...)
		}
	}
	return tenants.MembersHolding(tx, ids)
}

// notice tells row's side (the transaction's organisation) of event kind.
func notice(tx *gorm.DB, row *handoffRow, kind string) (int, error) {
	to, err := recipients(tx, row)
	if err != nil {
		return 0, err
	}
	return len(to), noticeTo(tx, row.ID, kind, to)
}

// noticeTo asks for kind's notification and mail about handoff id to each
// of members.
func noticeTo(tx *gorm.DB, id uuid.UUID, kind string, members []uuid.UUID) error {
	for _, m := range members {
		if err := tenants.Tell(tx, m, tenants.Notice{Kind: kind, RecordType: RecordType, RecordID: id,
			Template: kind, MailIDs: map[string]uuid.UUID{"handoff": id}}); err != nil {
			return err
		}
	}
	return nil
}

// MailReference is what a handoff mail shows beyond the organisation: the
// handoff's reference ("H-00001"), read by the mail's ids["handoff"] in
// the send's transaction (the mail worker's: workers.mailDetails fills
// emails.Data.CaseReference with it).
func MailReference(tx *gorm.DB, ids map[string]uuid.UUID) (string, error) {
	row, err := loadHandoff(tx, ids["handoff"], false, false)
	if err != nil {
		return "", err
	}
	return Reference(row.Number), nil
}

// nextStep is what the handoff waits for and which side owes it: the
// confirmation of the last stage when it needs one, else the next stage
// (admission also needs the handoff accepted); "" when nothing is owed
// (the last stage is done).
func nextStep(row *handoffRow) (Stage, string) {
	cur := stageIndex(row.stageOf())
	if cur >= 0 && Stages[cur].Confirm && !row.Confirmed {
		return Stages[cur].Stage, other(Stages[cur].Owner)
	}
	if cur+1 >= len(Stages) {
		return "", ""
	}
	next := Stages[cur+1]
	return next.Stage, next.Owner
}

// other is the other side.
func other(side string) string {
	if side == SideSender {
		return SideReceiver
	}
	return SideSender
}

// RemindStalled is the work of an organisation's daily stall job
// (JobStalled): for each live handoff of the organisation whose next step
// is this side's and whose stage has not changed for the partnership's
// stall days, it writes a reminder row and tells this side's recipients
// (NoticeStalled, in-app and mail). Once per stall: the row is unique per
// (handoff, stage, the time the stage last changed) and inserted with ON
// CONFLICT DO NOTHING; the notices are written only by the insert that
// took, in the same transaction. A stage that moves, and stalls again, is
// a new stall. It returns how many reminders it wrote.
func (s *Service) RemindStalled(ctx context.Context, tenantID uuid.UUID) (int, error) {
	now := stamp(s.now())
	written := 0
	ctx = tenants.WithActor(ctx, tenants.SystemActor)
	err := s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		var rows []handoffRow
		if err := tx.Select(clearHandoffColumns).Where("state IN ?", []string{StateSent, StateAccepted}).
			Order("stage_changed_at, id").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			row := &rows[i]
			stage, owes := nextStep(row)
			if owes != row.Side || now.Before(row.StageChangedAt.Add(time.Duration(row.StallDays)*24*time.Hour)) {
				continue
			}
			// The receiver's inbox owes acceptance first: stages 3b and 7
			// may come before it, admission may not.
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&reminderRow{ID: uuid.Must(uuid.NewV7()),
				HandoffID: row.ID, Stage: string(stage), StageChangedAt: stamp(row.StageChangedAt), CreatedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue // reminded of this stall already
			}
			n, err := notice(tx, row, NoticeStalled)
			if err != nil {
				return err
			}
			if err := tx.Model(&reminderRow{}).Where("handoff_id = ? AND stage = ? AND stage_changed_at = ?",
				row.ID, string(stage), stamp(row.StageChangedAt)).Update("recipients", n).Error; err != nil {
				return err
			}
			written++
		}
		return nil
	})
	return written, err
}

// errStop ends a step early without an error to report.
var errStop = errors.New("handoffs: nothing to do")

// overrideApprovers are the sender's members who may approve an override
// of requester's.
func overrideApprovers(tx *gorm.DB, requester *uuid.UUID) ([]uuid.UUID, error) {
	ids, err := tenants.MembersWith(tx, tenants.PermHandoffOverrideApprove)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ids, func(id uuid.UUID) bool { return requester != nil && id == *requester }), nil
}
