package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/handoffs"
)

// Partnerships between organisations (routes.go: /api/v1/partnerships,
// /api/v1/organisations/partners). Handlers decode and respond; the
// handoff service (tenants/handoffs, partnerships.go) authorizes every
// call, checks each move and writes both organisations' copies. A
// partnership is shown from the caller's side: direction "outgoing" when
// the caller's organisation sends handoffs (or shares its statistics),
// "incoming" when the partner does.

type partnershipRoutes struct {
	svc *handoffs.Service
}

func (r *partnershipRoutes) ready() error {
	if r.svc.Store() == nil {
		return errNoStore
	}
	return nil
}

// organisationBody is an organisation as the other side may know it.
type organisationBody struct {
	ID      uuid.UUID `json:"id"`
	Slug    string    `json:"slug"`
	Name    string    `json:"name"`
	Country string    `json:"country"`
}

func organisationJSON(o handoffs.Organisation) organisationBody {
	return organisationBody{ID: o.ID, Slug: o.Slug, Name: o.Name, Country: o.Country}
}

// partnershipBody is a partnership as the caller's organisation sees it.
type partnershipBody struct {
	ID               uuid.UUID        `json:"id"`
	Purpose          string           `json:"purpose"`
	Direction        string           `json:"direction"`
	From             organisationBody `json:"from"`
	To               organisationBody `json:"to"`
	Partner          organisationBody `json:"partner"`
	Groups           []string         `json:"groups"`
	Documents        bool             `json:"documents"`
	AgreementRef     string           `json:"agreement_ref"`
	StallDays        int              `json:"stall_days"`
	StatisticsBack   bool             `json:"statistics_back"`
	BringsStatistics bool             `json:"brings_statistics"`
	State            string           `json:"state"`
	ProposedBy       string           `json:"proposed_by"`
	ProposedAt       time.Time        `json:"proposed_at"`
	DecidedAt        *time.Time       `json:"decided_at"`
	ChangedAt        time.Time        `json:"changed_at"`
	StateReason      string           `json:"state_reason"`
	Version          int64            `json:"version"`
}

// Directions and proposers, from the caller's side.
const (
	directionOutgoing = "outgoing"
	directionIncoming = "incoming"
	proposedByUs      = "us"
	proposedByPartner = "partner"
)

