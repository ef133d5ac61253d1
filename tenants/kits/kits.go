// Package kits is the micro-enterprise starter kit of the survivor's path:
// after her vocational training a girl receives the equipment of a small
// business (a sewing machine, a table, chairs...), at most the
// organisation's limit (USD 500 unless it chose another).
//
// A kit request on a case (the case's "kit" part, write) carries a business
// plan and the itemised kit, each item priced in USD, LAK or THB; amounts in
// LAK or THB are converted to US dollars at rates recorded with the request
// (money.go), and a request whose total is over the limit is refused,
// nothing stored. A second person approves it (tenants.PermKitApprove and
// tenants.DistinctApprover: never the requester, never an API token) or
// rejects it with a reason; only an approved kit is disbursed (what each
// item actually cost, when, by whom), then handed over (when, where, her
// confirmation of receipt, a note):
//
//	requested → approved → disbursed → handed_over
//	          ↘ rejected
//
// A request can be changed while it waits for a decision, by a member who
// writes the case's kit part, who then counts as its requester for the
// two-person rule; once decided it is final: a new request is needed.
//
// Every function takes the principal from the context
// (tenants.PrincipalFrom), opens the case with cases.Open in the
// organisation's transaction, checks the kit part, does its work, touches
// the case and audits (kit.request, kit.change, kit.approve, kit.reject,
// kit.disburse, kit.handover, kit.read; record type "case", so that the
// entries are in the case's audit trail) in that one transaction. A case
// the member may not see, or a kit of one, is not_found; a case whose kit
// part the member may not use is forbidden. Free text (the plan, the
// items, a rejection's reason, the hand-over's place and note) is a
// tenants.Secret under the case's data key: erasing the case shreds it.
package kits

import (
	"time"

	"github.com/google/uuid"

	"github.com/afesip/homeward/tenants"
)

// States of a kit request.
const (
	StateRequested  = "requested"
	StateApproved   = "approved"
	StateRejected   = "rejected"
	StateDisbursed  = "disbursed"
	StateHandedOver = "handed_over"
)

// Audit actions.
const (
	ActionRequest     = "kit.request"
	ActionChange      = "kit.change"
	ActionApprove     = "kit.approve"
	ActionReject      = "kit.reject"
	ActionDisburse    = "kit.disburse"
	ActionHandover    = "kit.handover"
	ActionRead        = "kit.read"
	ActionLimitChange = "kit.limit.change"
)

// Request is a kit being requested, or a waiting request being changed.
type Request struct {
	BusinessPlan string
	Items        []NewItem
	Rates        []NewRate // one per currency other than USD that the items use
}

// NewItem is one line of a kit being requested.
type NewItem struct {
	Description   string
	Quantity      int
	UnitCostMinor int64  // in Currency's minor unit (MinorDigits)
	Currency      string // USD, LAK or THB
}

// NewRate is an exchange rate entered with a request: how many units of
// Currency one US dollar buys, as a decimal ("21700", "35.25"), at most
// six decimals.
type NewRate struct {
	Currency    string
	UnitsPerUSD string
}

// Kit is a kit request as recorded.
type Kit struct {
	ID              uuid.UUID
	CaseID          uuid.UUID
	Reference       string // the case's number (C-00042)
	State           string
	BusinessPlan    string
	Items           []Item
	Rates           []Rate
	TotalUSDCents   int64 // the sum of the items' USDCents
	LimitUSDCents   int64 // the organisation's limit when it was requested
	RequestedBy     *uuid.UUID
	RequestedAt     time.Time
	DecidedBy       *uuid.UUID
	DecidedAt       *time.Time
	RejectionReason string
	Disbursement    *Disbursement // once disbursed
	Handover        *Handover     // once handed over
}

// Item is one line of a kit.
type Item struct {
	ID            uuid.UUID
	Description   string
	Quantity      int
	UnitCostMinor int64
	Currency      string
	USDCents      int64  // quantity × unit cost at the request's rate (money.go)
	SpentMinor    *int64 // what it actually cost, in Currency, once disbursed
}

// Rate is an exchange rate recorded with a request.
type Rate struct {
	Currency          string
	UnitsPerUSDMicros int64 // units of Currency per US dollar, in millionths
	EnteredBy         *uuid.UUID
	EnteredAt         time.Time
}

// UnitsPerUSD is the rate as a decimal ("21700", "35.25").
func (r Rate) UnitsPerUSD() string { return FormatRate(r.UnitsPerUSDMicros) }

// Disbursement is the money actually spent on an approved kit.
type Disbursement struct {
	On            string // YYYY-MM-DD
	By            *uuid.UUID
	At            time.Time
	SpentUSDCents int64 // the items' spending at the request's rates
}

// Handover is the kit given to her.
type Handover struct {
	On                string // YYYY-MM-DD
	Place             string
	ReceivedConfirmed bool // she confirmed she received it
	Note              string
	By                *uuid.UUID
	At                time.Time
}

// Spending is a disbursement being recorded: the day, and what each item
// actually cost, in the kit's item order (an approved kit's items never
// change) and in each item's currency's minor unit; 0 for an item not
// bought.
type Spending struct {
	On    string
	Spent []int64
}

// NewHandover is a hand-over being recorded.
type NewHandover struct {
	On                string
	Place             string
	ReceivedConfirmed bool
	Note              string
}

// CaseKits is a case's kit requests, newest first, with what the reader
// may do there.
type CaseKits struct {
	CaseID        uuid.UUID
	Reference     string
	Kits          []Kit
	LimitUSDCents int64 // the organisation's limit now
	CanWrite      bool  // the reader may request, change, disburse and hand over kits of this case
	Open          bool  // the case is not closed or referred: new requests are taken
}

// Service is the starter kits of every organisation on a store.
type Service struct {
	store *tenants.Store
	now   func() time.Time
}

// New returns the kit service on store.
func New(store *tenants.Store) *Service { return &Service{store: store, now: time.Now} }

// WithClock returns a copy of the service reading the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Store is the service's store.
func (s *Service) Store() *tenants.Store { return s.store }
