package cases

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
)

// Audit actions of erasure.
const (
	ActionEraseRequest = "case.erase.request"
	ActionEraseCancel  = "case.erase.cancel"
	ActionErase        = "case.erase"
	ActionEraseList    = "case.erase.list"
)

// erasureRow is a row of case_erasures. The requester's identity is kept
// for the two-person rule; the note is encrypted with the case's key and
// dropped when the case is erased.
type erasureRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID           uuid.UUID `gorm:"type:uuid"`
	DataKeyID        uuid.UUID `gorm:"type:uuid"`
	Reason           string
	Note             tenants.Secret
	State            string
	RequestedBy      *uuid.UUID `gorm:"type:uuid"`
	RequesterIssuer  string
	RequesterSubject string
	RequestedAt      time.Time
	DecidedBy        *uuid.UUID `gorm:"type:uuid"`
	DecidedAt        *time.Time
}

func (erasureRow) TableName() string { return "case_erasures" }

func (r *erasureRow) erasure(number int64) Erasure {
	return Erasure{ID: r.ID, CaseID: r.CaseID, Reference: Reference(number), Reason: r.Reason, Note: r.Note.Text(),
		State: r.State, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), DecidedBy: r.DecidedBy,
		DecidedAt: utcPtr(r.DecidedAt)}
}

// requester is the principal who asked, as the two-person rule compares it.
func (r *erasureRow) requester() *tenants.Principal {
	return &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: r.RequesterIssuer,
		Subject: r.RequesterSubject, MemberID: r.RequestedBy}}
}

// RequestErasure asks for a case the requester can see to be erased
// (case.erase.request): a reason of ErasureReasons and an optional note,
// encrypted with the case. One open request per case (conflict otherwise).
// Audited case.erase.request with the reason.
func (s *Service) RequestErasure(ctx context.Context, caseID uuid.UUID, reason, note string) (*Erasure, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermCaseEraseRequest)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	note = strings.TrimSpace(note)
	fe := homeward.FieldErrors{}
	if !slices.Contains(ErasureReasons, reason) {
		fe.Add("reason", "one of "+strings.Join(ErasureReasons, ", "))
	}
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > maxReason {
		fe.Add("note", fmt.Sprintf("at most %d characters of text", maxReason))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out Erasure
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, err := visibleCase(tx, p, caseID, true)
		if err != nil {
			return err
		}
		var open int64
		if err := tx.Model(&erasureRow{}).Where("case_id = ? AND state = ?", caseID, ErasureRequested).
			Count(&open).Error; err != nil {
			return err
		}
		if open > 0 {
			return errOpenErasure
		}
		e := erasureRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: row.DataKeyID, Reason: reason,
			Note: tenants.NewSecret(note), State: ErasureRequested, RequestedBy: p.Actor.MemberID,
			RequesterIssuer: p.Actor.Issuer, RequesterSubject: p.Actor.Subject, RequestedAt: now}
		if err := tx.Create(&e).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) { // a request made at the same moment
				return errOpenErasure
			}
			return err
		}
		out = e.erasure(row.Number)
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionEraseRequest, RecordType: recordType,
			RecordID: caseID, Purpose: reason})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

var errOpenErasure = homeward.Errorf(homeward.ECONFLICT, "an erasure of this case is already waiting for a decision")