func partnershipJSON(p *handoffs.Partnership, own uuid.UUID) partnershipBody {
	out := partnershipBody{ID: p.ID, Purpose: p.Purpose, Direction: directionOutgoing, From: organisationJSON(p.From),
		To: organisationJSON(p.To), Partner: organisationJSON(p.To), Groups: p.Groups, Documents: p.Documents,
		AgreementRef: p.AgreementRef, StallDays: p.StallDays, StatisticsBack: p.StatisticsBack, State: p.State,
		ProposedBy: proposedByUs, ProposedAt: p.ProposedAt.UTC(), DecidedAt: utc(p.DecidedAt), ChangedAt: p.ChangedAt.UTC(),
		StateReason: p.StateReason, Version: p.Version}
	if p.To.ID == own {
		out.Direction, out.Partner = directionIncoming, organisationJSON(p.From)
	}
	if p.ProposedBy != own {
		out.ProposedBy = proposedByPartner
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	switch p.Purpose {
	case handoffs.PurposeStatistics:
		out.BringsStatistics = out.Direction == directionIncoming
	case handoffs.PurposeHandoffs:
		out.BringsStatistics = p.StatisticsBack && out.Direction == directionOutgoing
	}
	return out
}

// newPartnershipBody is POST /api/v1/partnerships.
type newPartnershipBody struct {
	Partner        string   `json:"partner"`
	Purpose        string   `json:"purpose"`
	Direction      string   `json:"direction"`
	Groups         []string `json:"groups"`
	Documents      bool     `json:"documents"`
	AgreementRef   string   `json:"agreement_ref"`
	StallDays      int      `json:"stall_days"`
	StatisticsBack bool     `json:"statistics_back"`
}

// reasonBody is POST /api/v1/partnerships/:id/decline, /suspend, /end.
type reasonBody struct {
	Reason string `json:"reason"`
}

func (r *partnershipRoutes) ownTenant(c *fiber.Ctx) uuid.UUID {
	if p := principalOf(c); p != nil {
		return p.TenantID
	}
	return uuid.Nil
}

func (r *partnershipRoutes) list(c *fiber.Ctx) error {
	if err := r.ready(); err != nil {
		return err
	}
	ps, err := r.svc.Partnerships(c.UserContext())
	if err != nil {
		return err
	}
	own := r.ownTenant(c)
	out := itemsBody[partnershipBody]{Items: make([]partnershipBody, 0, len(ps))}
	for i := range ps {
		out.Items = append(out.Items, partnershipJSON(&ps[i], own))
	}
	return c.JSON(out)
}

func (r *partnershipRoutes) propose(c *fiber.Ctx) error {
	if err := r.ready(); err != nil {
		return err
	}
	var body newPartnershipBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Direction != directionOutgoing && body.Direction != directionIncoming {
		return homeward.Invalid(map[string]string{"direction": "outgoing (your organisation sends handoffs or shares its statistics) or incoming (the partner does)"})
	}
	p, err := r.svc.ProposePartnership(c.UserContext(), handoffs.NewPartnership{Partner: body.Partner, Purpose: body.Purpose,
		Sending: body.Direction == directionOutgoing, Groups: body.Groups, Documents: body.Documents,
		AgreementRef: body.AgreementRef, StallDays: body.StallDays, StatisticsBack: body.StatisticsBack})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(partnershipJSON(p, r.ownTenant(c)))
}

func (r *partnershipRoutes) get(c *fiber.Ctx) error {
	if err := r.ready(); err != nil {
		return err
	}
	p, err := r.svc.Partnership(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(partnershipJSON(p, r.ownTenant(c)))
}

// decide answers POST /:id/accept (no body) and /:id/decline ({reason}).
func (r *partnershipRoutes) decide(accept bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := r.ready(); err != nil {
			return err
		}
		var body reasonBody
		if !accept {
			if err := decodeJSON(c, &body); err != nil {
				return err
			}
		}
		p, err := r.svc.DecidePartnership(c.UserContext(), pathID(c), accept, body.Reason)
		if err != nil {
			return err
		}
		return c.JSON(partnershipJSON(p, r.ownTenant(c)))
	}
}

// change answers POST /:id/suspend and /:id/end ({reason}) and /:id/resume
// (no body).
func (r *partnershipRoutes) change(to string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := r.ready(); err != nil {
			return err
		}
		var body reasonBody
		if to != handoffs.PartnershipActive {
			if err := decodeJSON(c, &body); err != nil {
				return err
			}
		}
		p, err := r.svc.ChangePartnership(c.UserContext(), pathID(c), to, body.Reason)
		if err != nil {
			return err
		}
		return c.JSON(partnershipJSON(p, r.ownTenant(c)))
	}
}

// statistics answers the partner's anonymised statistics as CSV.
func (r *partnershipRoutes) statistics(c *fiber.Ctx) error {
	if err := r.ready(); err != nil {
		return err
	}
	csv, err := r.svc.PartnerStatistics(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="partner-statistics.csv"`)
	return c.Send(csv)
}

// partners answers the organisations one may propose a partnership to.
func (r *partnershipRoutes) partners(c *fiber.Ctx) error {
	if err := r.ready(); err != nil {
		return err
	}
	orgs, err := r.svc.Organisations(c.UserContext())
	if err != nil {
		return err
	}
	out := itemsBody[organisationBody]{Items: make([]organisationBody, 0, len(orgs))}
	for _, o := range orgs {
		out.Items = append(out.Items, organisationJSON(o))
	}
	return c.JSON(out)
}
