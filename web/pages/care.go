package pages

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/cases"
)

// The care pages: one page per part of a case's services, each listing the
// entries of its sections, newest first, with a form per kind for those
// who may write the part. The support page also holds the support plans
// with their progress and the group activities the case attended. The
// domain (Deps.Care, *care.Service) authorizes every read and write by the
// case's part; the pages refuse a member whose roles reach no case's part
// (403) before asking it.

// CareServices is the domain of the care pages (*care.Service). Each call
// authorizes the principal in ctx.
type CareServices interface {
	Entries(ctx context.Context, caseID uuid.UUID, section string) (*care.CaseEntries, error)
	AddEntry(ctx context.Context, caseID uuid.UUID, ne care.NewEntry) (*care.Entry, error)
	Plans(ctx context.Context, caseID uuid.UUID) (*care.CasePlans, error)
	AddPlan(ctx context.Context, caseID uuid.UUID, np care.NewPlan) (*care.Plan, error)
	AddProgress(ctx context.Context, planID uuid.UUID, np care.NewProgress) (*care.Plan, error)
	Activities(ctx context.Context, limit int, cursor string) (*care.ActivityPage, error)
	CreateActivity(ctx context.Context, na care.NewActivity, attended ...uuid.UUID) (*care.Activity, error)
	SetAttendance(ctx context.Context, activityID, caseID uuid.UUID, attended bool) (*care.Activity, error)
	CaseActivities(ctx context.Context, caseID uuid.UUID) (*care.CaseActivities, error)
}

var _ CareServices = (*care.Service)(nil)

// The care pages of a case, by the last element of their address.
const (
	CarePsychological = "psychological"
	CareMedical       = "medical"
	CareLegal         = "legal"
	CareSupport       = "support"
)

// CarePath is the address of a care page of case id: /cases/ID/PAGE.
func CarePath(id uuid.UUID, page string) string { return casePath(id) + "/" + page }

// carePart is one care page: its part of the case and its sections.
type carePart struct {
	part     string
	sections []string
}

var careParts = map[string]carePart{
	CarePsychological: {tenants.FieldGroupPsychological, []string{care.SectionPsychological}},
	CareMedical:       {tenants.FieldGroupMedical, []string{care.SectionMedical}},
	CareLegal:         {tenants.FieldGroupLegal, []string{care.SectionLegal}},
	CareSupport:       {tenants.CaseSupport, []string{care.SectionEducation, care.SectionTraining}},
}

var errNoCare = homeward.Errorf(homeward.EUNAVAILABLE, "the case services are not available on this server")

// How many recent activities the support page offers to record attendance at.
const recentActivities = 20

// carePage is a care page's part of the view.
type carePage struct {
	TitleKey  string
	Reference string
	CaseHref  string
	Write     bool
	FormError string // a message key above the forms: a refusal, a conflict
	Lawsuit   string // the legal page: the lawsuit wish summed up, a message key
	Sections  []careSection
	Support   *supportView
}

type careSection struct {
	Key     string // care.section.NAME
	ID      string
	Entries []careEntry
	Forms   []entryForm
}

type careEntry struct {
	ID       string
	KindKey  string
	Date     *when
	Fields   []caseField // those with a value
	Warnings []string    // message keys
	By       string
}

// entryForm records an entry of one kind; Open when it came back.
type entryForm struct {
	Kind, KindKey, Action string
	Date                  caseField
	Fields                []caseField
	Open                  bool
}

type supportView struct {
	Plans       []planView
	NewPlan     *planForm
	Activities  []activityView
	Attend      *attendForm
	NewActivity *activityForm
}

type planView struct {
	ID, TypeKey, StatusKey string
	Objectives, ActionPlan string
	PlannedEnd, ActualEnd  *when
	Progress               []progressView
	Form                   *progressForm
}

type progressView struct {
	Date          *when
	StatusKey, By string
	Note          string
}

type planForm struct {
	Action string
	Fields []caseField
	Open   bool
}

type progressForm struct {
	Action, Plan string
	Fields       []caseField
	Open         bool
}

type activityView struct {
	TypeKey, Topic string
	Date           *when
}

