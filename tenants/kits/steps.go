package kits

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The steps after a request: a second person approves or rejects it; an
// approved kit is disbursed, then handed over.

// step runs fn on kit id for p in one transaction (openKit: write needs
// the case's kit part, write) and answers the kit as it is afterwards.
func (s *Service) step(ctx context.Context, id uuid.UUID, perm tenants.Permission, write bool,
	fn func(tx *gorm.DB, p *tenants.Principal, row *kitRow, now time.Time) error) (*Kit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if perm != "" {
		if err := tenants.Authorize(p, perm); err != nil {
			return nil, err
		}
	}
	now := stamp(s.now())
	var out *Kit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, err := openKit(tx, p, id, write)
		if err != nil {
			return err
		}
		if err := fn(tx, p, row, now); err != nil {
			return err
		}
		out, err = reload(tx, row.ID, ref.Reference)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Approve approves a waiting request (kit.approve, and the case's kit part
// readable): a second person, never its requester nor an API token
// (tenants.DistinctApprover: forbidden, nothing changed). A total over
// the organisation's limit as it is now is refused (conflict: the limit
// was lowered since; a new request is needed). Audited kit.approve.
func (s *Service) Approve(ctx context.Context, kitID uuid.UUID) (*Kit, error) {
	return s.step(ctx, kitID, tenants.PermKitApprove, false, func(tx *gorm.DB, p *tenants.Principal, row *kitRow, now time.Time) error {
		if err := needState(row, StateRequested, "approved"); err != nil {
			return err
		}
		if err := tenants.DistinctApprover(row.requester(), p); err != nil {
			return err
		}
		limit, err := limitOf(tx)
		if err != nil {
			return err
		}
		if row.TotalUSDCents > limit {
			return homeward.Errorf(homeward.ECONFLICT, "the kit's total, %s, is over the organisation's limit, now %s: a new request is needed",
				FormatUSD(row.TotalUSDCents), FormatUSD(limit))
		}
		err = advance(tx, row, StateRequested, StateApproved, map[string]any{"decided_by": p.Actor.MemberID, "decided_at": now}, now)
		if err != nil {
			return err
		}
		return audit(tx, ActionApprove, row.CaseID)
	})
}

// Reject refuses a waiting request with a reason (kit.approve; the
// requester may withdraw their own this way). It is final. Audited
// kit.reject.
func (s *Service) Reject(ctx context.Context, kitID uuid.UUID, reason string) (*Kit, error) {
	reason = strings.TrimSpace(reason)
	return s.step(ctx, kitID, tenants.PermKitApprove, false, func(tx *gorm.DB, p *tenants.Principal, row *kitRow, now time.Time) error {
		if problem := checkText(reason, 1, maxReason); problem != "" {
			return homeward.Invalid(map[string]string{"reason": problem})
		}
		if err := needState(row, StateRequested, "rejected"); err != nil {
			return err
		}
		err := advance(tx, row, StateRequested, StateRejected, map[string]any{"decided_by": p.Actor.MemberID,
			"decided_at": now, "rejection_reason": tenants.NewSecret(reason)}, now)
		if err != nil {
			return err
		}
		return audit(tx, ActionReject, row.CaseID)
	})
}

// Disburse records the money spent on an approved kit (the case's kit
// part, write): the day (from the approval's to today) and what each of
// its items actually cost, in the item's currency; the spending in US
// cents is converted at the request's recorded rates. Audited
// kit.disburse.
func (s *Service) Disburse(ctx context.Context, kitID uuid.UUID, sp Spending) (*Kit, error) {
	return s.step(ctx, kitID, "", true, func(tx *gorm.DB, p *tenants.Principal, row *kitRow, now time.Time) error {
		if err := needState(row, StateApproved, "disbursed"); err != nil {
			return err
		}
		var items []itemRow
		if err := tx.Where("kit_id = ?", row.ID).Order("position").Find(&items).Error; err != nil {
			return err
		}
		var rates []rateRow
		if err := tx.Where("kit_id = ?", row.ID).Find(&rates).Error; err != nil {
			return err
		}
		micros := map[string]int64{}
		for _, r := range rates {
			micros[r.Currency] = r.UnitsPerUSDMicros
		}
		fe := homeward.FieldErrors{}
		if problem := checkDay(sp.On, *row.DecidedAt, now); problem != "" {
			fe.Add("disbursed_on", problem)
		}
		total := new(big.Int)
		if len(sp.Spent) != len(items) {
			fe.Add("spent", fmt.Sprintf("what each of the kit's %d items actually cost, in their order (0 if one was not bought)", len(items)))
		}
		for i, spent := range sp.Spent {
			if spent < 0 || spent > maxAmountMinor {
				fe.Add(fmt.Sprintf("spent[%d]", i), "a whole number of the item's currency's minor unit, 0 or more")
			} else if i < len(items) {
				total.Add(total, usdCents(big.NewInt(spent), items[i].Currency, micros[items[i].Currency]))
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		for i, it := range items {
			if err := tx.Model(&itemRow{}).Where("id = ?", it.ID).Update("spent_minor", sp.Spent[i]).Error; err != nil {
				return err
			}
		}
		err := advance(tx, row, StateApproved, StateDisbursed, map[string]any{"disbursed_on": sp.On,
			"disbursed_by": p.Actor.MemberID, "disbursed_at": now, "spent_usd_cents": total.Int64()}, now)
		if err != nil {
			return err
		}
		return audit(tx, ActionDisburse, row.CaseID)
	})
}

// HandOver records the kit given to her (the case's kit part, write): the
// day (from the disbursement's to today), the place, whether she
// confirmed she received it, and a note. Audited kit.handover.
func (s *Service) HandOver(ctx context.Context, kitID uuid.UUID, h NewHandover) (*Kit, error) {
	place, note := strings.TrimSpace(h.Place), strings.TrimSpace(h.Note)
	return s.step(ctx, kitID, "", true, func(tx *gorm.DB, p *tenants.Principal, row *kitRow, now time.Time) error {
		if err := needState(row, StateDisbursed, "handed over"); err != nil {
			return err
		}
		fe := homeward.FieldErrors{}
		disbursed, _ := time.Parse(time.DateOnly, *row.DisbursedOn)
		if problem := checkDay(h.On, disbursed, now); problem != "" {
			fe.Add("handed_over_on", problem)
		}
		if problem := checkText(place, 1, maxPlace); problem != "" {
			fe.Add("place", problem)
		}
		if problem := checkText(note, 0, maxNote); problem != "" {
			fe.Add("note", problem)
		}
		if err := fe.Err(); err != nil {
			return err
		}
		err := advance(tx, row, StateDisbursed, StateHandedOver, map[string]any{"handed_over_on": h.On,
			"handover_place": tenants.NewSecret(place), "received_confirmed": h.ReceivedConfirmed,
			"handover_note": tenants.NewSecret(note), "handed_over_by": p.Actor.MemberID, "handed_over_at": now}, now)
		if err != nil {
			return err
		}
		return audit(tx, ActionHandover, row.CaseID)
	})
}

// Disbursed counts, in the organisation's transaction tx, the kits of
// caseIDs (nil: of every case) disbursed from since's day on (their
// recorded day, in since's location: the organisation's calendar), handed
// over since or not, and what they actually cost in US cents: the sum of
// their spending as Disburse converted it at each request's recorded rates.
// Counts only, never a kit: the caller decides which cases the reader may
// count (the dashboard's scope). A kit of an erased case still counts:
// the money was spent.
func Disbursed(tx *gorm.DB, since time.Time, caseIDs []uuid.UUID) (count, spentUSDCents int64, err error) {
	if caseIDs != nil && len(caseIDs) == 0 {
		return 0, 0, nil
	}
	q := tx.Model(&kitRow{}).Where("state IN ? AND disbursed_on >= ?", []string{StateDisbursed, StateHandedOver},
		since.Format(time.DateOnly))
	if caseIDs != nil {
		q = q.Where("case_id IN ?", caseIDs)
	}
	var sum struct{ N, Spent int64 }
	err = q.Select("COUNT(*) AS n, COALESCE(SUM(spent_usd_cents), 0) AS spent").Scan(&sum).Error
	return sum.N, sum.Spent, err
}
