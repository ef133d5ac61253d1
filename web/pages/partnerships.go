package pages

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
)

// The partnerships page: the organisation's partnerships with other
// organisations, the proposals made to it (to accept or decline, each with
// a confirmation), the moves of each (suspend, resume, end: a reason and a
// confirmation), the proposal form, and the partner's statistics to
// download where a partnership brings them. The domain (Deps.Partnerships,
// *handoffs.Service) authorizes each read and move and writes both
// organisations' copies; the page refuses a form before reading it when the
// member's roles cannot make moves (partnerships.write).

// PartnershipService is the domain of the partnerships page
// (*handoffs.Service). Each call authorizes the principal in ctx.
type PartnershipService interface {
	Organisations(ctx context.Context) ([]handoffs.Organisation, error)
	ProposePartnership(ctx context.Context, np handoffs.NewPartnership) (*handoffs.Partnership, error)
	Partnerships(ctx context.Context) ([]handoffs.Partnership, error)
	DecidePartnership(ctx context.Context, id uuid.UUID, accept bool, reason string) (*handoffs.Partnership, error)
	ChangePartnership(ctx context.Context, id uuid.UUID, to, reason string) (*handoffs.Partnership, error)
}

var _ PartnershipService = (*handoffs.Service)(nil)

// PathPartnerships is the partnerships page.
const PathPartnerships = "/partnerships"

// partnershipStatisticsAPI is where a partner's statistics download from
// (the API, which the session's cookie opens too).
func partnershipStatisticsAPI(id uuid.UUID) string {
	return "/api/v1/partnerships/" + id.String() + "/statistics.csv"
}

func partnershipActionPath(id uuid.UUID, move string) string {
	return PathPartnerships + "/" + id.String() + "/" + move
}

var errNoPartnerships = homeward.Errorf(homeward.EUNAVAILABLE, "partnerships are not available on this server")

// mayReadPartnerships: the member may see some of the organisation's
// partnerships: all of them (partnerships.read), or those that bring a
// partner's statistics (statistics.read); the navigation links the page
// for them.
func mayReadPartnerships(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && (pr.Can(tenants.PermPartnershipsRead) || pr.Can(tenants.PermStatisticsRead))
}

// mayWritePartnerships: the member proposes and moves partnerships.
func mayWritePartnerships(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.Can(tenants.PermPartnershipsWrite)
}

// The moves of a partnership, as the forms post them.
const (
	moveAccept  = "accept"
	moveDecline = "decline"
	moveSuspend = "suspend"
	moveResume  = "resume"
	moveEnd     = "end"
)

// partnershipMove is one move's form on a partnership.
type partnershipMove struct {
	Move, Action   string
	ButtonKey      string // message keys: the button, its help, its confirmation
	HelpKey        string
	ConfirmKey     string
	Reason         bool // the form asks a reason
	ReasonRequired bool
	ReasonValue    string
	ReasonError    string // message keys
	ConfirmError   string
	Open           bool // came back with a mistake
	Danger         bool
}

// partnershipItem is one partnership on the page.
type partnershipItem struct {
	ID             string
	CSRF           string // the session's token, for the forms
	PartnerName    string
	PartnerCountry string
	PurposeKey     string
	Direction      string // a sentence in the reader's language
	State          string
	StateKey       string
	Handoffs       bool
	Groups         []string // message keys
	Documents      bool
	StatisticsBack bool
	AgreementRef   string
	StallDays      string
	ProposedByUs   bool
	ProposedAt     *when
	DecidedAt      *when
	ChangedAt      *when
	StateReason    string
	StatisticsHref string
	Moves          []partnershipMove
	Banner         string // a message key: why the last move failed
}

// groupChoice is one field group of the proposal form.
type groupChoice struct {
	Value, Key, HelpKey string
	Checked             bool
}

// proposalForm is the proposal form, empty or as it came back.
type proposalForm struct {
	Action         string
	Partners       []option
	Purposes       []option
	Directions     []option
	Groups         []groupChoice
	Documents      bool
	StatisticsBack bool
	AgreementRef   string
	StallDays      string
	MaxStallDays   int
	Errors         fieldErrors
	FormError      string // a message key above the form
	Open           bool
}

type partnershipsPage struct {
	Incoming  []partnershipItem // proposals made to the organisation
	Active    []partnershipItem
	Waiting   []partnershipItem // the organisation's proposals, waiting for the other
	Suspended []partnershipItem
	Closed    []partnershipItem // declined or ended
	Form      *proposalForm
	Empty     bool
}

// partnershipState is a form that came back: which partnership and move
// (or the proposal, id Nil), what was typed and its mistakes.
type partnershipState struct {
	id     uuid.UUID
	move   string
	typed  map[string][]string
	errs   fieldErrors
	banner string
}

