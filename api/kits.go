package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/kits"
)

// The micro-enterprise starter kit (routes.go: /api/v1/cases/:id/kits,
// /api/v1/kits, /api/v1/settings/kit-limit). Handlers decode and respond;
// the kit service (tenants/kits) authorizes every call, checks the limit
// and the two-person rule, and audits. Amounts are integers in the
// currency's minor unit (US cents, satang, kip); rates are decimals in
// strings, units of the currency per US dollar.

type kitRequests struct {
	kits *kits.Service
}

func (k *kitRequests) ready() error {
	if k.kits.Store() == nil {
		return errNoStore
	}
	return nil
}

// kitItemBody is one item of a kit.
type kitItemBody struct {
	ID            uuid.UUID `json:"id"`
	Description   string    `json:"description"`
	Quantity      int       `json:"quantity"`
	UnitCostMinor int64     `json:"unit_cost_minor"`
	Currency      string    `json:"currency"`
	USDCents      int64     `json:"usd_cents"`
	SpentMinor    *int64    `json:"spent_minor"`
}

// kitRateBody is a rate recorded with a request.
type kitRateBody struct {
	Currency    string     `json:"currency"`
	UnitsPerUSD string     `json:"units_per_usd"`
	EnteredBy   *uuid.UUID `json:"entered_by"`
	EnteredAt   time.Time  `json:"entered_at"`
}

type disbursementBody struct {
	On            string     `json:"disbursed_on"`
	By            *uuid.UUID `json:"disbursed_by"`
	At            time.Time  `json:"recorded_at"`
	SpentUSDCents int64      `json:"spent_usd_cents"`
}

type handoverBody struct {
	On                string     `json:"handed_over_on"`
	Place             string     `json:"place"`
	ReceivedConfirmed bool       `json:"received_confirmed"`
	Note              string     `json:"note"`
	By                *uuid.UUID `json:"handed_over_by"`
	At                time.Time  `json:"recorded_at"`
}

// kitBody is a kit request.
type kitBody struct {
	ID              uuid.UUID         `json:"id"`
	CaseID          uuid.UUID         `json:"case_id"`
	Reference       string            `json:"reference"`
	State           string            `json:"state"`
	BusinessPlan    string            `json:"business_plan"`
	Items           []kitItemBody     `json:"items"`
	Rates           []kitRateBody     `json:"rates"`
	TotalUSDCents   int64             `json:"total_usd_cents"`
	LimitUSDCents   int64             `json:"limit_usd_cents"`
	RequestedBy     *uuid.UUID        `json:"requested_by"`
	RequestedAt     time.Time         `json:"requested_at"`
	DecidedBy       *uuid.UUID        `json:"decided_by"`
	DecidedAt       *time.Time        `json:"decided_at"`
	RejectionReason string            `json:"rejection_reason"`
	Disbursement    *disbursementBody `json:"disbursement"`
	Handover        *handoverBody     `json:"handover"`
}

func kitJSON(k *kits.Kit) kitBody {
	out := kitBody{ID: k.ID, CaseID: k.CaseID, Reference: k.Reference, State: k.State, BusinessPlan: k.BusinessPlan,
		Items: make([]kitItemBody, 0, len(k.Items)), Rates: make([]kitRateBody, 0, len(k.Rates)),
		TotalUSDCents: k.TotalUSDCents, LimitUSDCents: k.LimitUSDCents, RequestedBy: k.RequestedBy,
		RequestedAt: k.RequestedAt.UTC(), DecidedBy: k.DecidedBy, DecidedAt: utc(k.DecidedAt), RejectionReason: k.RejectionReason}
	for _, it := range k.Items {
		out.Items = append(out.Items, kitItemBody{ID: it.ID, Description: it.Description, Quantity: it.Quantity,
			UnitCostMinor: it.UnitCostMinor, Currency: it.Currency, USDCents: it.USDCents, SpentMinor: it.SpentMinor})
	}
	for _, r := range k.Rates {
		out.Rates = append(out.Rates, kitRateBody{Currency: r.Currency, UnitsPerUSD: r.UnitsPerUSD(), EnteredBy: r.EnteredBy,
			EnteredAt: r.EnteredAt.UTC()})
	}
	if d := k.Disbursement; d != nil {
		out.Disbursement = &disbursementBody{On: d.On, By: d.By, At: d.At.UTC(), SpentUSDCents: d.SpentUSDCents}
	}
	if h := k.Handover; h != nil {
		out.Handover = &handoverBody{On: h.On, Place: h.Place, ReceivedConfirmed: h.ReceivedConfirmed, Note: h.Note,
			By: h.By, At: h.At.UTC()}
	}
	return out
}