type attendForm struct {
	Action   string
	Activity caseField
	Open     bool
}

type activityForm struct {
	Action string
	Fields []caseField
	Open   bool
}

// careState is a form that came back: which (an entry kind, "plan",
// "progress:ID", "attend", "activity"), what was typed, its mistakes, and a
// message above the forms.
type careState struct {
	form      string
	typed     url.Values
	errs      fieldErrors
	formError string
}

// Psychological is GET /cases/:id/psychological.
func (p *Pages) Psychological(c *fiber.Ctx) error { return p.carePage(c, CarePsychological) }

// Medical is GET /cases/:id/medical.
func (p *Pages) Medical(c *fiber.Ctx) error { return p.carePage(c, CareMedical) }

// Legal is GET /cases/:id/legal.
func (p *Pages) Legal(c *fiber.Ctx) error { return p.carePage(c, CareLegal) }

// Support is GET /cases/:id/support.
func (p *Pages) Support(c *fiber.Ctx) error { return p.carePage(c, CareSupport) }

// SavePsychological is POST /cases/:id/psychological (kind, date, fields).
func (p *Pages) SavePsychological(c *fiber.Ctx) error { return p.saveEntry(c, CarePsychological) }

// SaveMedical is POST /cases/:id/medical (kind, date, fields).
func (p *Pages) SaveMedical(c *fiber.Ctx) error { return p.saveEntry(c, CareMedical) }

// SaveLegal is POST /cases/:id/legal (kind, date, fields).
func (p *Pages) SaveLegal(c *fiber.Ctx) error { return p.saveEntry(c, CareLegal) }

// SaveSupport is POST /cases/:id/support: form says what (entry, plan,
// progress, attend, activity).
func (p *Pages) SaveSupport(c *fiber.Ctx) error {
	switch c.FormValue("form") {
	case "plan":
		return p.savePlan(c)
	case "progress":
		return p.saveProgress(c)
	case "attend", "activity":
		return p.saveAttendance(c)
	}
	return p.saveEntry(c, CareSupport)
}

