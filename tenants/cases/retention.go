package cases

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Audit actions of retention.
const (
	ActionRetentionChange = "retention.change"
	ActionRetentionReview = "case.retention.review"
	ActionAnonymise       = "case.anonymise"
)

// retentionSetting is the organisation setting holding Retention.Years.
const retentionSetting = "case_retention_years"

// maxRetentionYears bounds the retention rule.
const maxRetentionYears = 100

// retentionYears reads the organisation's rule in its transaction.
func retentionYears(tx *gorm.DB) (int, error) {
	v, ok, err := tenants.SettingValue(tx, retentionSetting)
	if err != nil || !ok {
		return DefaultRetentionYears, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxRetentionYears {
		return DefaultRetentionYears, nil // a damaged setting falls back to the default, never to "forever"
	}
	return n, nil
}

// Retention is the organisation's retention rule (settings.read).
func (s *Service) Retention(ctx context.Context) (Retention, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsRead)
	if err != nil {
		return Retention{}, err
	}
	var out Retention
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		n, err := retentionYears(tx)
		out.Years = n
		return err
	})
	return out, err
}

// SetRetention changes the retention rule (settings.write): 0 (keep closed
// cases until erased by hand) to 100 years, audited retention.change.
func (s *Service) SetRetention(ctx context.Context, r Retention) (Retention, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsWrite)
	if err != nil {
		return Retention{}, err
	}
	if r.Years < 0 || r.Years > maxRetentionYears {
		return Retention{}, homeward.Invalid(map[string]string{"years": "a whole number of years from 0 (keep) to 100"})
	}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := tenants.PutSetting(tx, retentionSetting, strconv.Itoa(r.Years)); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionRetentionChange, RecordType: "settings"})
	})
	if err != nil {
		return Retention{}, err
	}
	return r, nil
}

// dueCases selects the live closed cases whose retention ends by t.
func dueCases(tx *gorm.DB, years int, t time.Time) *gorm.DB {
	return live(tx.Model(&caseRow{})).Where("closed_at IS NOT NULL AND closed_at <= ?", t.AddDate(-years, 0, 0))
}

// RetentionDue lists the closed cases the rule will anonymise within the
// next `within` (settings.read), soonest first, for the admin to review:
// references and dates only. Audited case.retention.review.
func (s *Service) RetentionDue(ctx context.Context, within time.Duration) ([]RetentionCandidate, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsRead)
	if err != nil {
		return nil, err
	}
	if within < 0 {
		return nil, homeward.Invalid(map[string]string{"within": "a duration from now on"})
	}
	now := stamp(s.now())
	out := []RetentionCandidate{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		years, err := retentionYears(tx)
		if err != nil || years == 0 {
			return err
		}
		var rows []caseRow
		if err := dueCases(tx, years, now.Add(within)).Select("tenant_id", "id", "number", "closed_at").
			Order("closed_at, id").Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			closed := r.ClosedAt.UTC()
			out = append(out, RetentionCandidate{ID: r.ID, Reference: Reference(r.Number), ClosedAt: closed,
				Due: closed.AddDate(years, 0, 0)})
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionRetentionReview, RecordType: recordType})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AnonymiseDue anonymises the closed cases of the transaction's
// organisation whose retention ended by now (the scheduled job, acting as
// the system): each is shredded as an erasure is, marked anonymised and
// audited case.anonymise. It returns how many it anonymised; run again, it
// finds none of them.
func AnonymiseDue(tx *gorm.DB, now time.Time) (int, error) {
	now = stamp(now)
	years, err := retentionYears(tx)
	if err != nil || years == 0 {
		return 0, err
	}
	var rows []caseRow
	if err := dueCases(tx, years, now).Select("tenant_id", "id", "data_key_id").Order("closed_at, id").
		Find(&rows).Error; err != nil {
		return 0, err
	}
	for i := range rows {
		if err := shredCase(tx, &rows[i], "anonymised_at", now); err != nil {
			return i, err
		}
		if err := tenants.Audit(tx, tenants.AuditEntry{Action: ActionAnonymise, RecordType: recordType,
			RecordID: rows[i].ID}); err != nil {
			return i, err
		}
	}
	return len(rows), nil
}
