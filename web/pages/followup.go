package pages

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
)

// The follow-up pages: a case's reintegration (the form while it is at a
// shelter), its visit schedule with a form to record each visit, and the
// closing of its follow-up; and the organisation's visits overdue and due
// soon. The domain (Deps.FollowUp, *followup.Service) authorizes every
// read and write, as for the API; the pages refuse a form before reading
// it when the member's roles cannot write a follow-up at all.

// FollowUps is the domain of the follow-up pages (*followup.Service).
type FollowUps interface {
	FollowUpSchedules // the organisation's schedule (pathsettings.go)
	Overview(ctx context.Context, caseID uuid.UUID) (*followup.Overview, error)
	Reintegrate(ctx context.Context, caseID uuid.UUID, nr followup.NewReintegration) (*followup.Reintegration, error)
	Visit(ctx context.Context, id uuid.UUID) (*followup.Visit, error)
	RecordVisit(ctx context.Context, id uuid.UUID, rec followup.VisitRecord) (*followup.Visit, error)
	Close(ctx context.Context, caseID uuid.UUID, reason string) (*followup.Reintegration, error)
	Due(ctx context.Context, q followup.DueQuery) (*followup.DuePage, error)
}

var _ FollowUps = (*followup.Service)(nil)

// PathFollowUps is the organisation's due visits.
const PathFollowUps = "/followups"

// FollowUpPath is a case's follow-up page (the case view links it).
func FollowUpPath(caseID uuid.UUID) string { return casePath(caseID) + "/followup" }

// followUpSoonDays is how far ahead /followups looks by default.
const followUpSoonDays = 7

var errNoFollowUp = homeward.Errorf(homeward.EUNAVAILABLE, "the follow-up is not available on this server")

// mayFollowUp: the member reads the core and the follow-up of some cases.
func mayFollowUp(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.CaseScope(tenants.FieldGroupCore, false) != tenants.ScopeNone &&
		pr.CaseScope(tenants.CaseFollowUp, false) != tenants.ScopeNone
}

