package pages

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/kits"
)

// The starter kit page of a case: its kit requests, the request form (a
// fixed number of item rows, blank rows ignored: no script needed), the
// decision of an approver who is not the requester, and the disbursement
// and hand-over forms at their steps. The domain (Deps.Kits,
// *kits.Service) authorizes each read and write, checks the limit and the
// two-person rule, and audits; the page refuses a form before reading it
// when the member's roles cannot do what it asks.

// KitRequests is the domain of the kit page (*kits.Service). Each call
// authorizes the principal in ctx.
type KitRequests interface {
	KitLimits // the organisation's limit (pathsettings.go)
	List(ctx context.Context, caseID uuid.UUID) (*kits.CaseKits, error)
	Get(ctx context.Context, kitID uuid.UUID) (*kits.Kit, error)
	Request(ctx context.Context, caseID uuid.UUID, req kits.Request) (*kits.Kit, error)
	Approve(ctx context.Context, kitID uuid.UUID) (*kits.Kit, error)
	Reject(ctx context.Context, kitID uuid.UUID, reason string) (*kits.Kit, error)
	Disburse(ctx context.Context, kitID uuid.UUID, sp kits.Spending) (*kits.Kit, error)
	HandOver(ctx context.Context, kitID uuid.UUID, h kits.NewHandover) (*kits.Kit, error)
}

var _ KitRequests = (*kits.Service)(nil)

// KitPath is a case's kit page (the route /cases/:id/kit).
func KitPath(caseID uuid.UUID) string { return casePath(caseID) + "/kit" }

// kitActionPath is where a kit's step form posts: /cases/kits/ID/STEP.
func kitActionPath(kitID uuid.UUID, step string) string {
	return PathCases + "/kits/" + kitID.String() + "/" + step
}

// kitRows is how many item rows the request form offers; blank ones are
// ignored.
const kitRows = 8

// rateCurrencies are the currencies the request form asks a rate for.
var rateCurrencies = []string{kits.LAK, kits.THB}

var errNoKits = homeward.Errorf(homeward.EUNAVAILABLE, "the starter kits are not available on this server")

func mayReadKits(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.CaseScope(tenants.CaseKit, false) != tenants.ScopeNone
}

func mayApproveKits(pr *tenants.Principal) bool { return pr.Can(tenants.PermKitApprove) }

// kitItemRow is one row of the request form, as typed.
type kitItemRow struct {
	N                                 int // from 1, for the label
	Description, Quantity, Cost       string
	Currencies                        []option
	DescriptionError, QuantityError   string
	CostError, CurrencyError, FieldID string
}

type kitRateField struct {
	Currency, Label, Value, Error string
}

// kitRequestForm is the request form.
type kitRequestForm struct {
	Action    string
	Plan      string
	PlanError string
	Rows      []kitItemRow
	Rates     []kitRateField
	FormError string // a message key above the form
	Total     string // over the limit: the total refused
}

type kitItemView struct {
	Description, Quantity  string
	UnitCost, Line, Spent  string
	SpentField, SpentValue string // the disbursement form's input
	SpentError             string
}

type kitDecision struct {
	ApproveAction, RejectAction string
	Mine                        bool
	Reason, ReasonError         string
	ConfirmError, FormError     string
}

type kitDisburseForm struct {
	Action, On, OnError, FormError string
}

type kitHandoverForm struct {
	Action, On, OnError, Place, PlaceError string
	Received                               bool
	Note, NoteError, FormError             string
}

// kitView is one kit request on the page.
type kitView struct {
	ID                  string
	StateKey, State     string
	Plan                string
	Items               []kitItemView
	Rates               []string // each rate recorded, in words
	Total, Limit        string
	RequestedBy         string
	RequestedAt         *when
	DecidedBy           string
	DecidedAt           *when
	RejectionReason     string
	DisbursedOn         *when
	DisbursedBy, Spent  string
	HandedOverOn        *when
	HandedOverBy, Place string
	Received            bool
	HandoverNote        string
	Decision            *kitDecision
	Disburse            *kitDisburseForm
	Handover            *kitHandoverForm
}

type kitsPage struct {
	CaseHref, Reference string
	Limit               string
	Closed              bool
	Kits                []kitView
	Form                *kitRequestForm
}

// kitState is a form that came back: which ("request", or STEP:KIT-ID),
// what was typed, and its mistakes (field → message key).
type kitState struct {
	form   string
	typed  map[string]string
	errs   fieldErrors
	banner string // a message key above the form
	total  string // over the limit: the total refused
}

