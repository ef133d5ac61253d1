package pages

import (
	"cmp"
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
)

// The shelters' pages: the organisation's shelters with their occupancy
// (a meter per shelter) and waiting lists, with the forms that add and
// change them for their writers; and a case's admission page: how she was
// referred, the two acceptances, admission into a shelter (or its waiting
// list), transfer, discharge, and the history of her stays. The domain
// (Deps.Shelters, *shelters.Service) authorizes every read and write, as
// for the API; the pages refuse a form before reading it when the
// member's roles cannot write what it changes.

// ShelterAdmissions is the domain of the shelters' pages
// (*shelters.Service). Each call authorizes the principal in ctx.
type ShelterAdmissions interface {
	List(ctx context.Context) ([]shelters.Shelter, error)
	Create(ctx context.Context, ns shelters.NewShelter) (*shelters.Shelter, error)
	Update(ctx context.Context, id uuid.UUID, ch shelters.ShelterChange) (*shelters.Shelter, error)
	WaitingList(ctx context.Context, id uuid.UUID) ([]shelters.Waiting, error)
	Admission(ctx context.Context, caseID uuid.UUID) (*shelters.Admission, error)
	RecordAcceptance(ctx context.Context, caseID uuid.UUID, na shelters.NewAcceptance) (*shelters.Admission, error)
	Admit(ctx context.Context, caseID uuid.UUID, a shelters.Admit) (*shelters.Admission, error)
	CancelWaiting(ctx context.Context, caseID uuid.UUID) (*shelters.Admission, error)
	Transfer(ctx context.Context, caseID uuid.UUID, t shelters.Transfer) (*shelters.Admission, error)
	Discharge(ctx context.Context, caseID uuid.UUID, d shelters.Discharge) (*shelters.Admission, error)
}

var _ ShelterAdmissions = (*shelters.Service)(nil)

// PathShelters is the shelters' page.
const PathShelters = "/shelters"

// AdmissionPath is a case's admission page (the pattern
// /cases/:id/admission), linked from the case's page.
func AdmissionPath(caseID uuid.UUID) string { return casePath(caseID) + "/admission" }

var errNoShelters = homeward.Errorf(homeward.EUNAVAILABLE, "the shelters are not available on this server")