// followUpSignedIn begins a follow-up page: as caseSignedIn, for members
// who may follow up some cases.
func (p *Pages) followUpSignedIn(c *fiber.Ctx, path string) (*request, error) {
	if p.deps.FollowUp == nil {
		return nil, errNoFollowUp
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	if !mayFollowUp(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// followUpForm begins a follow-up form post: as followUpSignedIn, then the
// session's CSRF token, then may, refused before any field is read.
func (p *Pages) followUpForm(c *fiber.Ctx, page string, may func(*tenants.Principal) bool) (*request, error) {
	r, err := p.followUpSignedIn(c, page)
	if r == nil {
		return nil, err
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if !may(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// isoDate is a stored calendar date as a page shows it.
func (r *request) isoDate(s string) *when {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil
	}
	return &when{Text: r.locale.Date(d), ISO: s}
}

// followUpForms is a follow-up form that came back: which (reintegrate,
// visit:ID, close), what was typed, its mistakes, or a conflict.
type followUpForms struct {
	form     string
	typed    url.Values
	errs     fieldErrors
	conflict bool
}

func (st *followUpForms) of(form string) (url.Values, fieldErrors, bool) {
	if st == nil || st.form != form {
		return url.Values{}, fieldErrors{}, false
	}
	return st.typed, st.errs, st.conflict
}

type reintegrationView struct {
	DestinationKey string
	Date           *when
	Place, Note    string
	Scheduled      bool
	EndedKey       string // "" while the follow-up runs
	Ended          *when
}

type visitView struct {
	ID         string
	Seq        int
	Due        *when
	StatusKey  string
	Status     string
	Overdue    bool
	VisitedOn  *when
	VisitedBy  string
	Facts      []factView // the findings recorded
	RiskKeys   []string
	Form       *visitForm // the member may record it
	FormOpen   bool       // the form came back with a mistake
	FormFailed bool       // ... or a conflict
}

type factView struct {
	Key, Text string
}

type visitForm struct {
	Action   string
	Outcomes []option
	Fields   []caseField
	Error    string // the outcome's mistake
}

type followUpPage struct {
	CaseHref, Reference, StageKey string
	Reintegration                 *reintegrationView
	Reintegrate                   *reintegrateForm
	NotAtShelter                  bool // no follow-up yet, and not at a shelter
	Visits                        []visitView
	Close                         *closeFollowUpForm
	Closed                        bool
	Conflict                      string // the form that met a conflict: reintegrate, close, visit:ID, or page
}

type reintegrateForm struct {
	Action string
	Fields []caseField
}

type closeFollowUpForm struct {
	Action                    string
	Reason                    string
	ReasonMax                 int
	ReasonError, ConfirmError string
}

// FollowUp is GET /cases/:id/followup: the case's reintegration (the form
// while the case is at a shelter and the member writes its follow-up),
// its visits with a form to record each, and the closing of the
// follow-up.
func (p *Pages) FollowUp(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.followUpSignedIn(c, FollowUpPath(id))
	if r == nil {
		return err
	}
	return p.followUpPage(c, r, id, fiber.StatusOK, nil)
}

func (p *Pages) followUpPage(c *fiber.Ctx, r *request, id uuid.UUID, status int, st *followUpForms) error {
	ov, err := p.deps.FollowUp.Overview(c.UserContext(), id)
	if err != nil {
		return err
	}
	pg := &followUpPage{CaseHref: casePath(id), Reference: ov.Reference, StageKey: stageKey(ov.Stage)}
	if st != nil && st.conflict {
		pg.Conflict = st.form
	}
	open := false
	if re := ov.Reintegration; re != nil {
		open = re.EndedAt == nil
		pg.Reintegration = &reintegrationView{DestinationKey: "followup.destination." + re.Destination,
			Date: r.isoDate(re.Date), Place: re.Place, Note: re.Note, Scheduled: re.Scheduled, Ended: r.when(re.EndedAt)}
		if re.EndReason != "" {
			pg.Reintegration.EndedKey = "followup.ended." + re.EndReason
		}
	}
	switch {
	case ov.Stage == cases.StageShelter && ov.CanWrite:
		pg.Reintegrate = p.reintegrateForm(r, id, st)
	case ov.Reintegration == nil && ov.Stage != cases.StageShelter:
		pg.NotAtShelter = true
	}
	today := r.today()
	for _, v := range ov.Visits {
		vv := visitView{ID: v.ID.String(), Seq: v.Seq, Due: r.isoDate(v.Due), Status: v.Status,
			StatusKey: "followup.status." + v.Status, Overdue: v.Status == followup.VisitPlanned && v.Due < today,
			VisitedOn: r.isoDate(v.VisitedOn), RiskKeys: riskKeys(v.Findings.RiskFlags)}
		if v.VisitedBy != nil {
			vv.VisitedBy = r.memberName(v.VisitedBy)
		}
		for _, f := range []factView{{"followup.living_situation", v.Findings.LivingSituation},
			{"followup.business_income", v.Findings.BusinessIncome}, {"followup.schooling", v.Findings.Schooling},
			{"followup.training_wanted", v.Findings.TrainingWanted}, {"followup.notes", v.Findings.Notes}} {
			if f.Text != "" {
				vv.Facts = append(vv.Facts, f)
			}
		}
		if ov.CanWrite && open && ov.Stage == cases.StageReintegrated && v.Status != followup.VisitCancelled &&
			v.ReintegrationID == ov.Reintegration.ID {
			typed, errs, conflict := st.of("visit:" + vv.ID)
			vv.Form = p.visitForm(r, v, typed, errs)
			vv.FormOpen, vv.FormFailed = len(errs) > 0 || conflict, conflict
		}
		pg.Visits = append(pg.Visits, vv)
	}
	if pg.Conflict != "" && strings.HasPrefix(pg.Conflict, "visit:") &&
		!slices.ContainsFunc(pg.Visits, func(v visitView) bool { return v.FormFailed }) {
		pg.Conflict = "page" // the visit has no form any more: say it above everything
	}
	if ov.CanClose && ov.Stage == cases.StageReintegrated {
		typed, errs, _ := st.of("close")
		pg.Close = &closeFollowUpForm{Action: FollowUpPath(id) + "/close", Reason: typed.Get("reason"), ReasonMax: 2000,
			ReasonError: errs["reason"], ConfirmError: errs["confirm"]}
	}
	pg.Closed = ov.Stage == cases.StageClosed && ov.Reintegration != nil
	return p.render(c, status, "followup", p.frame(c, r, "followup.title", PathCases, pg))
}

func riskKeys(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		out = append(out, "followup.risk."+f)
	}
	return out
}

// reintegrateForm is the reintegration form, with what came back.
func (p *Pages) reintegrateForm(r *request, id uuid.UUID, st *followUpForms) *reintegrateForm {
	typed, errs, _ := st.of("reintegrate")
	dest := caseField{Name: "destination", ID: "reintegration-destination", LabelKey: "followup.destination",
		Kind: string(cases.KindPicklist), Value: typed.Get("destination"), Error: errs["destination"]}
	for _, d := range followup.Destinations {
		dest.Options = append(dest.Options, option{Value: d, Label: r.locale.T("followup.destination." + d), Selected: typed.Get("destination") == d})
	}
	return &reintegrateForm{Action: FollowUpPath(id) + "/reintegration", Fields: []caseField{
		dest,
		{Name: "date", ID: "reintegration-date", LabelKey: "followup.date", Kind: string(cases.KindDate),
			MaxDate: r.today(), Value: typed.Get("date"), Error: errs["date"]},
		{Name: "place", ID: "reintegration-place", LabelKey: "followup.place", Kind: string(cases.KindText), Max: 500,
			Value: typed.Get("place"), Error: errs["place"]},
		{Name: "note", ID: "reintegration-note", LabelKey: "followup.note", Kind: string(cases.KindLongText), Max: 5000,
			Value: typed.Get("note"), Error: errs["note"]},
	}}
}

// findingFields are a visit's findings in the form's order.
var findingFields = []string{"living_situation", "business_income", "schooling", "training_wanted", "notes"}

// visitForm is the form that records v: what came back, else what is
// recorded.
func (p *Pages) visitForm(r *request, v followup.Visit, typed url.Values, errs fieldErrors) *visitForm {
	prefix := "visit-" + v.ID.String() + "-"
	if len(typed) == 0 {
		outcome := v.Status // a planned visit's form proposes "done"
		if outcome == followup.VisitPlanned {
			outcome = followup.OutcomeDone
		}
		typed = url.Values{"outcome": {outcome},
			"visited_on": {v.VisitedOn}, "living_situation": {v.Findings.LivingSituation},
			"business_income": {v.Findings.BusinessIncome}, "schooling": {v.Findings.Schooling},
			"training_wanted": {v.Findings.TrainingWanted}, "notes": {v.Findings.Notes}, "risk_flags": v.Findings.RiskFlags}
	}
	f := &visitForm{Action: PathFollowUps + "/visits/" + v.ID.String(), Error: errs["outcome"]}
	for _, o := range []string{followup.OutcomeDone, followup.OutcomeMissed} {
		f.Outcomes = append(f.Outcomes, option{Value: o, Key: "followup.outcome." + o, Selected: typed.Get("outcome") == o})
	}
	f.Fields = append(f.Fields, caseField{Name: "visited_on", ID: prefix + "visited_on", LabelKey: "followup.visited_on",
		Kind: string(cases.KindDate), MaxDate: r.today(), Value: typed.Get("visited_on"),
		Error: errs["visited_on"]})
	for _, name := range findingFields {
		f.Fields = append(f.Fields, caseField{Name: name, ID: prefix + name, LabelKey: "followup." + name,
			Kind: string(cases.KindLongText), Max: 5000, Value: typed.Get(name), Error: errs[name]})
	}
	flags := caseField{Name: "risk_flags", ID: prefix + "risk_flags", LabelKey: "followup.risk_flags",
		Kind: string(cases.KindMulti), Error: errs["risk_flags"]}
	for _, fl := range followup.RiskFlags {
		flags.Options = append(flags.Options, option{Value: fl, Label: r.locale.T("followup.risk." + fl),
			Selected: slices.Contains(typed["risk_flags"], fl)})
	}
	f.Fields = append(f.Fields, flags)
	return f
}

// followUpErrors are the words of each follow-up field's mistake.
var followUpErrors = map[string]string{
	"destination": "followup.error_destination", "date": "followup.error_date", "place": "followup.error_place",
	"note": "followup.error_text", "visited_on": "followup.error_visited_on", "outcome": "followup.error_outcome",
	"risk_flags": "followup.error_risk_flags", "living_situation": "followup.error_text",
	"business_income": "followup.error_text", "schooling": "followup.error_text", "training_wanted": "followup.error_text",
	"notes": "followup.error_text", "reason": "followup.error_reason",
}

// followUpFieldErrors maps an invalid error's fields to the page's words.
func followUpFieldErrors(err error) fieldErrors {
	errs := fieldErrors{}
	for name := range fieldsOf(err) {
		if key, ok := followUpErrors[name]; ok {
			errs[name] = key
		} else {
			errs["outcome"] = "followup.error_outcome"
		}
	}
	return errs
}

// Reintegrate is POST /cases/:id/followup/reintegration (form:
// destination, date, place, note): the case moves to reintegrated and its
// visit schedule is prepared in the background.
func (p *Pages) Reintegrate(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.followUpForm(c, FollowUpPath(id), writes(tenants.CaseFollowUp))
	if r == nil {
		return err
	}
	_, err = p.deps.FollowUp.Reintegrate(c.UserContext(), id, followup.NewReintegration{Destination: c.FormValue("destination"),
		Date: c.FormValue("date"), Place: c.FormValue("place"), Note: c.FormValue("note")})
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		st := &followUpForms{form: "reintegrate", typed: postForm(c), errs: followUpFieldErrors(err)}
		return p.followUpPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st := &followUpForms{form: "reintegrate", typed: postForm(c), errs: fieldErrors{}, conflict: true}
		return p.followUpPage(c, r, id, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "followup.flash_reintegrated")
	return c.Redirect(FollowUpPath(id), fiber.StatusSeeOther)
}

// RecordVisit is POST /followups/visits/:id (form: outcome done or
// missed, visited_on, the findings, risk_flags): back to the case's
// follow-up.
func (p *Pages) RecordVisit(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.followUpForm(c, PathFollowUps, writes(tenants.CaseFollowUp))
	if r == nil {
		return err
	}
	ctx := c.UserContext()
	rec := followup.VisitRecord{Outcome: c.FormValue("outcome"), Findings: followup.Findings{Notes: c.FormValue("notes")}}
	if rec.Outcome == followup.OutcomeDone {
		rec.VisitedOn = c.FormValue("visited_on")
		rec.Findings = followup.Findings{LivingSituation: c.FormValue("living_situation"),
			BusinessIncome: c.FormValue("business_income"), Schooling: c.FormValue("schooling"),
			TrainingWanted: c.FormValue("training_wanted"), Notes: c.FormValue("notes")}
		for _, v := range c.Request().PostArgs().PeekMulti("risk_flags") {
			if len(v) > 0 {
				rec.Findings.RiskFlags = append(rec.Findings.RiskFlags, string(v))
			}
		}
	}
	v, err := p.deps.FollowUp.RecordVisit(ctx, id, rec)
	if code := codeOf(err, homeward.EINVALID, homeward.ECONFLICT); code != "" {
		visit, verr := p.deps.FollowUp.Visit(ctx, id)
		if verr != nil {
			return verr
		}
		st := &followUpForms{form: "visit:" + id.String(), typed: postForm(c), errs: fieldErrors{}}
		status := fiber.StatusConflict
		if code == homeward.EINVALID {
			st.errs, status = followUpFieldErrors(err), fiber.StatusUnprocessableEntity
		} else {
			st.conflict = true
		}
		return p.followUpPage(c, r, visit.CaseID, status, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "followup.flash_visit")
	return c.Redirect(FollowUpPath(v.CaseID)+"#visit-"+v.ID.String(), fiber.StatusSeeOther)
}

// CloseFollowUp is POST /cases/:id/followup/close (form: reason,
// confirm=yes): the follow-up ends and the case is closed.
func (p *Pages) CloseFollowUp(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.followUpForm(c, FollowUpPath(id), func(pr *tenants.Principal) bool {
		return writes(tenants.CaseFollowUp)(pr) && writes(tenants.FieldGroupCore)(pr)
	})
	if r == nil {
		return err
	}
	st := &followUpForms{form: "close", typed: postForm(c), errs: fieldErrors{}}
	if c.FormValue("confirm") != "yes" {
		st.errs["confirm"] = "followup.error_confirm"
		return p.followUpPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	}
	_, err = p.deps.FollowUp.Close(c.UserContext(), id, c.FormValue("reason"))
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		st.errs = followUpFieldErrors(err)
		return p.followUpPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.conflict = true
		return p.followUpPage(c, r, id, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "followup.flash_closed")
	return c.Redirect(FollowUpPath(id), fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// The organisation's due visits

type dueView struct {
	Reference, Href string
	Due             *when
	Overdue         bool
}

type followUpsPage struct {
	Mine          bool
	Days          int
	Overdue, Soon []dueView
	Pager         pager
}

// FollowUps is GET /followups[?mine=1&from=CURSOR]: the visits overdue and
// those due within followUpSoonDays, of every case the member follows (its
// own with mine), soonest first. Reminders by mail go to the member's
// contact address, set on its own page (/me).
func (p *Pages) FollowUps(c *fiber.Ctx) error {
	r, err := p.followUpSignedIn(c, PathFollowUps)
	if r == nil {
		return err
	}
	return p.followUpsPage(c, r, fiber.StatusOK)
}

func (p *Pages) followUpsPage(c *fiber.Ctx, r *request, status int) error {
	ctx := c.UserContext()
	pg := &followUpsPage{Mine: c.Query("mine") == "1", Days: followUpSoonDays}
	q := followup.DueQuery{Within: followUpSoonDays, Mine: pg.Mine, Limit: casePageSize, Cursor: c.Query("from")}
	res, err := p.deps.FollowUp.Due(ctx, q)
	if codeOf(err, homeward.EINVALID) != "" && fieldsOf(err)["cursor"] != "" {
		q.Cursor = ""
		res, err = p.deps.FollowUp.Due(ctx, q)
	}
	if err != nil {
		return err
	}
	for _, v := range res.Visits {
		dv := dueView{Reference: v.Reference, Href: FollowUpPath(v.CaseID) + "#visit-" + v.VisitID.String(),
			Due: r.isoDate(v.Due), Overdue: v.Overdue}
		if v.Overdue {
			pg.Overdue = append(pg.Overdue, dv)
		} else {
			pg.Soon = append(pg.Soon, dv)
		}
	}
	query := url.Values{}
	if pg.Mine {
		query.Set("mine", "1")
	}
	if res.Next != "" {
		next := url.Values{"from": {res.Next}}
		for k, v := range query {
			next[k] = v
		}
		pg.Pager.Next = listURL(PathFollowUps, next)
	}
	if q.Cursor != "" {
		pg.Pager.First = listURL(PathFollowUps, query)
	}
	return p.render(c, status, "followups", p.frame(c, r, "followup.list_title", PathFollowUps, pg))
}