// Kits is GET /cases/:id/kit: the case's kit requests and their forms.
func (p *Pages) Kits(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.kitSignedIn(c, KitPath(id))
	if r == nil {
		return err
	}
	if !mayReadKits(r.principal) {
		return errNotYours
	}
	return p.kitsPage(c, r, id, fiber.StatusOK, nil)
}

// kitSignedIn begins a kit page: as caseSignedIn, for the kit domain.
func (p *Pages) kitSignedIn(c *fiber.Ctx, path string) (*request, error) {
	if p.deps.Kits == nil {
		return nil, errNoKits
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	return r, nil
}

// kitForm begins a kit form post: signed in (else back to page), the
// session's CSRF token, then may, before any field is read.
func (p *Pages) kitForm(c *fiber.Ctx, page string, may func(*tenants.Principal) bool) (*request, error) {
	r, err := p.kitSignedIn(c, page)
	if r == nil {
		return nil, err
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if r.principal.TenantID == uuid.Nil || !may(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

func (r *request) money(minor int64, currency string) string {
	s, err := r.locale.Money(minor, currency)
	if err != nil {
		return kits.FormatAmount(minor, currency) + " " + currency
	}
	return s
}

func (p *Pages) kitsPage(c *fiber.Ctx, r *request, caseID uuid.UUID, status int, st *kitState) error {
	ck, err := p.deps.Kits.List(c.UserContext(), caseID)
	if err != nil {
		return err
	}
	if st == nil {
		st = &kitState{typed: map[string]string{}, errs: fieldErrors{}}
	}
	pg := &kitsPage{CaseHref: casePath(caseID), Reference: ck.Reference, Limit: r.money(ck.LimitUSDCents, kits.USD),
		Closed: !ck.Open}
	for i := range ck.Kits {
		pg.Kits = append(pg.Kits, p.kitView(r, &ck.Kits[i], ck.CanWrite, st))
	}
	if ck.CanWrite && ck.Open {
		pg.Form = requestForm(r, caseID, st)
	}
	return p.render(c, status, "kits", p.frame(c, r, "kits.title", PathCases, pg))
}

func (p *Pages) kitView(r *request, k *kits.Kit, write bool, st *kitState) kitView {
	v := kitView{ID: k.ID.String(), StateKey: "kits.state." + k.State, State: k.State, Plan: k.BusinessPlan,
		Total: r.money(k.TotalUSDCents, kits.USD), Limit: r.money(k.LimitUSDCents, kits.USD),
		RequestedBy: r.memberName(k.RequestedBy), RequestedAt: r.when(&k.RequestedAt), DecidedAt: r.when(k.DecidedAt),
		RejectionReason: k.RejectionReason}
	if k.DecidedBy != nil {
		v.DecidedBy = r.memberName(k.DecidedBy)
	}
	mine := func(form string) bool { return st.form == form+":"+k.ID.String() }
	disbursing := mine("disburse")
	for i, it := range k.Items {
		iv := kitItemView{Description: it.Description, Quantity: r.locale.Number(int64(it.Quantity)),
			UnitCost: r.money(it.UnitCostMinor, it.Currency), Line: r.money(it.USDCents, kits.USD),
			SpentField: fmt.Sprintf("spent_%d", i)}
		if it.SpentMinor != nil {
			iv.Spent = r.money(*it.SpentMinor, it.Currency)
		}
		iv.SpentValue = kits.FormatAmount(int64(it.Quantity)*it.UnitCostMinor, it.Currency)
		if disbursing {
			iv.SpentValue, iv.SpentError = st.typed[iv.SpentField], st.errs[iv.SpentField]
		}
		v.Items = append(v.Items, iv)
	}
	for _, rt := range k.Rates {
		entered := r.when(&rt.EnteredAt)
		v.Rates = append(v.Rates, r.locale.T("kits.rate_line", "Rate", rt.UnitsPerUSD(),
			"Currency", rt.Currency, "Who", r.memberName(rt.EnteredBy), "Date", entered.Text))
	}
	if d := k.Disbursement; d != nil {
		v.DisbursedOn, v.DisbursedBy, v.Spent = r.day(d.On), r.memberName(d.By), r.money(d.SpentUSDCents, kits.USD)
	}
	if h := k.Handover; h != nil {
		v.HandedOverOn, v.HandedOverBy, v.Place = r.day(h.On), r.memberName(h.By), h.Place
		v.Received, v.HandoverNote = h.ReceivedConfirmed, h.Note
	}
	switch {
	case k.State == kits.StateRequested && mayApproveKits(r.principal):
		me := r.principal.Actor.MemberID
		d := &kitDecision{ApproveAction: kitActionPath(k.ID, "approve"), RejectAction: kitActionPath(k.ID, "reject"),
			Mine: me != nil && k.RequestedBy != nil && *me == *k.RequestedBy}
		if mine("decide") {
			d.Reason, d.ReasonError, d.ConfirmError, d.FormError = st.typed["reason"], st.errs["reason"], st.errs["confirm"], st.banner
		}
		v.Decision = d
	case k.State == kits.StateApproved && write:
		f := &kitDisburseForm{Action: kitActionPath(k.ID, "disburse"), On: r.today()}
		if disbursing {
			f.On, f.OnError, f.FormError = st.typed["disbursed_on"], st.errs["disbursed_on"], st.banner
		}
		v.Disburse = f
	case k.State == kits.StateDisbursed && write:
		f := &kitHandoverForm{Action: kitActionPath(k.ID, "handover"), On: r.today()}
		if mine("handover") {
			f.On, f.OnError, f.Place, f.PlaceError = st.typed["handed_over_on"], st.errs["handed_over_on"], st.typed["place"], st.errs["place"]
			f.Received, f.Note, f.NoteError, f.FormError = st.typed["received"] == "yes", st.typed["note"], st.errs["note"], st.banner
		}
		v.Handover = f
	}
	return v
}

// requestForm is the request form, empty or as it came back.
func requestForm(r *request, caseID uuid.UUID, st *kitState) *kitRequestForm {
	back := st.form == "request"
	f := &kitRequestForm{Action: KitPath(caseID)}
	if back {
		f.Plan, f.PlanError, f.FormError, f.Total = st.typed["business_plan"], st.errs["business_plan"], st.banner, st.total
	}
	for i := range kitRows {
		row := kitItemRow{N: i + 1, FieldID: fmt.Sprintf("item_%d", i)}
		currency := kits.USD
		if back {
			at := func(field string) (string, string) {
				key := fmt.Sprintf("item_%d_%s", i, field)
				return st.typed[key], st.errs[key]
			}
			row.Description, row.DescriptionError = at("description")
			row.Quantity, row.QuantityError = at("quantity")
			row.Cost, row.CostError = at("cost")
			var typed string
			typed, row.CurrencyError = at("currency")
			if typed != "" {
				currency = typed
			}
		}
		for _, cur := range kits.Currencies {
			row.Currencies = append(row.Currencies, option{Value: cur, Key: "kits.currency." + cur, Selected: cur == currency})
		}
		f.Rows = append(f.Rows, row)
	}
	for _, cur := range rateCurrencies {
		rf := kitRateField{Currency: cur, Label: "kits.rate_label." + cur}
		if back {
			rf.Value, rf.Error = st.typed["rate_"+cur], st.errs["rate_"+cur]
		}
		f.Rates = append(f.Rates, rf)
	}
	return f
}

// typedForm is the form's fields as sent (the CSRF token left out).
func typedForm(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	for k, vs := range postForm(c) {
		out[k] = vs[0]
	}
	return out
}

// RequestKit is POST /cases/:id/kit (the request form): the rows with
// anything typed become the items, the rates of the currencies they use go
// with them. A mistake, or a total over the limit, draws the page again
// (422) with the reasons; nothing is stored.
func (p *Pages) RequestKit(c *fiber.Ctx) error {
	caseID := idParam(c)
	r, err := p.kitForm(c, KitPath(caseID), writes(tenants.CaseKit))
	if r == nil {
		return err
	}
	st := &kitState{form: "request", typed: typedForm(c), errs: fieldErrors{}}
	req, rows := readKitRequest(st)
	if len(st.errs) == 0 {
		_, err = p.deps.Kits.Request(c.UserContext(), caseID, req)
		switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
		case homeward.EINVALID:
			kitRequestErrors(r, err, req, rows, st)
		case homeward.ECONFLICT: // the case was closed meanwhile
			st.banner = "kits.error_closed"
			return p.kitsPage(c, r, caseID, fiber.StatusConflict, st)
		case "":
			if err != nil {
				return err
			}
			p.flash(c, "kits.flash_requested")
			return c.Redirect(KitPath(caseID), fiber.StatusSeeOther)
		}
	}
	if st.banner == "" {
		st.banner = "kits.error_form"
	}
	return p.kitsPage(c, r, caseID, fiber.StatusUnprocessableEntity, st)
}

// readKitRequest reads the request form into a request, noting on st what
// cannot be read (a quantity or cost that is no number); rows maps each
// item of the request to its row of the form.
func readKitRequest(st *kitState) (kits.Request, []int) {
	req := kits.Request{BusinessPlan: st.typed["business_plan"]}
	var rows []int
	used := map[string]bool{}
	for i := range kitRows {
		field := func(name string) string { return strings.TrimSpace(st.typed[fmt.Sprintf("item_%d_%s", i, name)]) }
		desc, qty, cost, currency := field("description"), field("quantity"), field("cost"), field("currency")
		if desc == "" && qty == "" && cost == "" {
			continue
		}
		item := kits.NewItem{Description: desc, Currency: currency}
		n, err := strconv.Atoi(qty)
		if err != nil {
			st.errs[fmt.Sprintf("item_%d_quantity", i)] = "kits.error_quantity"
		}
		item.Quantity = n
		minor, ok := kits.ParseAmount(cost, currency)
		if !ok {
			st.errs[fmt.Sprintf("item_%d_cost", i)] = "kits.error_cost"
		}
		item.UnitCostMinor = minor
		used[currency] = true
		req.Items = append(req.Items, item)
		rows = append(rows, i)
	}
	for _, cur := range rateCurrencies {
		if !used[cur] {
			continue // a rate typed for a currency no item uses is not part of the request
		}
		text := strings.TrimSpace(st.typed["rate_"+cur])
		if text == "" {
			st.errs["rate_"+cur] = "kits.error_rate"
			continue
		}
		req.Rates = append(req.Rates, kits.NewRate{Currency: cur, UnitsPerUSD: text})
	}
	return req, rows
}

// kitRequestErrors maps the domain's reasons (named as the API names the
// fields) to the form's fields and messages.
func kitRequestErrors(r *request, err error, req kits.Request, rows []int, st *kitState) {
	messages := map[string]string{"description": "kits.error_description", "quantity": "kits.error_quantity",
		"unit_cost_minor": "kits.error_cost", "currency": "kits.error_currency"}
	fields := map[string]string{"unit_cost_minor": "cost"}
	for name := range fieldsOf(err) {
		var j int
		var part string
		switch {
		case name == "business_plan":
			st.errs["business_plan"] = "kits.error_plan"
		case name == "items":
			st.banner = "kits.error_items"
		case name == "total":
			st.banner = "kits.error_over_limit"
			if total, ok := kits.Total(req.Items, req.Rates); ok {
				st.total = r.money(total, kits.USD)
			}
		case strings.HasPrefix(name, "rates"):
			if _, err := fmt.Sscanf(name, "rates[%d]", &j); err == nil && j < len(req.Rates) {
				st.errs["rate_"+req.Rates[j].Currency] = "kits.error_rate"
			}
		default:
			if _, err := fmt.Sscanf(strings.Replace(name, "].", "] ", 1), "items[%d] %s", &j, &part); err == nil && j < len(rows) {
				field := part
				if f, ok := fields[part]; ok {
					field = f
				}
				st.errs[fmt.Sprintf("item_%d_%s", rows[j], field)] = messages[part]
			}
		}
	}
}

// stepFailed draws the kit's case page again with status for a step
// form that came back.
func (p *Pages) stepFailed(c *fiber.Ctx, r *request, kitID uuid.UUID, status int, st *kitState) error {
	k, err := p.deps.Kits.Get(c.UserContext(), kitID)
	if err != nil {
		return err
	}
	return p.kitsPage(c, r, k.CaseID, status, st)
}

// stepDone leaves the flash and goes back to the kit's case page.
func (p *Pages) stepDone(c *fiber.Ctx, k *kits.Kit, flash string) error {
	p.flash(c, flash)
	return c.Redirect(KitPath(k.CaseID)+"#kit-"+k.ID.String(), fiber.StatusSeeOther)
}

// ApproveKit is POST /cases/kits/:id/approve (form: confirm=yes): a second
// person approves the request.
func (p *Pages) ApproveKit(c *fiber.Ctx) error { return p.decideKit(c, true) }

// RejectKit is POST /cases/kits/:id/reject (form: reason, confirm=yes).
func (p *Pages) RejectKit(c *fiber.Ctx) error { return p.decideKit(c, false) }

func (p *Pages) decideKit(c *fiber.Ctx, approve bool) error {
	id := idParam(c)
	r, err := p.kitForm(c, PathCases, mayApproveKits)
	if r == nil {
		return err
	}
	st := &kitState{form: "decide:" + id.String(), typed: typedForm(c), errs: fieldErrors{}}
	if c.FormValue("confirm") != "yes" {
		st.errs["confirm"] = "kits.error_confirm"
		return p.stepFailed(c, r, id, fiber.StatusUnprocessableEntity, st)
	}
	var k *kits.Kit
	if approve {
		k, err = p.deps.Kits.Approve(c.UserContext(), id)
	} else {
		k, err = p.deps.Kits.Reject(c.UserContext(), id, c.FormValue("reason"))
	}
	switch codeOf(err, homeward.EINVALID, homeward.EFORBIDDEN, homeward.ECONFLICT) {
	case homeward.EINVALID:
		st.errs["reason"] = "kits.error_reason"
		return p.stepFailed(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.EFORBIDDEN: // the requester, or a token: another person must
		st.banner = "kits.error_second_person"
		return p.stepFailed(c, r, id, fiber.StatusForbidden, st)
	case homeward.ECONFLICT: // decided meanwhile, or over a limit lowered since it was asked
		k, err := p.deps.Kits.Get(c.UserContext(), id)
		if err != nil {
			return err
		}
		st.banner = "kits.error_decided"
		if k.State == kits.StateRequested {
			st.banner = "kits.error_limit_lowered"
		}
		return p.kitsPage(c, r, k.CaseID, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	if approve {
		return p.stepDone(c, k, "kits.flash_approved")
	}
	return p.stepDone(c, k, "kits.flash_rejected")
}

// DisburseKit is POST /cases/kits/:id/disburse (form: disbursed_on, and
// spent_N, what item N actually cost in its currency).
func (p *Pages) DisburseKit(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.kitForm(c, PathCases, writes(tenants.CaseKit))
	if r == nil {
		return err
	}
	st := &kitState{form: "disburse:" + id.String(), typed: typedForm(c), errs: fieldErrors{}}
	k, err := p.deps.Kits.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	sp := kits.Spending{On: strings.TrimSpace(c.FormValue("disbursed_on"))}
	for i, it := range k.Items {
		field := fmt.Sprintf("spent_%d", i)
		minor, ok := kits.ParseAmount(st.typed[field], it.Currency)
		if !ok {
			st.errs[field] = "kits.error_spent"
		}
		sp.Spent = append(sp.Spent, minor)
	}
	if len(st.errs) == 0 {
		done, err := p.deps.Kits.Disburse(c.UserContext(), id, sp)
		switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
		case homeward.EINVALID:
			for name := range fieldsOf(err) {
				var j int
				if name == "disbursed_on" {
					st.errs[name] = "kits.error_date"
				} else if _, err := fmt.Sscanf(name, "spent[%d]", &j); err == nil {
					st.errs[fmt.Sprintf("spent_%d", j)] = "kits.error_spent"
				}
			}
		case homeward.ECONFLICT:
			st.banner = "kits.error_decided"
			return p.kitsPage(c, r, k.CaseID, fiber.StatusConflict, st)
		case "":
			if err != nil {
				return err
			}
			return p.stepDone(c, done, "kits.flash_disbursed")
		}
	}
	return p.kitsPage(c, r, k.CaseID, fiber.StatusUnprocessableEntity, st)
}

// HandOverKit is POST /cases/kits/:id/handover (form: handed_over_on,
// place, received=yes when she confirmed, note).
func (p *Pages) HandOverKit(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.kitForm(c, PathCases, writes(tenants.CaseKit))
	if r == nil {
		return err
	}
	st := &kitState{form: "handover:" + id.String(), typed: typedForm(c), errs: fieldErrors{}}
	k, err := p.deps.Kits.HandOver(c.UserContext(), id, kits.NewHandover{On: strings.TrimSpace(c.FormValue("handed_over_on")),
		Place: c.FormValue("place"), ReceivedConfirmed: c.FormValue("received") == "yes", Note: c.FormValue("note")})
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		messages := map[string]string{"handed_over_on": "kits.error_date", "place": "kits.error_place", "note": "kits.error_note"}
		for name := range fieldsOf(err) {
			st.errs[name] = messages[name]
		}
		return p.stepFailed(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.banner = "kits.error_decided"
		return p.stepFailed(c, r, id, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	return p.stepDone(c, k, "kits.flash_handed_over")
}
