package pages

import (
	"cmp"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/web/i18n"
)

// The case files' pages: the list and its search, the intake form, the
// case with one tab per part the member may see, its consent, comments,
// stage and erasure, the erasure requests waiting for a second person, and
// a case's audit trail. The domain (Deps.Cases, *cases.Service) authorizes
// every read and write and leaves out the groups the member may not see;
// the pages draw only what it returns (a tab exists only for a part in the
// case's Access) and refuse a form before reading it when the member's
// roles cannot write what it changes.
//
// Addresses carry ids only, and titles are message keys: a name typed in
// the search box travels in the query of a GET form (as any search does)
// but never in a title, a flash or a redirect.

// CaseFiles is the domain of the case pages (*cases.Service). Each call
// authorizes the principal in ctx.
type CaseFiles interface {
	Create(ctx context.Context, nc cases.NewCase) (*cases.Case, error)
	Get(ctx context.Context, id uuid.UUID) (*cases.Case, error)
	Update(ctx context.Context, id uuid.UUID, p cases.Patch) (*cases.Case, error)
	List(ctx context.Context, q cases.Query) (*cases.Page, error)
	RecordConsent(ctx context.Context, caseID uuid.UUID, nc cases.NewConsent) (*cases.Consent, error)
	WithdrawConsent(ctx context.Context, caseID uuid.UUID, purpose cases.Purpose, reason string) ([]cases.Consent, error)
	ConsentHistory(ctx context.Context, caseID uuid.UUID) ([]cases.Consent, error)
	AddComment(ctx context.Context, caseID uuid.UUID, text string) (*cases.Comment, error)
	Comments(ctx context.Context, caseID uuid.UUID, limit int, cursor string) (*cases.CommentPage, error)
	RequestErasure(ctx context.Context, caseID uuid.UUID, reason, note string) (*cases.Erasure, error)
	DecideErasure(ctx context.Context, erasureID uuid.UUID, approve bool) (*cases.Erasure, error)
	Erasures(ctx context.Context) ([]cases.Erasure, error)
	CaseAudit(ctx context.Context, caseID uuid.UUID, q tenants.AuditQuery) (tenants.AuditPage, error)
	Retention(ctx context.Context) (cases.Retention, error)
	SetRetention(ctx context.Context, r cases.Retention) (cases.Retention, error)
	RetentionDue(ctx context.Context, within time.Duration) ([]cases.RetentionCandidate, error)
	Staff(ctx context.Context) ([]tenants.Member, error)
	Assign(ctx context.Context, id uuid.UUID, owner *uuid.UUID, assigned []uuid.UUID) (*cases.Case, error)
}

var _ CaseFiles = (*cases.Service)(nil)

// Paths of the case pages.
const (
	PathCases     = "/cases"
	PathNewCase   = "/cases/new"
	PathErasures  = "/cases/erasures"
	PathRetention = "/settings/retention"
	pathExportAPI = "/api/v1/cases/" // + id + "/export": the HTCDS file, from the API
	// pathStatisticsAPI is the anonymised statistics as CSV, from the API
	// (which takes the session's cookie).
	pathStatisticsAPI = "/api/v1/statistics/cases.csv"
)

// casePageSize is how many cases, comments or audit entries a page lists.
const casePageSize = 25

// maxNote bounds the free text of a withdrawal reason or an erasure note,
// as the browser is told (the domain checks again).
const maxNote = 2000

var errNoCases = homeward.Errorf(homeward.EUNAVAILABLE, "the case files are not available on this server")

var errNotYours = homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow this")

func casePath(id uuid.UUID) string { return PathCases + "/" + id.String() }

// caseTabPath is a case's tab; the core tab is the case's own address.
func caseTabPath(id uuid.UUID, tab string) string {
	if tab == "" || tab == tenants.FieldGroupCore {
		return casePath(id)
	}
	return casePath(id) + "?tab=" + url.QueryEscape(tab)
}

// caseSignedIn begins a case page: anyone not signed in is sent to sign in
// and back to path. A nil request means the answer is given (err is it).
func (p *Pages) caseSignedIn(c *fiber.Ctx, path string) (*request, error) {
	if p.deps.Cases == nil {
		return nil, errNoCases
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	return r, nil
}

// caseForm begins a case form post: as caseSignedIn (back to page), then
// the session's CSRF token, then may (the member's roles can write what the
// form changes, in an organisation), refused before any field is read.
func (p *Pages) caseForm(c *fiber.Ctx, page string, may func(*tenants.Principal) bool) (*request, error) {
	r, err := p.caseSignedIn(c, page)
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

// mayListCases: the member reads the core of some cases (all, or their own).
func mayListCases(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.CaseScope(tenants.FieldGroupCore, false) != tenants.ScopeNone
}

// mayCreateCases: the member records new cases (intake).
func mayCreateCases(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && pr.Can(tenants.PermCaseCreate)
}

// mayReadSomePart: the member may read some part of some case.
func mayReadSomePart(pr *tenants.Principal) bool {
	return pr.TenantID != uuid.Nil && slices.ContainsFunc(tenants.CaseParts, func(part string) bool {
		return pr.CaseScope(part, false) != tenants.ScopeNone
	})
}

// writes returns the check that the member may write part of some case.
func writes(part string) func(*tenants.Principal) bool {
	return func(pr *tenants.Principal) bool { return pr.CaseScope(part, true) != tenants.ScopeNone }
}

func mayHandleErasures(pr *tenants.Principal) bool {
	return pr.Can(tenants.PermCaseEraseRequest) || pr.Can(tenants.PermCaseEraseApprove)
}

// postForm is a form's fields as typed, to draw the form again.
func postForm(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if string(k) != "csrf_token" {
			v.Add(string(k), string(val))
		}
	})
	return v
}

// ---------------------------------------------------------------------------
// Names of stages, statuses, members, languages and countries

func stageKey(s cases.Stage) string { return "case.stage." + string(s) }
func statusKey(s string) string     { return "case.status." + s }

// statuses are the HTCDS cas_Status values, in path order.
var statuses = []string{cases.StatusActive, cases.StatusFollowUp, cases.StatusClosed, cases.StatusClosedReferred}

// memberName is how a page names a member of staff: "you", or a short
// reference to the member (the case pages do not read the member list,
// which most of their readers may not).
func (r *request) memberName(id *uuid.UUID) string {
	if id == nil {
		return r.locale.T("cases.nobody")
	}
	if me := r.principal.Actor.MemberID; me != nil && *me == *id {
		return r.locale.T("cases.you")
	}
	return r.locale.T("cases.member", "Ref", id.String()[:8])
}