// careSignedIn begins a care page or form: sign-in first, then a member
// whose roles reach the part of some case (write, for a form; 403
// otherwise, before anything is read).
func (p *Pages) careSignedIn(c *fiber.Ctx, page string, write bool) (*request, error) {
	if p.deps.Care == nil {
		return nil, errNoCare
	}
	id, part := idParam(c), careParts[page].part
	may := func(pr *tenants.Principal) bool { return pr.CaseScope(part, write) != tenants.ScopeNone }
	if write {
		return p.caseForm(c, CarePath(id, page), may)
	}
	r, err := p.caseSignedIn(c, CarePath(id, page))
	if r == nil {
		return nil, err
	}
	if r.principal.TenantID == uuid.Nil || !may(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

func (p *Pages) carePage(c *fiber.Ctx, page string) error {
	r, err := p.careSignedIn(c, page, false)
	if r == nil {
		return err
	}
	return p.drawCare(c, r, page, fiber.StatusOK, nil)
}

// drawCare reads the case's part and draws its page with status, and a
// form that came back.
func (p *Pages) drawCare(c *fiber.Ctx, r *request, page string, status int, st *careState) error {
	ctx, id, cp := c.UserContext(), idParam(c), careParts[page]
	if st == nil {
		st = &careState{typed: url.Values{}, errs: fieldErrors{}}
	}
	pg := &carePage{TitleKey: "care.title_" + page, FormError: st.formError}
	for _, section := range cp.sections {
		list, err := p.deps.Care.Entries(ctx, id, section)
		if err != nil {
			return err
		}
		pg.Reference, pg.CaseHref, pg.Write = list.Case.Reference, casePath(id), list.Case.CanWrite(cp.part)
		sec := careSection{Key: "care.section." + section, ID: "section-" + section}
		for _, e := range list.Entries {
			sec.Entries = append(sec.Entries, p.entryView(r, e))
		}
		if pg.Write {
			for _, k := range care.SectionKinds(section) {
				sec.Forms = append(sec.Forms, p.entryForm(r, id, page, k, st))
			}
		}
		if section == care.SectionLegal {
			pg.Lawsuit = "care.lawsuit." + cmp.Or(list.LawsuitWanted(), "none")
		}
		pg.Sections = append(pg.Sections, sec)
	}
	if page == CareSupport {
		sv, err := p.supportView(c, r, id, pg.Write, st)
		if err != nil {
			return err
		}
		pg.Support = sv
	}
	return p.render(c, status, "care", p.frame(c, r, pg.TitleKey, PathCases, pg))
}

// formField builds one field of a care form or entry: f as the domain
// checks it, named name in the form, labelled by the message labelKey, its
// values by valuePrefix+VALUE; a true-or-false field is a choice of the two.
func (p *Pages) formField(r *request, id string, f cases.Field, labelKey, valuePrefix string, current []string, errs fieldErrors) caseField {
	cf := caseField{Name: f.Name, ID: id, LabelKey: labelKey, Kind: string(f.Kind), Max: f.Max, Min: f.Min,
		Error: errs[f.Name], Empty: len(current) == 0}
	if len(current) > 0 {
		cf.Value = current[0]
	}
	values := f.Values
	if f.Kind == cases.KindBool {
		values, cf.Kind = []string{"true", "false"}, string(cases.KindPicklist)
	}
	if f.Kind == cases.KindDate && f.Past {
		cf.MaxDate = r.today()
	}
	label := func(v string) string {
		if slices.Contains(values, v) {
			return r.locale.T(valuePrefix + v)
		}
		return v
	}
	for _, v := range values {
		cf.Options = append(cf.Options, option{Value: v, Label: label(v), Selected: slices.Contains(current, v)})
	}
	switch cases.Kind(cf.Kind) {
	case cases.KindDate:
		if d, err := time.Parse(time.DateOnly, cf.Value); err == nil {
			cf.Date = &when{Text: r.locale.Date(d), ISO: cf.Value}
		}
	case cases.KindPicklist, cases.KindMulti:
		names := make([]string, 0, len(current))
		for _, v := range current {
			names = append(names, label(v))
		}
		cf.Text = strings.Join(names, ", ")
	case cases.KindNumber:
		if n, err := strconv.ParseInt(cf.Value, 10, 64); err == nil {
			cf.Text = r.locale.Number(n)
		}
	case cases.KindLongText:
		cf.Text, cf.Paragraphs = cf.Value, true
	default:
		cf.Text = cf.Value
	}
	return cf
}

// entryField is a field of an entry kind.
func (p *Pages) entryField(r *request, k care.Kind, f care.Field, current []string, errs fieldErrors) caseField {
	return p.formField(r, "f-"+string(k)+"-"+f.Name, f.Field, "care.field."+f.Name, "care.value."+f.Name+".", current, errs)
}

func (p *Pages) entryView(r *request, e care.Entry) careEntry {
	spec, _ := care.SpecOf(e.Kind)
	v := careEntry{ID: "entry-" + e.ID.String(), KindKey: "care.kind." + string(e.Kind), By: r.memberName(e.CreatedBy)}
	if d, err := time.Parse(time.DateOnly, e.Date); err == nil {
		v.Date = &when{Text: r.locale.Date(d), ISO: e.Date}
	}
	for _, f := range spec.Fields {
		if value, ok := e.Fields[f.Name]; ok {
			v.Fields = append(v.Fields, p.entryField(r, e.Kind, f, valueStrings(value), nil))
		}
	}
	for _, w := range e.Warnings {
		v.Warnings = append(v.Warnings, "care.warning."+w)
	}
	return v
}

func (p *Pages) entryForm(r *request, id uuid.UUID, page string, k care.Kind, st *careState) entryForm {
	spec, _ := care.SpecOf(k)
	back := st.form == string(k)
	typed, errs := url.Values{}, fieldErrors{}
	if back {
		typed, errs = st.typed, st.errs
	}
	date := cases.Field{Name: "date", Kind: cases.KindDate, Past: !spec.Ahead}
	ef := entryForm{Kind: string(k), KindKey: "care.kind." + string(k), Action: CarePath(id, page), Open: back,
		Date: p.formField(r, "f-"+string(k)+"-date", date, "care.date", "", typed["date"], errs)}
	for _, f := range spec.Fields {
		ef.Fields = append(ef.Fields, p.entryField(r, k, f, typed[f.Name], errs))
	}
	return ef
}

// entryValues reads the fields of kind k a form sent: empty ones left
// out, boxes as a list, a true-or-false choice as a bool.
func entryValues(c *fiber.Ctx, spec care.Spec) map[string]any {
	out := map[string]any{}
	args := c.Request().PostArgs()
	for _, f := range spec.Fields {
		if f.Kind == cases.KindMulti {
			var items []string
			for _, v := range args.PeekMulti(f.Name) {
				if len(v) > 0 {
					items = append(items, string(v))
				}
			}
			if len(items) > 0 {
				out[f.Name] = items
			}
			continue
		}
		v := strings.TrimSpace(string(args.Peek(f.Name)))
		switch {
		case v == "":
		case f.Kind == cases.KindBool && (v == "true" || v == "false"):
			out[f.Name] = v == "true"
		default:
			out[f.Name] = v
		}
	}
	return out
}

// careErrors maps an invalid error's fields to their messages: a missing
// answer, a course too short or too long, else what the field's kind
// expects. rest reports a fault of no field the form shows.
func careErrors(err error, kinds map[string]cases.Kind, errs fieldErrors) (rest bool) {
	for name, reason := range fieldsOf(err) {
		kind, ok := kinds[name]
		switch {
		case !ok:
			rest = true
		case strings.HasPrefix(reason, "required"):
			errs[name] = "care.error_required"
		case name == "end_on":
			errs[name] = "care.error_training_length"
		case kind == cases.KindDate:
			errs[name] = "care.error_date"
		default:
			errs[name] = fieldErrorKeys[kind]
		}
	}
	return rest
}

func (p *Pages) saveEntry(c *fiber.Ctx, page string) error {
	r, err := p.careSignedIn(c, page, true)
	if r == nil {
		return err
	}
	id, kind := idParam(c), care.Kind(c.FormValue("kind"))
	spec, ok := care.SpecOf(kind)
	if !ok || !slices.Contains(careParts[page].sections, spec.Section) {
		return homeward.Invalid(map[string]string{"kind": "not a kind of this page"})
	}
	_, err = p.deps.Care.AddEntry(c.UserContext(), id, care.NewEntry{Kind: kind, Date: c.FormValue("date"),
		Fields: entryValues(c, spec)})
	st := &careState{form: string(kind), typed: postForm(c), errs: fieldErrors{}}
	switch {
	case err == nil:
		p.flash(c, "care.flash_saved")
		return c.Redirect(CarePath(id, page)+"#section-"+spec.Section, fiber.StatusSeeOther)
	case errors.Is(err, care.ErrNoTestingConsent):
		st.formError = "care.error_no_consent"
		return p.drawCare(c, r, page, fiber.StatusForbidden, st)
	case codeOf(err, homeward.ECONFLICT) != "":
		st.formError = "care.error_assessment_" + string(kind)
		return p.drawCare(c, r, page, fiber.StatusConflict, st)
	case codeOf(err, homeward.EINVALID) != "":
		kinds := map[string]cases.Kind{"date": cases.KindDate}
		for _, f := range spec.Fields {
			kinds[f.Name] = f.Kind
		}
		if careErrors(err, kinds, st.errs) {
			st.formError = "care.error_form"
		}
		return p.drawCare(c, r, page, fiber.StatusUnprocessableEntity, st)
	}
	return err
}

// The support plan's fields as its form asks them.
var planFormFields = []cases.Field{
	{Name: "spl_Type", Kind: cases.KindPicklist, Values: care.PlanTypes()},
	{Name: "spl_Objectives", Kind: cases.KindLongText, Max: 10000},
	{Name: "spl_ActionPlan", Kind: cases.KindLongText, Max: 10000},
	{Name: "spl_PlannedEndDate", Kind: cases.KindDate},
}

// The progress note's and the new activity's fields.
var (
	progressFields = []cases.Field{
		{Name: "date", Kind: cases.KindDate, Past: true},
		{Name: "status", Kind: cases.KindPicklist, Values: care.PlanStatuses},
		{Name: "note", Kind: cases.KindLongText, Max: 10000},
	}
	activityFields = []cases.Field{
		{Name: "type", Kind: cases.KindPicklist, Values: care.ActivityTypes},
		{Name: "date", Kind: cases.KindDate, Past: true},
		{Name: "topic", Kind: cases.KindText, Max: 200},
	}
)

// formKinds maps the names of fields to their kinds, for careErrors.
func formKinds(fields []cases.Field) map[string]cases.Kind {
	out := map[string]cases.Kind{}
	for _, f := range fields {
		out[f.Name] = f.Kind
	}
	return out
}

func (p *Pages) supportView(c *fiber.Ctx, r *request, id uuid.UUID, write bool, st *careState) (*supportView, error) {
	ctx := c.UserContext()
	plans, err := p.deps.Care.Plans(ctx, id)
	if err != nil {
		return nil, err
	}
	sv := &supportView{}
	typedFor := func(form string) (url.Values, fieldErrors) {
		if st.form == form {
			return st.typed, st.errs
		}
		return url.Values{}, fieldErrors{}
	}
	for _, pl := range plans.Plans {
		v := planView{ID: "plan-" + pl.ID.String(), TypeKey: "care.value.spl_Type." + pl.Type, StatusKey: "care.value.status." + pl.Status,
			Objectives: pl.Objectives, ActionPlan: pl.ActionPlan, PlannedEnd: dateOf(r, pl.PlannedEnd), ActualEnd: dateOf(r, pl.ActualEnd)}
		for _, g := range pl.Progress {
			v.Progress = append(v.Progress, progressView{Date: dateOf(r, g.Date), StatusKey: "care.value.status." + g.Status,
				Note: g.Note, By: r.memberName(g.RecordedBy)})
		}
		if write {
			form := "progress:" + pl.ID.String()
			typed, errs := typedFor(form)
			pf := &progressForm{Action: CarePath(id, CareSupport), Plan: pl.ID.String(), Open: st.form == form}
			for _, f := range progressFields {
				pf.Fields = append(pf.Fields, p.formField(r, "f-"+pl.ID.String()+"-"+f.Name, f, "care.progress_"+f.Name,
					"care.value.status.", typed[f.Name], errs))
			}
			v.Form = pf
		}
		sv.Plans = append(sv.Plans, v)
	}
	attended, err := p.deps.Care.CaseActivities(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range attended.Activities {
		sv.Activities = append(sv.Activities, activityView{TypeKey: "care.value.activity." + a.Type, Topic: a.Topic, Date: dateOf(r, a.Date)})
	}
	if !write {
		return sv, nil
	}
	typed, errs := typedFor("plan")
	sv.NewPlan = &planForm{Action: CarePath(id, CareSupport), Open: st.form == "plan"}
	for _, f := range planFormFields {
		sv.NewPlan.Fields = append(sv.NewPlan.Fields, p.formField(r, "f-plan-"+f.Name, f, "care.plan."+f.Name, "care.value.spl_Type.",
			typed[f.Name], errs))
	}
	recent, err := p.deps.Care.Activities(ctx, recentActivities, "")
	if err != nil {
		return nil, err
	}
	typed, errs = typedFor("attend")
	choice := caseField{Name: "activity", ID: "f-attend-activity", LabelKey: "care.attend_activity", Kind: string(cases.KindPicklist),
		Error: errs["activity"]}
	for _, a := range recent.Activities {
		day := a.Date
		if d := dateOf(r, a.Date); d != nil {
			day = d.Text
		}
		label := day + " · " + r.locale.T("care.value.activity."+a.Type) + " · " + a.Topic
		choice.Options = append(choice.Options, option{Value: a.ID.String(), Label: label, Selected: typed.Get("activity") == a.ID.String()})
	}
	if len(choice.Options) > 0 {
		sv.Attend = &attendForm{Action: CarePath(id, CareSupport), Activity: choice, Open: st.form == "attend"}
	}
	typed, errs = typedFor("activity")
	sv.NewActivity = &activityForm{Action: CarePath(id, CareSupport), Open: st.form == "activity"}
	for _, f := range activityFields {
		sv.NewActivity.Fields = append(sv.NewActivity.Fields, p.formField(r, "f-activity-"+f.Name, f, "care.activity_"+f.Name,
			"care.value.activity.", typed[f.Name], errs))
	}
	return sv, nil
}

// dateOf is a stored date as a page shows it (nil for none).
func dateOf(r *request, iso string) *when {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return nil
	}
	return &when{Text: r.locale.Date(d), ISO: iso}
}

// supportAnswer ends a support form: done, 303 to the page with flash;
// a mistake, the page again (422, or 409) with the form's fields'
// reasons.
func (p *Pages) supportAnswer(c *fiber.Ctx, r *request, form, flash string, fields []cases.Field, err error) error {
	id := idParam(c)
	if err == nil {
		p.flash(c, flash)
		anchor := "#plans"
		if form == "attend" || form == "activity" {
			anchor = "#activities"
		}
		return c.Redirect(CarePath(id, CareSupport)+anchor, fiber.StatusSeeOther)
	}
	st := &careState{form: form, typed: postForm(c), errs: fieldErrors{}}
	switch {
	case codeOf(err, homeward.ECONFLICT) != "":
		st.formError = "care.error_changed"
		return p.drawCare(c, r, CareSupport, fiber.StatusConflict, st)
	case codeOf(err, homeward.EINVALID) != "":
		if careErrors(err, formKinds(fields), st.errs) {
			st.formError = "care.error_form"
		}
		return p.drawCare(c, r, CareSupport, fiber.StatusUnprocessableEntity, st)
	}
	return err
}

func (p *Pages) savePlan(c *fiber.Ctx) error {
	r, err := p.careSignedIn(c, CareSupport, true)
	if r == nil {
		return err
	}
	_, err = p.deps.Care.AddPlan(c.UserContext(), idParam(c), care.NewPlan{Type: c.FormValue("spl_Type"),
		Objectives: c.FormValue("spl_Objectives"), ActionPlan: c.FormValue("spl_ActionPlan"),
		PlannedEnd: c.FormValue("spl_PlannedEndDate")})
	return p.supportAnswer(c, r, "plan", "care.flash_saved", planFormFields, err)
}

func (p *Pages) saveProgress(c *fiber.Ctx) error {
	r, err := p.careSignedIn(c, CareSupport, true)
	if r == nil {
		return err
	}
	plan, err := uuid.Parse(c.FormValue("plan"))
	if err != nil {
		return homeward.Errorf(homeward.ENOTFOUND, "no such support plan")
	}
	_, err = p.deps.Care.AddProgress(c.UserContext(), plan, care.NewProgress{Date: c.FormValue("date"),
		Status: c.FormValue("status"), Note: c.FormValue("note")})
	return p.supportAnswer(c, r, "progress:"+plan.String(), "care.flash_progress", progressFields, err)
}

// saveAttendance records the case's attendance at an activity chosen
// (attend) or at one it records with it (activity).
func (p *Pages) saveAttendance(c *fiber.Ctx) error {
	r, err := p.careSignedIn(c, CareSupport, true)
	if r == nil {
		return err
	}
	ctx, form, id := c.UserContext(), c.FormValue("form"), idParam(c)
	if form == "activity" {
		_, err = p.deps.Care.CreateActivity(ctx, care.NewActivity{Type: c.FormValue("type"), Date: c.FormValue("date"),
			Topic: c.FormValue("topic")}, id)
		return p.supportAnswer(c, r, form, "care.flash_attendance", activityFields, err)
	}
	activity, err := uuid.Parse(c.FormValue("activity"))
	if err != nil {
		err = homeward.Invalid(map[string]string{"activity": "required: choose an activity"})
	} else {
		_, err = p.deps.Care.SetAttendance(ctx, activity, id, true)
	}
	return p.supportAnswer(c, r, form, "care.flash_attendance", []cases.Field{{Name: "activity", Kind: cases.KindPicklist}}, err)
}