// newKitBody is POST /api/v1/cases/:id/kits and PUT /api/v1/kits/:id.
type newKitBody struct {
	BusinessPlan string `json:"business_plan"`
	Items        []struct {
		Description   string `json:"description"`
		Quantity      int    `json:"quantity"`
		UnitCostMinor int64  `json:"unit_cost_minor"`
		Currency      string `json:"currency"`
	} `json:"items"`
	Rates []struct {
		Currency    string `json:"currency"`
		UnitsPerUSD string `json:"units_per_usd"`
	} `json:"rates"`
}

func decodeKitRequest(c *fiber.Ctx) (kits.Request, error) {
	var body newKitBody
	if err := decodeJSON(c, &body); err != nil {
		return kits.Request{}, err
	}
	req := kits.Request{BusinessPlan: body.BusinessPlan}
	for _, it := range body.Items {
		req.Items = append(req.Items, kits.NewItem{Description: it.Description, Quantity: it.Quantity,
			UnitCostMinor: it.UnitCostMinor, Currency: it.Currency})
	}
	for _, r := range body.Rates {
		req.Rates = append(req.Rates, kits.NewRate{Currency: r.Currency, UnitsPerUSD: r.UnitsPerUSD})
	}
	return req, nil
}

func (k *kitRequests) listKits(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	res, err := k.kits.List(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[kitBody]{Items: make([]kitBody, 0, len(res.Kits))}
	for i := range res.Kits {
		out.Items = append(out.Items, kitJSON(&res.Kits[i]))
	}
	return c.JSON(out)
}

func (k *kitRequests) requestKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	req, err := decodeKitRequest(c)
	if err != nil {
		return err
	}
	kit, err := k.kits.Request(c.UserContext(), pathID(c), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(kitJSON(kit))
}

func (k *kitRequests) getKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	kit, err := k.kits.Get(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

func (k *kitRequests) changeKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	req, err := decodeKitRequest(c)
	if err != nil {
		return err
	}
	kit, err := k.kits.Change(c.UserContext(), pathID(c), req)
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

func (k *kitRequests) approveKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	kit, err := k.kits.Approve(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

// rejectionBody is POST /api/v1/kits/:id/reject.
type rejectionBody struct {
	Reason string `json:"reason"`
}

func (k *kitRequests) rejectKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	var body rejectionBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	kit, err := k.kits.Reject(c.UserContext(), pathID(c), body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

// spendingBody is POST /api/v1/kits/:id/disburse: the day, and what each
// item actually cost in its currency's minor unit, in the kit's item
// order (an approved kit's items never change).
type spendingBody struct {
	On    string  `json:"disbursed_on"`
	Spent []int64 `json:"spent_minor"`
}

func (k *kitRequests) disburseKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	var body spendingBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	kit, err := k.kits.Disburse(c.UserContext(), pathID(c), kits.Spending{On: body.On, Spent: body.Spent})
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

// newHandoverBody is POST /api/v1/kits/:id/handover.
type newHandoverBody struct {
	On                string `json:"handed_over_on"`
	Place             string `json:"place"`
	ReceivedConfirmed bool   `json:"received_confirmed"`
	Note              string `json:"note"`
}

func (k *kitRequests) handOverKit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	var body newHandoverBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	kit, err := k.kits.HandOver(c.UserContext(), pathID(c), kits.NewHandover{On: body.On, Place: body.Place,
		ReceivedConfirmed: body.ReceivedConfirmed, Note: body.Note})
	if err != nil {
		return err
	}
	return c.JSON(kitJSON(kit))
}

// kitLimitBody is the organisation's limit on a kit's total.
type kitLimitBody struct {
	USDCents *int64 `json:"usd_cents"`
}

func (k *kitRequests) getLimit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	n, err := k.kits.Limit(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(kitLimitBody{USDCents: &n})
}

func (k *kitRequests) putLimit(c *fiber.Ctx) error {
	if err := k.ready(); err != nil {
		return err
	}
	var body kitLimitBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.USDCents == nil {
		return homeward.Invalid(map[string]string{"usd_cents": "required: the limit in US cents (50000 is USD 500)"})
	}
	n, err := k.kits.SetLimit(c.UserContext(), *body.USDCents)
	if err != nil {
		return err
	}
	return c.JSON(kitLimitBody{USDCents: &n})
}