// The languages and countries the forms offer first (the survivors' and
// the partners' own); a stored code outside them is still shown and kept.
var (
	commonLanguages = []string{"lao", "tha", "mya", "khm", "vie", "zho", "hmn", "msa", "eng", "fra"}
	commonCountries = []string{"LA", "TH", "MY", "MM", "KH", "VN", "CN", "FR"}
)

// codeName is a language (ISO 639) or country (ISO 3166) code's name in
// the reader's language (CLDR, through x/text), or the code itself.
func (r *request) codeName(list, code string) string {
	tag, err := language.Parse(r.locale.Lang)
	if err != nil {
		return code
	}
	switch list {
	case cases.CodeLanguage:
		if t, err := language.Parse(code); err == nil {
			if name := display.Languages(tag).Name(t); name != "" {
				return name
			}
		}
	case cases.CodeCountry:
		if reg, err := language.ParseRegion(code); err == nil {
			if name := display.Regions(tag).Name(reg); name != "" {
				return name
			}
		}
	}
	return code
}

// ---------------------------------------------------------------------------
// Fields of the catalogue as forms show them

// caseField is one catalogue field as a form or the read-only view shows
// it: labels are message ids of the catalogue's translations
// (case.field.NAME, case.value.NAME.VALUE).
type caseField struct {
	Name, ID string // the form's name (the catalogue's) and the element's id
	LabelKey string
	Kind     string
	Max, Min int
	MaxDate  string // past-only dates: today
	Value    string
	Options  []option // picklists and multi-selects
	Error    string   // a message key
	// Read-only: the value as shown.
	Text       string
	Date       *when
	Paragraphs bool
	Empty      bool
}

// Multi reports whether the field is a set of boxes.
func (f caseField) Multi() bool { return f.Kind == string(cases.KindMulti) }

// bound is a part of a page with the reader's messages, for a template
// drawn inside a range (where the view is out of reach): {{template
// "case-input" (bind $ .)}}.
type bound struct {
	L *i18n.Locale
	X any
}

func bind(v *view, x any) bound { return bound{L: v.L, X: x} }

// valueStrings is a stored value as a form's strings.
func valueStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, it := range x {
			out = append(out, valueStrings(it)...)
		}
		return out
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	case int:
		return []string{strconv.Itoa(x)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		return []string{strconv.FormatBool(x)}
	}
	return nil
}

// fieldErrorKeys are the words of a field's mistake, by its kind: the
// domain's reasons are English, so the page says what the kind expects.
var fieldErrorKeys = map[cases.Kind]string{
	cases.KindText:     "cases.error_text",
	cases.KindLongText: "cases.error_text",
	cases.KindDate:     "cases.error_date",
	cases.KindNumber:   "cases.error_number",
	cases.KindPicklist: "cases.error_choice",
	cases.KindMulti:    "cases.error_choice",
	cases.KindBool:     "cases.error_choice",
}