func (st *partnershipState) value(name string) string {
	if st == nil || len(st.typed[name]) == 0 {
		return ""
	}
	return st.typed[name][0]
}

// partnershipsSignedIn begins the page: anyone not signed in goes to sign
// in and back.
func (p *Pages) partnershipsSignedIn(c *fiber.Ctx) (*request, error) {
	if p.deps.Partnerships == nil {
		return nil, errNoPartnerships
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(PathPartnerships), fiber.StatusSeeOther)
	}
	return r, nil
}

// partnershipForm begins a form post: signed in, the session's CSRF
// token, partnerships.write, before any field is read.
func (p *Pages) partnershipForm(c *fiber.Ctx) (*request, error) {
	r, err := p.partnershipsSignedIn(c)
	if r == nil {
		return nil, err
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if !mayWritePartnerships(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// Partnerships is GET /partnerships.
func (p *Pages) Partnerships(c *fiber.Ctx) error {
	r, err := p.partnershipsSignedIn(c)
	if r == nil {
		return err
	}
	if r.principal.TenantID == uuid.Nil {
		return errNotYours
	}
	return p.partnershipsPage(c, r, fiber.StatusOK, nil)
}

func (p *Pages) partnershipsPage(c *fiber.Ctx, r *request, status int, st *partnershipState) error {
	ps, err := p.deps.Partnerships.Partnerships(c.UserContext())
	if err != nil {
		return err
	}
	pr := r.principal
	write := mayWritePartnerships(pr)
	pg := &partnershipsPage{Empty: len(ps) == 0}
	for i := range ps {
		it := p.partnershipItem(r, &ps[i], write, st)
		switch ps[i].State {
		case handoffs.PartnershipProposed:
			if it.ProposedByUs {
				pg.Waiting = append(pg.Waiting, it)
			} else {
				pg.Incoming = append(pg.Incoming, it)
			}
		case handoffs.PartnershipActive:
			pg.Active = append(pg.Active, it)
		case handoffs.PartnershipSuspended:
			pg.Suspended = append(pg.Suspended, it)
		default:
			pg.Closed = append(pg.Closed, it)
		}
	}
	if write {
		orgs, err := p.deps.Partnerships.Organisations(c.UserContext())
		if err != nil {
			return err
		}
		if st != nil && st.id != uuid.Nil {
			st = nil // the proposal form did not come back
		}
		pg.Form = proposalFormOf(orgs, st)
	}
	return p.render(c, status, "partnerships", p.frame(c, r, "partnerships.title", PathPartnerships, pg))
}

// partnershipItem is a partnership as the page shows it to r, with the
// forms of the moves the member may make.
func (p *Pages) partnershipItem(r *request, ps *handoffs.Partnership, write bool, st *partnershipState) partnershipItem {
	own := r.principal.TenantID
	partner, outgoing := ps.To, true
	if ps.To.ID == own {
		partner, outgoing = ps.From, false
	}
	dir := "outgoing"
	if !outgoing {
		dir = "incoming"
	}
	it := partnershipItem{ID: ps.ID.String(), PartnerName: partner.Name, PartnerCountry: r.codeName(cases.CodeCountry, partner.Country),
		PurposeKey: "partnerships.purpose." + ps.Purpose, State: ps.State, StateKey: "partnerships.state." + ps.State,
		Direction: r.locale.T("partnerships.direction."+ps.Purpose+"_"+dir, "Partner", partner.Name),
		Handoffs:  ps.Purpose == handoffs.PurposeHandoffs, Documents: ps.Documents, StatisticsBack: ps.StatisticsBack,
		AgreementRef: ps.AgreementRef, StallDays: r.locale.Number(int64(ps.StallDays)), ProposedByUs: ps.ProposedBy == own,
		ProposedAt: r.when(&ps.ProposedAt), DecidedAt: r.when(ps.DecidedAt), ChangedAt: r.when(&ps.ChangedAt),
		StateReason: ps.StateReason, CSRF: r.principal.CSRFToken}
	if partner.Country == "" {
		it.PartnerCountry = ""
	}
	for _, g := range ps.Groups {
		it.Groups = append(it.Groups, "case.group."+g)
	}
	brings := ps.Purpose == handoffs.PurposeStatistics && !outgoing || ps.Purpose == handoffs.PurposeHandoffs && ps.StatisticsBack && outgoing
	if brings && ps.State == handoffs.PartnershipActive && r.principal.Can(tenants.PermStatisticsRead) {
		it.StatisticsHref = partnershipStatisticsAPI(ps.ID)
	}
	if st != nil && st.id == ps.ID {
		it.Banner = st.banner
	}
	if !write {
		return it
	}
	var moves []string
	switch ps.State {
	case handoffs.PartnershipProposed:
		if it.ProposedByUs {
			moves = []string{moveEnd}
		} else {
			moves = []string{moveAccept, moveDecline}
		}
	case handoffs.PartnershipActive:
		moves = []string{moveSuspend, moveEnd}
	case handoffs.PartnershipSuspended:
		moves = []string{moveResume, moveEnd}
	}
	for _, m := range moves {
		f := partnershipMove{Move: m, Action: partnershipActionPath(ps.ID, m), Reason: m != moveAccept && m != moveResume,
			Danger: m == moveEnd || m == moveDecline, ButtonKey: "partnerships.move." + m,
			HelpKey: "partnerships.move_help." + m, ConfirmKey: "partnerships.confirm." + m}
		if m == moveEnd && ps.State == handoffs.PartnershipProposed {
			f.ButtonKey, f.HelpKey = "partnerships.move.withdraw", "partnerships.move_help.withdraw"
		}
		f.ReasonRequired = f.Reason
		if st != nil && st.id == ps.ID && st.move == m {
			f.Open, f.ReasonValue, f.ReasonError, f.ConfirmError = true, st.value("reason"), st.errs["reason"], st.errs["confirm"]
		}
		it.Moves = append(it.Moves, f)
	}
	return it
}

// proposalFormOf is the proposal form, empty or as it came back.
func proposalFormOf(orgs []handoffs.Organisation, st *partnershipState) *proposalForm {
	f := &proposalForm{Action: PathPartnerships, StallDays: strconv.Itoa(handoffs.DefaultStallDays), MaxStallDays: handoffs.MaxStallDays,
		Errors: fieldErrors{}}
	purpose, direction, partner := handoffs.PurposeHandoffs, "outgoing", ""
	checked := []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily, tenants.FieldGroupLegal}
	if st != nil {
		f.Open, f.Errors, f.FormError = true, st.errs, st.banner
		purpose, direction, partner = st.value("purpose"), st.value("direction"), st.value("partner")
		checked = st.typed["groups"]
		f.Documents, f.StatisticsBack = st.value("documents") == "yes", st.value("statistics_back") == "yes"
		f.AgreementRef, f.StallDays = st.value("agreement_ref"), st.value("stall_days")
	}
	f.Partners = append(f.Partners, option{Value: "", Key: "partnerships.choose_partner", Selected: partner == ""})
	for _, o := range orgs {
		f.Partners = append(f.Partners, option{Value: o.Slug, Label: o.Name, Selected: o.Slug == partner})
	}
	for _, v := range []string{handoffs.PurposeHandoffs, handoffs.PurposeStatistics} {
		f.Purposes = append(f.Purposes, option{Value: v, Key: "partnerships.purpose_choice." + v, Selected: v == purpose})
	}
	for _, v := range []string{"outgoing", "incoming"} {
		f.Directions = append(f.Directions, option{Value: v, Key: "partnerships.direction_choice." + v, Selected: v == direction})
	}
	// The psychological group is not offered: it never travels.
	for _, g := range handoffs.SharableGroups {
		help := ""
		if g == tenants.FieldGroupMedical {
			help = "partnerships.medical_help"
		}
		f.Groups = append(f.Groups, groupChoice{Value: g, Key: "case.group." + g, HelpKey: help, Checked: slices.Contains(checked, g)})
	}
	return f
}

// proposalErrorKeys are the proposal form's messages per field the domain
// names.
var proposalErrorKeys = map[string]string{
	"partner":         "partnerships.error_partner",
	"purpose":         "partnerships.error_purpose",
	"groups":          "partnerships.error_groups",
	"documents":       "partnerships.error_groups",
	"statistics_back": "partnerships.error_groups",
	"agreement_ref":   "partnerships.error_agreement",
	"stall_days":      "partnerships.error_stall_days",
}

// ProposePartnership is POST /partnerships (form: partner, purpose,
// direction, groups, documents=yes, agreement_ref, stall_days,
// statistics_back=yes). A statistics partnership ignores the handoff
// fields. A mistake draws the page again (422; 409 when a live
// partnership of the pair exists) with the reasons; nothing is stored.
func (p *Pages) ProposePartnership(c *fiber.Ctx) error {
	r, err := p.partnershipForm(c)
	if r == nil {
		return err
	}
	st := &partnershipState{typed: postForm(c), errs: fieldErrors{}}
	np := handoffs.NewPartnership{Partner: strings.TrimSpace(st.value("partner")), Purpose: st.value("purpose"),
		Sending: st.value("direction") == "outgoing", Groups: st.typed["groups"], Documents: st.value("documents") == "yes",
		AgreementRef: st.value("agreement_ref"), StatisticsBack: st.value("statistics_back") == "yes"}
	if d := st.value("direction"); d != "outgoing" && d != "incoming" {
		st.errs["direction"] = "partnerships.error_direction"
	}
	if text := strings.TrimSpace(st.value("stall_days")); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil {
			st.errs["stall_days"] = "partnerships.error_stall_days"
		}
		np.StallDays = n
	}
	if np.Purpose == handoffs.PurposeStatistics {
		np.Groups, np.Documents, np.StatisticsBack = nil, false, false
	}
	status := fiber.StatusUnprocessableEntity
	if len(st.errs) == 0 {
		made, err := p.deps.Partnerships.ProposePartnership(c.UserContext(), np)
		switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
		case homeward.EINVALID:
			for name := range fieldsOf(err) {
				if key, ok := proposalErrorKeys[name]; ok {
					st.errs[name] = key
				}
			}
		case homeward.ECONFLICT:
			st.errs["partner"], status = "partnerships.error_taken", fiber.StatusConflict
		case "":
			if err != nil {
				return err
			}
			p.flash(c, "partnerships.flash_proposed")
			return c.Redirect(PathPartnerships+"#partnership-"+made.ID.String(), fiber.StatusSeeOther)
		}
	}
	st.banner = "partnerships.error_form"
	return p.partnershipsPage(c, r, status, st)
}

