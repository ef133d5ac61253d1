package api

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/care"
)

// A case's services, support plans and group activities (routes.go:
// /api/v1/cases/:id/SECTION, /api/v1/care-entries, /api/v1/support-plans,
// /api/v1/activities). Handlers decode and respond; the care service
// (tenants/care) authorizes every call by the case's part, and audits.
//
// An entry is JSON whose top-level keys are its own (id, kind, date,
// version...) and its kind's fields (care.Kinds), as a case's are the
// catalogue's: a write names its kind, its date and its fields; a key the
// server sets is refused (400), a field the kind lacks is invalid (422).

type careServices struct {
	care *care.Service
}

func (h *careServices) ready() error {
	if h.care.Store() == nil {
		return errNoStore
	}
	return nil
}

// entryJSON is an entry: its own keys and its fields beside them.
func entryJSON(e *care.Entry) map[string]any {
	out := map[string]any{"id": e.ID, "case_id": e.CaseID, "kind": e.Kind, "part": e.Part, "date": e.Date,
		"version": e.Version, "warnings": e.Warnings, "created_by": e.CreatedBy, "created_at": e.CreatedAt.UTC(),
		"updated_by": e.UpdatedBy, "updated_at": e.UpdatedAt.UTC()}
	for name, v := range e.Fields {
		out[name] = v
	}
	return out
}

// The keys of an entry a client writes besides its fields.
const (
	keyKind = "kind"
	keyDate = "date"
)

// entryBody splits a write: kind, date and version, and the fields (values
// as decodeField reads them: numbers stay json.Number). The other keys the
// server sets are refused, naming them.
func entryBody(c *fiber.Ctx) (kind care.Kind, date string, version int64, fields map[string]any, err error) {
	body, err := decodeFields(c)
	if err != nil {
		return "", "", 0, nil, err
	}
	fields, refused := map[string]any{}, map[string]string{}
	for k, raw := range body {
		switch k {
		case keyKind:
			err = decodeField(k, raw, &kind)
		case keyDate:
			err = decodeField(k, raw, &date)
		case keyVersion:
			err = decodeField(k, raw, &version)
		default:
			if slices.Contains(care.ReservedKeys, k) {
				refused[k] = "set by the server: a client may not write it"
				continue
			}
			var v any
			err = decodeField(k, raw, &v)
			fields[k] = v
		}
		if err != nil {
			return "", "", 0, nil, err
		}
	}
	if len(refused) > 0 {
		return "", "", 0, nil, malformedFields("the body names keys a client may not write", refused)
	}
	return kind, date, version, fields, nil
}

// entriesBody is a case's section: its entries, newest first, and in the
// legal section the summary of the latest lawsuit wish ("" before any).
type entriesBody struct {
	Items         []map[string]any `json:"items"`
	LawsuitWanted *string          `json:"lawsuit_wanted,omitempty"`
}

func (h *careServices) listEntries(section string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h.ready(); err != nil {
			return err
		}
		res, err := h.care.Entries(c.UserContext(), pathID(c), section)
		if err != nil {
			return err
		}
		out := entriesBody{Items: make([]map[string]any, 0, len(res.Entries))}
		for i := range res.Entries {
			out.Items = append(out.Items, entryJSON(&res.Entries[i]))
		}
		if section == care.SectionLegal {
			wanted := res.LawsuitWanted()
			out.LawsuitWanted = &wanted
		}
		return c.JSON(out)
	}
}

func (h *careServices) addEntry(section string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h.ready(); err != nil {
			return err
		}
		kind, date, _, fields, err := entryBody(c)
		if err != nil {
			return err
		}
		if kinds := care.SectionKinds(section); !slices.Contains(kinds, kind) {
			names := make([]string, len(kinds))
			for i, k := range kinds {
				names[i] = string(k)
			}
			return homeward.Invalid(map[string]string{keyKind: "one of " + strings.Join(names, ", ")})
		}
		e, err := h.care.AddEntry(c.UserContext(), pathID(c), care.NewEntry{Kind: kind, Date: date, Fields: fields})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(entryJSON(e))
	}
}

