package pages

import (
	"context"
	"math"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
)

// The handoff pages: the inbox and outgoing tabs, the start form (from a
// case, or the short intake of a partner without a case file), one
// handoff with the timeline of both sides and the forms of this side's
// steps, the shared thread and the reintegration feedback, and the
// dashboard of handoffs by stage. The domain (Deps.Handoffs,
// *handoffs.Service) authorizes every read and write, as for the API, and
// gives each side only its own view; the pages refuse a form before
// reading it when the member's roles cannot do what it asks. Addresses
// carry ids only; titles are message keys; the partner organisation is
// named, its members never.

// HandoffService is the domain of the handoff pages (*handoffs.Service).
// Each call authorizes the principal in ctx.
type HandoffService interface {
	Partnerships(ctx context.Context) ([]handoffs.Partnership, error)
	SharableFields(ctx context.Context, partnershipID, caseID uuid.UUID) ([]handoffs.Sharable, string, error)
	Start(ctx context.Context, nh handoffs.NewHandoff) (*handoffs.Handoff, error)
	StartFromIntake(ctx context.Context, intake cases.NewCase, nh handoffs.NewHandoff) (*handoffs.Handoff, error)
	DecideOverride(ctx context.Context, id uuid.UUID, approve bool) (*handoffs.Handoff, error)
	List(ctx context.Context, q handoffs.Query) (*handoffs.Page, error)
	Get(ctx context.Context, id uuid.UUID) (*handoffs.Handoff, error)
	Accept(ctx context.Context, id uuid.UUID) (*handoffs.Handoff, error)
	Decline(ctx context.Context, id uuid.UUID, reason string) (*handoffs.Handoff, error)
	Withdraw(ctx context.Context, id uuid.UUID, reason string) (*handoffs.Handoff, error)
	Advance(ctx context.Context, id uuid.UUID, ch handoffs.StageChange) (*handoffs.Handoff, error)
	Thread(ctx context.Context, id uuid.UUID, limit int, cursor string) (*handoffs.MessagePage, error)
	Post(ctx context.Context, id uuid.UUID, text string, document *uuid.UUID) (*handoffs.Message, error)
	SendFeedback(ctx context.Context, id uuid.UUID, f handoffs.Feedback) (*handoffs.Feedback, error)
	FeedbackOf(ctx context.Context, id uuid.UUID) ([]handoffs.Feedback, error)
	Document(ctx context.Context, id, documentID uuid.UUID) (*handoffs.SharedDocument, []byte, error)
	Dashboard(ctx context.Context) (*handoffs.Dashboard, error)
}

var _ HandoffService = (*handoffs.Service)(nil)

// Paths of the handoff pages.
const (
	PathHandoffs         = "/handoffs"
	PathNewHandoff       = "/handoffs/new"
	PathHandoffDashboard = "/handoffs/dashboard"
)

// HandoffPath is a handoff's page.
func HandoffPath(id uuid.UUID) string { return PathHandoffs + "/" + id.String() }

// HandoffDocumentPath is where the copy this side holds of a document
// shared on handoff id downloads from (HandoffDocument).
func HandoffDocumentPath(id, documentID uuid.UUID) string {
	return HandoffPath(id) + "/documents/" + documentID.String()
}

// NewHandoffPath is the start form of a case (the case page links it).
func NewHandoffPath(caseID uuid.UUID) string {
	return PathNewHandoff + "?" + url.Values{"case": {caseID.String()}}.Encode()
}

var errNoHandoffs = homeward.Errorf(homeward.EUNAVAILABLE, "the handoffs are not available on this server")

// Bounds the browser is told (the domain checks again).
const (
	maxHandoffReason  = 2000
	maxHandoffNote    = 5000
	maxHandoffMessage = 5000
)

// mayStartHandoffs: the member starts handoffs and records the stages of
// its side (case managers; social workers on their own cases).
func mayStartHandoffs(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && (pr.Can(tenants.PermHandoffWrite) || pr.Can(tenants.PermHandoffWriteOwn))
}

// mayReceiveHandoffs: the member accepts or declines incoming handoffs.
func mayReceiveHandoffs(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.Can(tenants.PermHandoffInbox)
}

func mayUseThread(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && (pr.Can(tenants.PermHandoffThread) || pr.Can(tenants.PermHandoffThreadOwn))
}

// mayUseHandoffs: the member has some part in the organisation's handoffs.
func mayUseHandoffs(pr *tenants.Principal) bool {
	return mayStartHandoffs(pr) || mayReceiveHandoffs(pr) || mayUseThread(pr)
}

// mayReadHandoffDashboard: the handoffs' dashboard, for who starts or
// receives handoffs on the organisation's behalf or reads its dashboard.
func mayReadHandoffDashboard(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil &&
		(pr.Can(tenants.PermHandoffWrite) || pr.Can(tenants.PermHandoffInbox) || pr.Can(tenants.PermDashboardRead))
}

// mayStartHandoffOf: the member may start a handoff of a case it sees with
// this access to the core (social workers: their own cases, which they
// write).
func mayStartHandoffOf(pr *tenants.Principal, cs *cases.Case) bool {
	if pr.TenantID == uuid.Nil || cs.Stage == cases.StageReferred || cs.Stage == cases.StageClosed {
		return false
	}
	return pr.Can(tenants.PermHandoffWrite) ||
		pr.Can(tenants.PermHandoffWriteOwn) && cs.Access[tenants.FieldGroupCore] == cases.AccessWrite
}

