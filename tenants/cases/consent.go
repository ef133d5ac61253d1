package cases

import (
	"context"
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

// Audit actions of consent.
const (
	ActionConsentRecord   = "case.consent.record"
	ActionConsentWithdraw = "case.consent.withdraw"
	ActionConsentRead     = "case.consent.read"
)

// maxReason bounds a withdrawal reason, an erasure note.
const maxReason = 2000

// KindConsentWithdrawn is the job WithdrawConsent writes into the outbox in
// its transaction, with the ids "case" and "purpose" (PurposeID): what the
// withdrawal means beyond this package runs from it in the background (a
// withdrawn sharing consent stops the case's repatriation handoffs on both
// sides and tells the partner: tenants/handoffs, through workers). The
// withdrawal itself takes effect at once (Consented).
const KindConsentWithdrawn = "cases:consent_withdrawn"

// purposeNamespace names the ids that carry a purpose through the outbox,
// whose payloads hold ids only.
var purposeNamespace = uuid.MustParse("4d2e7a10-93c5-4b8e-a6f1-0c5b9e3d7f42")

// PurposeID is the id standing for purpose in a job's ids.
func PurposeID(purpose Purpose) uuid.UUID {
	return uuid.NewSHA1(purposeNamespace, []byte("purpose:"+string(purpose)))
}

// PurposeOfID is the purpose id stands for (PurposeID); false when it
// stands for none of Purposes.
func PurposeOfID(id uuid.UUID) (Purpose, bool) {
	for _, p := range Purposes {
		if PurposeID(p) == id {
			return p, true
		}
	}
	return "", false
}

// consentRow is a row of case_consents: one consent given for one purpose,
// perhaps withdrawn since. The withdrawal reason is encrypted with the
// case's key.
type consentRow struct {
	TenantID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID           uuid.UUID `gorm:"type:uuid"`
	DataKeyID        uuid.UUID `gorm:"type:uuid"`
	Purpose          Purpose
	GivenBy          string
	GivenOn          string
	Basis            string
	RecordedBy       *uuid.UUID `gorm:"type:uuid"`
	RecordedAt       time.Time
	WithdrawnAt      *time.Time
	WithdrawnBy      *uuid.UUID `gorm:"type:uuid"`
	WithdrawalReason tenants.Secret
}

func (consentRow) TableName() string { return "case_consents" }

func (r *consentRow) consent() Consent {
	return Consent{ID: r.ID, Purpose: r.Purpose, GivenBy: r.GivenBy, GivenOn: r.GivenOn, Basis: r.Basis,
		RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC(), WithdrawnAt: utcPtr(r.WithdrawnAt),
		WithdrawnBy: r.WithdrawnBy, WithdrawalReason: r.WithdrawalReason.Text()}
}

var (
	givers = []string{GivenByGirl, GivenByFamily, GivenByGuardian}
	bases  = []string{BasisSignedForm, BasisRecordedVerbal}
)

// checkConsent reports on fe, under prefix, what is wrong with nc.
func checkConsent(fe homeward.FieldErrors, prefix string, nc NewConsent, now time.Time) {
	if !slices.Contains(Purposes, nc.Purpose) {
		fe.Add(prefix+"purpose", fmt.Sprintf("one of %v", Purposes))
	}
	if !slices.Contains(givers, nc.GivenBy) {
		fe.Add(prefix+"given_by", "one of "+strings.Join(givers, ", "))
	}
	if !slices.Contains(bases, nc.Basis) {
		fe.Add(prefix+"basis", "one of "+strings.Join(bases, ", "))
	}
	d, err := time.Parse(time.DateOnly, nc.GivenOn)
	switch {
	case err != nil:
		fe.Add(prefix+"given_on", "expected a date as YYYY-MM-DD")
	case d.After(tenants.LatestToday(now)):
		fe.Add(prefix+"given_on", "may not lie in the future")
	case d.Year() < 1900:
		fe.Add(prefix+"given_on", "a date from 1900 on")
	}
}

// insertConsents records consents (already checked) on a case.
func insertConsents(tx *gorm.DB, now time.Time, caseID uuid.UUID, by *uuid.UUID, ncs []NewConsent) ([]consentRow, error) {
	if len(ncs) == 0 {
		return nil, nil
	}
	rows := make([]consentRow, len(ncs))
	for i, nc := range ncs {
		rows[i] = consentRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID, Purpose: nc.Purpose,
			GivenBy: nc.GivenBy, GivenOn: nc.GivenOn, Basis: nc.Basis, RecordedBy: by, RecordedAt: now}
	}
	return rows, tx.Create(&rows).Error
}

// currentConsents is the consent state of each case: per purpose with any
// record, a standing consent when there is one, else the latest withdrawn,
// in the order of Purposes.
func currentConsents(tx *gorm.DB, caseIDs []uuid.UUID) (map[uuid.UUID][]Consent, error) {
	var rows []consentRow
	if err := tx.Where("case_id IN ?", caseIDs).Order("recorded_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	type key struct {
		caseID  uuid.UUID
		purpose Purpose
	}
	pick := map[key]*consentRow{}
	for i := range rows {
		r := &rows[i]
		k := key{r.CaseID, r.Purpose}
		if cur := pick[k]; cur == nil || cur.WithdrawnAt != nil && r.WithdrawnAt == nil {
			pick[k] = r
		}
	}
	out := map[uuid.UUID][]Consent{}
	for _, id := range caseIDs {
		for _, purpose := range Purposes {
			if r := pick[key{id, purpose}]; r != nil {
				out[id] = append(out[id], r.consent())
			}
		}
	}
	return out, nil
}