// DecideErasure approves or cancels an erasure request. Approving
// (case.erase.approve) needs a second person (tenants.DistinctApprover)
// and, in one transaction, shreds the case's data key, removes its
// blind-index entries and assignments and marks it erased, audited
// case.erase: nothing of the case is readable afterwards, anywhere. The
// requester or an approver may cancel (case.erase.cancel).
func (s *Service) DecideErasure(ctx context.Context, erasureID uuid.UUID, approve bool) (*Erasure, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Can(tenants.PermCaseEraseRequest) && !p.Can(tenants.PermCaseEraseApprove) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow deciding erasures")
	}
	now := stamp(s.now())
	var out Erasure
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var e erasureRow
		err := tx.Where("id = ?", erasureID).Take(&e).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return homeward.Errorf(homeward.ENOTFOUND, "no such erasure request")
		}
		if err != nil {
			return err
		}
		if e.State != ErasureRequested {
			return homeward.Errorf(homeward.ECONFLICT, "this erasure request was already %s", e.State)
		}
		var row caseRow
		if err := tx.Select("tenant_id", "id", "data_key_id", "number", "erased_at", "anonymised_at").
			Where("id = ?", e.CaseID).Take(&row).Error; err != nil {
			return err
		}
		action := ActionEraseCancel
		e.State = ErasureCancelled
		if approve {
			if err := tenants.Authorize(p, tenants.PermCaseEraseApprove); err != nil {
				return err
			}
			if err := tenants.DistinctApprover(e.requester(), p); err != nil {
				return err
			}
			if row.ErasedAt != nil || row.AnonymisedAt != nil {
				return homeward.Errorf(homeward.ECONFLICT, "the case is already erased or anonymised")
			}
			if err := shredCase(tx, &row, "erased_at", now); err != nil {
				return err
			}
			action, e.State, e.Note = ActionErase, ErasureApproved, tenants.Secret{}
		} else {
			own := p.Actor.Issuer == e.RequesterIssuer && p.Actor.Subject == e.RequesterSubject
			if !own && !p.Can(tenants.PermCaseEraseApprove) {
				return homeward.Errorf(homeward.EFORBIDDEN, "only the requester or an approver may cancel this request")
			}
		}
		e.DecidedBy, e.DecidedAt = p.Actor.MemberID, &now
		if err := tx.Model(&erasureRow{}).Where("id = ? AND state = ?", e.ID, ErasureRequested).Updates(map[string]any{
			"state": e.State, "decided_by": e.DecidedBy, "decided_at": now,
		}).Error; err != nil {
			return err
		}
		out = e.erasure(row.Number)
		return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: recordType, RecordID: e.CaseID,
			Purpose: e.Reason})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// shredCase destroys a case's data key (and with it its blind-index
// entries, and everything encrypted with it: values, comments, consent
// reasons, erasure notes, documents), removes its assignments, drops its
// encrypted columns and owner, and sets mark (erased_at or anonymised_at).
// The row keeps its number, stage and dates.
func shredCase(tx *gorm.DB, row *caseRow, mark string, now time.Time) error {
	if err := tenants.Shred(tx, row.DataKeyID); err != nil {
		return err
	}
	if err := tx.Where("case_id = ?", row.ID).Delete(&assignmentRow{}).Error; err != nil {
		return err
	}
	if err := tx.Model(&erasureRow{}).Where("case_id = ?", row.ID).Update("note", nil).Error; err != nil {
		return err
	}
	changes := map[string]any{mark: now, "owner_member_id": nil, "updated_at": now}
	for col := range row.secretColumns() {
		changes[col] = nil
	}
	return tx.Model(&caseRow{}).Where("id = ?", row.ID).Updates(changes).Error
}

// Erasures lists the requests waiting for a decision, oldest first
// (case.erase.request or case.erase.approve), audited case.erase.list.
func (s *Service) Erasures(ctx context.Context) ([]Erasure, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Can(tenants.PermCaseEraseRequest) && !p.Can(tenants.PermCaseEraseApprove) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow seeing erasure requests")
	}
	out := []Erasure{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var rows []erasureRow
		if err := tx.Where("state = ?", ErasureRequested).Order("requested_at, id").Find(&rows).Error; err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.CaseID
		}
		var numbers []caseRow
		if err := tx.Select("tenant_id", "id", "number").Where("id IN ?", ids).Find(&numbers).Error; err != nil {
			return err
		}
		number := map[uuid.UUID]int64{}
		for _, c := range numbers {
			number[c.ID] = c.Number
		}
		for i := range rows {
			out = append(out, rows[i].erasure(number[rows[i].CaseID]))
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionEraseList, RecordType: recordType})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
