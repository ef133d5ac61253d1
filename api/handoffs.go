package api

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
)

// Repatriation handoffs (routes.go: /api/v1/handoffs). Handlers decode and
// respond; the handoff service (tenants/handoffs) authorizes every call
// from the principal in the context, works on both organisations' records
// in one transaction, audits on each side and asks for the other side's
// notices. A handoff is answered as the caller's side sees it: the
// receiver never gets a field the sender did not choose, the sender never
// the receiver's case, and neither side the other's members.

type handoffRequests struct {
	svc *handoffs.Service
}

func (h *handoffRequests) ready() error {
	if h.svc.Store() == nil {
		return errNoStore
	}
	return nil
}

// stageEntryBody is one line of the timeline.
type stageEntryBody struct {
	ID         uuid.UUID      `json:"id"`
	Stage      handoffs.Stage `json:"stage"`
	Number     string         `json:"number"`
	Owner      string         `json:"owner"`
	Action     string         `json:"action"`
	On         string         `json:"on"`
	Note       string         `json:"note"`
	Reason     string         `json:"reason"`
	BySide     string         `json:"by_side"`
	RecordedBy *uuid.UUID     `json:"recorded_by"`
	RecordedAt time.Time      `json:"recorded_at"`
}

// stageInfo is the table's line of stage s (zero when s is none).
func stageInfo(s handoffs.Stage) handoffs.StageInfo {
	for _, info := range handoffs.Stages {
		if info.Stage == s {
			return info
		}
	}
	return handoffs.StageInfo{}
}

