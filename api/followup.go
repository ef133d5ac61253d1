package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
)

// Reintegration and follow-up (routes.go: /api/v1/cases/:id/reintegration,
// /visits, /followup/close; /api/v1/visits; /api/v1/followups;
// /api/v1/settings/followup). Handlers decode and respond; the follow-up
// service (tenants/followup) authorizes every call from the principal in
// the context and audits.

type followUps struct {
	svc *followup.Service
}

func (f *followUps) ready() error {
	if f.svc.Store() == nil {
		return errNoStore
	}
	return nil
}

// reintegrationBody is a reintegration.
type reintegrationBody struct {
	ID          uuid.UUID  `json:"id"`
	CaseID      uuid.UUID  `json:"case_id"`
	Destination string     `json:"destination"`
	Date        string     `json:"date"`
	Place       string     `json:"place"`
	Note        string     `json:"note"`
	RecordedBy  *uuid.UUID `json:"recorded_by"`
	RecordedAt  time.Time  `json:"recorded_at"`
	Scheduled   bool       `json:"scheduled"`
	EndedAt     *time.Time `json:"ended_at"`
	EndedBy     *uuid.UUID `json:"ended_by"`
	EndReason   *string    `json:"end_reason"`
}

func reintegrationJSON(r *followup.Reintegration) *reintegrationBody {
	if r == nil {
		return nil
	}
	b := &reintegrationBody{ID: r.ID, CaseID: r.CaseID, Destination: r.Destination, Date: r.Date, Place: r.Place,
		Note: r.Note, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC(), Scheduled: r.Scheduled,
		EndedAt: utc(r.EndedAt), EndedBy: r.EndedBy}
	if r.EndReason != "" {
		b.EndReason = &r.EndReason
	}
	return b
}

// newReintegrationBody is POST /api/v1/cases/:id/reintegration.
type newReintegrationBody struct {
	Destination string `json:"destination"`
	Date        string `json:"date"`
	Place       string `json:"place"`
	Note        string `json:"note"`
}

// findingsBody is what a visit found.
type findingsBody struct {
	LivingSituation string   `json:"living_situation"`
	BusinessIncome  string   `json:"business_income"`
	Schooling       string   `json:"schooling"`
	RiskFlags       []string `json:"risk_flags"`
	TrainingWanted  string   `json:"training_wanted"`
	Notes           string   `json:"notes"`
}

// visitBody is a follow-up visit.
type visitBody struct {
	ID              uuid.UUID    `json:"id"`
	CaseID          uuid.UUID    `json:"case_id"`
	Reference       string       `json:"reference"`
	ReintegrationID uuid.UUID    `json:"reintegration_id"`
	Seq             int          `json:"seq"`
	Due             string       `json:"due_on"`
	Status          string       `json:"status"`
	VisitedOn       *string      `json:"visited_on"`
	VisitedBy       *uuid.UUID   `json:"visited_by"`
	RecordedBy      *uuid.UUID   `json:"recorded_by"`
	RecordedAt      *time.Time   `json:"recorded_at"`
	Findings        findingsBody `json:"findings"`
}

func visitJSON(v *followup.Visit) visitBody {
	b := visitBody{ID: v.ID, CaseID: v.CaseID, Reference: v.Reference, ReintegrationID: v.ReintegrationID, Seq: v.Seq,
		Due: v.Due, Status: v.Status, VisitedBy: v.VisitedBy, RecordedBy: v.RecordedBy, RecordedAt: utc(v.RecordedAt),
		Findings: findingsBody{LivingSituation: v.Findings.LivingSituation, BusinessIncome: v.Findings.BusinessIncome,
			Schooling: v.Findings.Schooling, RiskFlags: v.Findings.RiskFlags, TrainingWanted: v.Findings.TrainingWanted,
			Notes: v.Findings.Notes}}
	if b.Findings.RiskFlags == nil {
		b.Findings.RiskFlags = []string{}
	}
	if v.VisitedOn != "" {
		b.VisitedOn = &v.VisitedOn
	}
	return b
}