// handoffSignedIn begins a handoff page: anyone not signed in is sent to
// sign in and back to path; a member without any part in handoffs (may)
// is refused.
func (p *Pages) handoffSignedIn(c *fiber.Ctx, path string, may func(*tenants.Principal) bool) (*request, error) {
	if p.deps.Handoffs == nil {
		return nil, errNoHandoffs
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	if !may(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// handoffForm begins a handoff form post: as handoffSignedIn, then the
// session's CSRF token, then may, before any field is read.
func (p *Pages) handoffForm(c *fiber.Ctx, page string, may func(*tenants.Principal) bool) (*request, error) {
	if p.deps.Handoffs == nil {
		return nil, errNoHandoffs
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(page), fiber.StatusSeeOther)
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if !may(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// ---------------------------------------------------------------------------
// Names

func handoffStageKey(s handoffs.Stage) string { return "handoffs.stage." + string(s) }
func handoffStateKey(s string) string         { return "handoffs.state." + s }

// stageOf is the table's line of s, and its place (-1: none).
func stageOf(s handoffs.Stage) (handoffs.StageInfo, int) {
	for i, info := range handoffs.Stages {
		if info.Stage == s {
			return info, i
		}
	}
	return handoffs.StageInfo{}, -1
}

// sideKey names a side from this side's point of view.
func sideKey(mine, side string) string {
	if side == mine {
		return "handoffs.side_us"
	}
	return "handoffs.side_partner"
}

// partnerName is the other organisation, with its country.
func (r *request) partnerName(o handoffs.Organisation) string {
	if o.Country == "" {
		return o.Name
	}
	return r.locale.T("handoffs.partner_country", "Name", o.Name, "Country", r.codeName(cases.CodeCountry, o.Country))
}

// stateOff: the state's badge is dimmed (the final refusals).
func stateOff(state string) bool {
	return state == handoffs.StateDeclined || state == handoffs.StateWithdrawn || state == handoffs.StateOverrideRefused
}

// finalState: nothing happens on the handoff any more but reading it.
func finalState(state string) bool {
	return stateOff(state)
}

// ---------------------------------------------------------------------------
// The list

type handoffRow struct {
	Href, Reference, Partner string
	StateKey, State          string
	Off                      bool
	StageKey, StageNumber    string
	Changed                  *when
}

type handoffTab struct {
	Href, Key string
	Current   bool
}

type handoffsPage struct {
	Box          string // incoming, outgoing
	Tabs         []handoffTab
	State        string
	States       []option
	Handoffs     []handoffRow
	Pager        pager
	CanStart     bool
	CanDashboard bool
	Filtered     bool
}

// Handoffs is GET /handoffs[?box=incoming|outgoing][&state=][&from=CURSOR]:
// the inbox or the outgoing handoffs, the most recent change first.
func (p *Pages) Handoffs(c *fiber.Ctx) error {
	r, err := p.handoffSignedIn(c, PathHandoffs, mayUseHandoffs)
	if r == nil {
		return err
	}
	pr := r.principal
	pg := &handoffsPage{Box: c.Query("box"), CanStart: mayStartHandoffs(pr), CanDashboard: mayReadHandoffDashboard(pr)}
	if pg.Box != "incoming" && pg.Box != "outgoing" {
		pg.Box = "outgoing"
		if mayReceiveHandoffs(pr) {
			pg.Box = "incoming"
		}
	}
	for _, box := range []string{"incoming", "outgoing"} {
		pg.Tabs = append(pg.Tabs, handoffTab{Href: listURL(PathHandoffs, url.Values{"box": {box}}),
			Key: "handoffs.box_" + box, Current: box == pg.Box})
	}
	if s := c.Query("state"); slices.Contains(handoffStates, s) {
		pg.State = s
	}
	pg.Filtered = pg.State != ""
	pg.States = []option{{Value: "", Key: "handoffs.state_any", Selected: pg.State == ""}}
	for _, s := range handoffStates {
		pg.States = append(pg.States, option{Value: s, Key: handoffStateKey(s), Selected: pg.State == s})
	}
	ctx := c.UserContext()
	q := handoffs.Query{Box: pg.Box, State: pg.State, Limit: casePageSize, Cursor: c.Query("from")}
	res, err := p.deps.Handoffs.List(ctx, q)
	if codeOf(err, homeward.EINVALID) != "" && fieldsOf(err)["cursor"] != "" {
		q.Cursor = "" // a cursor of another list, or mangled: start again
		res, err = p.deps.Handoffs.List(ctx, q)
	}
	if err != nil {
		return err
	}
	for i := range res.Handoffs {
		h := &res.Handoffs[i]
		row := handoffRow{Href: HandoffPath(h.ID), Reference: h.Reference, Partner: r.partnerName(h.Partner),
			StateKey: handoffStateKey(h.State), State: h.State, Off: stateOff(h.State), Changed: r.when(&h.StageChangedAt)}
		if info, i := stageOf(h.Stage); i >= 0 {
			row.StageKey, row.StageNumber = handoffStageKey(h.Stage), info.Number
		}
		pg.Handoffs = append(pg.Handoffs, row)
	}
	query := url.Values{"box": {pg.Box}, "state": {pg.State}}
	if res.Next != "" {
		next := url.Values{"from": {res.Next}}
		for k, v := range query {
			next[k] = v
		}
		pg.Pager.Next = listURL(PathHandoffs, next)
	}
	if q.Cursor != "" {
		pg.Pager.First = listURL(PathHandoffs, query)
	}
	return p.render(c, fiber.StatusOK, "handoffs", p.frame(c, r, "handoffs.title", PathHandoffs, pg))
}

// handoffStates are the states, in the order of the path.
var handoffStates = []string{handoffs.StateAwaitingOverride, handoffs.StateSent, handoffs.StateAccepted,
	handoffs.StateCompleted, handoffs.StateDeclined, handoffs.StateWithdrawn, handoffs.StateOverrideRefused}

// ---------------------------------------------------------------------------
// The start form

// handoffIntakeFields are the fields the short intake asks, in its order
// (identity, and where her family lives).
var handoffIntakeFields = []string{"prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender",
	"prs_PrimaryLanguage", "prs_Citizenship", "family_home_village", "family_home_province"}

type sharableBox struct {
	Field, ID, LabelKey string
	Checked, Allowed    bool
	WhyKey              string
}

type sharableGroup struct {
	Group, Key string
	Fields     []sharableBox
}

type documentBox struct {
	ID, Name, PartKey string
	Checked           bool
}

type newHandoffPage struct {
	Action                        string
	CaseID, CaseHref, Reference   string
	Intake                        bool
	Partnerships                  []option
	Partnership                   string // the one chosen ("": none yet)
	NoPartnership                 bool   // the organisation sends under none
	PartnershipError              string
	PartnershipsHref              string
	ChooseAction                  string // the GET form that chooses the partnership
	Groups                        []sharableGroup
	FieldsError                   string
	Documents                     []documentBox
	DocumentsError                string
	Consent                       bool // the case holds the sharing consent
	OverrideReason, OverrideError string
	Note, NoteError               string
	ReasonMax, NoteMax            int
	IntakeFields                  []caseField
	SharingConsent                consentForm
	FormError                     string
}

// outgoingPartnerships are the active handoff partnerships in which the
// organisation sends.
func (p *Pages) outgoingPartnerships(c *fiber.Ctx, r *request) ([]handoffs.Partnership, error) {
	all, err := p.deps.Handoffs.Partnerships(c.UserContext())
	if err != nil {
		return nil, err
	}
	var out []handoffs.Partnership
	for _, ps := range all {
		if ps.Purpose == handoffs.PurposeHandoffs && ps.State == handoffs.PartnershipActive && ps.From.ID == r.principal.TenantID {
			out = append(out, ps)
		}
	}
	return out, nil
}

// newHandoffState is a start form that came back: what was typed and its
// mistakes (field → message key), and a message above the form.
type newHandoffState struct {
	typed  url.Values
	errs   fieldErrors
	banner string
}

// NewHandoff is GET /handoffs/new[?case=ID][&partnership=ID]: the start
// form of a case, or the short intake without one.
func (p *Pages) NewHandoff(c *fiber.Ctx) error {
	r, err := p.handoffSignedIn(c, PathNewHandoff, mayStartHandoffs)
	if r == nil {
		return err
	}
	st := &newHandoffState{typed: url.Values{}, errs: fieldErrors{}}
	if v := c.Query("partnership"); v != "" {
		st.typed.Set("partnership", v)
	}
	caseID := uuid.Nil
	if v := c.Query("case"); v != "" {
		if caseID, err = uuid.Parse(v); err != nil {
			return homeward.Errorf(homeward.ENOTFOUND, "no such case")
		}
	}
	return p.newHandoffPage(c, r, caseID, fiber.StatusOK, st)
}

// newHandoffPage draws the start form (caseID nil: the short intake),
// its boxes as st typed them (none at first).
func (p *Pages) newHandoffPage(c *fiber.Ctx, r *request, caseID uuid.UUID, status int, st *newHandoffState) error {
	ctx := c.UserContext()
	partnerships, err := p.outgoingPartnerships(c, r)
	if err != nil {
		return err
	}
	pg := &newHandoffPage{Action: PathHandoffs, Intake: caseID == uuid.Nil, PartnershipsHref: PathPartnerships,
		NoPartnership: len(partnerships) == 0, ReasonMax: maxHandoffReason, NoteMax: maxHandoffNote,
		OverrideReason: st.typed.Get("override_reason"), OverrideError: st.errs["override_reason"],
		Note: st.typed.Get("note"), NoteError: st.errs["note"], PartnershipError: st.errs["partnership"],
		FieldsError: st.errs["fields"], DocumentsError: st.errs["documents"], FormError: st.banner}
	chosen := st.typed.Get("partnership")
	if chosen == "" && len(partnerships) == 1 {
		chosen = partnerships[0].ID.String()
	}
	var partnership *handoffs.Partnership
	pg.Partnerships = []option{{Value: "", Key: "handoffs.choose_partnership", Selected: chosen == ""}}
	for i := range partnerships {
		ps := &partnerships[i]
		selected := ps.ID.String() == chosen
		if selected {
			partnership = ps
		}
		pg.Partnerships = append(pg.Partnerships, option{Value: ps.ID.String(), Label: r.partnerName(ps.To), Selected: selected})
	}
	if partnership != nil {
		pg.Partnership = partnership.ID.String()
	}
	if pg.Intake {
		for _, f := range catalogueFields(handoffIntakeFields) {
			pg.IntakeFields = append(pg.IntakeFields, p.field(r, f, st.typed[f.Name], st.errs))
		}
		pg.SharingConsent = p.consentForm(r, string(cases.PurposeSharing), st.typed, "consent_sharing_", st.errs)
		return p.render(c, status, "handoff_new", p.frame(c, r, "handoffs.new_title", PathHandoffs, pg))
	}
	pg.CaseID, pg.CaseHref = caseID.String(), casePath(caseID)
	pg.ChooseAction = PathNewHandoff
	if p.deps.Cases != nil {
		cs, err := p.deps.Cases.Get(ctx, caseID)
		if err != nil {
			return err
		}
		if !mayStartHandoffOf(r.principal, cs) {
			return errNotYours
		}
		pg.Reference = cs.Reference
	}
	if partnership == nil {
		return p.render(c, status, "handoff_new", p.frame(c, r, "handoffs.new_title", PathHandoffs, pg))
	}
	fields, basis, err := p.deps.Handoffs.SharableFields(ctx, partnership.ID, caseID)
	if err != nil {
		return err
	}
	pg.Consent = basis == handoffs.BasisConsent
	chosenFields := st.typed["field"]
	groups := map[string]*sharableGroup{}
	var order []string
	allowedGroups := map[string]bool{}
	for _, f := range fields {
		g, ok := groups[f.Group]
		if !ok {
			g = &sharableGroup{Group: f.Group, Key: "case.group." + f.Group}
			groups[f.Group] = g
			order = append(order, f.Group)
		}
		box := sharableBox{Field: f.Field, ID: "field-" + f.Field, LabelKey: "case.field." + f.Field, Allowed: f.Allowed}
		if f.Allowed {
			allowedGroups[f.Group] = true
			box.Checked = slices.Contains(chosenFields, f.Field) // none ticked at first: only what the partner needs travels
		} else {
			box.WhyKey = whyNotKey(partnership, f.Group)
		}
		g.Fields = append(g.Fields, box)
	}
	for _, group := range order {
		pg.Groups = append(pg.Groups, *groups[group])
	}
	if partnership.Documents && p.deps.CaseDocuments != nil {
		listing, err := p.deps.CaseDocuments.List(ctx, caseID)
		if err != nil && codeOf(err, homeward.EFORBIDDEN, homeward.ENOTFOUND) == "" {
			return err
		}
		if listing != nil {
			for _, d := range listing.Documents {
				if !allowedGroups[d.Part] {
					continue
				}
				pg.Documents = append(pg.Documents, documentBox{ID: d.ID.String(), Name: d.Filename, PartKey: partKey(d.Part),
					Checked: slices.Contains(st.typed["document"], d.ID.String())})
			}
		}
	}
	return p.render(c, status, "handoff_new", p.frame(c, r, "handoffs.new_title", PathHandoffs, pg))
}

// whyNotKey says why a field of group may not travel under ps.
func whyNotKey(ps *handoffs.Partnership, group string) string {
	switch {
	case group == tenants.FieldGroupPsychological:
		return "handoffs.why_psychological"
	case !slices.Contains(ps.Groups, group):
		return "handoffs.why_partnership"
	case group == tenants.FieldGroupMedical:
		return "handoffs.why_health_sharing"
	}
	return "handoffs.why_not"
}

// ids reads the form's values of name as ids, skipping what is none.
func ids(values []string) []uuid.UUID {
	var out []uuid.UUID
	for _, v := range values {
		if id, err := uuid.Parse(v); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// startErrors maps the domain's reasons to the start form's fields.
func startErrors(err error, st *newHandoffState) {
	for name := range fieldsOf(err) {
		switch {
		case name == "partnership_id":
			st.errs["partnership"] = "handoffs.error_partnership"
		case name == "fields" || strings.HasPrefix(name, "fields["):
			st.errs["fields"] = "handoffs.error_fields"
		case name == "documents" || strings.HasPrefix(name, "documents["):
			st.errs["documents"] = "handoffs.error_documents"
		case name == "override_reason":
			st.errs["override_reason"] = "handoffs.error_override_reason"
		case name == "note":
			st.errs["note"] = "handoffs.error_note"
		case name == "case_id":
			st.banner = "handoffs.error_case"
		default:
			if f, ok := cases.Lookup(strings.TrimPrefix(name, "intake.values.")); ok {
				st.errs[f.Name] = fieldErrorKeys[f.Kind]
			} else if strings.Contains(name, "consent") {
				consentErrors(map[string]string{name: ""}, func(string) string { return "consent_sharing_" }, st.errs)
			} else {
				st.banner = "handoffs.error_form"
			}
		}
	}
	if st.banner == "" {
		st.banner = "handoffs.error_form"
	}
}

// StartHandoff is POST /handoffs (the start form: partnership, case,
// field and document boxes, note, override_reason; or the short intake:
// its fields and consent_sharing_*): the handoff is sent, or waits for a
// second person's approval of the override, and the page of the handoff
// follows.
func (p *Pages) StartHandoff(c *fiber.Ctx) error {
	r, err := p.handoffForm(c, PathNewHandoff, mayStartHandoffs)
	if r == nil {
		return err
	}
	ctx := c.UserContext()
	st := &newHandoffState{typed: postForm(c), errs: fieldErrors{}}
	caseID := uuid.Nil
	if v := st.typed.Get("case"); v != "" {
		if caseID, err = uuid.Parse(v); err != nil {
			return homeward.Errorf(homeward.ENOTFOUND, "no such case")
		}
	}
	partnershipID, perr := uuid.Parse(st.typed.Get("partnership"))
	if perr != nil {
		st.errs["partnership"], st.banner = "handoffs.error_partnership", "handoffs.error_form"
		return p.newHandoffPage(c, r, caseID, fiber.StatusUnprocessableEntity, st)
	}
	nh := handoffs.NewHandoff{PartnershipID: partnershipID, CaseID: caseID, Fields: st.typed["field"],
		Documents: ids(st.typed["document"]), OverrideReason: strings.TrimSpace(st.typed.Get("override_reason")),
		Note: strings.TrimSpace(st.typed.Get("note"))}
	var h *handoffs.Handoff
	if caseID != uuid.Nil {
		if len(nh.Fields) == 0 {
			st.errs["fields"], st.banner = "handoffs.error_fields", "handoffs.error_form"
			return p.newHandoffPage(c, r, caseID, fiber.StatusUnprocessableEntity, st)
		}
		h, err = p.deps.Handoffs.Start(ctx, nh)
	} else {
		nc, fields := p.handoffIntake(c, r, partnershipID, st)
		nh.Fields = fields
		h, err = p.deps.Handoffs.StartFromIntake(ctx, nc, nh)
	}
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		startErrors(err, st)
		return p.newHandoffPage(c, r, caseID, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.errs["partnership"], st.banner = "handoffs.error_partnership", "handoffs.error_conflict"
		return p.newHandoffPage(c, r, caseID, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	if h.State == handoffs.StateAwaitingOverride {
		p.flash(c, "handoffs.flash_awaiting_override")
	} else {
		p.flash(c, "handoffs.flash_sent")
	}
	return c.Redirect(HandoffPath(h.ID), fiber.StatusSeeOther)
}

// handoffIntake reads the short intake: the new case, and the fields that
// travel (those typed, of the groups the partnership lets travel).
func (p *Pages) handoffIntake(c *fiber.Ctx, r *request, partnershipID uuid.UUID, st *newHandoffState) (cases.NewCase, []string) {
	nc := cases.NewCase{Values: map[string]any{}}
	var groups []string
	if partnerships, err := p.outgoingPartnerships(c, r); err == nil {
		for _, ps := range partnerships {
			if ps.ID == partnershipID {
				groups = ps.Groups
			}
		}
	}
	fields := []string{}
	all := catalogueFields(handoffIntakeFields)
	for k, v := range formValues(c, all) {
		if items, multi := v.([]string); v == nil || multi && len(items) == 0 {
			continue // nothing to clear on a new case
		}
		nc.Values[k] = v
	}
	for _, f := range all {
		if _, ok := nc.Values[f.Name]; ok && slices.Contains(groups, f.Group) {
			fields = append(fields, f.Name)
		}
	}
	if st.typed.Get("consent_sharing_given") == "yes" {
		nc.Consents = append(nc.Consents, cases.NewConsent{Purpose: cases.PurposeSharing,
			GivenBy: st.typed.Get("consent_sharing_given_by"), GivenOn: st.typed.Get("consent_sharing_given_on"),
			Basis: st.typed.Get("consent_sharing_basis")})
	}
	return nc, fields
}

// ---------------------------------------------------------------------------
// A handoff

type stageEntryView struct {
	ActionKey, SideKey string
	On                 *when
	Who                string // a member, only on this side's entries
	Note, Reason       string
}

type stageView struct {
	Number, Key            string
	OwnerKey               string
	Ours                   bool
	Confirm                bool
	Expected               []string // message keys
	Entries                []stageEntryView
	Current, Done, Pending bool
}

type stepOption struct {
	Value, Key string
	StageKey   string
	Number     string
	Expected   []string
	Checked    bool
}

type stageForm struct {
	Action                     string
	Options                    []stepOption
	StepError                  string
	On, OnError, Today         string
	Note, NoteError            string
	Reason, ReasonError        string
	Documents                  []documentBox
	DocumentsError, FormError  string
	NoteMax, ReasonMax         int
	ConflictKey                string
	ExpectedHintKey, FormTitle string
}

type decisionForm struct {
	Action, DeclineAction string
	Reason, ReasonError   string
	ConfirmError          string
	FormError             string
	ReasonMax             int
}

type overrideView struct {
	Reason      string
	RequestedBy string
	RequestedAt *when
	DecidedBy   string
	DecidedAt   *when
	Approved    bool
	Decided     bool
	Mine        bool
	Action      string // "" when the member may not decide
	Confirm     string // a message key: the confirmation's mistake
	FormError   string
}

type sharedValue struct {
	GroupKey string
	Fields   []caseField
}

type sharedDocumentView struct {
	Name, Group, Size string
	Href              string // its download
}

type messageView struct {
	SideKey string
	Ours    bool
	Author  string
	At      *when
	Time    string
	Text    string
	Doc     string
	DocHref string // the document's download: the copy this side holds, or (sent from here) the case's own
}

type threadView struct {
	Messages    []messageView
	Next, First string
	Action      string // "" when the member may not post
	Text, Error string
	Max         int
	Documents   []documentBox // this side's case documents a message may carry (Checked: the one chosen)
	DocError    string
}

type feedbackView struct {
	StatusKey string
	On        *when
	Continues bool
	Automatic bool
	At        *when
}

type feedbackForm struct {
	Action            string
	Statuses          []option
	StatusError       string
	On, OnError       string
	Today             string
	Continues         bool
	FormError         string
	ContinuesAsked    bool
	ConflictOrInvalid bool
}

type handoffPage struct {
	ID, Reference        string
	SideKey              string
	Sender               bool
	Partner              string
	StateKey, State      string
	Off                  bool
	StageKey, StageNum   string
	BasisKey             string
	CaseHref             string
	Created, Sent        *when
	Decided, Withdrawn   *when
	DeclineReason        string
	SharingStopped       bool
	WaitingNote          string // a message key: what the handoff waits for
	Stages               []stageView
	Step                 *stageForm
	Decision             *decisionForm // receiver: accept or decline
	Withdraw             *decisionForm // sender: withdraw or stop sharing
	WithdrawKey          string        // handoffs.withdraw or handoffs.stop_sharing
	WithdrawHelpKey      string
	Override             *overrideView
	Shared               []sharedValue
	SharedDocuments      []sharedDocumentView
	SharedShown          bool
	Thread               *threadView
	Feedback             []feedbackView
	FeedbackForm         *feedbackForm
	FeedbackShown        bool
	Conflict             string // a message key above everything
	BackHref, BackKey    string
	DashboardHref        string
	PartnerFieldsMessage string
}

// handoffState is a form of the handoff page that came back: which
// (step, decide, withdraw, override, message, feedback), what was typed,
// its mistakes, and a message.
type handoffState struct {
	form   string
	typed  url.Values
	errs   fieldErrors
	banner string
}

func (st *handoffState) of(form string) (url.Values, fieldErrors, string) {
	if st == nil || st.form != form {
		return url.Values{}, fieldErrors{}, ""
	}
	return st.typed, st.errs, st.banner
}

// Handoff is GET /handoffs/:id[?thread=CURSOR]: the handoff as this side
// sees it.
func (p *Pages) Handoff(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffSignedIn(c, HandoffPath(id), mayUseHandoffs)
	if r == nil {
		return err
	}
	return p.handoffPage(c, r, id, fiber.StatusOK, nil)
}

func (p *Pages) handoffPage(c *fiber.Ctx, r *request, id uuid.UUID, status int, st *handoffState) error {
	ctx := c.UserContext()
	h, err := p.deps.Handoffs.Get(ctx, id)
	if err != nil {
		return err
	}
	pr := r.principal
	sender := h.Side == handoffs.SideSender
	pg := &handoffPage{ID: h.ID.String(), Reference: h.Reference, Sender: sender, Partner: r.partnerName(h.Partner),
		StateKey: handoffStateKey(h.State), State: h.State, Off: stateOff(h.State), Created: r.when(&h.CreatedAt),
		Sent: r.when(h.SentAt), Decided: r.when(h.DecidedAt), Withdrawn: r.when(h.WithdrawnAt),
		DeclineReason: h.DeclineReason, SharingStopped: h.SharingStopped, BackHref: PathHandoffs,
		SideKey: "handoffs.you_send", BackKey: "handoffs.back"}
	if !sender {
		pg.SideKey = "handoffs.you_receive"
	}
	if mayReadHandoffDashboard(pr) {
		pg.DashboardHref = PathHandoffDashboard
	}
	if h.Basis != "" {
		pg.BasisKey = "handoffs.basis." + h.Basis
	}
	if h.CaseID != nil {
		pg.CaseHref = casePath(*h.CaseID)
	}
	current, idx := stageOf(h.Stage)
	if idx >= 0 {
		pg.StageKey, pg.StageNum = handoffStageKey(h.Stage), current.Number
	}
	pg.WaitingNote = waitingNote(h)
	if st != nil && st.form == "page" {
		pg.Conflict = st.banner
	}
	// The timeline: every stage of the table, with what each side recorded.
	for i, info := range handoffs.Stages {
		sv := stageView{Number: info.Number, Key: handoffStageKey(info.Stage), Ours: info.Owner == h.Side,
			OwnerKey: sideKey(h.Side, info.Owner), Confirm: info.Confirm,
			Current: i == idx, Done: i < idx || i == idx && (!info.Confirm || h.Confirmed), Pending: i > idx}
		for _, d := range info.Expected {
			sv.Expected = append(sv.Expected, "handoffs.document."+d)
		}
		for _, e := range h.Timeline {
			if e.Stage != info.Stage {
				continue
			}
			ev := stageEntryView{ActionKey: "handoffs.action." + e.Action, SideKey: sideKey(h.Side, e.BySide),
				On: r.isoDate(e.On), Note: e.Note, Reason: e.Reason}
			if e.RecordedBy != nil {
				ev.Who = r.memberName(e.RecordedBy)
			}
			sv.Entries = append(sv.Entries, ev)
		}
		pg.Stages = append(pg.Stages, sv)
	}
	if err := p.handoffForms(c, r, h, pg, st); err != nil {
		return err
	}
	if err := p.handoffShared(r, h, pg); err != nil {
		return err
	}
	if err := p.handoffThread(c, r, h, pg, st); err != nil {
		return err
	}
	if err := p.handoffFeedback(c, r, h, pg, st); err != nil {
		return err
	}
	// A form that came back but is not drawn now (the step is not this
	// side's, the decision was the member's own request, the handoff
	// moved on): its message goes above everything.
	if st != nil && st.form != "page" && !pg.drawn(st.form) {
		pg.Conflict = st.banner
		if pg.Conflict == "" {
			pg.Conflict = "handoffs.error_form"
		}
	}
	return p.render(c, status, "handoff", p.frame(c, r, "handoffs.handoff_title", PathHandoffs, pg))
}

// drawn reports whether the page draws the form that came back.
func (pg *handoffPage) drawn(form string) bool {
	switch form {
	case "step":
		return pg.Step != nil
	case "decide":
		return pg.Decision != nil
	case "withdraw":
		return pg.Withdraw != nil
	case "override":
		return pg.Override != nil && pg.Override.Action != ""
	case "message":
		return pg.Thread != nil && pg.Thread.Action != ""
	case "feedback":
		return pg.FeedbackForm != nil
	}
	return false
}

// waitingNote says what the handoff waits for, as a message key.
func waitingNote(h *handoffs.Handoff) string {
	switch {
	case h.State == handoffs.StateAwaitingOverride:
		return "handoffs.waiting_override"
	case h.State == handoffs.StateSent && h.Side == handoffs.SideSender:
		return "handoffs.waiting_partner_decision"
	case h.State == handoffs.StateSent:
		return "handoffs.waiting_your_decision"
	case h.State == handoffs.StateWithdrawn && h.Side == handoffs.SideReceiver:
		return "handoffs.withdrawn_receiver"
	case h.SharingStopped && h.Side == handoffs.SideReceiver:
		return "handoffs.sharing_stopped_receiver"
	}
	return ""
}

// stepOptions are the steps this side may record now: the next stage when
// it owns it, confirming the other side's stage that needs it, going back
// to one of its stages.
func stepOptions(h *handoffs.Handoff) []stepOption {
	_, idx := stageOf(h.Stage)
	var out []stepOption
	add := func(action string, info handoffs.StageInfo) {
		o := stepOption{Value: action + ":" + string(info.Stage), Key: "handoffs.step_" + action,
			StageKey: handoffStageKey(info.Stage), Number: info.Number}
		for _, d := range info.Expected {
			o.Expected = append(o.Expected, "handoffs.document."+d)
		}
		out = append(out, o)
	}
	waiting := idx >= 0 && handoffs.Stages[idx].Confirm && !h.Confirmed
	if waiting && handoffs.Stages[idx].Owner != h.Side {
		add(handoffs.ActionConfirm, handoffs.Stages[idx])
	}
	if next := idx + 1; next < len(handoffs.Stages) && !waiting && handoffs.Stages[next].Owner == h.Side {
		info := handoffs.Stages[next]
		if info.Stage != handoffs.StageAdmission || h.State == handoffs.StateAccepted {
			add(handoffs.ActionDone, info)
		}
	}
	// Going back: to a stage this side owns, never back over an
	// admission already done.
	_, admission := stageOf(handoffs.StageAdmission)
	for i := idx; i >= 0; i-- {
		if handoffs.Stages[i].Owner == h.Side && (idx < admission || i > admission) {
			add(handoffs.ActionReopen, handoffs.Stages[i])
		}
	}
	return out
}

// mayAdvance: the member records this side's stages.
func mayAdvance(pr *tenants.Principal) bool { return mayStartHandoffs(pr) }

// handoffForms fills the forms of this side's next steps.
func (p *Pages) handoffForms(c *fiber.Ctx, r *request, h *handoffs.Handoff, pg *handoffPage, st *handoffState) error {
	pr := r.principal
	open := h.State == handoffs.StateSent || h.State == handoffs.StateAccepted
	if open && mayAdvance(pr) && !(h.Side == handoffs.SideSender && h.SharingStopped) {
		if opts := stepOptions(h); len(opts) > 0 {
			typed, errs, banner := st.of("step")
			f := &stageForm{Action: HandoffPath(h.ID) + "/stages", Today: r.today(),
				On: typed.Get("on"), OnError: errs["on"], Note: typed.Get("note"), NoteError: errs["note"],
				Reason: typed.Get("reason"), ReasonError: errs["reason"], StepError: errs["step"],
				DocumentsError: errs["documents"], FormError: banner, NoteMax: maxHandoffNote, ReasonMax: maxHandoffReason}
			if f.On == "" {
				f.On = f.Today
			}
			chosen := typed.Get("step")
			if chosen == "" {
				chosen = opts[0].Value
			}
			for i := range opts {
				opts[i].Checked = opts[i].Value == chosen
			}
			f.Options = opts
			f.Documents = p.caseDocumentBoxes(c, h, typed["document"])
			pg.Step = f
		}
	}
	if h.State == handoffs.StateSent && h.Side == handoffs.SideReceiver && mayReceiveHandoffs(pr) {
		typed, errs, banner := st.of("decide")
		pg.Decision = &decisionForm{Action: HandoffPath(h.ID) + "/accept", DeclineAction: HandoffPath(h.ID) + "/decline",
			Reason: typed.Get("reason"), ReasonError: errs["reason"], ConfirmError: errs["confirm"], FormError: banner,
			ReasonMax: maxHandoffReason}
	}
	if h.Side == handoffs.SideSender && mayStartHandoffs(pr) {
		withdraw := h.State == handoffs.StateSent || h.State == handoffs.StateAwaitingOverride
		stop := (h.State == handoffs.StateAccepted || h.State == handoffs.StateCompleted) && !h.SharingStopped
		if withdraw || stop {
			typed, errs, banner := st.of("withdraw")
			pg.Withdraw = &decisionForm{Action: HandoffPath(h.ID) + "/withdraw", Reason: typed.Get("reason"),
				ReasonError: errs["reason"], ConfirmError: errs["confirm"], FormError: banner, ReasonMax: maxHandoffReason}
			pg.WithdrawKey, pg.WithdrawHelpKey = "handoffs.withdraw", "handoffs.withdraw_help"
			if stop {
				pg.WithdrawKey, pg.WithdrawHelpKey = "handoffs.stop_sharing", "handoffs.stop_sharing_help"
			}
		}
	}
	if o := h.Override; o != nil && h.Side == handoffs.SideSender {
		me := pr.Actor.MemberID
		ov := &overrideView{Reason: o.Reason, RequestedBy: r.memberName(&o.RequestedBy), RequestedAt: r.when(&o.RequestedAt),
			DecidedAt: r.when(o.DecidedAt), Approved: o.Approved, Decided: o.DecidedAt != nil,
			Mine: me != nil && *me == o.RequestedBy}
		if o.DecidedBy != nil {
			ov.DecidedBy = r.memberName(o.DecidedBy)
		}
		if h.State == handoffs.StateAwaitingOverride && pr.Can(tenants.PermHandoffOverrideApprove) && !ov.Mine {
			_, errs, banner := st.of("override")
			ov.Action, ov.Confirm, ov.FormError = HandoffPath(h.ID)+"/override", errs["confirm"], banner
		}
		pg.Override = ov
	}
	return nil
}

// caseDocumentBoxes are the documents of this side's case that a stage or
// message may share (none when the case is not known here).
func (p *Pages) caseDocumentBoxes(c *fiber.Ctx, h *handoffs.Handoff, checked []string) []documentBox {
	if h.CaseID == nil || p.deps.CaseDocuments == nil {
		return nil
	}
	listing, err := p.deps.CaseDocuments.List(c.UserContext(), *h.CaseID)
	if err != nil {
		return nil // the member reads none of the case's documents: nothing to offer
	}
	var out []documentBox
	for _, d := range listing.Documents {
		if h.Side == handoffs.SideSender && !slices.Contains(h.Groups, d.Part) {
			continue // only documents of the groups that travel
		}
		out = append(out, documentBox{ID: d.ID.String(), Name: d.Filename, PartKey: partKey(d.Part),
			Checked: slices.Contains(checked, d.ID.String())})
	}
	return out
}

// handoffShared fills the receiver's shared copy: the chosen fields by
// group, in the catalogue's order, and the documents.
func (p *Pages) handoffShared(r *request, h *handoffs.Handoff, pg *handoffPage) error {
	sc := h.Shared
	if sc == nil || h.Side != handoffs.SideReceiver {
		return nil
	}
	pg.SharedShown = true
	byGroup := map[string]*sharedValue{}
	var order []string
	for _, f := range cases.Fields() {
		v, ok := sc.Values[f.Name]
		if !ok {
			continue
		}
		g, ok := byGroup[f.Group]
		if !ok {
			g = &sharedValue{GroupKey: "case.group." + f.Group}
			byGroup[f.Group] = g
			order = append(order, f.Group)
		}
		g.Fields = append(g.Fields, p.field(r, f, valueStrings(v), nil))
	}
	for _, group := range order {
		pg.Shared = append(pg.Shared, *byGroup[group])
	}
	for _, d := range sc.Documents {
		pg.SharedDocuments = append(pg.SharedDocuments, sharedDocumentView{Name: d.FileName, Group: partKey(d.Group),
			Size: r.locale.T("documents.size", "KiB", r.locale.Number((d.Size+1023)/1024)), Href: HandoffDocumentPath(h.ID, d.ID)})
	}
	return nil
}

// handoffThread fills the thread and its form.
func (p *Pages) handoffThread(c *fiber.Ctx, r *request, h *handoffs.Handoff, pg *handoffPage, st *handoffState) error {
	if !mayUseThread(r.principal) {
		return nil
	}
	ctx := c.UserContext()
	cursor := c.Query("thread")
	page, err := p.deps.Handoffs.Thread(ctx, h.ID, casePageSize, cursor)
	if codeOf(err, homeward.EINVALID) != "" {
		cursor = ""
		page, err = p.deps.Handoffs.Thread(ctx, h.ID, casePageSize, "")
	}
	if codeOf(err, homeward.EFORBIDDEN, homeward.ENOTFOUND) != "" {
		return nil // not this member's thread (a social worker's, of a handoff not its own)
	}
	if err != nil {
		return err
	}
	tv := &threadView{Max: maxHandoffMessage}
	for i := range page.Messages {
		m := &page.Messages[i]
		mv := messageView{SideKey: sideKey(h.Side, m.FromSide), Ours: m.FromSide == h.Side, At: r.when(&m.CreatedAt),
			Time: r.clock(m.CreatedAt), Text: m.Text}
		if m.AuthorID != nil {
			mv.Author = r.memberName(m.AuthorID)
		}
		if m.Document != nil {
			// The partner's document is a copy this side holds; one sent
			// from here is a document of this side's case.
			mv.Doc, mv.DocHref = m.Document.FileName, HandoffDocumentPath(h.ID, m.Document.ID)
			if mv.Ours {
				mv.DocHref = pathDocumentAPI + m.Document.ID.String()
			}
		}
		tv.Messages = append(tv.Messages, mv)
	}
	if page.Next != "" {
		tv.Next = HandoffPath(h.ID) + "?" + url.Values{"thread": {page.Next}}.Encode() + "#thread"
	}
	if cursor != "" {
		tv.First = HandoffPath(h.ID) + "#thread"
	}
	if !finalState(h.State) && h.State != handoffs.StateAwaitingOverride && !h.SharingStopped {
		typed, errs, _ := st.of("message")
		tv.Action, tv.Text, tv.Error = HandoffPath(h.ID)+"/messages", typed.Get("text"), errs["text"]
		tv.Documents, tv.DocError = p.caseDocumentBoxes(c, h, typed["document"]), errs["documents"]
	}
	pg.Thread = tv
	return nil
}

// feedbackStatuses are the statuses of reintegration feedback.
var feedbackStatuses = []string{handoffs.FeedbackInShelter, handoffs.FeedbackReintegrated, handoffs.FeedbackClosed,
	handoffs.FeedbackLostContact}

// handoffFeedback fills the feedback list and, for the receiver, its form.
func (p *Pages) handoffFeedback(c *fiber.Ctx, r *request, h *handoffs.Handoff, pg *handoffPage, st *handoffState) error {
	if h.State != handoffs.StateAccepted && h.State != handoffs.StateCompleted {
		return nil
	}
	list, err := p.deps.Handoffs.FeedbackOf(c.UserContext(), h.ID)
	if codeOf(err, homeward.EFORBIDDEN) != "" {
		return nil
	}
	if err != nil {
		return err
	}
	pg.FeedbackShown = true
	for _, f := range list {
		pg.Feedback = append(pg.Feedback, feedbackView{StatusKey: "handoffs.feedback_status." + f.Status, On: r.isoDate(f.On),
			Continues: f.FollowUpContinues, Automatic: f.Automatic, At: r.when(&f.CreatedAt)})
	}
	if h.Side == handoffs.SideReceiver && mayAdvance(r.principal) {
		typed, errs, banner := st.of("feedback")
		f := &feedbackForm{Action: HandoffPath(h.ID) + "/feedback", Today: r.today(),
			On: typed.Get("on"), OnError: errs["on"], StatusError: errs["status"], FormError: banner,
			Continues: typed.Get("follow_up_continues") == "yes" || st == nil || st.form != "feedback"}
		if f.On == "" {
			f.On = f.Today
		}
		f.Statuses = []option{{Value: "", Key: "cases.choose", Selected: typed.Get("status") == ""}}
		for _, s := range feedbackStatuses {
			f.Statuses = append(f.Statuses, option{Value: s, Key: "handoffs.feedback_status." + s, Selected: typed.Get("status") == s})
		}
		pg.FeedbackForm = f
	}
	return nil
}

// handoffStepFailed draws the handoff again with a form that came back:
// 422 for a mistake, 409 for a conflict (said above the form), 403 for a
// refusal the page explains.
func (p *Pages) handoffStepFailed(c *fiber.Ctx, r *request, id uuid.UUID, err error, st *handoffState,
	fieldKeys map[string]string, conflictKey string) error {
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT, homeward.EFORBIDDEN) {
	case homeward.EINVALID:
		for name := range fieldsOf(err) {
			if key, ok := fieldKeys[name]; ok {
				st.errs[fieldFor(name)] = key
			} else if st.banner == "" {
				st.banner = "handoffs.error_form"
			}
		}
		if len(st.errs) == 0 && st.banner == "" {
			st.banner = "handoffs.error_form"
		}
		return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.banner = conflictKey
		return p.handoffPage(c, r, id, fiber.StatusConflict, st)
	case homeward.EFORBIDDEN:
		if st.form == "override" || st.form == "step" {
			st.banner = "handoffs.error_forbidden_" + st.form
			return p.handoffPage(c, r, id, fiber.StatusForbidden, st)
		}
	}
	return err
}

// fieldFor is the form's field of a domain's field name.
func fieldFor(name string) string {
	switch {
	case name == "stage" || name == "action":
		return "step"
	case strings.HasPrefix(name, "documents"):
		return "documents"
	}
	return name
}

// handoffDone leaves the flash and goes back to the handoff's page.
func (p *Pages) handoffDone(c *fiber.Ctx, id uuid.UUID, flash, anchor string) error {
	p.flash(c, flash)
	return c.Redirect(HandoffPath(id)+anchor, fiber.StatusSeeOther)
}

// needConfirm checks the confirmation box of a form: 422 and the page
// again without it.
func (p *Pages) needConfirm(c *fiber.Ctx, r *request, id uuid.UUID, st *handoffState) (bool, error) {
	if c.FormValue("confirm") == "yes" {
		return true, nil
	}
	st.errs["confirm"] = "handoffs.error_confirm"
	return false, p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
}

// DecideHandoffOverride is POST /handoffs/:id/override (form:
// decision=approve|refuse, confirm=yes): a second person of the sender
// decides.
func (p *Pages) DecideHandoffOverride(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), func(pr *tenants.Principal) bool {
		return pr.TenantID != uuid.Nil && pr.Can(tenants.PermHandoffOverrideApprove)
	})
	if r == nil {
		return err
	}
	st := &handoffState{form: "override", typed: postForm(c), errs: fieldErrors{}}
	decision := c.FormValue("decision")
	if decision != "approve" && decision != "refuse" {
		st.banner = "handoffs.error_decision"
		return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	}
	if ok, err := p.needConfirm(c, r, id, st); !ok {
		return err
	}
	_, err = p.deps.Handoffs.DecideOverride(c.UserContext(), id, decision == "approve")
	if err != nil {
		return p.handoffStepFailed(c, r, id, err, st, nil, "handoffs.error_decided")
	}
	if decision == "approve" {
		return p.handoffDone(c, id, "handoffs.flash_override_approved", "")
	}
	return p.handoffDone(c, id, "handoffs.flash_override_refused", "")
}

// AcceptHandoff is POST /handoffs/:id/accept (form: confirm=yes): the
// receiver's case is created from the shared fields.
func (p *Pages) AcceptHandoff(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayReceiveHandoffs)
	if r == nil {
		return err
	}
	st := &handoffState{form: "decide", typed: postForm(c), errs: fieldErrors{}}
	if ok, err := p.needConfirm(c, r, id, st); !ok {
		return err
	}
	if _, err = p.deps.Handoffs.Accept(c.UserContext(), id); err != nil {
		return p.handoffStepFailed(c, r, id, err, st, nil, "handoffs.error_decided")
	}
	return p.handoffDone(c, id, "handoffs.flash_accepted", "")
}

// DeclineHandoff is POST /handoffs/:id/decline (form: reason, confirm=yes).
func (p *Pages) DeclineHandoff(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayReceiveHandoffs)
	if r == nil {
		return err
	}
	st := &handoffState{form: "decide", typed: postForm(c), errs: fieldErrors{}}
	if ok, err := p.needConfirm(c, r, id, st); !ok {
		return err
	}
	if _, err = p.deps.Handoffs.Decline(c.UserContext(), id, strings.TrimSpace(c.FormValue("reason"))); err != nil {
		return p.handoffStepFailed(c, r, id, err, st, map[string]string{"reason": "handoffs.error_reason"}, "handoffs.error_decided")
	}
	return p.handoffDone(c, id, "handoffs.flash_declined", "")
}

// WithdrawHandoff is POST /handoffs/:id/withdraw (form: reason,
// confirm=yes): withdrawn before acceptance, or no longer shared after.
func (p *Pages) WithdrawHandoff(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayStartHandoffs)
	if r == nil {
		return err
	}
	st := &handoffState{form: "withdraw", typed: postForm(c), errs: fieldErrors{}}
	if ok, err := p.needConfirm(c, r, id, st); !ok {
		return err
	}
	h, err := p.deps.Handoffs.Withdraw(c.UserContext(), id, strings.TrimSpace(c.FormValue("reason")))
	if err != nil {
		return p.handoffStepFailed(c, r, id, err, st, map[string]string{"reason": "handoffs.error_reason"}, "handoffs.error_withdrawn")
	}
	if h.State == handoffs.StateWithdrawn {
		return p.handoffDone(c, id, "handoffs.flash_withdrawn", "")
	}
	return p.handoffDone(c, id, "handoffs.flash_sharing_stopped", "")
}

// RecordHandoffStage is POST /handoffs/:id/stages (form: step=ACTION:STAGE,
// on, note, reason, document boxes).
func (p *Pages) RecordHandoffStage(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayAdvance)
	if r == nil {
		return err
	}
	st := &handoffState{form: "step", typed: postForm(c), errs: fieldErrors{}}
	action, stage, ok := strings.Cut(c.FormValue("step"), ":")
	if _, i := stageOf(handoffs.Stage(stage)); !ok || i < 0 ||
		!slices.Contains([]string{handoffs.ActionDone, handoffs.ActionConfirm, handoffs.ActionReopen}, action) {
		st.errs["step"] = "handoffs.error_step"
		return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	}
	ch := handoffs.StageChange{Stage: handoffs.Stage(stage), Action: action, On: strings.TrimSpace(c.FormValue("on")),
		Note: strings.TrimSpace(c.FormValue("note")), Documents: ids(st.typed["document"])}
	if action == handoffs.ActionReopen {
		ch.Reason = strings.TrimSpace(c.FormValue("reason"))
		if ch.Reason == "" {
			st.errs["reason"] = "handoffs.error_reopen_reason"
			return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
		}
	}
	if _, err = p.deps.Handoffs.Advance(c.UserContext(), id, ch); err != nil {
		return p.handoffStepFailed(c, r, id, err, st, map[string]string{"stage": "handoffs.error_step",
			"action": "handoffs.error_step", "on": "handoffs.error_on", "note": "handoffs.error_note",
			"reason": "handoffs.error_reopen_reason", "documents": "handoffs.error_documents"}, "handoffs.error_out_of_order")
	}
	return p.handoffDone(c, id, "handoffs.flash_stage", "#timeline")
}

// PostHandoffMessage is POST /handoffs/:id/messages (form: text).
func (p *Pages) PostHandoffMessage(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayUseThread)
	if r == nil {
		return err
	}
	st := &handoffState{form: "message", typed: postForm(c), errs: fieldErrors{}}
	var doc *uuid.UUID
	if v := strings.TrimSpace(c.FormValue("document")); v != "" {
		d, err := uuid.Parse(v)
		if err != nil {
			st.errs["documents"] = "handoffs.error_documents"
			return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
		}
		doc = &d
	}
	if _, err = p.deps.Handoffs.Post(c.UserContext(), id, strings.TrimSpace(c.FormValue("text")), doc); err != nil {
		return p.handoffStepFailed(c, r, id, err, st, map[string]string{"text": "handoffs.error_message",
			"documents": "handoffs.error_documents"}, "handoffs.error_thread_closed")
	}
	return p.handoffDone(c, id, "handoffs.flash_message", "#thread")
}

// HandoffDocument is GET /handoffs/:id/documents/:document: the copy this
// side holds of a document shared on the handoff, as an attachment (as
// the API's GET /api/v1/handoffs/:id/documents/:document, which the
// domain authorizes and audits alike); anyone not signed in signs in and
// comes back to the handoff's page.
func (p *Pages) HandoffDocument(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffSignedIn(c, HandoffPath(id), mayUseHandoffs)
	if r == nil {
		return err
	}
	documentID, err := uuid.Parse(c.Params("document"))
	if err != nil {
		documentID = uuid.Nil // names no document: 404, as an unknown one
	}
	doc, content, err := p.deps.Handoffs.Document(c.UserContext(), id, documentID)
	if err != nil {
		return err
	}
	return api.SendDocument(c, doc.ID, doc.FileName, doc.ContentType, content)
}

// SendHandoffFeedback is POST /handoffs/:id/feedback (form: status, on,
// follow_up_continues=yes).
func (p *Pages) SendHandoffFeedback(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.handoffForm(c, HandoffPath(id), mayAdvance)
	if r == nil {
		return err
	}
	st := &handoffState{form: "feedback", typed: postForm(c), errs: fieldErrors{}}
	status := c.FormValue("status")
	if !slices.Contains(feedbackStatuses, status) {
		st.errs["status"] = "handoffs.error_feedback_status"
		return p.handoffPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	}
	_, err = p.deps.Handoffs.SendFeedback(c.UserContext(), id, handoffs.Feedback{Status: status,
		On: strings.TrimSpace(c.FormValue("on")), FollowUpContinues: c.FormValue("follow_up_continues") == "yes"})
	if err != nil {
		return p.handoffStepFailed(c, r, id, err, st, map[string]string{"status": "handoffs.error_feedback_status",
			"on": "handoffs.error_on"}, "handoffs.error_feedback_closed")
	}
	return p.handoffDone(c, id, "handoffs.flash_feedback", "#feedback")
}

// ---------------------------------------------------------------------------
// The dashboard

type stageFigure struct {
	Number, Key string
	OwnerKey    string
	Open        string
	Days        string
}

type stateFigure struct {
	Key, Count string
}

type handoffDashboardPage struct {
	Chart  *chart
	Stages []stageFigure
	States []stateFigure
	Empty  bool
}

// HandoffDashboard is GET /handoffs/dashboard: the open handoffs at each
// stage (a bar chart, and the figures in a table), the days spent at each
// stage, and the handoffs in each state.
func (p *Pages) HandoffDashboard(c *fiber.Ctx) error {
	r, err := p.handoffSignedIn(c, PathHandoffDashboard, mayReadHandoffDashboard)
	if r == nil {
		return err
	}
	d, err := p.deps.Handoffs.Dashboard(c.UserContext())
	if err != nil {
		return err
	}
	l := r.locale
	pg := &handoffDashboardPage{Empty: true}
	counts := map[handoffs.Stage]handoffs.StageCount{}
	for _, s := range d.Stages {
		counts[s.Stage] = s
	}
	var bars []barValue
	for _, info := range handoffs.Stages {
		s := counts[info.Stage]
		label := l.T("handoffs.stage_numbered", "Number", info.Number, "Stage", l.T(handoffStageKey(info.Stage)))
		bars = append(bars, barValue{label: label, figure: l.Number(int64(s.Open)), value: int64(s.Open)})
		pg.Stages = append(pg.Stages, stageFigure{Number: info.Number, Key: handoffStageKey(info.Stage),
			OwnerKey: "handoffs.owner." + info.Owner, Open: l.Number(int64(s.Open)),
			Days: l.Plural("handoffs.days", int64(math.Round(s.AvgDays)))})
		if s.Open > 0 || s.AvgDays > 0 {
			pg.Empty = false
		}
	}
	pg.Chart = barChart("handoff-stages", l.T("handoffs.chart_title"), l.T("handoffs.chart_open"), bars)
	for _, state := range handoffStates {
		if n := d.ByState[state]; n > 0 {
			pg.States = append(pg.States, stateFigure{Key: handoffStateKey(state), Count: l.Number(int64(n))})
			pg.Empty = false
		}
	}
	return p.render(c, fiber.StatusOK, "handoffs_dashboard", p.frame(c, r, "handoffs.dashboard_title", PathHandoffs, pg))
}

// handoffCard is the home page's count of incoming handoffs waiting for a
// decision: "" when the member receives none, or it cannot be read now.
func (p *Pages) handoffCard(c *fiber.Ctx, r *request) string {
	if p.deps.Handoffs == nil || !mayReceiveHandoffs(r.principal) {
		return ""
	}
	res, err := p.deps.Handoffs.List(c.UserContext(), handoffs.Query{Box: "incoming", State: handoffs.StateSent, Limit: handoffCardLimit})
	if err != nil {
		p.deps.Logger.Warn("pages: waiting handoffs", "err", err)
		return ""
	}
	n := int64(len(res.Handoffs))
	switch {
	case res.Next != "":
		return r.locale.Plural("handoffs.card_waiting_more", n)
	case n == 0:
		return r.locale.T("card.handoffs_empty")
	}
	return r.locale.Plural("handoffs.card_waiting", n)
}

// handoffCardLimit is how many waiting handoffs the home card counts.
const handoffCardLimit = 50