// consentCase loads a case p can see and checks its access to the consent
// records (write or read).
func consentCase(tx *gorm.DB, p *tenants.Principal, caseID uuid.UUID, write bool) (*caseRow, error) {
	row, assigned, err := visibleCase(tx, p, caseID, write)
	if err != nil {
		return nil, err
	}
	access := accessFor(p, isOwn(p, row.OwnerMemberID, assigned))
	if write && !canWrite(access, tenants.CaseConsent) || !canRead(access, tenants.CaseConsent) {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow this on the consent of this case")
	}
	return row, nil
}

// touch records activity on a case (a consent, a comment).
func touch(tx *gorm.DB, caseID uuid.UUID, now time.Time) error {
	return tx.Model(&caseRow{}).Where("id = ?", caseID).Update("last_activity_at", now).Error
}

// RecordConsent records a consent on a case (write access to its consent
// records), audited case.consent.record with the purpose.
func (s *Service) RecordConsent(ctx context.Context, caseID uuid.UUID, nc NewConsent) (*Consent, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	fe := homeward.FieldErrors{}
	checkConsent(fe, "", nc, now)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out Consent
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if _, err := consentCase(tx, p, caseID, true); err != nil {
			return err
		}
		rows, err := insertConsents(tx, now, caseID, p.Actor.MemberID, []NewConsent{nc})
		if err != nil {
			return err
		}
		if err := touch(tx, caseID, now); err != nil {
			return err
		}
		out = rows[0].consent()
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionConsentRecord, RecordType: recordType,
			RecordID: caseID, FieldGroups: []string{tenants.CaseConsent}, Purpose: string(nc.Purpose)})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// WithdrawConsent withdraws every standing consent of purpose on a case at
// once (conflict when none stands), audited case.consent.withdraw, and
// writes the KindConsentWithdrawn job in the same transaction; it returns
// the records withdrawn. The reason is optional and encrypted.
func (s *Service) WithdrawConsent(ctx context.Context, caseID uuid.UUID, purpose Purpose, reason string) ([]Consent, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	reason = strings.TrimSpace(reason)
	fe := homeward.FieldErrors{}
	if !slices.Contains(Purposes, purpose) {
		fe.Add("purpose", fmt.Sprintf("one of %v", Purposes))
	}
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReason {
		fe.Add("reason", fmt.Sprintf("at most %d characters of text", maxReason))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out []Consent
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if _, err := consentCase(tx, p, caseID, true); err != nil {
			return err
		}
		var rows []consentRow
		if err := tx.Where("case_id = ? AND purpose = ? AND withdrawn_at IS NULL", caseID, purpose).
			Order("recorded_at, id").Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return homeward.Errorf(homeward.ECONFLICT, "no standing %s consent on this case", purpose)
		}
		for i := range rows {
			r := &rows[i]
			r.WithdrawnAt, r.WithdrawnBy, r.WithdrawalReason = &now, p.Actor.MemberID, tenants.NewSecret(reason)
			if err := tx.Model(&consentRow{ID: r.ID, DataKeyID: r.DataKeyID}).Updates(map[string]any{
				"withdrawn_at": now, "withdrawn_by": r.WithdrawnBy, "withdrawal_reason": r.WithdrawalReason,
			}).Error; err != nil {
				return err
			}
			out = append(out, r.consent())
		}
		if err := touch(tx, caseID, now); err != nil {
			return err
		}
		if _, err := tenants.Enqueue(tx, tenants.Job{Kind: KindConsentWithdrawn,
			IDs: map[string]uuid.UUID{"case": caseID, "purpose": PurposeID(purpose)}}); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionConsentWithdraw, RecordType: recordType,
			RecordID: caseID, FieldGroups: []string{tenants.CaseConsent}, Purpose: string(purpose)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConsentHistory is every consent record of a case, newest first (read
// access to its consent records), audited case.consent.read.
func (s *Service) ConsentHistory(ctx context.Context, caseID uuid.UUID) ([]Consent, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []Consent{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if _, err := consentCase(tx, p, caseID, false); err != nil {
			return err
		}
		var rows []consentRow
		if err := tx.Where("case_id = ?", caseID).Order("recorded_at DESC, id DESC").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			out = append(out, rows[i].consent())
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionConsentRead, RecordType: recordType,
			RecordID: caseID, FieldGroups: []string{tenants.CaseConsent}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Consented is the one question features ask: does the case have a
// standing consent for purpose? Inside the organisation's transaction; an
// erased or anonymised case has none. A withdrawal committed before the
// transaction began is seen at once.
func Consented(tx *gorm.DB, caseID uuid.UUID, purpose Purpose) (bool, error) {
	db := tx.Session(&gorm.Session{NewDB: true})
	liveCase := live(db.Model(&caseRow{})).Select("id").Where("id = ?", caseID)
	var n int64
	err := db.Model(&consentRow{}).Where("case_id IN (?) AND purpose = ? AND withdrawn_at IS NULL", liveCase, purpose).
		Count(&n).Error
	return n > 0, err
}
