package api

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// The case files (routes.go: /api/v1/cases, /api/v1/erasures,
// /api/v1/statistics, /api/v1/settings/retention). Handlers decode and
// respond; the case service (tenants/cases) authorizes every call from the
// principal in the context, leaves out what the principal may not see, and
// audits.
//
// A case is JSON whose top-level keys are the catalogue's field names
// (cases.Fields: the HTCDS names where the standard has the field), with
// the resource's own keys beside them. A write is read key by key: a key
// the server sets, or one the catalogue lacks, is refused (400) naming it
// before anything is stored; the values are the service's to check (422).

type caseFiles struct {
	cases *cases.Service
}

func (f *caseFiles) ready() error {
	if f.cases.Store() == nil {
		return errNoStore
	}
	return nil
}

// caseFieldNames are the catalogue's fields: the keys a client writes.
var caseFieldNames = func() map[string]bool {
	m := map[string]bool{}
	for _, fd := range cases.Fields() {
		m[fd.Name] = true
	}
	return m
}()

// The case resource's keys besides the catalogue's that a client writes.
const (
	keyStage   = "stage"
	keyEvents  = "trafficking_events"
	keyVersion = "version"
	keyConsent = "consent"
)

// caseBody splits a create or change body: catalogue fields to values
// (json.Number for numbers, as Field.Normalize takes them), the keys in
// extras to their raw JSON. Any other key is refused, naming it: those the
// server sets as such, the rest as no field of a case.
func caseBody(c *fiber.Ctx, extras ...string) (map[string]any, map[string]json.RawMessage, error) {
	body, err := decodeFields(c)
	if err != nil {
		return nil, nil, err
	}
	values, rest, refused := map[string]any{}, map[string]json.RawMessage{}, map[string]string{}
	for k, raw := range body {
		switch {
		case slices.Contains(extras, k):
			rest[k] = raw
		case slices.Contains(cases.ServerFields, k):
			refused[k] = "set by the server: a client may not write it"
		case !caseFieldNames[k]:
			refused[k] = "not a field of a case"
		default:
			var v any
			if err := decodeField(k, raw, &v); err != nil {
				return nil, nil, err
			}
			values[k] = v
		}
	}
	if len(refused) > 0 {
		return nil, nil, malformedFields("the body names keys a client may not write", refused)
	}
	return values, rest, nil
}

// eventBody is one trafficking event, by its HTCDS names.
type eventBody struct {
	Type        string `json:"hte_Type"`
	Date        string `json:"hte_Date,omitempty"`
	City        string `json:"hte_City,omitempty"`
	Country     string `json:"hte_Country,omitempty"`
	Description string `json:"hte_Description,omitempty"`
}

// events reads trafficking_events: a list (null: none).
func events(raw json.RawMessage) ([]cases.Event, error) {
	var body []eventBody
	if err := decodeField(keyEvents, raw, &body); err != nil {
		return nil, err
	}
	out := make([]cases.Event, 0, len(body))
	for _, e := range body {
		out = append(out, cases.Event{Type: e.Type, Date: e.Date, City: e.City, Country: e.Country, Description: e.Description})
	}
	return out, nil
}

// newConsentBody is a consent being recorded: POST .../consent, and each
// of a new case's "consent".
type newConsentBody struct {
	Purpose cases.Purpose `json:"purpose"`
	GivenBy string        `json:"given_by"`
	GivenOn string        `json:"given_on"`
	Basis   string        `json:"basis"`
}

func (b newConsentBody) consent() cases.NewConsent {
	return cases.NewConsent{Purpose: b.Purpose, GivenBy: b.GivenBy, GivenOn: b.GivenOn, Basis: b.Basis}
}

