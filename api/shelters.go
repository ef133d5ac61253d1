package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
)

// Shelters and admission (routes.go: /api/v1/shelters,
// /api/v1/cases/:id/admission). Handlers decode and respond; the shelters
// service (tenants/shelters) authorizes every call (shelters.read and
// .write for the shelters, the case's core for its admission) and audits.

type shelterAdmissions struct {
	shelters *shelters.Service
}

func (h *shelterAdmissions) ready() error {
	if h.shelters.Store() == nil {
		return errNoStore
	}
	return nil
}

// shelterBody is a shelter with its beds taken and its waiting list.
type shelterBody struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Province  string    `json:"province"`
	District  string    `json:"district"`
	Capacity  int       `json:"capacity"`
	Active    bool      `json:"active"`
	Occupancy int       `json:"occupancy"`
	Free      int       `json:"free"`
	Waiting   int       `json:"waiting"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func shelterJSON(s *shelters.Shelter) shelterBody {
	return shelterBody{ID: s.ID, Name: s.Name, Province: s.Province, District: s.District, Capacity: s.Capacity,
		Active: s.Active, Occupancy: s.Occupancy, Free: s.Free(), Waiting: s.Waiting, CreatedAt: s.CreatedAt.UTC(),
		UpdatedAt: s.UpdatedAt.UTC()}
}

func (h *shelterAdmissions) listShelters(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	list, err := h.shelters.List(c.UserContext())
	if err != nil {
		return err
	}
	out := itemsBody[shelterBody]{Items: make([]shelterBody, 0, len(list))}
	for i := range list {
		out.Items = append(out.Items, shelterJSON(&list[i]))
	}
	return c.JSON(out)
}

// newShelterBody is POST /api/v1/shelters; active is true unless sent.
type newShelterBody struct {
	Name     string `json:"name"`
	Province string `json:"province"`
	District string `json:"district"`
	Capacity *int   `json:"capacity"`
	Active   *bool  `json:"active"`
}

func (h *shelterAdmissions) createShelter(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newShelterBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Capacity == nil {
		return homeward.Invalid(map[string]string{"capacity": "required: the number of beds"})
	}
	ns := shelters.NewShelter{Name: body.Name, Province: body.Province, District: body.District, Capacity: *body.Capacity, Active: true}
	if body.Active != nil {
		ns.Active = *body.Active
	}
	sh, err := h.shelters.Create(c.UserContext(), ns)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(shelterJSON(sh))
}

func (h *shelterAdmissions) getShelter(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	sh, err := h.shelters.Get(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(shelterJSON(sh))
}

// shelterChangeBody is PATCH /api/v1/shelters/:id: the keys sent change.
type shelterChangeBody struct {
	Name     *string `json:"name"`
	Province *string `json:"province"`
	District *string `json:"district"`
	Capacity *int    `json:"capacity"`
	Active   *bool   `json:"active"`
}

func (h *shelterAdmissions) updateShelter(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body shelterChangeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	sh, err := h.shelters.Update(c.UserContext(), pathID(c), shelters.ShelterChange{Name: body.Name, Province: body.Province,
		District: body.District, Capacity: body.Capacity, Active: body.Active})
	if err != nil {
		return err
	}
	return c.JSON(shelterJSON(sh))
}

// waitingBody is a case on a shelter's waiting list: its number, never a
// name.
type waitingBody struct {
	CaseID    uuid.UUID `json:"case_id"`
	Reference string    `json:"reference"`
	Since     time.Time `json:"since"`
	Position  int       `json:"position"`
}

func (h *shelterAdmissions) waitingList(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	list, err := h.shelters.WaitingList(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := itemsBody[waitingBody]{Items: make([]waitingBody, 0, len(list))}
	for _, w := range list {
		out.Items = append(out.Items, waitingBody{CaseID: w.CaseID, Reference: w.Reference, Since: w.Since.UTC(), Position: w.Position})
	}
	return c.JSON(out)
}

// acceptanceBody is one party's acceptance of the admission.
type acceptanceBody struct {
	AcceptedBy string     `json:"accepted_by"`
	AcceptedOn string     `json:"accepted_on"`
	RecordedBy *uuid.UUID `json:"recorded_by"`
	RecordedAt time.Time  `json:"recorded_at"`
}

func acceptanceJSON(a *shelters.Acceptance) *acceptanceBody {
	if a == nil {
		return nil
	}
	return &acceptanceBody{AcceptedBy: a.By, AcceptedOn: a.On, RecordedBy: a.RecordedBy, RecordedAt: a.RecordedAt.UTC()}
}

// placementBody is one stay in a shelter; ended_on and end_reason are null
// while she stays.
type placementBody struct {
	ID          uuid.UUID  `json:"id"`
	ShelterID   uuid.UUID  `json:"shelter_id"`
	ShelterName string     `json:"shelter_name"`
	Arrival     string     `json:"arrival"`
	PlacedOn    string     `json:"placed_on"`
	PlacedBy    *uuid.UUID `json:"placed_by"`
	EndedOn     *string    `json:"ended_on"`
	EndReason   *string    `json:"end_reason"`
	EndedBy     *uuid.UUID `json:"ended_by"`
}

func placementJSON(p shelters.Placement) placementBody {
	b := placementBody{ID: p.ID, ShelterID: p.ShelterID, ShelterName: p.ShelterName, Arrival: p.Arrival, PlacedOn: p.PlacedOn,
		PlacedBy: p.PlacedBy, EndedBy: p.EndedBy}
	if !p.Current() {
		b.EndedOn, b.EndReason = &p.EndedOn, &p.EndReason
	}
	return b
}

// waitingForBody is the shelter a case waits for, and where she stands.
type waitingForBody struct {
	ShelterID   uuid.UUID `json:"shelter_id"`
	ShelterName string    `json:"shelter_name"`
	Since       time.Time `json:"since"`
	Position    int       `json:"position"`
}

// admissionBody is GET /api/v1/cases/:id/admission, and the answer of
// every admission write.
type admissionBody struct {
	CaseID           uuid.UUID       `json:"case_id"`
	Reference        string          `json:"reference"`
	Stage            cases.Stage     `json:"stage"`
	ReferralSource   *string         `json:"referral_source"`
	AcceptanceGirl   *acceptanceBody `json:"acceptance_girl"`
	AcceptanceFamily *acceptanceBody `json:"acceptance_family"`
	ConsentServices  bool            `json:"consent_services"`
	Missing          []string        `json:"missing"`
	Waiting          *waitingForBody `json:"waiting"`
	Placement        *placementBody  `json:"placement"`
	Placements       []placementBody `json:"placements"`
}

func admissionJSON(a *shelters.Admission) admissionBody {
	b := admissionBody{CaseID: a.CaseID, Reference: a.Reference, Stage: a.Stage, AcceptanceGirl: acceptanceJSON(a.Girl),
		AcceptanceFamily: acceptanceJSON(a.Family), ConsentServices: a.ServicesConsent, Missing: a.Missing,
		Placements: make([]placementBody, 0, len(a.Placements))}
	if b.Missing == nil {
		b.Missing = []string{}
	}
	if a.ReferralSource != "" {
		b.ReferralSource = &a.ReferralSource
	}
	if w := a.Waiting; w != nil {
		b.Waiting = &waitingForBody{ShelterID: w.ShelterID, ShelterName: w.ShelterName, Since: w.Since.UTC(), Position: w.Position}
	}
	if a.Current != nil {
		cur := placementJSON(*a.Current)
		b.Placement = &cur
	}
	for _, p := range a.Placements {
		b.Placements = append(b.Placements, placementJSON(p))
	}
	return b
}

func (h *shelterAdmissions) getAdmission(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	a, err := h.shelters.Admission(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(admissionJSON(a))
}

// newAcceptanceBody is POST /api/v1/cases/:id/admission/acceptances.
type newAcceptanceBody struct {
	AcceptedBy string `json:"accepted_by"`
	AcceptedOn string `json:"accepted_on"`
}

func (h *shelterAdmissions) recordAcceptance(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body newAcceptanceBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	a, err := h.shelters.RecordAcceptance(c.UserContext(), pathID(c), shelters.NewAcceptance{By: body.AcceptedBy, On: body.AcceptedOn})
	if err != nil {
		return err
	}
	return c.JSON(admissionJSON(a))
}

// shelterID reads a body's shelter_id ("" or not a UUID: invalid, naming
// it; uuid.Nil is left to the service, which says it is required).
func shelterID(raw string) (uuid.UUID, error) {
	if raw == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, homeward.Invalid(map[string]string{"shelter_id": "expected a shelter's id (a UUID)"})
	}
	return id, nil
}

// admitBody is POST /api/v1/cases/:id/admission/admit.
type admitBody struct {
	ShelterID      string `json:"shelter_id"`
	ReferralSource string `json:"referral_source"`
	AdmittedOn     string `json:"admitted_on"`
}

// admit answers 200 when she is placed, 202 when she waits for a bed.
func (h *shelterAdmissions) admit(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body admitBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	id, err := shelterID(body.ShelterID)
	if err != nil {
		return err
	}
	a, err := h.shelters.Admit(c.UserContext(), pathID(c), shelters.Admit{ShelterID: id, ReferralSource: body.ReferralSource,
		AdmittedOn: body.AdmittedOn})
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if a.Waiting != nil {
		status = fiber.StatusAccepted
	}
	return c.Status(status).JSON(admissionJSON(a))
}

func (h *shelterAdmissions) cancelWaiting(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	a, err := h.shelters.CancelWaiting(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return c.JSON(admissionJSON(a))
}

// transferBody is POST /api/v1/cases/:id/admission/transfer.
type transferBody struct {
	ShelterID     string `json:"shelter_id"`
	TransferredOn string `json:"transferred_on"`
}

func (h *shelterAdmissions) transfer(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body transferBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	id, err := shelterID(body.ShelterID)
	if err != nil {
		return err
	}
	a, err := h.shelters.Transfer(c.UserContext(), pathID(c), shelters.Transfer{ShelterID: id, TransferredOn: body.TransferredOn})
	if err != nil {
		return err
	}
	return c.JSON(admissionJSON(a))
}

// dischargeBody is POST /api/v1/cases/:id/admission/discharge.
type dischargeBody struct {
	DischargedOn string `json:"discharged_on"`
	Reason       string `json:"reason"`
}

func (h *shelterAdmissions) discharge(c *fiber.Ctx) error {
	if err := h.ready(); err != nil {
		return err
	}
	var body dischargeBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	a, err := h.shelters.Discharge(c.UserContext(), pathID(c), shelters.Discharge{DischargedOn: body.DischargedOn, Reason: body.Reason})
	if err != nil {
		return err
	}
	return c.JSON(admissionJSON(a))
}
