package kits

import (
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

// kitRow is a row of kits. The requester's identity is kept for the
// two-person rule; free text is encrypted with the case's key.
type kitRow struct {
	TenantID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID                uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID            uuid.UUID `gorm:"type:uuid"`
	DataKeyID         uuid.UUID `gorm:"type:uuid"`
	State             string
	BusinessPlan      tenants.Secret
	TotalUSDCents     int64      `gorm:"column:total_usd_cents"`
	LimitUSDCents     int64      `gorm:"column:limit_usd_cents"`
	RequestedBy       *uuid.UUID `gorm:"type:uuid"`
	RequesterIssuer   string
	RequesterSubject  string
	RequestedAt       time.Time
	DecidedBy         *uuid.UUID `gorm:"type:uuid"`
	DecidedAt         *time.Time
	RejectionReason   tenants.Secret
	DisbursedOn       *string
	DisbursedBy       *uuid.UUID `gorm:"type:uuid"`
	DisbursedAt       *time.Time
	SpentUSDCents     *int64 `gorm:"column:spent_usd_cents"`
	HandedOverOn      *string
	HandoverPlace     tenants.Secret
	ReceivedConfirmed *bool
	HandoverNote      tenants.Secret
	HandedOverBy      *uuid.UUID `gorm:"type:uuid"`
	HandedOverAt      *time.Time
}

func (kitRow) TableName() string { return "kits" }

// requester is who asked, as the two-person rule compares it.
func (r *kitRow) requester() *tenants.Principal {
	return &tenants.Principal{Actor: tenants.Actor{Kind: tenants.ActorMember, Issuer: r.RequesterIssuer,
		Subject: r.RequesterSubject, MemberID: r.RequestedBy}}
}

// itemRow is a row of kit_items; the description is encrypted with the
// case's key.
type itemRow struct {
	TenantID      uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID            uuid.UUID `gorm:"type:uuid;primaryKey"`
	KitID         uuid.UUID `gorm:"type:uuid"`
	DataKeyID     uuid.UUID `gorm:"type:uuid"`
	Position      int
	Description   tenants.Secret
	Quantity      int
	UnitCostMinor int64
	Currency      string
	USDCents      int64 `gorm:"column:usd_cents"`
	SpentMinor    *int64
}

func (itemRow) TableName() string { return "kit_items" }

// rateRow is a row of kit_rates.
type rateRow struct {
	TenantID          uuid.UUID  `gorm:"type:uuid;primaryKey"`
	KitID             uuid.UUID  `gorm:"type:uuid;primaryKey"`
	Currency          string     `gorm:"primaryKey"`
	UnitsPerUSDMicros int64      `gorm:"column:units_per_usd_micros"`
	EnteredBy         *uuid.UUID `gorm:"type:uuid"`
	EnteredAt         time.Time
}

func (rateRow) TableName() string { return "kit_rates" }

// Bounds of free text, in characters.
const (
	maxPlan        = 10000
	maxDescription = 200
	maxReason      = 2000
	maxPlace       = 200
	maxNote        = 2000
)

// checkText is "" when s is text of min to max characters, else the reason.
func checkText(s string, min, max int) string {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if !utf8.ValidString(s) || n < min || n > max {
		if min == 0 {
			return fmt.Sprintf("at most %d characters of text", max)
		}
		return fmt.Sprintf("from %d to %d characters of text", min, max)
	}
	return ""
}

// checkDay is "" when s is a date (YYYY-MM-DD) from notBefore's day to
// today, else the reason.
func checkDay(s string, notBefore, now time.Time) string {
	d, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		return "expected a date as YYYY-MM-DD"
	case d.After(tenants.LatestToday(now)):
		return "may not lie in the future"
	case d.Before(notBefore.UTC().Truncate(24 * time.Hour)):
		return "may not come before " + notBefore.UTC().Format(time.DateOnly) + ", the step before it"
	}
	return ""
}

var errNoKit = homeward.Errorf(homeward.ENOTFOUND, "no such kit request")

// openKit loads kit id for p inside tx: its case opened with its row lock
// (checks and writes of one case do not interleave), not_found unless p may
// read the case's kit part; write also needs the part's write
// (forbidden).
func openKit(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, write bool) (*kitRow, *cases.Ref, error) {
	var caseIDs []uuid.UUID
	if err := tx.Model(&kitRow{}).Where("id = ?", id).Pluck("case_id", &caseIDs).Error; err != nil {
		return nil, nil, err
	}
	if len(caseIDs) == 0 {
		return nil, nil, errNoKit
	}
	ref, err := cases.Open(tx, p, caseIDs[0], true)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND || err == nil && !ref.CanRead(tenants.CaseKit) {
		return nil, nil, errNoKit
	}
	if err != nil {
		return nil, nil, err
	}
	if write {
		if err := ref.Need(tenants.CaseKit, true); err != nil {
			return nil, nil, err
		}
	}
	var row kitRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, nil, err
	}
	return &row, ref, nil
}