// caseJSON is the case resource: what the principal may see of it. The
// id, number and reference name the case to anyone who may reach it (an
// outreach worker's intake answers with them alone); the rest is the core
// (stage, status, assignment, dates, events) and each group's fields, each
// present only when its part is in access.
func caseJSON(k *cases.Case) map[string]any {
	access := make(map[string]string, len(k.Access))
	for part, a := range k.Access {
		access[part] = string(a)
	}
	out := map[string]any{"id": k.ID, "number": k.Number, "reference": k.Reference, "access": access}
	if _, ok := k.Access[tenants.FieldGroupCore]; ok {
		assigned := k.Assigned
		if assigned == nil {
			assigned = []uuid.UUID{}
		}
		evs := make([]eventBody, 0, len(k.Events))
		for _, e := range k.Events {
			evs = append(evs, eventBody{Type: e.Type, Date: e.Date, City: e.City, Country: e.Country, Description: e.Description})
		}
		out[keyStage] = k.Stage
		out["cas_Status"] = k.Status()
		out[keyVersion] = k.Version
		out["cas_CaseOwner"] = k.OwnerID
		out["assigned_to"] = assigned
		out["created_at"] = k.CreatedAt.UTC()
		out["updated_at"] = k.UpdatedAt.UTC()
		out["last_activity_at"] = k.LastActivityAt.UTC()
		out["closed_at"] = utc(k.ClosedAt)
		out[keyEvents] = evs
	}
	if _, ok := k.Access[tenants.CaseConsent]; ok {
		out[keyConsent] = consentList(k.Consent)
	}
	for name, v := range k.Values {
		out[name] = v
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// caseSummaryBody is a case in a list: its core, and the names and birth
// date only for a principal who may read the identity group.
type caseSummaryBody struct {
	ID             uuid.UUID   `json:"id"`
	Number         int64       `json:"number"`
	Reference      string      `json:"reference"`
	Stage          cases.Stage `json:"stage"`
	Status         string      `json:"cas_Status"`
	OwnerID        *uuid.UUID  `json:"cas_CaseOwner"`
	LastActivityAt time.Time   `json:"last_activity_at"`
	FirstName      string      `json:"prs_FirstName,omitempty"`
	SecondName     string      `json:"prs_SecondName,omitempty"`
	Birthdate      string      `json:"prs_Birthdate,omitempty"`
}

func caseSummaryJSON(s cases.Summary) caseSummaryBody {
	b := caseSummaryBody{ID: s.ID, Number: s.Number, Reference: s.Reference, Stage: s.Stage, Status: s.Stage.Status(),
		OwnerID: s.OwnerID, LastActivityAt: s.LastActivityAt.UTC()}
	if s.IdentityShown {
		b.FirstName, b.SecondName, b.Birthdate = s.FirstName, s.SecondName, s.Birthdate
	}
	return b
}

func (f *caseFiles) listCases(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	q := cases.Query{Limit: limit, Cursor: cursor, Q: c.Query("q"), Stage: cases.Stage(c.Query("stage")), Status: c.Query("status")}
	switch c.Query("assigned") {
	case "":
	case "me":
		q.AssignedToMe = true
	default:
		return homeward.Invalid(map[string]string{"assigned": `only "me": the cases you own or are assigned to`})
	}
	res, err := f.cases.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := page[caseSummaryBody]{Items: make([]caseSummaryBody, 0, len(res.Cases)), NextCursor: nextCursor(res.Next)}
	for _, s := range res.Cases {
		out.Items = append(out.Items, caseSummaryJSON(s))
	}
	return c.JSON(out)
}

func (f *caseFiles) createCase(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	values, extras, err := caseBody(c, keyStage, keyEvents, keyConsent)
	if err != nil {
		return err
	}
	nc := cases.NewCase{Values: values}
	if raw, ok := extras[keyStage]; ok {
		if err := decodeField(keyStage, raw, &nc.Stage); err != nil {
			return err
		}
	}
	if raw, ok := extras[keyEvents]; ok {
		if nc.Events, err = events(raw); err != nil {
			return err
		}
	}
	if raw, ok := extras[keyConsent]; ok {
		var consents []newConsentBody
		if err := decodeField(keyConsent, raw, &consents); err != nil {
			return err
		}
		for _, b := range consents {
			nc.Consents = append(nc.Consents, b.consent())
		}
	}
	k, err := f.cases.Create(c.UserContext(), nc)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(caseJSON(k))
}

func (f *caseFiles) getCase(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	k, err := f.cases.Get(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(caseJSON(k))
}

func (f *caseFiles) updateCase(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	values, extras, err := caseBody(c, keyStage, keyEvents, keyVersion)
	if err != nil {
		return err
	}
	p := cases.Patch{Values: values}
	if raw, ok := extras[keyEvents]; ok {
		evs, err := events(raw)
		if err != nil {
			return err
		}
		p.Events = &evs
	}
	if raw, ok := extras[keyStage]; ok {
		var stage cases.Stage
		if err := decodeField(keyStage, raw, &stage); err != nil {
			return err
		}
		p.Stage = &stage
	}
	if raw, ok := extras[keyVersion]; ok {
		if err := decodeField(keyVersion, raw, &p.Version); err != nil {
			return err
		}
	}
	k, err := f.cases.Update(c.UserContext(), pathID(c), p)
	if err != nil {
		return err
	}
	return c.JSON(caseJSON(k))
}

// assignmentBody is PUT /api/v1/cases/:id/assignment: the owner (null:
// none) and the other staff assigned, all members of the organisation.
type assignmentBody struct {
	Owner    *uuid.UUID  `json:"cas_CaseOwner"`
	Assigned []uuid.UUID `json:"assigned_to"`
}

func (f *caseFiles) assignCase(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body assignmentBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	k, err := f.cases.Assign(c.UserContext(), pathID(c), body.Owner, body.Assigned)
	if err != nil {
		return err
	}
	return c.JSON(caseJSON(k))
}

// consentBody is one consent record. The withdrawal's reason is free text
// about the survivor: it is shown only with the case's consent part.
type consentBody struct {
	ID               uuid.UUID     `json:"id"`
	Purpose          cases.Purpose `json:"purpose"`
	GivenBy          string        `json:"given_by"`
	GivenOn          string        `json:"given_on"`
	Basis            string        `json:"basis"`
	RecordedBy       *uuid.UUID    `json:"recorded_by"`
	RecordedAt       time.Time     `json:"recorded_at"`
	WithdrawnAt      *time.Time    `json:"withdrawn_at"`
	WithdrawnBy      *uuid.UUID    `json:"withdrawn_by"`
	WithdrawalReason string        `json:"withdrawal_reason,omitempty"`
}

func consentJSON(k cases.Consent) consentBody {
	return consentBody{ID: k.ID, Purpose: k.Purpose, GivenBy: k.GivenBy, GivenOn: k.GivenOn, Basis: k.Basis,
		RecordedBy: k.RecordedBy, RecordedAt: k.RecordedAt.UTC(), WithdrawnAt: utc(k.WithdrawnAt),
		WithdrawnBy: k.WithdrawnBy, WithdrawalReason: k.WithdrawalReason}
}

func consentList(ks []cases.Consent) []consentBody {
	out := make([]consentBody, 0, len(ks))
	for _, k := range ks {
		out = append(out, consentJSON(k))
	}
	return out
}

// caseConsentBody is GET /api/v1/cases/:id/consent: the consents standing
// now, and every record (withdrawn ones too), newest first.
type caseConsentBody struct {
	Current []consentBody `json:"current"`
	History []consentBody `json:"history"`
}

func (f *caseFiles) getConsent(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	history, err := f.cases.ConsentHistory(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := caseConsentBody{Current: []consentBody{}, History: consentList(history)}
	for _, k := range history {
		if k.Active() {
			out.Current = append(out.Current, consentJSON(k))
		}
	}
	return c.JSON(out)
}

func (f *caseFiles) recordConsent(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body newConsentBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	k, err := f.cases.RecordConsent(c.UserContext(), pathID(c), body.consent())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(consentJSON(*k))
}

// withdrawalBody is POST /api/v1/cases/:id/consent/:purpose/withdraw.
type withdrawalBody struct {
	Reason string `json:"reason"`
}

// withdrawnBody answers a withdrawal: the records it withdrew.
type withdrawnBody struct {
	Withdrawn []consentBody `json:"withdrawn"`
}

func (f *caseFiles) withdrawConsent(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body withdrawalBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ks, err := f.cases.WithdrawConsent(c.UserContext(), pathID(c), cases.Purpose(c.Params("purpose")), body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(withdrawnBody{Withdrawn: consentList(ks)})
}

// commentBody is a case comment (HTCDS cco_CaseComment).
type commentBody struct {
	ID        uuid.UUID  `json:"id"`
	AuthorID  *uuid.UUID `json:"author_id"`
	Text      string     `json:"cco_CaseComment"`
	CreatedAt time.Time  `json:"created_at"`
}

func commentJSON(k cases.Comment) commentBody {
	return commentBody{ID: k.ID, AuthorID: k.AuthorID, Text: k.Text, CreatedAt: k.CreatedAt.UTC()}
}

func (f *caseFiles) listComments(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := f.cases.Comments(c.UserContext(), pathID(c), limit, cursor)
	if err != nil {
		return err
	}
	out := page[commentBody]{Items: make([]commentBody, 0, len(res.Comments)), NextCursor: nextCursor(res.Next)}
	for _, k := range res.Comments {
		out.Items = append(out.Items, commentJSON(k))
	}
	return c.JSON(out)
}

// newCommentBody is POST /api/v1/cases/:id/comments.
type newCommentBody struct {
	Text string `json:"cco_CaseComment"`
}

func (f *caseFiles) addComment(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body newCommentBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	k, err := f.cases.AddComment(c.UserContext(), pathID(c), body.Text)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(commentJSON(*k))
}

// erasureBody is an erasure request. Its note is about the survivor and is
// erased with the case; the reference is a number, naming no one.
type erasureBody struct {
	ID          uuid.UUID  `json:"id"`
	CaseID      uuid.UUID  `json:"case_id"`
	Reference   string     `json:"reference"`
	Reason      string     `json:"reason"`
	Note        string     `json:"note"`
	State       string     `json:"state"`
	RequestedBy *uuid.UUID `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedBy   *uuid.UUID `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
}

func erasureJSON(e *cases.Erasure) erasureBody {
	return erasureBody{ID: e.ID, CaseID: e.CaseID, Reference: e.Reference, Reason: e.Reason, Note: e.Note, State: e.State,
		RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt.UTC(), DecidedBy: e.DecidedBy, DecidedAt: utc(e.DecidedAt)}
}

// newErasureBody is POST /api/v1/cases/:id/erasure.
type newErasureBody struct {
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

func (f *caseFiles) requestErasure(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body newErasureBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	e, err := f.cases.RequestErasure(c.UserContext(), pathID(c), body.Reason, body.Note)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(erasureJSON(e))
}

// itemsBody is a short list answered whole (never more than a screenful
// by nature), so without the paging of page.
type itemsBody[T any] struct {
	Items []T `json:"items"`
}

func (f *caseFiles) listErasures(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	es, err := f.cases.Erasures(c.UserContext())
	if err != nil {
		return err
	}
	out := itemsBody[erasureBody]{Items: make([]erasureBody, 0, len(es))}
	for i := range es {
		out.Items = append(out.Items, erasureJSON(&es[i]))
	}
	return c.JSON(out)
}

// decideErasure approves (the case is erased at once) or cancels a request.
func (f *caseFiles) decideErasure(approve bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := f.ready(); err != nil {
			return err
		}
		e, err := f.cases.DecideErasure(c.UserContext(), pathID(c), approve)
		if err != nil {
			return err
		}
		return c.JSON(erasureJSON(e))
	}
}

// exportCase answers the case as an HTCDS 2.0 file to download. The file
// is named by the case's reference, a number: a name would end up in
// download folders and browser histories.
func (f *caseFiles) exportCase(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	id := pathID(c)
	record, err := f.cases.ExportHTCDS(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="case-`+id.String()+`.htcds.json"`)
	return c.Send(record)
}

// auditEntryBody is one row of a case's audit trail: who did what to which
// part, never what the data was.
type auditEntryBody struct {
	ID          uuid.UUID      `json:"id"`
	OccurredAt  time.Time      `json:"occurred_at"`
	Actor       auditActorBody `json:"actor"`
	Action      string         `json:"action"`
	RecordType  string         `json:"record_type"`
	RecordID    *uuid.UUID     `json:"record_id"`
	FieldGroups []string       `json:"field_groups"`
	Purpose     string         `json:"purpose"`
	RequestID   string         `json:"request_id"`
}

type auditActorBody struct {
	Kind     string     `json:"kind"`
	Issuer   string     `json:"issuer"`
	Subject  string     `json:"subject"`
	MemberID *uuid.UUID `json:"member_id"`
}

func auditEntryJSON(r tenants.AuditRecord) auditEntryBody {
	groups := r.FieldGroups
	if groups == nil {
		groups = []string{}
	}
	return auditEntryBody{ID: r.ID, OccurredAt: r.OccurredAt.UTC(),
		Actor:  auditActorBody{Kind: r.Actor.Kind, Issuer: r.Actor.Issuer, Subject: r.Actor.Subject, MemberID: r.Actor.MemberID},
		Action: r.Action, RecordType: r.RecordType, RecordID: r.RecordID, FieldGroups: groups, Purpose: r.Purpose, RequestID: r.RequestID}
}

func (f *caseFiles) caseAudit(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := f.cases.CaseAudit(c.UserContext(), pathID(c), tenants.AuditQuery{Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	out := page[auditEntryBody]{Items: make([]auditEntryBody, 0, len(res.Entries)), NextCursor: nextCursor(res.Next)}
	for _, r := range res.Entries {
		out.Items = append(out.Items, auditEntryJSON(r))
	}
	return c.JSON(out)
}

// statistics answers the anonymised statistics as CSV: the organisation's
// for its members, every organisation's summed for the platform operator,
// who acts for none.
func (f *caseFiles) statistics(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	table := f.cases.Statistics
	if p := principalOf(c); p != nil && p.TenantID == uuid.Nil {
		table = f.cases.PlatformStatistics
	}
	csv, err := table(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="case-statistics.csv"`)
	return c.Send(csv)
}

// retentionBody is the organisation's retention rule.
type retentionBody struct {
	Years *int `json:"years"`
}

func (f *caseFiles) getRetention(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	r, err := f.cases.Retention(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(retentionBody{Years: &r.Years})
}

func (f *caseFiles) putRetention(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body retentionBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Years == nil {
		return homeward.Invalid(map[string]string{"years": "required: whole years after closure (0: kept until erased by hand)"})
	}
	r, err := f.cases.SetRetention(c.UserContext(), cases.Retention{Years: *body.Years})
	if err != nil {
		return err
	}
	return c.JSON(retentionBody{Years: &r.Years})
}

// retentionCandidateBody is a closed case the retention rule will
// anonymise.
type retentionCandidateBody struct {
	ID        uuid.UUID `json:"id"`
	Reference string    `json:"reference"`
	ClosedAt  time.Time `json:"closed_at"`
	Due       time.Time `json:"due"`
}

// Days ahead that GET /settings/retention/due looks by default, and at most.
const (
	retentionDueDays    = 90
	maxRetentionDueDays = 3660
)

func (f *caseFiles) retentionDue(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	days := retentionDueDays
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRetentionDueDays {
			return homeward.Invalid(map[string]string{"days": "a whole number of days from 1 to " + strconv.Itoa(maxRetentionDueDays)})
		}
		days = n
	}
	due, err := f.cases.RetentionDue(c.UserContext(), time.Duration(days)*24*time.Hour)
	if err != nil {
		return err
	}
	out := itemsBody[retentionCandidateBody]{Items: make([]retentionCandidateBody, 0, len(due))}
	for _, r := range due {
		out.Items = append(out.Items, retentionCandidateBody{ID: r.ID, Reference: r.Reference, ClosedAt: r.ClosedAt.UTC(), Due: r.Due.UTC()})
	}
	return c.JSON(out)
}
