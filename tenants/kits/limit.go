package kits

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The organisation's limit on a kit's total, in US cents: an organisation
// setting (tenant admins change it, settings.write; it is read with
// settings.read), USD 500 unless it chose another.

// limitSetting is the organisation setting holding the limit in US cents.
const limitSetting = "kit_limit_usd_cents"

// DefaultLimitUSDCents is the limit of an organisation that chose none.
const DefaultLimitUSDCents = 500_00

// The limits an organisation may choose: from USD 1 to USD 100,000.
const (
	MinLimitUSDCents = 1_00
	MaxLimitUSDCents = 100_000_00
)

// limitOf reads the organisation's limit in its transaction. A damaged
// setting falls back to the default, never to "no limit".
func limitOf(tx *gorm.DB) (int64, error) {
	v, ok, err := tenants.SettingValue(tx, limitSetting)
	if err != nil || !ok {
		return DefaultLimitUSDCents, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < MinLimitUSDCents || n > MaxLimitUSDCents {
		return DefaultLimitUSDCents, nil
	}
	return n, nil
}

// Limit is the organisation's limit on a kit's total, in US cents
// (settings.read).
func (s *Service) Limit(ctx context.Context) (int64, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsRead)
	if err != nil {
		return 0, err
	}
	var out int64
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		out, err = limitOf(tx)
		return err
	})
	return out, err
}

// SetLimit changes the limit (settings.write): whole US cents from USD 1 to
// USD 100,000. Requests already made keep theirs; an approval checks the
// limit as it is then. Audited kit.limit.change.
func (s *Service) SetLimit(ctx context.Context, usdCents int64) (int64, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSettingsWrite)
	if err != nil {
		return 0, err
	}
	if usdCents < MinLimitUSDCents || usdCents > MaxLimitUSDCents {
		return 0, homeward.Invalid(map[string]string{"usd_cents": "US cents from " + strconv.Itoa(MinLimitUSDCents) +
			" (USD 1) to " + strconv.Itoa(MaxLimitUSDCents) + " (USD 100,000)"})
	}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := tenants.PutSetting(tx, limitSetting, strconv.FormatInt(usdCents, 10)); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionLimitChange, RecordType: "settings"})
	})
	if err != nil {
		return 0, err
	}
	return usdCents, nil
}