func (h *careServices) getEntry(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	e, err := h.care.Entry(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(entryJSON(e))
}

// updateEntry replaces the entry's date and fields; its kind, when sent,
// must be its own.
func (h *careServices) updateEntry(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	kind, date, version, fields, err := entryBody(c)
	if err != nil {
		return err
	}
	e, err := h.care.UpdateEntry(c.UserContext(), pathID(c), care.EntryChange{Kind: kind, Date: date, Fields: fields, Version: version})
	if err != nil {
		return err
	}
	return c.JSON(entryJSON(e))
}

// planBody is a support plan, by its HTCDS names, with its progress.
type planBody struct {
	ID         uuid.UUID      `json:"id"`
	CaseID     uuid.UUID      `json:"case_id"`
	Type       string         `json:"spl_Type"`
	Objectives string         `json:"spl_Objectives"`
	ActionPlan string         `json:"spl_ActionPlan"`
	PlannedEnd *string        `json:"spl_PlannedEndDate"`
	ActualEnd  *string        `json:"spl_ActualEndDate"`
	Status     string         `json:"status"`
	Version    int64          `json:"version"`
	CreatedBy  *uuid.UUID     `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	Progress   []progressBody `json:"progress"`
}

type progressBody struct {
	ID         uuid.UUID  `json:"id"`
	Date       string     `json:"date"`
	Status     string     `json:"status"`
	Note       string     `json:"note"`
	RecordedBy *uuid.UUID `json:"recorded_by"`
	RecordedAt time.Time  `json:"recorded_at"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func planJSON(p *care.Plan) planBody {
	out := planBody{ID: p.ID, CaseID: p.CaseID, Type: p.Type, Objectives: p.Objectives, ActionPlan: p.ActionPlan,
		PlannedEnd: orNull(p.PlannedEnd), ActualEnd: orNull(p.ActualEnd), Status: p.Status, Version: p.Version,
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		Progress: make([]progressBody, 0, len(p.Progress))}
	for _, g := range p.Progress {
		out.Progress = append(out.Progress, progressBody{ID: g.ID, Date: g.Date, Status: g.Status, Note: g.Note,
			RecordedBy: g.RecordedBy, RecordedAt: g.RecordedAt.UTC()})
	}
	return out
}

func (h *careServices) listPlans(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	res, err := h.care.Plans(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[planBody]{Items: make([]planBody, 0, len(res.Plans))}
	for i := range res.Plans {
		out.Items = append(out.Items, planJSON(&res.Plans[i]))
	}
	return c.JSON(out)
}

// newPlanBody is POST /api/v1/cases/:id/support-plans.
type newPlanBody struct {
	Type       string `json:"spl_Type"`
	Objectives string `json:"spl_Objectives"`
	ActionPlan string `json:"spl_ActionPlan"`
	PlannedEnd string `json:"spl_PlannedEndDate"`
}

func (h *careServices) addPlan(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newPlanBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	p, err := h.care.AddPlan(c.UserContext(), pathID(c), care.NewPlan{Type: body.Type, Objectives: body.Objectives,
		ActionPlan: body.ActionPlan, PlannedEnd: body.PlannedEnd})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(planJSON(p))
}

func (h *careServices) getPlan(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	p, err := h.care.Plan(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(planJSON(p))
}

// planChangeBody is PATCH /api/v1/support-plans/:id: the fields sent
// change ("" or null clears an optional one).
type planChangeBody struct {
	Type       *string `json:"spl_Type"`
	Objectives *string `json:"spl_Objectives"`
	ActionPlan *string `json:"spl_ActionPlan"`
	PlannedEnd *string `json:"spl_PlannedEndDate"`
	ActualEnd  *string `json:"spl_ActualEndDate"`
	Version    int64   `json:"version"`
}

func (h *careServices) updatePlan(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	// A null clears a field, as "" does: read which keys were sent.
	body, err := decodeFields(c)
	if err != nil {
		return err
	}
	var ch planChangeBody
	if err := decodeField("", c.Body(), &ch); err != nil {
		return err
	}
	for key, v := range map[string]**string{"spl_Type": &ch.Type, "spl_Objectives": &ch.Objectives,
		"spl_ActionPlan": &ch.ActionPlan, "spl_PlannedEndDate": &ch.PlannedEnd, "spl_ActualEndDate": &ch.ActualEnd} {
		if raw, ok := body[key]; ok && string(raw) == "null" {
			empty := ""
			*v = &empty
		}
	}
	p, err := h.care.UpdatePlan(c.UserContext(), pathID(c), care.PlanChange{Type: ch.Type, Objectives: ch.Objectives,
		ActionPlan: ch.ActionPlan, PlannedEnd: ch.PlannedEnd, ActualEnd: ch.ActualEnd, Version: ch.Version})
	if err != nil {
		return err
	}
	return c.JSON(planJSON(p))
}

// newProgressBody is POST /api/v1/support-plans/:id/progress.
type newProgressBody struct {
	Date   string `json:"date"`
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (h *careServices) addProgress(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newProgressBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	p, err := h.care.AddProgress(c.UserContext(), pathID(c), care.NewProgress{Date: body.Date, Status: body.Status, Note: body.Note})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(planJSON(p))
}

// activityBody is a group activity; attendance (the cases the caller may
// see) only in GET /api/v1/activities/:id and the answer to attendance.
type activityBody struct {
	ID         uuid.UUID       `json:"id"`
	Type       string          `json:"type"`
	Date       string          `json:"date"`
	Topic      string          `json:"topic"`
	CreatedBy  *uuid.UUID      `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	Attendance *[]attendeeBody `json:"attendance,omitempty"`
}

type attendeeBody struct {
	CaseID     uuid.UUID `json:"case_id"`
	Reference  string    `json:"reference"`
	RecordedAt time.Time `json:"recorded_at"`
}

func activityJSON(a *care.Activity, withAttendance bool) activityBody {
	out := activityBody{ID: a.ID, Type: a.Type, Date: a.Date, Topic: a.Topic, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt.UTC()}
	if withAttendance {
		list := make([]attendeeBody, 0, len(a.Attendance))
		for _, at := range a.Attendance {
			list = append(list, attendeeBody{CaseID: at.CaseID, Reference: at.Reference, RecordedAt: at.RecordedAt.UTC()})
		}
		out.Attendance = &list
	}
	return out
}

func (h *careServices) listActivities(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	limit, cursor, err := listQuery(c)
	if err != nil {
		return err
	}
	res, err := h.care.Activities(c.UserContext(), limit, cursor)
	if err != nil {
		return err
	}
	out := page[activityBody]{Items: make([]activityBody, 0, len(res.Activities)), NextCursor: nextCursor(res.Next)}
	for i := range res.Activities {
		out.Items = append(out.Items, activityJSON(&res.Activities[i], false))
	}
	return c.JSON(out)
}

// newActivityBody is POST /api/v1/activities: the activity, and the
// cases that attended it (optional; all recorded or none).
type newActivityBody struct {
	Type     string      `json:"type"`
	Date     string      `json:"date"`
	Topic    string      `json:"topic"`
	Attended []uuid.UUID `json:"attended"`
}

func (h *careServices) createActivity(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newActivityBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	a, err := h.care.CreateActivity(c.UserContext(), care.NewActivity{Type: body.Type, Date: body.Date, Topic: body.Topic},
		body.Attended...)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(activityJSON(a, true))
}

func (h *careServices) getActivity(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	a, err := h.care.Activity(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(activityJSON(a, true))
}

// attendanceBody is POST /api/v1/activities/:id/attendance: whether the
// case attended (false takes a record back).
type attendanceBody struct {
	CaseID   uuid.UUID `json:"case_id"`
	Attended *bool     `json:"attended"`
}

func (h *careServices) setAttendance(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body attendanceBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Attended == nil {
		return homeward.Invalid(map[string]string{"attended": "required: true, or false to take the record back"})
	}
	a, err := h.care.SetAttendance(c.UserContext(), pathID(c), body.CaseID, *body.Attended)
	if err != nil {
		return err
	}
	return c.JSON(activityJSON(a, true))
}

func (h *careServices) caseActivities(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	res, err := h.care.CaseActivities(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[activityBody]{Items: make([]activityBody, 0, len(res.Activities))}
	for i := range res.Activities {
		out.Items = append(out.Items, activityJSON(&res.Activities[i], false))
	}
	return c.JSON(out)
}