// sharedDocumentBody is a document the sender shared, as the receiver's
// copy.
type sharedDocumentBody struct {
	ID          uuid.UUID `json:"id"`
	Group       string    `json:"group"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
}

func sharedDocumentJSON(d *handoffs.SharedDocument) *sharedDocumentBody {
	if d == nil {
		return nil
	}
	return &sharedDocumentBody{ID: d.ID, Group: d.Group, FileName: d.FileName, ContentType: d.ContentType, Size: d.Size}
}

// sharedCopyBody is what the receiver holds of the sender's case.
type sharedCopyBody struct {
	Values    map[string]any       `json:"values"`
	Documents []sharedDocumentBody `json:"documents"`
}

// overrideBody is a request to send without the sharing consent (sender
// side only).
type overrideBody struct {
	Reason      string     `json:"reason"`
	RequestedBy uuid.UUID  `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedBy   *uuid.UUID `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
	Approved    bool       `json:"approved"`
}

// handoffSummaryBody is a handoff in a list, and the core of one; its
// partner is an organisationBody (partnerships.go): the other side's
// public facts, nothing more.
type handoffSummaryBody struct {
	ID             uuid.UUID        `json:"id"`
	Reference      string           `json:"reference"`
	Side           string           `json:"side"`
	PartnershipID  uuid.UUID        `json:"partnership_id"`
	Partner        organisationBody `json:"partner"`
	State          string           `json:"state"`
	Stage          *handoffs.Stage  `json:"stage"`
	Confirmed      bool             `json:"confirmed"`
	CaseID         *uuid.UUID       `json:"case_id"`
	Fields         []string         `json:"fields"`
	Groups         []string         `json:"groups"`
	Basis          string           `json:"basis"`
	SharingStopped bool             `json:"sharing_stopped"`
	StartedBy      *uuid.UUID       `json:"started_by"`
	CreatedAt      time.Time        `json:"created_at"`
	SentAt         *time.Time       `json:"sent_at"`
	DecidedAt      *time.Time       `json:"decided_at"`
	DeclineReason  string           `json:"decline_reason"`
	WithdrawnAt    *time.Time       `json:"withdrawn_at"`
	StageChangedAt time.Time        `json:"stage_changed_at"`
	Version        int64            `json:"version"`
}

// handoffBody is one handoff: its core, the whole timeline, the shared
// copy (receiver side, while it holds one) and the override (sender
// side, when one was asked).
type handoffBody struct {
	handoffSummaryBody
	Timeline []stageEntryBody `json:"timeline"`
	Shared   *sharedCopyBody  `json:"shared"`
	Override *overrideBody    `json:"override"`
}

func stringList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func handoffSummaryJSON(h *handoffs.Handoff) handoffSummaryBody {
	b := handoffSummaryBody{ID: h.ID, Reference: h.Reference, Side: h.Side, PartnershipID: h.PartnershipID,
		Partner: organisationJSON(h.Partner), State: h.State, Confirmed: h.Confirmed, CaseID: h.CaseID,
		Fields: stringList(h.Fields), Groups: stringList(h.Groups), Basis: h.Basis, SharingStopped: h.SharingStopped,
		StartedBy: h.StartedBy, CreatedAt: h.CreatedAt.UTC(), SentAt: utc(h.SentAt), DecidedAt: utc(h.DecidedAt),
		DeclineReason: h.DeclineReason, WithdrawnAt: utc(h.WithdrawnAt), StageChangedAt: h.StageChangedAt.UTC(),
		Version: h.Version}
	if h.Stage != "" {
		s := h.Stage
		b.Stage = &s
	}
	return b
}

func handoffJSON(h *handoffs.Handoff) handoffBody {
	b := handoffBody{handoffSummaryBody: handoffSummaryJSON(h), Timeline: make([]stageEntryBody, 0, len(h.Timeline))}
	for _, e := range h.Timeline {
		info := stageInfo(e.Stage)
		b.Timeline = append(b.Timeline, stageEntryBody{ID: e.ID, Stage: e.Stage, Number: info.Number, Owner: info.Owner,
			Action: e.Action, On: e.On, Note: e.Note, Reason: e.Reason, BySide: e.BySide, RecordedBy: e.RecordedBy,
			RecordedAt: e.RecordedAt.UTC()})
	}
	if sc := h.Shared; sc != nil {
		shared := &sharedCopyBody{Values: sc.Values, Documents: make([]sharedDocumentBody, 0, len(sc.Documents))}
		if shared.Values == nil {
			shared.Values = map[string]any{}
		}
		for i := range sc.Documents {
			shared.Documents = append(shared.Documents, *sharedDocumentJSON(&sc.Documents[i]))
		}
		b.Shared = shared
	}
	if o := h.Override; o != nil {
		b.Override = &overrideBody{Reason: o.Reason, RequestedBy: o.RequestedBy, RequestedAt: o.RequestedAt.UTC(),
			DecidedBy: o.DecidedBy, DecidedAt: utc(o.DecidedAt), Approved: o.Approved}
	}
	return b
}

// listHandoffs is GET /api/v1/handoffs[?box=incoming|outgoing][&state=]:
// the organisation's handoffs the caller may see, the most recent change
// first.
func (h *handoffRequests) listHandoffs(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	// The service authorizes, then checks box and state (422 naming them).
	q := handoffs.Query{Box: c.Query("box"), State: c.Query("state"), Limit: limit, Cursor: cursor}
	res, err := h.svc.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := page[handoffSummaryBody]{Items: make([]handoffSummaryBody, 0, len(res.Handoffs)), NextCursor: nextCursor(res.Next)}
	for i := range res.Handoffs {
		out.Items = append(out.Items, handoffSummaryJSON(&res.Handoffs[i]))
	}
	return c.JSON(out)
}

// intakeBody is the short intake form of a partner without a case: a few
// fields of the catalogue by name, and the consents given.
type intakeBody struct {
	Values   map[string]json.RawMessage `json:"values"`
	Consents []newConsentBody           `json:"consents"`
}

// newHandoffBody is POST /api/v1/handoffs: from a case of the
// organisation, or from the intake form (exactly one of the two).
type newHandoffBody struct {
	PartnershipID  *uuid.UUID  `json:"partnership_id"`
	CaseID         *uuid.UUID  `json:"case_id"`
	Intake         *intakeBody `json:"intake"`
	Fields         []string    `json:"fields"`
	Documents      []uuid.UUID `json:"documents"`
	OverrideReason string      `json:"override_reason"`
	Note           string      `json:"note"`
}

// intakeCase reads the intake's values key by key as a new case takes
// them: a key the server sets, or that is no field of a case, is 400
// naming it (intake.values.KEY).
func intakeCase(in *intakeBody) (cases.NewCase, error) {
	nc := cases.NewCase{Values: map[string]any{}}
	refused := map[string]string{}
	for k, raw := range in.Values {
		name := "intake.values." + k
		switch {
		case slices.Contains(cases.ServerFields, k):
			refused[name] = "set by the server: a client may not write it"
		case !caseFieldNames[k]:
			refused[name] = "not a field of a case"
		default:
			var v any
			if err := decodeField(name, raw, &v); err != nil {
				return nc, err
			}
			nc.Values[k] = v
		}
	}
	if len(refused) > 0 {
		return nc, malformedFields("the intake names keys a client may not write", refused)
	}
	for _, b := range in.Consents {
		nc.Consents = append(nc.Consents, b.consent())
	}
	return nc, nil
}

// startHandoff is POST /api/v1/handoffs.
func (h *handoffRequests) startHandoff(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newHandoffBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	missing := map[string]string{}
	if body.PartnershipID == nil {
		missing["partnership_id"] = "required: the partnership to hand over under"
	}
	switch {
	case body.CaseID == nil && body.Intake == nil:
		missing["case_id"] = "required: the case to hand over (or intake, for a partner without a case)"
	case body.CaseID != nil && body.Intake != nil:
		missing["intake"] = "give either case_id or intake, not both"
	}
	if len(missing) > 0 {
		return homeward.Invalid(missing)
	}
	nh := handoffs.NewHandoff{PartnershipID: *body.PartnershipID, Fields: body.Fields, Documents: body.Documents,
		OverrideReason: body.OverrideReason, Note: body.Note}
	var (
		ho  *handoffs.Handoff
		err error
	)
	if body.CaseID != nil {
		nh.CaseID = *body.CaseID
		ho, err = h.svc.Start(c.UserContext(), nh)
	} else {
		nc, ierr := intakeCase(body.Intake)
		if ierr != nil {
			return ierr
		}
		ho, err = h.svc.StartFromIntake(c.UserContext(), nc, nh)
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(handoffJSON(ho))
}

// sharableBody answers GET /api/v1/handoffs/sharable: the case's fields
// as the start form offers them under the partnership, and the basis
// sending would have (null: no sharing consent, an override is needed).
type sharableBody struct {
	Basis  *string             `json:"basis"`
	Fields []sharableFieldBody `json:"fields"`
}

type sharableFieldBody struct {
	Field   string `json:"field"`
	Group   string `json:"group"`
	Allowed bool   `json:"allowed"`
	Why     string `json:"why"`
}

// queryID reads a required UUID query parameter, noting on bad why it
// cannot be read.
func queryID(c *fiber.Ctx, name, what string, bad map[string]string) uuid.UUID {
	v := c.Query(name)
	if v == "" {
		bad[name] = "required: " + what
		return uuid.Nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		bad[name] = "not an id: " + what
		return uuid.Nil
	}
	return id
}

func (h *handoffRequests) sharable(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	bad := map[string]string{}
	partnership := queryID(c, "partnership_id", "the partnership to hand over under", bad)
	caseID := queryID(c, "case_id", "the case to hand over", bad)
	fields, basis, err := h.svc.SharableFields(c.UserContext(), partnership, caseID)
	// Who may not ask at all hears so first; then a parameter that could
	// not be read is named, whatever the service made of its zero id.
	if code := homeward.ErrorCode(err); code == homeward.EUNAUTHENTICATED || code == homeward.EFORBIDDEN {
		return err
	}
	if len(bad) > 0 {
		return homeward.Invalid(bad)
	}
	if err != nil {
		return err
	}
	out := sharableBody{Fields: make([]sharableFieldBody, 0, len(fields))}
	if basis != "" {
		out.Basis = &basis
	}
	for _, f := range fields {
		out.Fields = append(out.Fields, sharableFieldBody{Field: f.Field, Group: f.Group, Allowed: f.Allowed, Why: f.Why})
	}
	return c.JSON(out)
}

// dashboardBody is GET /api/v1/handoffs/dashboard.
type dashboardBody struct {
	Stages  []stageCountBody `json:"stages"`
	ByState map[string]int   `json:"by_state"`
}

type stageCountBody struct {
	Stage   handoffs.Stage `json:"stage"`
	Number  string         `json:"number"`
	Owner   string         `json:"owner"`
	Open    int            `json:"open"`
	AvgDays float64        `json:"avg_days"`
}

func (h *handoffRequests) dashboard(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	d, err := h.svc.Dashboard(c.UserContext())
	if err != nil {
		return err
	}
	out := dashboardBody{Stages: make([]stageCountBody, 0, len(d.Stages)), ByState: map[string]int{}}
	for _, s := range d.Stages {
		info := stageInfo(s.Stage)
		out.Stages = append(out.Stages, stageCountBody{Stage: s.Stage, Number: info.Number, Owner: info.Owner, Open: s.Open,
			AvgDays: s.AvgDays})
	}
	for state, n := range d.ByState {
		out.ByState[state] = n
	}
	return c.JSON(out)
}

func (h *handoffRequests) getHandoff(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	ho, err := h.svc.Get(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

// document is GET /api/v1/handoffs/:id/documents/:document: a copy this
// side holds of a document shared on the handoff (the receiver's of the
// sender's, the sender's of the receiver's), as an attachment like a case
// document's download (casedocs.go). The service authorizes and audits.
func (h *handoffRequests) document(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	documentID, err := uuid.Parse(c.Params("document"))
	if err != nil {
		documentID = uuid.Nil // names no document: the service answers 404 as for an unknown one
	}
	doc, content, err := h.svc.Document(c.UserContext(), pathID(c), documentID)
	if err != nil {
		return err
	}
	return SendDocument(c, doc.ID, doc.FileName, doc.ContentType, content)
}

// overrideDecisionBody is POST /api/v1/handoffs/:id/override.
type overrideDecisionBody struct {
	Approve *bool `json:"approve"`
}

func (h *handoffRequests) decideOverride(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body overrideDecisionBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Approve == nil {
		return homeward.Invalid(map[string]string{"approve": "required: true to send without the sharing consent, false to refuse"})
	}
	ho, err := h.svc.DecideOverride(c.UserContext(), pathID(c), *body.Approve)
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

func (h *handoffRequests) accept(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	ho, err := h.svc.Accept(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

// decline and withdraw take a reasonBody (partnerships.go): {"reason"}.

func (h *handoffRequests) decline(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body reasonBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ho, err := h.svc.Decline(c.UserContext(), pathID(c), body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

func (h *handoffRequests) withdraw(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body reasonBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ho, err := h.svc.Withdraw(c.UserContext(), pathID(c), body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

// stageChangeBody is POST /api/v1/handoffs/:id/stages.
type stageChangeBody struct {
	Stage     handoffs.Stage `json:"stage"`
	Action    string         `json:"action"`
	On        string         `json:"on"`
	Note      string         `json:"note"`
	Reason    string         `json:"reason"`
	Documents []uuid.UUID    `json:"documents"`
}

func (h *handoffRequests) recordStage(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body stageChangeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ho, err := h.svc.Advance(c.UserContext(), pathID(c), handoffs.StageChange{Stage: body.Stage, Action: body.Action,
		On: body.On, Note: body.Note, Reason: body.Reason, Documents: body.Documents})
	if err != nil {
		return err
	}
	return c.JSON(handoffJSON(ho))
}

// messageBody is a message of the shared thread.
type messageBody struct {
	ID        uuid.UUID           `json:"id"`
	FromSide  string              `json:"from_side"`
	AuthorID  *uuid.UUID          `json:"author_id"`
	Text      string              `json:"text"`
	Document  *sharedDocumentBody `json:"document"`
	CreatedAt time.Time           `json:"created_at"`
}

func messageJSON(m *handoffs.Message) messageBody {
	return messageBody{ID: m.ID, FromSide: m.FromSide, AuthorID: m.AuthorID, Text: m.Text,
		Document: sharedDocumentJSON(m.Document), CreatedAt: m.CreatedAt.UTC()}
}

func (h *handoffRequests) thread(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := h.svc.Thread(c.UserContext(), pathID(c), limit, cursor)
	if err != nil {
		return err
	}
	out := page[messageBody]{Items: make([]messageBody, 0, len(res.Messages)), NextCursor: nextCursor(res.Next)}
	for i := range res.Messages {
		out.Items = append(out.Items, messageJSON(&res.Messages[i]))
	}
	return c.JSON(out)
}

// newMessageBody is POST /api/v1/handoffs/:id/messages: text, and
// optionally a document of this side's case to share with it.
type newMessageBody struct {
	Text       string     `json:"text"`
	DocumentID *uuid.UUID `json:"document_id"`
}

func (h *handoffRequests) post(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newMessageBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	m, err := h.svc.Post(c.UserContext(), pathID(c), body.Text, body.DocumentID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(messageJSON(m))
}

// feedbackBody is one reintegration feedback.
type feedbackBody struct {
	ID                uuid.UUID `json:"id"`
	Status            string    `json:"status"`
	On                string    `json:"on"`
	FollowUpContinues bool      `json:"follow_up_continues"`
	Automatic         bool      `json:"automatic"`
	CreatedAt         time.Time `json:"created_at"`
}

func feedbackJSON(f *handoffs.Feedback) feedbackBody {
	return feedbackBody{ID: f.ID, Status: f.Status, On: f.On, FollowUpContinues: f.FollowUpContinues,
		Automatic: f.Automatic, CreatedAt: f.CreatedAt.UTC()}
}

func (h *handoffRequests) listFeedback(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	fs, err := h.svc.FeedbackOf(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[feedbackBody]{Items: make([]feedbackBody, 0, len(fs))}
	for i := range fs {
		out.Items = append(out.Items, feedbackJSON(&fs[i]))
	}
	return c.JSON(out)
}

// newFeedbackBody is POST /api/v1/handoffs/:id/feedback.
type newFeedbackBody struct {
	Status            string `json:"status"`
	On                string `json:"on"`
	FollowUpContinues *bool  `json:"follow_up_continues"`
}

func (h *handoffRequests) sendFeedback(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newFeedbackBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.FollowUpContinues == nil {
		return homeward.Invalid(map[string]string{"follow_up_continues": "required: whether her follow-up continues"})
	}
	f, err := h.svc.SendFeedback(c.UserContext(), pathID(c), handoffs.Feedback{Status: body.Status, On: body.On,
		FollowUpContinues: *body.FollowUpContinues})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(feedbackJSON(f))
}