func (f *followUps) getReintegration(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	ov, err := f.svc.Overview(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	if ov.Reintegration == nil {
		return homeward.Errorf(homeward.ENOTFOUND, "this case has not been reintegrated")
	}
	return c.JSON(reintegrationJSON(ov.Reintegration))
}

func (f *followUps) reintegrate(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body newReintegrationBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	r, err := f.svc.Reintegrate(c.UserContext(), pathID(c), followup.NewReintegration{Destination: body.Destination,
		Date: body.Date, Place: body.Place, Note: body.Note})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(reintegrationJSON(r))
}

// listVisits answers every visit of the case whole: a schedule is at most
// ten years of monthly visits, so it needs no paging.
func (f *followUps) listVisits(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	ov, err := f.svc.Overview(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[visitBody]{Items: make([]visitBody, 0, len(ov.Visits))}
	for i := range ov.Visits {
		out.Items = append(out.Items, visitJSON(&ov.Visits[i]))
	}
	return c.JSON(out)
}

func (f *followUps) getVisit(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	v, err := f.svc.Visit(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(visitJSON(v))
}

// visitDoneBody is POST /api/v1/visits/:id/done.
type visitDoneBody struct {
	VisitedOn string `json:"visited_on"`
	findingsBody
}

// visitMissedBody is POST /api/v1/visits/:id/missed.
type visitMissedBody struct {
	Notes string `json:"notes"`
}

// recordVisit records the visit as outcome: done (with its date and
// findings) or missed (with notes).
func (f *followUps) recordVisit(outcome string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := f.ready(); err != nil {
			return err
		}
		rec := followup.VisitRecord{Outcome: outcome}
		if outcome == followup.OutcomeDone {
			var body visitDoneBody
			if err := decodeJSON(c, &body); err != nil {
				return err
			}
			rec.VisitedOn = body.VisitedOn
			rec.Findings = followup.Findings{LivingSituation: body.LivingSituation, BusinessIncome: body.BusinessIncome,
				Schooling: body.Schooling, RiskFlags: body.RiskFlags, TrainingWanted: body.TrainingWanted, Notes: body.Notes}
		} else {
			var body visitMissedBody
			if err := decodeJSON(c, &body); err != nil {
				return err
			}
			rec.Findings.Notes = body.Notes
		}
		v, err := f.svc.RecordVisit(c.UserContext(), pathID(c), rec)
		if err != nil {
			return err
		}
		return c.JSON(visitJSON(v))
	}
}

// closeBody is POST /api/v1/cases/:id/followup/close.
type closeBody struct {
	Reason string `json:"reason"`
}

// closedBody answers it: the case, now closed, and the reintegration
// ended (null for a case that had none recorded).
type closedBody struct {
	CaseID        uuid.UUID          `json:"case_id"`
	Stage         cases.Stage        `json:"stage"`
	Reintegration *reintegrationBody `json:"reintegration"`
}

func (f *followUps) close(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body closeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	id := pathID(c)
	r, err := f.svc.Close(c.UserContext(), id, body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(closedBody{CaseID: id, Stage: cases.StageClosed, Reintegration: reintegrationJSON(r)})
}

// dueVisitBody is a visit in the overdue and due lists.
type dueVisitBody struct {
	VisitID   uuid.UUID `json:"visit_id"`
	CaseID    uuid.UUID `json:"case_id"`
	Reference string    `json:"reference"`
	Due       string    `json:"due_on"`
	Overdue   bool      `json:"overdue"`
}

// Days ahead GET /followups/due looks by default, and at most.
const (
	dueDays    = 7
	maxDueDays = 366
)

// dueList answers GET /followups/overdue (within false) and
// /followups/due[?days=N]; ?mine=true keeps the member's own cases.
func (f *followUps) dueList(within bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := f.ready(); err != nil {
			return err
		}
		limit, cursor, err := listQuery(c)
		if err != nil {
			return err
		}
		q := followup.DueQuery{Limit: limit, Cursor: cursor}
		switch v := c.Query("mine"); v {
		case "", "false":
		case "true":
			q.Mine = true
		default:
			return homeward.Invalid(map[string]string{"mine": "true or false"})
		}
		if within {
			q.Within = dueDays
			if v := c.Query("days"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > maxDueDays {
					return homeward.Invalid(map[string]string{"days": "a whole number of days from 1 to " + strconv.Itoa(maxDueDays)})
				}
				q.Within = n
			}
		}
		res, err := f.svc.Due(c.UserContext(), q)
		if err != nil {
			return err
		}
		out := page[dueVisitBody]{Items: make([]dueVisitBody, 0, len(res.Visits)), NextCursor: nextCursor(res.Next)}
		for _, v := range res.Visits {
			out.Items = append(out.Items, dueVisitBody{VisitID: v.VisitID, CaseID: v.CaseID, Reference: v.Reference,
				Due: v.Due, Overdue: v.Overdue})
		}
		return c.JSON(out)
	}
}

func (f *followUps) getSchedule(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	sc, err := f.svc.Schedule(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(sc)
}

func (f *followUps) putSchedule(c *fiber.Ctx) error {
	if err := f.ready(); err != nil {
		return err
	}
	var body followup.Schedule
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	sc, err := f.svc.SetSchedule(c.UserContext(), body)
	if err != nil {
		return err
	}
	return c.JSON(sc)
}