// field builds f for a form or the view: current holds the stored value,
// typed (when the form comes back with mistakes) what was sent.
func (p *Pages) field(r *request, f cases.Field, current []string, errs fieldErrors) caseField {
	cf := caseField{
		Name: f.Name, ID: "f-" + f.Name, LabelKey: "case.field." + f.Name, Kind: string(f.Kind),
		Max: f.Max, Min: f.Min, Error: errs[f.Name], Empty: len(current) == 0,
	}
	if f.Kind == cases.KindDate && f.Past {
		cf.MaxDate = r.today()
	}
	if len(current) > 0 {
		cf.Value = current[0]
	}
	label := func(v string) string {
		switch {
		case f.CodeList != "":
			return r.codeName(f.CodeList, v)
		case slices.Contains(f.Values, v):
			return r.locale.T("case.value." + f.Name + "." + v)
		}
		return v // a value typed that is none of the list's, shown as sent
	}
	if f.Kind == cases.KindPicklist || f.Kind == cases.KindMulti {
		values := f.Values
		switch f.CodeList {
		case cases.CodeLanguage:
			values = commonLanguages
		case cases.CodeCountry:
			values = commonCountries
		}
		for _, v := range current {
			if !slices.Contains(values, v) {
				values = append(slices.Clone(values), v)
			}
		}
		for _, v := range values {
			cf.Options = append(cf.Options, option{Value: v, Label: label(v), Selected: slices.Contains(current, v)})
		}
	}
	switch f.Kind {
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

// formValues reads the fields of the catalogue a form sent: only those it
// names change (a form that leaves one out leaves it as it is), an empty
// one is cleared (nil), a multi-select comes from its boxes (the form names
// it with an empty hidden field, so that unticking every box clears it).
func formValues(c *fiber.Ctx, fields []cases.Field) map[string]any {
	out := make(map[string]any, len(fields))
	args := c.Request().PostArgs()
	for _, f := range fields {
		if !args.Has(f.Name) {
			continue
		}
		if f.Kind == cases.KindMulti {
			items := []string{}
			for _, v := range args.PeekMulti(f.Name) {
				if len(v) > 0 {
					items = append(items, string(v))
				}
			}
			out[f.Name] = items
			continue
		}
		if v := strings.TrimSpace(string(args.Peek(f.Name))); v != "" {
			out[f.Name] = v
		} else {
			out[f.Name] = nil
		}
	}
	return out
}

// catalogueErrors maps an invalid error's fields to the mistakes of the
// catalogue's fields; rest reports whether some field was none of them.
func catalogueErrors(err error, errs fieldErrors) (rest bool) {
	for name := range fieldsOf(err) {
		if f, ok := cases.Lookup(name); ok {
			errs[name] = fieldErrorKeys[f.Kind]
			continue
		}
		rest = true
	}
	return rest
}

// ---------------------------------------------------------------------------
// The list

// caseRow is a case in the list.
type caseRow struct {
	Href, Reference string
	StageKey        string
	StatusKey       string
	IdentityShown   bool
	Name            string // first and second name, when the domain gave them
	Birthdate       *when
	LastActivity    *when
	Owner           string
}

// casesPage is the list's part of the view.
type casesPage struct {
	CanList, CanCreate bool
	Q, Stage, Status   string
	Mine               bool
	Filtered           bool // a search or a filter is on
	SearchError        string
	Stages, Statuses   []option
	Cases              []caseRow
	Pager              pager
}

// Cases is GET /cases[?q=&stage=&status=&mine=1&from=CURSOR]: the cases the
// member may see, most recent activity first, searched by exact first
// name, second name, full name, birth date or case number. A member who
// records cases but reads none (outreach workers) sees the intake link
// alone.
func (p *Pages) Cases(c *fiber.Ctx) error {
	r, err := p.caseSignedIn(c, PathCases)
	if r == nil {
		return err
	}
	pr := r.principal
	pg := &casesPage{CanList: mayListCases(pr), CanCreate: mayCreateCases(pr)}
	if !pg.CanList && !pg.CanCreate {
		return errNotYours
	}
	if pg.CanList {
		if err := p.listCases(c, r, pg); err != nil {
			return err
		}
	}
	status := fiber.StatusOK
	if pg.SearchError != "" {
		status = fiber.StatusUnprocessableEntity
	}
	return p.render(c, status, "cases", p.frame(c, r, "cases.title", PathCases, pg))
}

func (p *Pages) listCases(c *fiber.Ctx, r *request, pg *casesPage) error {
	ctx := c.UserContext()
	pg.Q = strings.TrimSpace(c.Query("q"))
	pg.Mine = c.Query("mine") == "1"
	if s := cases.Stage(c.Query("stage")); slices.Contains(cases.Stages, s) {
		pg.Stage = string(s)
	}
	if s := c.Query("status"); slices.Contains(statuses, s) {
		pg.Status = s
	}
	pg.Filtered = pg.Q != "" || pg.Mine || pg.Stage != "" || pg.Status != ""
	pg.Stages = []option{{Value: "", Key: "cases.filter_any", Selected: pg.Stage == ""}}
	for _, s := range cases.Stages {
		pg.Stages = append(pg.Stages, option{Value: string(s), Key: stageKey(s), Selected: pg.Stage == string(s)})
	}
	pg.Statuses = []option{{Value: "", Key: "cases.filter_any", Selected: pg.Status == ""}}
	for _, s := range statuses {
		pg.Statuses = append(pg.Statuses, option{Value: s, Key: statusKey(s), Selected: pg.Status == s})
	}
	q := cases.Query{Limit: casePageSize, Cursor: c.Query("from"), Q: pg.Q, Stage: cases.Stage(pg.Stage), Status: pg.Status, AssignedToMe: pg.Mine}
	res, err := p.deps.Cases.List(ctx, q)
	if codeOf(err, homeward.EINVALID) != "" {
		switch f := fieldsOf(err); {
		case f["cursor"] != "": // a cursor of another search, or mangled: start again
			q.Cursor = ""
			res, err = p.deps.Cases.List(ctx, q)
		default:
			pg.SearchError, res, err = "cases.error_search", &cases.Page{}, nil
		}
	}
	if err != nil {
		return err
	}
	for _, s := range res.Cases {
		row := caseRow{
			Href: casePath(s.ID), Reference: s.Reference, StageKey: stageKey(s.Stage), StatusKey: statusKey(s.Stage.Status()),
			IdentityShown: s.IdentityShown, LastActivity: r.when(&s.LastActivityAt), Owner: r.memberName(s.OwnerID),
		}
		if s.IdentityShown {
			row.Name = strings.TrimSpace(s.FirstName + " " + s.SecondName)
			if d, err := time.Parse(time.DateOnly, s.Birthdate); err == nil {
				row.Birthdate = &when{Text: r.locale.Date(d), ISO: s.Birthdate}
			}
		}
		pg.Cases = append(pg.Cases, row)
	}
	query := url.Values{"q": {pg.Q}, "stage": {pg.Stage}, "status": {pg.Status}}
	if pg.Mine {
		query.Set("mine", "1")
	}
	if res.Next != "" {
		next := url.Values{"from": {res.Next}}
		for k, v := range query {
			next[k] = v
		}
		pg.Pager.Next = listURL(PathCases, next)
	}
	if q.Cursor != "" {
		pg.Pager.First = listURL(PathCases, query)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Intake

// intakeFields are the fields the intake form asks, in its order.
var intakeFields = []string{
	"prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender", "prs_PrimaryLanguage", "prs_Citizenship",
	"vic_TraffickingStatus", "vic_TypeOfExploitation", "cas_ReferringOrganisation", "cas_IncomingReferralDate",
}

func catalogueFields(names []string) []cases.Field {
	out := make([]cases.Field, 0, len(names))
	for _, n := range names {
		if f, ok := cases.Lookup(n); ok {
			out = append(out, f)
		}
	}
	return out
}

// consentForm is one purpose's consent as a form asks it.
type consentForm struct {
	Purpose              string
	Prefix, IDPrefix     string // of the form's names and of the elements' ids
	PurposeKey, HelpKey  string
	Given                bool // intake: the box "given" is ticked
	GivenBy, Basis       []option
	GivenOn, MaxDate     string
	ErrGivenBy, ErrBasis string // message keys
	ErrGivenOn           string
}

var givenBy = []string{cases.GivenByGirl, cases.GivenByFamily, cases.GivenByGuardian}
var bases = []string{cases.BasisSignedForm, cases.BasisRecordedVerbal}

func (p *Pages) consentForm(r *request, purpose string, typed url.Values, prefix string, errs fieldErrors) consentForm {
	f := consentForm{
		Purpose: purpose, Prefix: prefix, IDPrefix: "consent-" + cmp.Or(purpose, "new"),
		PurposeKey: "case.purpose." + purpose, HelpKey: "case.purpose." + purpose + ".hint",
		Given: typed.Get(prefix+"given") == "yes", GivenOn: typed.Get(prefix + "given_on"),
		MaxDate:    r.today(),
		ErrGivenBy: errs[prefix+"given_by"], ErrBasis: errs[prefix+"basis"], ErrGivenOn: errs[prefix+"given_on"],
	}
	f.GivenBy = []option{{Value: "", Key: "cases.choose", Selected: typed.Get(prefix+"given_by") == ""}}
	for _, g := range givenBy {
		f.GivenBy = append(f.GivenBy, option{Value: g, Key: "case.given_by." + g, Selected: typed.Get(prefix+"given_by") == g})
	}
	f.Basis = []option{{Value: "", Key: "cases.choose", Selected: typed.Get(prefix+"basis") == ""}}
	for _, b := range bases {
		f.Basis = append(f.Basis, option{Value: b, Key: "case.basis." + b, Selected: typed.Get(prefix+"basis") == b})
	}
	return f
}

// consentErrors maps the domain's names of a consent's mistakes (given_by,
// given_on, basis, purpose, with whatever prefix it gives them) to the
// form's fields under prefix; rest reports a mistake of none of them.
func consentErrors(fields map[string]string, prefixOf func(key string) string, errs fieldErrors) (rest bool) {
	for key := range fields {
		prefix := prefixOf(key)
		matched := false
		for _, sub := range []string{"given_by", "given_on", "basis"} {
			if strings.Contains(key, sub) {
				errs[prefix+sub] = "cases.error_consent_" + sub
				matched = true
			}
		}
		if !matched {
			rest = true
		}
	}
	return rest
}

// intakePage is the intake form's part of the view.
type intakePage struct {
	Fields    []caseField
	Consents  []consentForm
	FormError string
}

// NewCase is GET /cases/new: the intake form (case.create).
func (p *Pages) NewCase(c *fiber.Ctx) error {
	r, err := p.caseSignedIn(c, PathNewCase)
	if r == nil {
		return err
	}
	if !mayCreateCases(r.principal) {
		return errNotYours
	}
	return p.intakePage(c, r, fiber.StatusOK, url.Values{}, fieldErrors{}, "")
}

func (p *Pages) intakePage(c *fiber.Ctx, r *request, status int, typed url.Values, errs fieldErrors, formError string) error {
	pg := &intakePage{FormError: formError}
	for _, f := range catalogueFields(intakeFields) {
		pg.Fields = append(pg.Fields, p.field(r, f, typed[f.Name], errs))
	}
	for _, purpose := range cases.Purposes {
		pg.Consents = append(pg.Consents, p.consentForm(r, string(purpose), typed, "consent_"+string(purpose)+"_", errs))
	}
	return p.render(c, status, "case_new", p.frame(c, r, "cases.new_title", PathCases, pg))
}

// digits finds the first index in a field name such as consents[1].basis.
var digits = regexp.MustCompile(`[0-9]+`)

// CreateCase is POST /cases (the intake form: the catalogue's fields by
// name; consent_PURPOSE_given=yes with _given_by, _given_on, _basis for
// each consent given): the case is recorded, then the creator sees it
// (303 to it) or, if their roles do not read cases (outreach workers), the
// list's page with a notice.
func (p *Pages) CreateCase(c *fiber.Ctx) error {
	r, err := p.caseForm(c, PathNewCase, mayCreateCases)
	if r == nil {
		return err
	}
	typed := postForm(c)
	nc := cases.NewCase{Values: map[string]any{}}
	for k, v := range formValues(c, catalogueFields(intakeFields)) {
		if items, multi := v.([]string); v != nil && (!multi || len(items) > 0) { // nothing to clear on a new case
			nc.Values[k] = v
		}
	}
	var given []string // the purposes, in the order of nc.Consents
	for _, purpose := range cases.Purposes {
		prefix := "consent_" + string(purpose) + "_"
		if typed.Get(prefix+"given") != "yes" {
			continue
		}
		given = append(given, string(purpose))
		nc.Consents = append(nc.Consents, cases.NewConsent{
			Purpose: purpose, GivenBy: typed.Get(prefix + "given_by"), GivenOn: typed.Get(prefix + "given_on"), Basis: typed.Get(prefix + "basis"),
		})
	}
	created, err := p.deps.Cases.Create(c.UserContext(), nc)
	if codeOf(err, homeward.EINVALID) != "" {
		errs := fieldErrors{}
		rest := catalogueErrors(err, errs)
		consentFields := map[string]string{}
		for k, v := range fieldsOf(err) {
			if _, ok := cases.Lookup(k); !ok && strings.Contains(k, "consent") {
				consentFields[k] = v
			}
		}
		if len(consentFields) > 0 {
			rest = consentErrors(consentFields, func(key string) string {
				for _, purpose := range given {
					if strings.Contains(key, purpose) {
						return "consent_" + purpose + "_"
					}
				}
				if i, err := strconv.Atoi(digits.FindString(key)); err == nil && i < len(given) {
					return "consent_" + given[i] + "_"
				}
				return ""
			}, errs) || rest
		}
		formError := "cases.error_form"
		if rest && len(errs) == 0 {
			formError = "cases.error_form_other"
		}
		return p.intakePage(c, r, fiber.StatusUnprocessableEntity, typed, errs, formError)
	}
	if err != nil {
		return err
	}
	if _, ok := created.Access[tenants.FieldGroupCore]; ok {
		p.flash(c, "cases.flash_created")
		return c.Redirect(casePath(created.ID), fiber.StatusSeeOther)
	}
	p.flash(c, "cases.flash_created_handed_on")
	return c.Redirect(PathCases, fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// A case

// pathLinks are the pages of the survivor's path the member may open on a
// case, by the parts the case's Access shows: admission with the core,
// each service with its part, the kit, follow-up and the documents.
func pathLinks(cs *cases.Case) []caseTab {
	links := []struct {
		part, href, key string
	}{
		{tenants.FieldGroupCore, AdmissionPath(cs.ID), "shelters.admission_title"},
		{tenants.FieldGroupPsychological, CarePath(cs.ID, CarePsychological), "care.title_psychological"},
		{tenants.FieldGroupMedical, CarePath(cs.ID, CareMedical), "care.title_medical"},
		{tenants.FieldGroupLegal, CarePath(cs.ID, CareLegal), "care.title_legal"},
		{tenants.CaseSupport, CarePath(cs.ID, CareSupport), "care.title_support"},
		{tenants.CaseKit, KitPath(cs.ID), "kits.title"},
		{tenants.CaseFollowUp, FollowUpPath(cs.ID), "followup.title"},
		{tenants.FieldGroupCore, CaseDocumentsPath(cs.ID), "documents.title"},
	}
	var out []caseTab
	for _, l := range links {
		if _, ok := cs.Access[l.part]; ok {
			out = append(out, caseTab{Href: l.href, Key: l.key})
		}
	}
	return out
}

// caseTabs are the parts of a case in the order of its tabs.
var caseTabs = append(append([]string{}, tenants.FieldGroups...), tenants.CaseConsent)

// closureReason is asked by the stage form, when closing, rather than
// among the core's fields.
const closureReason = "cas_ReasonForCaseClosure"

// groupFields are the fields a group's form shows.
func groupFields(group string) []cases.Field {
	return slices.DeleteFunc(cases.GroupFields(group), func(f cases.Field) bool { return f.Name == closureReason })
}

// tabKey is the message of a tab: the catalogue's group name, or the
// consent tab's own.
func tabKey(part string) string {
	if part == tenants.CaseConsent {
		return "cases.tab_consent"
	}
	return "case.group." + part
}

type caseTab struct {
	Href, Key string
	Current   bool
}

// groupForm is a field group on its tab: a form when the member writes it.
type groupForm struct {
	Group, Action string
	Reload        string // the tab, to see the case as it is now
	Write         bool
	Fields        []caseField
	Errors        bool
	Conflict      bool
}

// stageChange is the form that moves a case along its path.
type stageChange struct {
	Action     string
	Stages     []option
	Reason     caseField // cas_ReasonForCaseClosure
	StageError string
	Conflict   bool
}

type commentView struct {
	Author string
	At     *when
	Text   string
}

type commentsView struct {
	Items       []commentView
	Next        string // the next page of comments
	Action      string // "" when the member may not comment
	Text, Error string
}

type eventView struct {
	TypeKey, Place, Description string
	Date                        *when
}

// erasureForm asks for the case's erasure.
type erasureForm struct {
	Action       string
	Reasons      []option
	Note         string
	NoteMax      int
	ReasonError  string
	ConfirmError string
	Pending      bool // a request waits already
}

// consentState is one purpose's current state.
type consentState struct {
	Purpose, PurposeKey string
	Standing            bool
	GivenByKey          string
	BasisKey            string
	GivenOn             *when
	Withdraw            *withdrawForm // when the member may withdraw it
}

type withdrawForm struct {
	Action, Reason       string
	ReasonMax            int
	ReasonError          string
	ConfirmError, FormID string
}

type consentRecord struct {
	PurposeKey, GivenByKey, BasisKey string
	GivenOn                          *when
	RecordedBy                       string
	RecordedAt                       *when
	Withdrawn                        bool
	WithdrawnAt                      *when
	WithdrawnBy, Reason              string
}

type consentView struct {
	States  []consentState
	History []consentRecord
	Record  *recordConsentForm // when the member may record consent
}

type recordConsentForm struct {
	Action       string
	Purposes     []option
	PurposeError string
	Consent      consentForm
}

// casePage is the case view's part of the view.
type casePage struct {
	ID, Reference, Href string
	StageKey, StatusKey string
	Version             int64
	Owner               string
	Assigned            []string
	Created, Updated    *when
	LastActivity        *when
	Closed              *when
	Tabs                []caseTab
	Path                []caseTab // the survivor's path: the pages of her care the member may open
	HandoffHref         string    // "Hand over to a partner": the start form, for members who may start one
	Tab                 string
	TabKey              string
	Assignment          *assignmentForm // the core tab, for members who assign (assignment.go)
	Group               *groupForm
	// The core tab.
	Events     []eventView
	Stage      *stageChange
	Comments   *commentsView
	ExportHref string
	AuditHref  string
	Erasure    *erasureForm
	// The consent tab.
	Consent *consentView
}

// caseState is a form that came back: which (group:NAME, stage, comment,
// consent, withdraw:PURPOSE, erasure), what was typed, and its mistakes.
type caseState struct {
	form     string
	typed    url.Values
	errs     fieldErrors
	conflict bool
}

// Case is GET /cases/:id[?tab=PART][&comments=CURSOR]: one case as the
// member may see it, one tab per part of its Access.
func (p *Pages) Case(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseSignedIn(c, casePath(id))
	if r == nil {
		return err
	}
	if !mayReadSomePart(r.principal) {
		return errNotYours
	}
	return p.casePage(c, r, id, c.Query("tab"), fiber.StatusOK, nil)
}

// casePage reads the case and draws tab (the first visible one when it is
// not among them) with status, and a form that came back.
func (p *Pages) casePage(c *fiber.Ctx, r *request, id uuid.UUID, tab string, status int, st *caseState) error {
	ctx := c.UserContext()
	cs, err := p.deps.Cases.Get(ctx, id)
	if err != nil {
		return err
	}
	if st == nil {
		st = &caseState{typed: url.Values{}, errs: fieldErrors{}}
	}
	pg := &casePage{
		ID: cs.ID.String(), Reference: cs.Reference, Href: casePath(cs.ID),
		StageKey: stageKey(cs.Stage), StatusKey: statusKey(cs.Status()), Version: cs.Version,
		Owner: r.memberName(cs.OwnerID), Created: r.when(&cs.CreatedAt), Updated: r.when(&cs.UpdatedAt),
		LastActivity: r.when(&cs.LastActivityAt), Closed: r.when(cs.ClosedAt),
	}
	for _, m := range cs.Assigned {
		pg.Assigned = append(pg.Assigned, r.memberName(&m))
	}
	var visible []string
	for _, part := range caseTabs {
		if _, ok := cs.Access[part]; ok {
			visible = append(visible, part)
		}
	}
	if len(visible) == 0 { // the domain shows no part: nothing to draw
		return homeward.Errorf(homeward.ENOTFOUND, "no such case")
	}
	if !slices.Contains(visible, tab) {
		tab = visible[0]
	}
	pg.Tab, pg.TabKey = tab, tabKey(tab)
	for _, part := range visible {
		pg.Tabs = append(pg.Tabs, caseTab{Href: caseTabPath(cs.ID, part), Key: tabKey(part), Current: part == tab})
	}
	pg.Path = pathLinks(cs)
	if p.deps.Handoffs != nil && mayStartHandoffOf(r.principal, cs) {
		pg.HandoffHref = NewHandoffPath(cs.ID)
	}
	write := cs.Access[tab] == cases.AccessWrite
	if tab == tenants.CaseConsent {
		if pg.Consent, err = p.consentView(c, r, cs, write, st); err != nil {
			return err
		}
	} else {
		pg.Group = p.groupForm(r, cs, tab, write, st)
	}
	if tab == tenants.FieldGroupCore {
		if err := p.coreTab(c, r, cs, pg, write, st); err != nil {
			return err
		}
	}
	return p.render(c, status, "case", p.frame(c, r, "cases.case_title", PathCases, pg))
}

func (p *Pages) groupForm(r *request, cs *cases.Case, group string, write bool, st *caseState) *groupForm {
	g := &groupForm{Group: group, Action: casePath(cs.ID) + "/groups/" + group, Reload: caseTabPath(cs.ID, group), Write: write}
	back := st.form == "group:"+group
	g.Errors, g.Conflict = back && len(st.errs) > 0, back && st.conflict
	errs := fieldErrors{}
	if back {
		errs = st.errs
	}
	for _, f := range groupFields(group) {
		current := valueStrings(cs.Values[f.Name])
		if back && !st.conflict { // a conflict shows the case as it is now
			current = st.typed[f.Name]
		}
		g.Fields = append(g.Fields, p.field(r, f, current, errs))
	}
	return g
}

func (p *Pages) coreTab(c *fiber.Ctx, r *request, cs *cases.Case, pg *casePage, write bool, st *caseState) error {
	pr := r.principal
	for _, e := range cs.Events {
		ev := eventView{TypeKey: "case.value.hte_Type." + e.Type, Description: e.Description}
		ev.Place = strings.Trim(strings.TrimSpace(e.City)+", "+strings.TrimSpace(e.Country), ", ")
		if d, err := time.Parse(time.DateOnly, e.Date); err == nil {
			ev.Date = &when{Text: r.locale.Date(d), ISO: e.Date}
		}
		pg.Events = append(pg.Events, ev)
	}
	// The form offers the moves an update makes (closing, referring);
	// admission, reintegration and the end of follow-up have pages of their own.
	if moves := cases.UpdateMoves(cs.Stage); write && len(moves) > 0 {
		sc := &stageChange{Action: casePath(cs.ID) + "/stage"}
		back := st.form == "stage"
		for _, s := range moves {
			sc.Stages = append(sc.Stages, option{Value: string(s), Key: stageKey(s), Selected: back && st.typed.Get("stage") == string(s)})
		}
		reason, _ := cases.Lookup(closureReason)
		current := valueStrings(cs.Values[reason.Name])
		if back {
			current = st.typed[reason.Name]
			sc.StageError, sc.Conflict = st.errs["stage"], st.conflict
		}
		errs := fieldErrors{}
		if back {
			errs = st.errs
		}
		sc.Reason = p.field(r, reason, current, errs)
		pg.Stage = sc
	}
	ctx := c.UserContext()
	page, err := p.deps.Cases.Comments(ctx, cs.ID, casePageSize, c.Query("comments"))
	if codeOf(err, homeward.EINVALID) != "" {
		page, err = p.deps.Cases.Comments(ctx, cs.ID, casePageSize, "")
	}
	if err != nil {
		return err
	}
	cv := &commentsView{}
	for _, cm := range page.Comments {
		cv.Items = append(cv.Items, commentView{Author: r.memberName(cm.AuthorID), At: r.when(&cm.CreatedAt), Text: cm.Text})
	}
	if page.Next != "" {
		cv.Next = casePath(cs.ID) + "?" + url.Values{"comments": {page.Next}}.Encode() + "#comments"
	}
	if write {
		cv.Action = casePath(cs.ID) + "/comments"
		if st.form == "comment" {
			cv.Text, cv.Error = st.typed.Get("text"), st.errs["text"]
		}
	}
	pg.Comments = cv
	if mayAssign(pr) {
		if pg.Assignment, err = p.assignmentOf(c, r, cs.ID, cs.OwnerID, cs.Assigned, st); err != nil {
			return err
		}
	}
	if pr.Can(tenants.PermCaseExport) {
		pg.ExportHref = pathExportAPI + cs.ID.String() + "/export"
	}
	if pr.Can(tenants.PermAuditRead) {
		pg.AuditHref = casePath(cs.ID) + "/audit"
	}
	if pr.Can(tenants.PermCaseEraseRequest) {
		ef := &erasureForm{Action: casePath(cs.ID) + "/erasure", NoteMax: maxNote}
		back := st.form == "erasure"
		ef.Reasons = []option{{Value: "", Key: "cases.choose", Selected: !back || st.typed.Get("reason") == ""}}
		for _, reason := range cases.ErasureReasons {
			ef.Reasons = append(ef.Reasons, option{Value: reason, Key: "case.erasure.reason." + reason, Selected: back && st.typed.Get("reason") == reason})
		}
		if back {
			ef.Note, ef.ReasonError, ef.ConfirmError = st.typed.Get("note"), st.errs["reason"], st.errs["confirm"]
			ef.Pending = st.conflict
		}
		pg.Erasure = ef
	}
	return nil
}

func (p *Pages) consentView(c *fiber.Ctx, r *request, cs *cases.Case, write bool, st *caseState) (*consentView, error) {
	history, err := p.deps.Cases.ConsentHistory(c.UserContext(), cs.ID)
	if err != nil {
		return nil, err
	}
	v := &consentView{}
	for _, purpose := range cases.Purposes {
		s := consentState{Purpose: string(purpose), PurposeKey: "case.purpose." + string(purpose)}
		for _, k := range cs.Consent {
			if k.Purpose == purpose && k.Active() {
				s.Standing, s.GivenByKey, s.BasisKey = true, "case.given_by."+k.GivenBy, "case.basis."+k.Basis
				if d, err := time.Parse(time.DateOnly, k.GivenOn); err == nil {
					s.GivenOn = &when{Text: r.locale.Date(d), ISO: k.GivenOn}
				}
			}
		}
		if s.Standing && write {
			w := &withdrawForm{Action: casePath(cs.ID) + "/consent/" + string(purpose) + "/withdraw", ReasonMax: maxNote, FormID: "withdraw-" + string(purpose)}
			if st.form == "withdraw:"+string(purpose) {
				w.Reason, w.ReasonError, w.ConfirmError = st.typed.Get("reason"), st.errs["reason"], st.errs["confirm"]
			}
			s.Withdraw = w
		}
		v.States = append(v.States, s)
	}
	for _, k := range history {
		rec := consentRecord{
			PurposeKey: "case.purpose." + string(k.Purpose), GivenByKey: "case.given_by." + k.GivenBy, BasisKey: "case.basis." + k.Basis,
			RecordedBy: r.memberName(k.RecordedBy), RecordedAt: r.when(&k.RecordedAt),
			Withdrawn: !k.Active(), WithdrawnAt: r.when(k.WithdrawnAt), Reason: k.WithdrawalReason,
		}
		if d, err := time.Parse(time.DateOnly, k.GivenOn); err == nil {
			rec.GivenOn = &when{Text: r.locale.Date(d), ISO: k.GivenOn}
		}
		if !k.Active() {
			rec.WithdrawnBy = r.memberName(k.WithdrawnBy)
		}
		v.History = append(v.History, rec)
	}
	if write {
		typed, errs := url.Values{}, fieldErrors{}
		if st.form == "consent" {
			typed, errs = st.typed, st.errs
		}
		rf := &recordConsentForm{Action: casePath(cs.ID) + "/consent", PurposeError: errs["purpose"]}
		rf.Purposes = []option{{Value: "", Key: "cases.choose", Selected: typed.Get("purpose") == ""}}
		for _, purpose := range cases.Purposes {
			rf.Purposes = append(rf.Purposes, option{Value: string(purpose), Key: "case.purpose." + string(purpose), Selected: typed.Get("purpose") == string(purpose)})
		}
		rf.Consent = p.consentForm(r, "", typed, "", errs)
		v.Record = rf
	}
	return v, nil
}

// SaveCaseGroup is POST /cases/:id/groups/:group (form: version, and the
// group's fields; an empty one is cleared): the fields sent, changed if the
// case is still at version.
func (p *Pages) SaveCaseGroup(c *fiber.Ctx) error {
	id, group := idParam(c), c.Params("group")
	if !tenants.IsFieldGroup(group) {
		return homeward.Errorf(homeward.ENOTFOUND, "no such field group")
	}
	r, err := p.caseForm(c, caseTabPath(id, group), writes(group))
	if r == nil {
		return err
	}
	fields := groupFields(group)
	// The form sends the version it was drawn with; without one (a
	// program's post, as the API allows) the change applies to the case as
	// it is.
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	st := &caseState{form: "group:" + group, typed: postForm(c), errs: fieldErrors{}}
	_, err = p.deps.Cases.Update(c.UserContext(), id, cases.Patch{Values: formValues(c, fields), Version: version})
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		catalogueErrors(err, st.errs)
		return p.casePage(c, r, id, group, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.conflict = true
		return p.casePage(c, r, id, group, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_saved")
	return c.Redirect(caseTabPath(id, group), fiber.StatusSeeOther)
}

// ChangeCaseStage is POST /cases/:id/stage (form: version, stage, and
// cas_ReasonForCaseClosure when closing): the case moves on its path.
func (p *Pages) ChangeCaseStage(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseForm(c, casePath(id), writes(tenants.FieldGroupCore))
	if r == nil {
		return err
	}
	st := &caseState{form: "stage", typed: postForm(c), errs: fieldErrors{}}
	stage := cases.Stage(c.FormValue("stage"))
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if !slices.Contains(cases.Stages, stage) {
		st.errs["stage"] = "cases.error_stage"
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
	}
	patch := cases.Patch{Stage: &stage, Version: version}
	if reason := strings.TrimSpace(c.FormValue(closureReason)); reason != "" {
		patch.Values = map[string]any{closureReason: reason}
	}
	_, err = p.deps.Cases.Update(c.UserContext(), id, patch)
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		for name := range fieldsOf(err) {
			if name == closureReason {
				st.errs[name] = "cases.error_closure_reason"
			} else {
				st.errs["stage"] = "cases.error_stage"
			}
		}
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT:
		st.conflict = true
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_stage")
	return c.Redirect(casePath(id), fiber.StatusSeeOther)
}

// AddCaseComment is POST /cases/:id/comments (form: text).
func (p *Pages) AddCaseComment(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseForm(c, casePath(id), writes(tenants.FieldGroupCore))
	if r == nil {
		return err
	}
	_, err = p.deps.Cases.AddComment(c.UserContext(), id, c.FormValue("text"))
	if codeOf(err, homeward.EINVALID) != "" {
		st := &caseState{form: "comment", typed: postForm(c), errs: fieldErrors{"text": "cases.error_comment"}}
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_comment")
	return c.Redirect(casePath(id)+"#comments", fiber.StatusSeeOther)
}

// RecordCaseConsent is POST /cases/:id/consent (form: purpose, given_by,
// given_on, basis).
func (p *Pages) RecordCaseConsent(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseForm(c, caseTabPath(id, tenants.CaseConsent), writes(tenants.CaseConsent))
	if r == nil {
		return err
	}
	nc := cases.NewConsent{Purpose: cases.Purpose(c.FormValue("purpose")), GivenBy: c.FormValue("given_by"),
		GivenOn: c.FormValue("given_on"), Basis: c.FormValue("basis")}
	_, err = p.deps.Cases.RecordConsent(c.UserContext(), id, nc)
	if codeOf(err, homeward.EINVALID) != "" {
		st := &caseState{form: "consent", typed: postForm(c), errs: fieldErrors{}}
		fields := fieldsOf(err)
		for key := range fields {
			if strings.Contains(key, "purpose") {
				st.errs["purpose"] = "cases.error_purpose"
				delete(fields, key)
			}
		}
		consentErrors(fields, func(string) string { return "" }, st.errs)
		return p.casePage(c, r, id, tenants.CaseConsent, fiber.StatusUnprocessableEntity, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_consent_recorded")
	return c.Redirect(caseTabPath(id, tenants.CaseConsent), fiber.StatusSeeOther)
}

// WithdrawCaseConsent is POST /cases/:id/consent/:purpose/withdraw (form:
// reason, confirm=yes): every standing consent of the purpose is
// withdrawn at once.
func (p *Pages) WithdrawCaseConsent(c *fiber.Ctx) error {
	id, purpose := idParam(c), cases.Purpose(c.Params("purpose"))
	r, err := p.caseForm(c, caseTabPath(id, tenants.CaseConsent), writes(tenants.CaseConsent))
	if r == nil {
		return err
	}
	if !slices.Contains(cases.Purposes, purpose) {
		return homeward.Errorf(homeward.ENOTFOUND, "no such consent purpose")
	}
	st := &caseState{form: "withdraw:" + string(purpose), typed: postForm(c), errs: fieldErrors{}}
	if c.FormValue("confirm") != "yes" {
		st.errs["confirm"] = "cases.error_confirm"
		return p.casePage(c, r, id, tenants.CaseConsent, fiber.StatusUnprocessableEntity, st)
	}
	_, err = p.deps.Cases.WithdrawConsent(c.UserContext(), id, purpose, c.FormValue("reason"))
	if codeOf(err, homeward.EINVALID) != "" {
		st.errs["reason"] = "cases.error_withdraw_reason"
		return p.casePage(c, r, id, tenants.CaseConsent, fiber.StatusUnprocessableEntity, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_consent_withdrawn")
	return c.Redirect(caseTabPath(id, tenants.CaseConsent), fiber.StatusSeeOther)
}

// RequestCaseErasure is POST /cases/:id/erasure (form: reason, note,
// confirm=yes): a request that a second person approves on the erasures
// page.
func (p *Pages) RequestCaseErasure(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseForm(c, casePath(id), func(pr *tenants.Principal) bool { return pr.Can(tenants.PermCaseEraseRequest) })
	if r == nil {
		return err
	}
	st := &caseState{form: "erasure", typed: postForm(c), errs: fieldErrors{}}
	if c.FormValue("confirm") != "yes" {
		st.errs["confirm"] = "cases.error_confirm"
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
	}
	_, err = p.deps.Cases.RequestErasure(c.UserContext(), id, c.FormValue("reason"), c.FormValue("note"))
	switch codeOf(err, homeward.EINVALID, homeward.ECONFLICT) {
	case homeward.EINVALID:
		for name := range fieldsOf(err) {
			if name == "note" {
				st.errs["note"] = "cases.error_note"
			} else {
				st.errs["reason"] = "cases.error_erasure_reason"
			}
		}
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusUnprocessableEntity, st)
	case homeward.ECONFLICT: // a request waits already
		st.conflict = true
		return p.casePage(c, r, id, tenants.FieldGroupCore, fiber.StatusConflict, st)
	}
	if err != nil {
		return err
	}
	p.flash(c, "cases.flash_erasure_requested")
	return c.Redirect(PathErasures, fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// Erasure requests

type erasureView struct {
	Reference, ReasonKey string
	RequestedBy          string
	RequestedAt          *when
	Mine                 bool // the reader asked: another person approves
	ApproveAction        string
	CancelAction         string
	ConfirmError         string
	FormError            string
	BoxID                string
}

type erasuresPage struct {
	CanApprove bool
	Requests   []erasureView
}

// Erasures is GET /cases/erasures: the erasure requests waiting for a
// decision (case.erase.request or .approve), by case number and coded
// reason: never a name.
func (p *Pages) Erasures(c *fiber.Ctx) error {
	r, err := p.caseSignedIn(c, PathErasures)
	if r == nil {
		return err
	}
	if r.principal.TenantID == uuid.Nil || !mayHandleErasures(r.principal) {
		return errNotYours
	}
	return p.erasuresPage(c, r, fiber.StatusOK, uuid.Nil, "", "")
}

func (p *Pages) erasuresPage(c *fiber.Ctx, r *request, status int, failed uuid.UUID, confirmError, formError string) error {
	list, err := p.deps.Cases.Erasures(c.UserContext())
	if err != nil {
		return err
	}
	pg := &erasuresPage{CanApprove: r.principal.Can(tenants.PermCaseEraseApprove)}
	me := r.principal.Actor.MemberID
	for _, e := range list {
		v := erasureView{
			Reference: e.Reference, ReasonKey: "case.erasure.reason." + e.Reason,
			RequestedBy: r.memberName(e.RequestedBy), RequestedAt: r.when(&e.RequestedAt),
			Mine:          me != nil && e.RequestedBy != nil && *me == *e.RequestedBy,
			ApproveAction: PathErasures + "/" + e.ID.String() + "/approve",
			CancelAction:  PathErasures + "/" + e.ID.String() + "/cancel",
			BoxID:         "confirm-" + e.ID.String(),
		}
		if e.ID == failed {
			v.ConfirmError, v.FormError = confirmError, formError
		}
		pg.Requests = append(pg.Requests, v)
	}
	return p.render(c, status, "erasures", p.frame(c, r, "cases.erasures_title", PathErasures, pg))
}

// ApproveErasure is POST /cases/erasures/:id/approve (form: confirm=yes):
// a second person approves, and the case is erased for good.
func (p *Pages) ApproveErasure(c *fiber.Ctx) error { return p.decideErasure(c, true) }

// CancelErasure is POST /cases/erasures/:id/cancel (form: confirm=yes).
func (p *Pages) CancelErasure(c *fiber.Ctx) error { return p.decideErasure(c, false) }

func (p *Pages) decideErasure(c *fiber.Ctx, approve bool) error {
	id := idParam(c)
	may := mayHandleErasures // the requester may cancel too
	if approve {
		may = func(pr *tenants.Principal) bool { return pr.Can(tenants.PermCaseEraseApprove) }
	}
	r, err := p.caseForm(c, PathErasures, may)
	if r == nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return p.erasuresPage(c, r, fiber.StatusUnprocessableEntity, id, "cases.error_confirm", "")
	}
	_, err = p.deps.Cases.DecideErasure(c.UserContext(), id, approve)
	switch codeOf(err, homeward.EFORBIDDEN, homeward.ECONFLICT) {
	case homeward.EFORBIDDEN: // the requester approving: another person must
		return p.erasuresPage(c, r, fiber.StatusForbidden, id, "", "cases.erasure_second_person")
	case homeward.ECONFLICT: // decided meanwhile
		return p.erasuresPage(c, r, fiber.StatusConflict, id, "", "cases.erasure_decided")
	}
	if err != nil {
		return err
	}
	if approve {
		p.flash(c, "cases.flash_erasure_approved")
	} else {
		p.flash(c, "cases.flash_erasure_cancelled")
	}
	return c.Redirect(PathErasures, fiber.StatusSeeOther)
}

// ---------------------------------------------------------------------------
// A case's audit trail

type auditEntryView struct {
	At          *when
	Time        string   // HH:MM in the organisation's time zone
	Who         string   // the actor's identity (staff, never the survivor)
	Action      string   // a code: case.read, case.update, ...
	FieldGroups []string // message keys
	Purpose     string
}

type caseAuditPage struct {
	CaseHref string
	Entries  []auditEntryView
	Pager    pager
}

// CaseAudit is GET /cases/:id/audit[?from=CURSOR]: who read and changed
// the case, newest first (tenant admins and auditors: audit.read).
func (p *Pages) CaseAudit(c *fiber.Ctx) error {
	id := idParam(c)
	path := casePath(id) + "/audit"
	r, err := p.caseSignedIn(c, path)
	if r == nil {
		return err
	}
	if r.principal.TenantID == uuid.Nil || !r.principal.Can(tenants.PermAuditRead) {
		return errNotYours
	}
	ctx := c.UserContext()
	cursor := c.Query("from")
	q := tenants.AuditQuery{Limit: casePageSize, Cursor: cursor}
	res, err := p.deps.Cases.CaseAudit(ctx, id, q)
	if codeOf(err, homeward.EINVALID) != "" && fieldsOf(err)["cursor"] != "" {
		q.Cursor, cursor = "", ""
		res, err = p.deps.Cases.CaseAudit(ctx, id, q)
	}
	if err != nil {
		return err
	}
	pg := &caseAuditPage{CaseHref: casePath(id)}
	for _, e := range res.Entries {
		at := e.OccurredAt
		v := auditEntryView{At: r.when(&at), Time: r.clock(at), Who: e.Actor.Subject, Action: e.Action, Purpose: e.Purpose}
		for _, g := range e.FieldGroups {
			if slices.Contains(caseTabs, g) {
				v.FieldGroups = append(v.FieldGroups, tabKey(g))
			}
		}
		pg.Entries = append(pg.Entries, v)
	}
	if res.Next != "" {
		pg.Pager.Next = listURL(path, url.Values{"from": {res.Next}})
	}
	if cursor != "" {
		pg.Pager.First = path
	}
	return p.render(c, fiber.StatusOK, "case_audit", p.frame(c, r, "cases.audit_title", PathCases, pg))
}

// clock is the time of day of t in the organisation's time zone (HH:MM).
func (r *request) clock(t time.Time) string {
	t = t.UTC()
	if tz := r.settings["time_zone"]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			t = t.In(loc)
		}
	}
	return t.Format("15:04")
}
