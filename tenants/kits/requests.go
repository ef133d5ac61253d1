package kits

import (
	"context"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// checked is a request validated and priced, ready to store.
type checked struct {
	plan  string
	items []NewItem
	quote quote
}

// check validates req (everything but the limit, which is the
// organisation's and read in its transaction).
func check(req Request) (*checked, error) {
	fe := homeward.FieldErrors{}
	if problem := checkText(req.BusinessPlan, 1, maxPlan); problem != "" {
		fe.Add("business_plan", problem)
	}
	items := make([]NewItem, len(req.Items))
	for i, it := range req.Items {
		it.Description = strings.TrimSpace(it.Description)
		items[i] = it
	}
	q := price(items, req.Rates, fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return &checked{plan: strings.TrimSpace(req.BusinessPlan), items: items, quote: q}, nil
}

// withinLimit refuses a total over the organisation's limit, naming both.
func withinLimit(c *checked, limit int64) error {
	if c.quote.total.Cmp(big.NewInt(limit)) <= 0 {
		return nil
	}
	total := "more than " + FormatUSD(MaxLimitUSDCents)
	if c.quote.total.IsInt64() {
		total = FormatUSD(c.quote.total.Int64())
	}
	return &homeward.Error{Code: homeward.EINVALID,
		Message: "the kit's total, " + total + ", is over the organisation's limit of " + FormatUSD(limit) + ": nothing was stored",
		Fields:  map[string]string{"total": total + " is over the limit of " + FormatUSD(limit)}}
}

// store writes the request's items and rates for kit row (its id and case
// set), entered by p at now.
func (c *checked) store(tx *gorm.DB, row *kitRow, p *tenants.Principal, now time.Time) error {
	items := make([]itemRow, len(c.items))
	for i, it := range c.items {
		items[i] = itemRow{ID: uuid.Must(uuid.NewV7()), KitID: row.ID, DataKeyID: row.CaseID, Position: i,
			Description: tenants.NewSecret(it.Description), Quantity: it.Quantity, UnitCostMinor: it.UnitCostMinor,
			Currency: it.Currency, USDCents: c.quote.lines[i].Int64()}
	}
	if err := tx.Create(&items).Error; err != nil {
		return err
	}
	for _, cur := range Currencies {
		if micros := c.quote.rates[cur]; micros != 0 {
			r := rateRow{KitID: row.ID, Currency: cur, UnitsPerUSDMicros: micros, EnteredBy: p.Actor.MemberID, EnteredAt: now}
			if err := tx.Create(&r).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// Request records a kit request on a case (the kit part, write): refused
// (invalid, naming the total and the limit) when its total is over the
// organisation's limit, and on a closed or referred case (conflict).
// Audited kit.request.
func (s *Service) Request(ctx context.Context, caseID uuid.UUID, req Request) (*Kit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out *Kit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseKit, true); err != nil {
			return err
		}
		c, err := check(req)
		if err != nil {
			return err
		}
		if ref.Stage == cases.StageClosed || ref.Stage == cases.StageReferred {
			return homeward.Errorf(homeward.ECONFLICT, "the case is %s: it takes no new kit request", ref.Stage)
		}
		limit, err := limitOf(tx)
		if err != nil {
			return err
		}
		if err := withinLimit(c, limit); err != nil {
			return err
		}
		row := kitRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID, State: StateRequested,
			BusinessPlan: tenants.NewSecret(c.plan), TotalUSDCents: c.quote.total.Int64(), LimitUSDCents: limit,
			RequestedBy: p.Actor.MemberID, RequesterIssuer: p.Actor.Issuer, RequesterSubject: p.Actor.Subject,
			RequestedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := c.store(tx, &row, p, now); err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if out, err = loadOne(tx, &row, ref.Reference); err != nil {
			return err
		}
		return audit(tx, ActionRequest, caseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Change replaces a request waiting for a decision (plan, items and rates,
// as Request takes them) by a member who writes the case's kit part, who
// becomes its requester: the two-person rule then counts whoever shaped it
// last. A decided request is final (conflict: a new request is needed).
// Audited kit.change.
func (s *Service) Change(ctx context.Context, kitID uuid.UUID, req Request) (*Kit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out *Kit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, err := openKit(tx, p, kitID, true)
		if err != nil {
			return err
		}
		if err := needState(row, StateRequested, "changed"); err != nil {
			return err
		}
		c, err := check(req)
		if err != nil {
			return err
		}
		limit, err := limitOf(tx)
		if err != nil {
			return err
		}
		if err := withinLimit(c, limit); err != nil {
			return err
		}
		if err := tx.Where("kit_id = ?", row.ID).Delete(&itemRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("kit_id = ?", row.ID).Delete(&rateRow{}).Error; err != nil {
			return err
		}
		if err := c.store(tx, row, p, now); err != nil {
			return err
		}
		err = advance(tx, row, StateRequested, StateRequested, map[string]any{
			"business_plan": tenants.NewSecret(c.plan), "total_usd_cents": c.quote.total.Int64(), "limit_usd_cents": limit,
			"requested_by": p.Actor.MemberID, "requester_issuer": p.Actor.Issuer, "requester_subject": p.Actor.Subject,
			"requested_at": now,
		}, now)
		if err != nil {
			return err
		}
		if out, err = reload(tx, row.ID, ref.Reference); err != nil {
			return err
		}
		return audit(tx, ActionChange, row.CaseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List is a case's kit requests, newest first, with the organisation's
// limit and whether the reader may write them (the kit part, read).
// Audited kit.read.
func (s *Service) List(ctx context.Context, caseID uuid.UUID) (*CaseKits, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *CaseKits
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		if err := ref.Need(tenants.CaseKit, false); err != nil {
			return err
		}
		var rows []kitRow
		if err := tx.Where("case_id = ?", caseID).Order("requested_at DESC, id DESC").Find(&rows).Error; err != nil {
			return err
		}
		ks, err := load(tx, rows, ref.Reference)
		if err != nil {
			return err
		}
		limit, err := limitOf(tx)
		if err != nil {
			return err
		}
		out = &CaseKits{CaseID: caseID, Reference: ref.Reference, Kits: ks, LimitUSDCents: limit,
			CanWrite: ref.CanWrite(tenants.CaseKit), Open: ref.Stage != cases.StageClosed && ref.Stage != cases.StageReferred}
		return audit(tx, ActionRead, caseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get is one kit request (its case's kit part, read). Audited kit.read.
func (s *Service) Get(ctx context.Context, kitID uuid.UUID) (*Kit, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *Kit
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, err := openKit(tx, p, kitID, false)
		if err != nil {
			return err
		}
		if out, err = loadOne(tx, row, ref.Reference); err != nil {
			return err
		}
		return audit(tx, ActionRead, row.CaseID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// reload reads kit id again after a change.
func reload(tx *gorm.DB, id uuid.UUID, reference string) (*Kit, error) {
	var row kitRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, err
	}
	return loadOne(tx, &row, reference)
}

// principal is the context's principal acting for an organisation.
func principal(ctx context.Context) (*tenants.Principal, error) {
	p := tenants.PrincipalFrom(ctx)
	switch {
	case p == nil:
		return nil, homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	case p.TenantID == uuid.Nil:
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "kits belong to an organisation: act for one")
	}
	return p, nil
}