// load reads the kits of rows with their items and rates, in rows' order.
func load(tx *gorm.DB, rows []kitRow, reference string) ([]Kit, error) {
	if len(rows) == 0 {
		return []Kit{}, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var items []itemRow
	if err := tx.Where("kit_id IN ?", ids).Order("kit_id, position").Find(&items).Error; err != nil {
		return nil, err
	}
	var rates []rateRow
	if err := tx.Where("kit_id IN ?", ids).Order("kit_id, currency").Find(&rates).Error; err != nil {
		return nil, err
	}
	out := make([]Kit, len(rows))
	for i := range rows {
		out[i] = rows[i].kit(reference)
	}
	at := func(id uuid.UUID) *Kit { return &out[slices.IndexFunc(out, func(k Kit) bool { return k.ID == id })] }
	for _, it := range items {
		k := at(it.KitID)
		k.Items = append(k.Items, Item{ID: it.ID, Description: it.Description.Text(), Quantity: it.Quantity,
			UnitCostMinor: it.UnitCostMinor, Currency: it.Currency, USDCents: it.USDCents, SpentMinor: it.SpentMinor})
	}
	for _, r := range rates {
		k := at(r.KitID)
		k.Rates = append(k.Rates, Rate{Currency: r.Currency, UnitsPerUSDMicros: r.UnitsPerUSDMicros,
			EnteredBy: r.EnteredBy, EnteredAt: r.EnteredAt.UTC()})
	}
	return out, nil
}

func (r *kitRow) kit(reference string) Kit {
	k := Kit{ID: r.ID, CaseID: r.CaseID, Reference: reference, State: r.State, BusinessPlan: r.BusinessPlan.Text(),
		Items: []Item{}, Rates: []Rate{}, TotalUSDCents: r.TotalUSDCents, LimitUSDCents: r.LimitUSDCents,
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), DecidedBy: r.DecidedBy,
		DecidedAt: utcPtr(r.DecidedAt), RejectionReason: r.RejectionReason.Text()}
	if r.DisbursedAt != nil {
		k.Disbursement = &Disbursement{On: deref(r.DisbursedOn), By: r.DisbursedBy, At: r.DisbursedAt.UTC(),
			SpentUSDCents: deref(r.SpentUSDCents)}
	}
	if r.HandedOverAt != nil {
		k.Handover = &Handover{On: deref(r.HandedOverOn), Place: r.HandoverPlace.Text(),
			ReceivedConfirmed: deref(r.ReceivedConfirmed), Note: r.HandoverNote.Text(), By: r.HandedOverBy,
			At: r.HandedOverAt.UTC()}
	}
	return k
}

// loadOne reads one kit row's kit.
func loadOne(tx *gorm.DB, row *kitRow, reference string) (*Kit, error) {
	ks, err := load(tx, []kitRow{*row}, reference)
	if err != nil {
		return nil, err
	}
	return &ks[0], nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// stamp is a time as the database keeps it (microseconds, UTC).
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// audit records action on the kit's case, in the kit part.
func audit(tx *gorm.DB, action string, caseID uuid.UUID) error {
	return tenants.Audit(tx, tenants.AuditEntry{Action: action, RecordType: "case", RecordID: caseID,
		FieldGroups: []string{tenants.CaseKit}})
}

// advance moves the kit from state from to state to with changes, and
// touches its case: conflict when another request moved it meanwhile.
func advance(tx *gorm.DB, row *kitRow, from, to string, changes map[string]any, now time.Time) error {
	changes["state"] = to
	res := tx.Model(&kitRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("state = ?", from).Updates(changes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return homeward.Errorf(homeward.ECONFLICT, "the kit request changed meanwhile: read it again")
	}
	return cases.Touch(tx, row.CaseID, now)
}

// needState is conflict unless the kit is in state want, saying what to do.
func needState(row *kitRow, want, step string) error {
	if row.State == want {
		return nil
	}
	if row.State == StateRejected || want == StateRequested {
		return homeward.Errorf(homeward.ECONFLICT, "this kit request is %s: it cannot be %s any more; make a new request", row.State, step)
	}
	return homeward.Errorf(homeward.ECONFLICT, "this kit request is %s: only a kit %s can be %s", row.State, want, step)
}