// AcceptPartnership is POST /partnerships/:id/accept (confirm=yes).
func (p *Pages) AcceptPartnership(c *fiber.Ctx) error { return p.movePartnership(c, moveAccept) }

// DeclinePartnership is POST /partnerships/:id/decline (reason,
// confirm=yes).
func (p *Pages) DeclinePartnership(c *fiber.Ctx) error { return p.movePartnership(c, moveDecline) }

// SuspendPartnership is POST /partnerships/:id/suspend (reason,
// confirm=yes).
func (p *Pages) SuspendPartnership(c *fiber.Ctx) error { return p.movePartnership(c, moveSuspend) }

// ResumePartnership is POST /partnerships/:id/resume (confirm=yes).
func (p *Pages) ResumePartnership(c *fiber.Ctx) error { return p.movePartnership(c, moveResume) }

// EndPartnership is POST /partnerships/:id/end (reason, confirm=yes).
func (p *Pages) EndPartnership(c *fiber.Ctx) error { return p.movePartnership(c, moveEnd) }

// movePartnership makes one move: the confirmation box first, then the
// domain; a mistake or a refusal draws the page again beside the
// partnership's form (422 a reason, 403 the proposer accepting its own,
// 409 a move its state no longer allows); another organisation's or an
// unknown partnership is 404.
func (p *Pages) movePartnership(c *fiber.Ctx, move string) error {
	id := idParam(c)
	r, err := p.partnershipForm(c)
	if r == nil {
		return err
	}
	st := &partnershipState{id: id, move: move, typed: postForm(c), errs: fieldErrors{}}
	if st.value("confirm") != "yes" {
		st.errs["confirm"] = "partnerships.error_confirm"
		return p.partnershipsPage(c, r, fiber.StatusUnprocessableEntity, st)
	}
	ctx, reason := c.UserContext(), st.value("reason")
	var flash string
	switch move {
	case moveAccept:
		_, err = p.deps.Partnerships.DecidePartnership(ctx, id, true, "")
		flash = "partnerships.flash_accepted"
	case moveDecline:
		_, err = p.deps.Partnerships.DecidePartnership(ctx, id, false, reason)
		flash = "partnerships.flash_declined"
	case moveSuspend:
		_, err = p.deps.Partnerships.ChangePartnership(ctx, id, handoffs.PartnershipSuspended, reason)
		flash = "partnerships.flash_suspended"
	case moveResume:
		_, err = p.deps.Partnerships.ChangePartnership(ctx, id, handoffs.PartnershipActive, "")
		flash = "partnerships.flash_resumed"
	default:
		_, err = p.deps.Partnerships.ChangePartnership(ctx, id, handoffs.PartnershipEnded, reason)
		flash = "partnerships.flash_ended"
	}
	switch codeOf(err, homeward.EINVALID, homeward.EFORBIDDEN, homeward.ECONFLICT) {
	case homeward.EINVALID:
		st.errs["reason"] = "partnerships.error_reason"
		return p.partnershipsPage(c, r, fiber.StatusUnprocessableEntity, st)
	case homeward.EFORBIDDEN:
		st.banner = "partnerships.error_other_side"
		return p.partnershipsPage(c, r, fiber.StatusForbidden, st)
	case homeward.ECONFLICT:
		st.banner = "partnerships.error_moved"
		return p.partnershipsPage(c, r, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, flash)
	return c.Redirect(PathPartnerships+"#partnership-"+id.String(), fiber.StatusSeeOther)
}