// shelterSignedIn begins a shelters page: anyone not signed in is sent to
// sign in and back to path. A nil request means the answer is given.
func (p *Pages) shelterSignedIn(c *fiber.Ctx, path string) (*request, error) {
	if p.deps.Shelters == nil {
		return nil, errNoShelters
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	return r, nil
}

// shelterForm begins a form post of the shelters' pages: as
// shelterSignedIn, then the session's CSRF token, then may, refused
// before any field is read.
func (p *Pages) shelterForm(c *fiber.Ctx, page string, may func(*tenants.Principal) bool) (*request, error) {
	r, err := p.shelterSignedIn(c, page)
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

func mayReadShelters(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.Can(tenants.PermSheltersRead)
}

func mayWriteShelters(pr *tenants.Principal) bool { return pr.Can(tenants.PermSheltersWrite) }

// ---------------------------------------------------------------------------
// The shelters

// shelterFormView is the form that adds or changes a shelter.
type shelterFormView struct {
	Action, IDPrefix                   string
	Name, Province, District, Capacity string
	Active                             bool
	MaxCapacity                        int
	Errors                             fieldErrors
	Open                               bool // drawn open: it came back with mistakes
}

type waitingView struct {
	Position  int
	Reference string
	Href      string
	Since     *when
}

type shelterView struct {
	ID, Name, Place     string
	Capacity, Occupancy int
	Active              bool
	Taken, WaitingText  string
	Queue               []waitingView
	Edit                *shelterFormView
}

type sheltersPage struct {
	CanWrite  bool
	Shelters  []shelterView
	New       *shelterFormView
	FormError bool
}

// shelterTyped is a shelter form that came back: which (new, or a
// shelter's id), what was typed and its mistakes.
type shelterTyped struct {
	form  string
	typed url.Values
	errs  fieldErrors
}

// Shelters is GET /shelters: the organisation's shelters with their beds
// taken and their waiting lists in order (shelters.read), and the forms
// of those who add and change them (shelters.write).
func (p *Pages) Shelters(c *fiber.Ctx) error {
	r, err := p.shelterSignedIn(c, PathShelters)
	if r == nil {
		return err
	}
	if !mayReadShelters(r.principal) {
		return errNotYours
	}
	return p.sheltersPage(c, r, fiber.StatusOK, nil)
}

func (p *Pages) sheltersPage(c *fiber.Ctx, r *request, status int, st *shelterTyped) error {
	ctx := c.UserContext()
	list, err := p.deps.Shelters.List(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		st = &shelterTyped{typed: url.Values{}, errs: fieldErrors{}}
	}
	pg := &sheltersPage{CanWrite: mayWriteShelters(r.principal), FormError: len(st.errs) > 0}
	for _, sh := range list {
		v := shelterView{ID: sh.ID.String(), Name: sh.Name, Place: place(sh), Capacity: sh.Capacity, Occupancy: sh.Occupancy,
			Active: sh.Active, Taken: r.locale.Plural("shelters.taken", int64(sh.Occupancy), "Capacity", r.locale.Number(int64(sh.Capacity))),
			WaitingText: r.locale.Plural("shelters.waiting_count", int64(sh.Waiting))}
		if sh.Waiting > 0 {
			queue, err := p.deps.Shelters.WaitingList(ctx, sh.ID)
			if err != nil {
				return err
			}
			for _, w := range queue {
				v.Queue = append(v.Queue, waitingView{Position: w.Position, Reference: w.Reference, Href: AdmissionPath(w.CaseID), Since: r.when(&w.Since)})
			}
		}
		if pg.CanWrite {
			f := &shelterFormView{Action: PathShelters + "/" + sh.ID.String(), IDPrefix: "shelter-" + sh.ID.String(),
				Name: sh.Name, Province: sh.Province, District: sh.District, Capacity: strconv.Itoa(sh.Capacity), Active: sh.Active,
				MaxCapacity: shelters.MaxCapacity, Errors: fieldErrors{}}
			if st.form == sh.ID.String() {
				f.typedBack(st)
			}
			v.Edit = f
		}
		pg.Shelters = append(pg.Shelters, v)
	}
	if pg.CanWrite {
		f := &shelterFormView{Action: PathShelters, IDPrefix: "shelter-new", Active: true, MaxCapacity: shelters.MaxCapacity, Errors: fieldErrors{}}
		if st.form == "new" {
			f.typedBack(st)
		}
		pg.New = f
	}
	return p.render(c, status, "shelters", p.frame(c, r, "shelters.title", PathShelters, pg))
}

// place is a shelter's district and province, as one line.
func place(sh shelters.Shelter) string {
	return strings.Trim(sh.District+", "+sh.Province, ", ")
}

// typedBack shows what was typed into the form, with its mistakes.
func (f *shelterFormView) typedBack(st *shelterTyped) {
	f.Name, f.Province, f.District = st.typed.Get("name"), st.typed.Get("province"), st.typed.Get("district")
	f.Capacity, f.Active = st.typed.Get("capacity"), st.typed.Get("active") == "yes"
	f.Errors, f.Open = st.errs, true
}

// shelterErrorKeys are the words of a shelter form's mistakes, by field.
var shelterErrorKeys = map[string]string{
	"name": "shelters.error_name", "province": "shelters.error_place", "district": "shelters.error_place",
	"capacity": "shelters.error_capacity",
}

// shelterFormFields reads a shelter form (name, province, district,
// capacity, active=yes); a capacity that is no number is a mistake of its
// own, before the domain is asked.
func shelterFormFields(c *fiber.Ctx) (name, province, district string, capacity int, active bool, errs fieldErrors) {
	errs = fieldErrors{}
	capacity, err := strconv.Atoi(strings.TrimSpace(c.FormValue("capacity")))
	if err != nil {
		errs["capacity"] = shelterErrorKeys["capacity"]
	}
	return c.FormValue("name"), c.FormValue("province"), c.FormValue("district"), capacity, c.FormValue("active") == "yes", errs
}

// shelterFormError draws the page again with the domain's mistakes
// beside the fields of the form; other errors are returned.
func (p *Pages) shelterFormError(c *fiber.Ctx, r *request, formName string, errs fieldErrors, err error) error {
	if err != nil && codeOf(err, homeward.EINVALID) == "" {
		return err
	}
	for name := range fieldsOf(err) {
		errs[name] = cmp.Or(shelterErrorKeys[name], "shelters.error_form")
	}
	return p.sheltersPage(c, r, fiber.StatusUnprocessableEntity, &shelterTyped{form: formName, typed: postForm(c), errs: errs})
}

// CreateShelter is POST /shelters (form: name, province, district,
// capacity, active=yes).
func (p *Pages) CreateShelter(c *fiber.Ctx) error {
	r, err := p.shelterForm(c, PathShelters, mayWriteShelters)
	if r == nil {
		return err
	}
	name, province, district, capacity, active, errs := shelterFormFields(c)
	if len(errs) > 0 {
		return p.shelterFormError(c, r, "new", errs, nil)
	}
	_, err = p.deps.Shelters.Create(c.UserContext(), shelters.NewShelter{Name: name, Province: province, District: district,
		Capacity: capacity, Active: active})
	if err != nil {
		return p.shelterFormError(c, r, "new", errs, err)
	}
	p.flash(c, "shelters.flash_created")
	return c.Redirect(PathShelters, fiber.StatusSeeOther)
}

// UpdateShelter is POST /shelters/:id (the same form, whole: a box left
// unticked makes the shelter inactive).
func (p *Pages) UpdateShelter(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.shelterForm(c, PathShelters, mayWriteShelters)
	if r == nil {
		return err
	}
	name, province, district, capacity, active, errs := shelterFormFields(c)
	if len(errs) > 0 {
		return p.shelterFormError(c, r, id.String(), errs, nil)
	}
	_, err = p.deps.Shelters.Update(c.UserContext(), id, shelters.ShelterChange{Name: &name, Province: &province,
		District: &district, Capacity: &capacity, Active: &active})
	if err != nil {
		return p.shelterFormError(c, r, id.String(), errs, err)
	}
	p.flash(c, "shelters.flash_saved")
	return c.Redirect(PathShelters, fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// A case's admission

type acceptanceView struct {
	ByKey      string
	On         *when
	RecordedBy string
	RecordedAt *when
}

type placementView struct {
	ShelterName string
	ArrivalKey  string
	PlacedOn    *when
	PlacedBy    string
	EndedOn     *when
	EndKey      string
	Current     bool
}

type waitingForView struct {
	ShelterName string
	Since       *when
	Position    int
	CancelURL   string
}

// dateField is a date a form asks, with its label (a message key) and
// its mistake.
type dateField struct {
	Name, ID, LabelKey, Value, Max, Error string
}

// selectField is a choice a form asks, with its label (a message key)
// and its mistake.
type selectField struct {
	Name, ID, LabelKey, Error string
	Options                   []option
}

type admissionForm struct {
	Action     string
	Select     selectField // the form's choice: who accepts, the shelter, the reason
	Source     selectField // admission only: the referral source
	Date       dateField
	NoShelters bool // nothing to choose from
}

type admissionPage struct {
	CaseHref, ConsentHref, Reference string
	StageKey, SourceKey              string
	Girl, Family                     *acceptanceView
	ServicesConsent                  bool
	Missing                          []string // message keys
	Waiting                          *waitingForView
	Current                          *placementView
	History                          []placementView
	Write                            bool
	Acceptance, Admit                *admissionForm
	Transfer, Discharge              *admissionForm
	Conflict                         string // a message key, above the form that failed
	ConflictForm                     string
}

// admissionTyped is an admission form that came back.
type admissionTyped struct {
	form     string // acceptance, admit, transfer, discharge, cancel
	typed    url.Values
	errs     fieldErrors
	conflict string
}

// Admission is GET /cases/:id/admission: the case's admission as the
// member may see it (its core's readers), with the forms of its writers.
func (p *Pages) Admission(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.shelterSignedIn(c, AdmissionPath(id))
	if r == nil {
		return err
	}
	if !mayListCases(r.principal) {
		return errNotYours
	}
	return p.admissionPage(c, r, id, fiber.StatusOK, nil)
}

func (p *Pages) admissionPage(c *fiber.Ctx, r *request, id uuid.UUID, status int, st *admissionTyped) error {
	ctx := c.UserContext()
	a, err := p.deps.Shelters.Admission(ctx, id)
	if err != nil {
		return err
	}
	if st == nil {
		st = &admissionTyped{typed: url.Values{}, errs: fieldErrors{}}
	}
	pg := &admissionPage{CaseHref: casePath(id), ConsentHref: caseTabPath(id, tenants.CaseConsent), Reference: a.Reference,
		StageKey: stageKey(a.Stage), ServicesConsent: a.ServicesConsent, Write: a.CanWrite,
		Girl: r.acceptance(a.Girl), Family: r.acceptance(a.Family), Conflict: st.conflict, ConflictForm: st.form}
	if a.ReferralSource != "" {
		pg.SourceKey = "shelters.source." + a.ReferralSource
	}
	for _, m := range a.Missing {
		pg.Missing = append(pg.Missing, "shelters.missing."+m)
	}
	for _, pl := range a.Placements {
		v := r.placement(pl)
		pg.History = append(pg.History, v)
		if v.Current {
			pg.Current = &v
		}
	}
	if w := a.Waiting; w != nil {
		pg.Waiting = &waitingForView{ShelterName: w.ShelterName, Since: r.when(&w.Since), Position: w.Position}
		if a.CanWrite {
			pg.Waiting.CancelURL = AdmissionPath(id) + "/waiting/cancel"
		}
	}
	if !a.CanWrite {
		return p.render(c, status, "admission", p.frame(c, r, "shelters.admission_title", PathCases, pg))
	}
	today := r.today()
	typed := func(form string) (url.Values, fieldErrors) {
		if st.form == form {
			return st.typed, st.errs
		}
		return url.Values{}, fieldErrors{}
	}
	date := func(form, name string) dateField {
		tv, errs := typed(form)
		return dateField{Name: name, ID: form + "-" + name, LabelKey: "shelters." + name, Value: cmp.Or(tv.Get(name), today),
			Max: today, Error: errs[name]}
	}
	choices := func(form, name string, values []string, keyPrefix string) selectField {
		tv, errs := typed(form)
		f := selectField{Name: name, ID: form + "-" + name, LabelKey: "shelters." + name, Error: errs[name],
			Options: []option{{Value: "", Key: "cases.choose", Selected: tv.Get(name) == ""}}}
		for _, v := range values {
			f.Options = append(f.Options, option{Value: v, Key: keyPrefix + v, Selected: tv.Get(name) == v})
		}
		return f
	}
	if a.Stage == cases.StageIntake {
		var sides []string
		if a.Girl == nil {
			sides = append(sides, shelters.ByGirl)
		}
		if a.Family == nil {
			sides = append(sides, shelters.ByFamily, shelters.ByGuardian)
		}
		if len(sides) > 0 {
			pg.Acceptance = &admissionForm{Action: AdmissionPath(id) + "/acceptances",
				Select: choices("acceptance", "accepted_by", sides, "shelters.by."), Date: date("acceptance", "accepted_on")}
		}
		list, err := p.shelterChoices(ctx, r, "admit", typed, uuid.Nil)
		if err != nil {
			return err
		}
		pg.Admit = &admissionForm{Action: AdmissionPath(id) + "/admit", Select: list, NoShelters: len(list.Options) < 2,
			Source: choices("admit", "referral_source", shelters.ReferralSources, "shelters.source."), Date: date("admit", "admitted_on")}
		if st.form != "admit" && a.ReferralSource != "" { // recorded when she came in (a handoff accepted)
			for i := range pg.Admit.Source.Options {
				pg.Admit.Source.Options[i].Selected = pg.Admit.Source.Options[i].Value == a.ReferralSource
			}
		}
	}
	if a.Current != nil {
		list, err := p.shelterChoices(ctx, r, "transfer", typed, a.Current.ShelterID)
		if err != nil {
			return err
		}
		pg.Transfer = &admissionForm{Action: AdmissionPath(id) + "/transfer", Select: list, NoShelters: len(list.Options) < 2,
			Date: date("transfer", "transferred_on")}
		pg.Discharge = &admissionForm{Action: AdmissionPath(id) + "/discharge",
			Select: choices("discharge", "reason", shelters.DischargeReasons, "shelters.discharge."), Date: date("discharge", "discharged_on")}
	}
	return p.render(c, status, "admission", p.frame(c, r, "shelters.admission_title", PathCases, pg))
}

// shelterChoices are the active shelters a case may go to (but current),
// each named with its free beds; a member who may not read the shelters
// gets none.
func (p *Pages) shelterChoices(ctx context.Context, r *request, form string, typed func(string) (url.Values, fieldErrors), current uuid.UUID) (selectField, error) {
	tv, errs := typed(form)
	f := selectField{Name: "shelter_id", ID: form + "-shelter_id", LabelKey: "shelters.shelter", Error: errs["shelter_id"],
		Options: []option{{Value: "", Key: "cases.choose", Selected: tv.Get("shelter_id") == ""}}}
	list, err := p.deps.Shelters.List(ctx)
	if codeOf(err, homeward.EFORBIDDEN) != "" {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	for _, sh := range list {
		if !sh.Active || sh.ID == current {
			continue
		}
		label := sh.Name + " (" + r.locale.Plural("shelters.free", int64(sh.Free())) + ")"
		f.Options = append(f.Options, option{Value: sh.ID.String(), Label: label, Selected: tv.Get("shelter_id") == sh.ID.String()})
	}
	return f, nil
}

func (r *request) acceptance(a *shelters.Acceptance) *acceptanceView {
	if a == nil {
		return nil
	}
	return &acceptanceView{ByKey: "shelters.by." + a.By, On: r.day(a.On), RecordedBy: r.memberName(a.RecordedBy), RecordedAt: r.when(&a.RecordedAt)}
}

func (r *request) placement(pl shelters.Placement) placementView {
	v := placementView{ShelterName: pl.ShelterName, ArrivalKey: "shelters.arrival." + pl.Arrival, PlacedOn: r.day(pl.PlacedOn),
		PlacedBy: r.memberName(pl.PlacedBy), Current: pl.Current()}
	if !pl.Current() {
		v.EndedOn, v.EndKey = r.day(pl.EndedOn), "shelters.discharge."+pl.EndReason
	}
	return v
}

// day is a stored date (YYYY-MM-DD) in the reader's language and calendar.
func (r *request) day(iso string) *when {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return nil
	}
	return &when{Text: r.locale.Date(d), ISO: iso}
}

// admissionPost begins an admission form post (core write).
func (p *Pages) admissionPost(c *fiber.Ctx) (*request, uuid.UUID, error) {
	id := idParam(c)
	r, err := p.shelterForm(c, AdmissionPath(id), writes(tenants.FieldGroupCore))
	return r, id, err
}

// admissionDone answers an admission form: done, 303 to the page with
// flash; invalid, 422 with the reasons beside the fields; conflict, 409
// with conflictKey above the form.
func (p *Pages) admissionDone(c *fiber.Ctx, r *request, id uuid.UUID, form string, err error, flash, conflictKey string) error {
	st := &admissionTyped{form: form, typed: postForm(c), errs: fieldErrors{}}
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		for name := range fieldsOf(err) {
			st.errs[name] = cmp.Or(admissionErrorKeys[name], "shelters.error_form")
		}
		return p.admissionPage(c, r, id, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.conflict = conflictKey
		return p.admissionPage(c, r, id, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, flash)
	return c.Redirect(AdmissionPath(id), fiber.StatusSeeOther)
}

// admissionErrorKeys are the words of an admission form's mistakes.
var admissionErrorKeys = map[string]string{
	"accepted_by": "shelters.error_accepted_by", "accepted_on": "shelters.error_date", "admitted_on": "shelters.error_date",
	"transferred_on": "shelters.error_date", "discharged_on": "shelters.error_date", "shelter_id": "shelters.error_shelter",
	"referral_source": "shelters.error_source", "reason": "shelters.error_reason",
}

// RecordAcceptance is POST /cases/:id/admission/acceptances (form:
// accepted_by, accepted_on).
func (p *Pages) RecordAcceptance(c *fiber.Ctx) error {
	r, id, err := p.admissionPost(c)
	if r == nil {
		return err
	}
	_, err = p.deps.Shelters.RecordAcceptance(c.UserContext(), id, shelters.NewAcceptance{By: c.FormValue("accepted_by"), On: c.FormValue("accepted_on")})
	return p.admissionDone(c, r, id, "acceptance", err, "shelters.flash_acceptance", "shelters.error_acceptance_conflict")
}

// formShelter is the form's shelter_id; one that is no UUID names none.
func formShelter(c *fiber.Ctx) uuid.UUID {
	id, _ := uuid.Parse(c.FormValue("shelter_id"))
	return id
}

// AdmitCase is POST /cases/:id/admission/admit (form: shelter_id,
// referral_source, admitted_on): placed, or on the waiting list of a full
// shelter (each with its flash).
func (p *Pages) AdmitCase(c *fiber.Ctx) error {
	r, id, err := p.admissionPost(c)
	if r == nil {
		return err
	}
	a, err := p.deps.Shelters.Admit(c.UserContext(), id, shelters.Admit{ShelterID: formShelter(c),
		ReferralSource: c.FormValue("referral_source"), AdmittedOn: c.FormValue("admitted_on")})
	flash, conflict := "shelters.flash_admitted", "shelters.error_admit_conflict"
	switch {
	case err == nil && a.Waiting != nil:
		flash = "shelters.flash_waiting"
	case codeOf(err, homeward.ECONFLICT) != "" && len(fieldsOf(err)) > 0: // what is missing: the page lists it
		conflict = "shelters.error_missing"
	}
	return p.admissionDone(c, r, id, "admit", err, flash, conflict)
}

// CancelWaiting is POST /cases/:id/admission/waiting/cancel.
func (p *Pages) CancelWaiting(c *fiber.Ctx) error {
	r, id, err := p.admissionPost(c)
	if r == nil {
		return err
	}
	_, err = p.deps.Shelters.CancelWaiting(c.UserContext(), id)
	return p.admissionDone(c, r, id, "cancel", err, "shelters.flash_waiting_cancelled", "shelters.error_not_waiting")
}

// TransferCase is POST /cases/:id/admission/transfer (form: shelter_id,
// transferred_on).
func (p *Pages) TransferCase(c *fiber.Ctx) error {
	r, id, err := p.admissionPost(c)
	if r == nil {
		return err
	}
	_, err = p.deps.Shelters.Transfer(c.UserContext(), id, shelters.Transfer{ShelterID: formShelter(c), TransferredOn: c.FormValue("transferred_on")})
	return p.admissionDone(c, r, id, "transfer", err, "shelters.flash_transferred", "shelters.error_transfer_conflict")
}

// DischargeCase is POST /cases/:id/admission/discharge (form:
// discharged_on, reason).
func (p *Pages) DischargeCase(c *fiber.Ctx) error {
	r, id, err := p.admissionPost(c)
	if r == nil {
		return err
	}
	_, err = p.deps.Shelters.Discharge(c.UserContext(), id, shelters.Discharge{DischargedOn: c.FormValue("discharged_on"), Reason: c.FormValue("reason")})
	return p.admissionDone(c, r, id, "discharge", err, "shelters.flash_discharged", "shelters.error_not_placed")
}
