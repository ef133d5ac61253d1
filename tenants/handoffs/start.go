package handoffs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Text limits.
const (
	maxNote   = 5000 // a stage note, a message
	maxReason = 2000 // an override, decline, withdrawal or reopening reason
)

// checkText trims s and reports on field when it is too long (or required
// and empty).
func checkText(fe homeward.FieldErrors, field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		fe.Add(field, "required")
	case utf8.RuneCountInString(s) > max:
		fe.Add(field, fmt.Sprintf("at most %d characters", max))
	}
	return s
}

// ActionOffer is the audit action (record type case) of the start form's
// reading which fields of a case hold a value (names, no values).
const ActionOffer = "handoff.offer"

// Sharable is one field of a case as the start form offers it.
type Sharable struct {
	Field   string // catalogue name
	Group   string
	Allowed bool
	Why     string // when not allowed: "the partnership does not share the medical group", "needs the health_sharing consent", ...
}

// sharedGroups are the groups whose fields a start form lists: those a
// partnership may let travel, and the psychological group (listed, never
// allowed).
var sharedGroups = append(slices.Clone(SharableGroups), tenants.FieldGroupPsychological)

// canStart reports whether p may start (and advance) handoffs of a case of
// ref: handoff.write, or handoff.write_own on its own case.
func canStart(p *tenants.Principal, ref *cases.Ref) error {
	m := p.Actor.MemberID
	own := m != nil && (ref.OwnerID != nil && *ref.OwnerID == *m || slices.Contains(ref.Assigned, *m))
	if p.Can(tenants.PermHandoffWrite) || own && p.Can(tenants.PermHandoffWriteOwn) {
		return nil
	}
	return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow handing this case over")
}

// offer is what the case lets travel under a partnership for p.
type offer struct {
	fields  []Sharable
	consent bool // the sharing consent stands
	health  bool // the health_sharing consent stands
}

// offerOf reads the case's fields with a value that p may read, and says
// for each whether it may travel under part.
func offerOf(tx *gorm.DB, ref *cases.Ref, part *Partnership) (*offer, error) {
	var readable []string
	for _, g := range sharedGroups {
		if ref.CanRead(g) {
			readable = append(readable, g)
		}
	}
	values, err := cases.ValuesOf(tx, ref.ID, readable)
	if err != nil {
		return nil, err
	}
	o := &offer{}
	if o.consent, err = cases.Consented(tx, ref.ID, cases.PurposeSharing); err != nil {
		return nil, err
	}
	if o.health, err = cases.Consented(tx, ref.ID, cases.PurposeHealthSharing); err != nil {
		return nil, err
	}
	for _, f := range cases.Fields() {
		if _, ok := values[f.Name]; !ok {
			continue
		}
		sh := Sharable{Field: f.Name, Group: f.Group, Allowed: true}
		switch {
		case f.Group == tenants.FieldGroupPsychological:
			sh.Allowed, sh.Why = false, "the psychological group never leaves the organisation"
		case !slices.Contains(part.Groups, f.Group):
			sh.Allowed, sh.Why = false, "the partnership does not share the "+f.Group+" group"
		case f.Group == tenants.FieldGroupMedical && !o.health:
			sh.Allowed, sh.Why = false, "the medical group needs the health_sharing consent"
		}
		o.fields = append(o.fields, sh)
	}
	return o, nil
}

// choose checks the fields chosen against the offer: each a catalogue
// field with a value that may travel. Problems name "fields" and the
// field. It returns the groups of the fields, in catalogue order.
func (o *offer) choose(names []string) ([]string, error) {
	var problems []string
	var groups []string
	for _, name := range names {
		f, known := cases.Lookup(name)
		i := slices.IndexFunc(o.fields, func(s Sharable) bool { return s.Field == name })
		switch {
		case !known:
			problems = append(problems, name+": not a field of the case catalogue")
		case f.Group == tenants.FieldGroupPsychological:
			problems = append(problems, name+": the psychological group never leaves the organisation")
		case !slices.Contains(SharableGroups, f.Group):
			problems = append(problems, name+": the "+f.Group+" group does not travel in a handoff")
		case i < 0:
			problems = append(problems, name+": the case has no value you may read in this field")
		case !o.fields[i].Allowed:
			problems = append(problems, name+": "+o.fields[i].Why)
		default:
			if !slices.Contains(groups, f.Group) {
				groups = append(groups, f.Group)
			}
		}
	}
	if len(problems) > 0 {
		return nil, homeward.Invalid(map[string]string{"fields": strings.Join(problems, "; ")})
	}
	slices.SortFunc(groups, func(a, b string) int {
		return slices.Index(tenants.FieldGroups, a) - slices.Index(tenants.FieldGroups, b)
	})
	return groups, nil
}

// SharableFields are the fields of the case the sender may choose under the
// partnership, with the case's consent state (Basis: BasisConsent when the
// sharing consent stands, else "" — an override is needed).
func (s *Service) SharableFields(ctx context.Context, partnershipID, caseID uuid.UUID) ([]Sharable, string, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []Sharable
	basis := ""
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		part, err := activePartnership(tx, partnershipID, true)
		if err != nil {
			return err
		}
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		if err := canStart(p, ref); err != nil {
			return err
		}
		o, err := offerOf(tx, ref, part)
		if err != nil {
			return err
		}
		out = o.fields
		if o.consent {
			basis = BasisConsent
		}
		var groups []string
		for _, f := range o.fields {
			groups = appendOnce(groups, f.Group)
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionOffer, RecordType: "case", RecordID: caseID,
			FieldGroups: groups, Purpose: purpose})
	})
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []Sharable{}
	}
	return out, basis, nil
}

// outgoing is a handoff leaving the sender, carried from the sender's step
// to the receiver's in one transaction.
type outgoing struct {
	row     *handoffRow // the sender's row, as written
	values  map[string]any
	docs    []outDoc
	entries []stageEntryRow // the sender's timeline so far
}

// checkNew checks a start's input, naming each bad field.
func checkNew(nh *NewHandoff) error {
	fe := homeward.FieldErrors{}
	if nh.PartnershipID == uuid.Nil {
		fe.Add("partnership_id", "required")
	}
	var fields []string
	for _, f := range nh.Fields {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	nh.Fields = fields
	if len(fields) == 0 {
		fe.Add("fields", "choose at least one field to share")
	}
	if len(nh.Documents) > maxDocuments {
		fe.Add("documents", fmt.Sprintf("at most %d documents", maxDocuments))
	}
	nh.OverrideReason = checkText(fe, "override_reason", nh.OverrideReason, maxReason, false)
	nh.Note = checkText(fe, "note", nh.Note, maxNote, false)
	return fe.Err()
}

// Start starts a handoff from a case (handoff.write, or handoff.write_own on
// an own case). With the sharing consent it is sent at once; without it,
// OverrideReason is required and it waits for a second person.
func (s *Service) Start(ctx context.Context, nh NewHandoff) (*Handoff, error) {
	if nh.CaseID == uuid.Nil {
		return nil, homeward.Invalid(map[string]string{"case_id": "required"})
	}
	return s.start(ctx, nil, nh)
}

// StartFromIntake creates a short case from the intake form (cases.NewCase:
// a few identity fields and the consents) and starts the handoff from it,
// in one transaction.
func (s *Service) StartFromIntake(ctx context.Context, intake cases.NewCase, nh NewHandoff) (*Handoff, error) {
	if _, err := tenants.OrgPrincipal(ctx, tenants.PermCaseCreate); err != nil {
		return nil, err
	}
	return s.start(ctx, &intake, nh)
}

// start is Start, and StartFromIntake when intake is set: one
// AcrossTenants transaction, the sender's step (the case, the checks, the
// sender's rows) then the receiver's (its row, the shared copy, the
// documents), which writes nothing when the handoff waits for an override.
func (s *Service) start(ctx context.Context, intake *cases.NewCase, nh NewHandoff) (*Handoff, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkNew(&nh); err != nil {
		return nil, err
	}
	// Which organisation receives: read first, checked again in the step.
	var receiver uuid.UUID
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		part, err := activePartnership(tx, nh.PartnershipID, true)
		if err != nil {
			return err
		}
		receiver = part.To.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var (
		out  *outgoing
		view *Handoff
	)
	sender := tenants.TenantStep{Tenant: p.TenantID, Fn: func(tx *gorm.DB) error {
		out, view = nil, nil // a run again after a deadlock starts afresh
		part, err := activePartnership(tx, nh.PartnershipID, true)
		if err != nil {
			return err
		}
		if part.To.ID != receiver {
			return errChanged
		}
		if intake != nil {
			c, err := s.cases.CreateIn(tx, p, *intake, cases.CreateOptions{})
			if err != nil {
				return err
			}
			nh.CaseID = c.ID
		}
		ref, err := cases.Open(tx, p, nh.CaseID, true)
		if err != nil {
			return err
		}
		if err := canStart(p, ref); err != nil {
			return err
		}
		if ref.Stage == cases.StageReferred || ref.Stage == cases.StageClosed {
			return homeward.Invalid(map[string]string{"case_id": "the case is " + string(ref.Stage) + ": nothing to hand over"})
		}
		o, err := offerOf(tx, ref, part)
		if err != nil {
			return err
		}
		groups, err := o.choose(nh.Fields)
		if err != nil {
			return err
		}
		if !o.consent && nh.OverrideReason == "" {
			return homeward.Invalid(map[string]string{"override_reason": "required: the case has no standing sharing consent, so a second person must approve sending it with a written reason"})
		}
		docs, err := s.readDocs(tx, ref, nh.Documents, part.Groups, part.Documents, o.health)
		if err != nil {
			return err
		}
		number, err := tenants.TakeNumbers(tx, "handoff_numbers", 1)
		if err != nil {
			return err
		}
		day, err := tenants.Today(tx, now)
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if err := ensureKey(tx, id); err != nil {
			return err
		}
		first := string(StageIdentification)
		caseID := nh.CaseID
		row := &handoffRow{ID: id, DataKeyID: id, Number: number, Side: SideSender, PartnerTenantID: receiver,
			PartnershipID: part.ID, State: StateSent, Stage: &first, CaseID: &caseID, Fields: list(nh.Fields),
			Groups: list(groups), Basis: BasisConsent, StallDays: part.StallDays, DocumentsAllowed: part.Documents,
			StartedBy: p.Actor.MemberID, CreatedAt: now, SentAt: &now, StageChangedAt: now, UpdatedAt: now,
			Version: 1}
		if row.StallDays < 1 {
			row.StallDays = DefaultStallDays
		}
		var docIDs []uuid.UUID
		for _, d := range docs {
			docIDs = append(docIDs, d.source)
		}
		row.Documents = idList(docIDs)
		if !o.consent {
			row.State, row.Basis, row.SentAt = StateAwaitingOverride, BasisOverride, nil
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		// Stage 1: the sender identified her and protects her; the note is
		// the first word to the receiver.
		entry := stageEntryRow{ID: uuid.Must(uuid.NewV7()), HandoffID: id, DataKeyID: id, Stage: first,
			Action: ActionDone, OnDate: day.Format(time.DateOnly), Note: tenants.NewSecret(nh.Note),
			BySide: SideSender, RecordedBy: p.Actor.MemberID, RecordedAt: now}
		if err := tx.Create(&entry).Error; err != nil {
			return err
		}
		if err := audit(tx, ActionStart, id, groups); err != nil {
			return err
		}
		if !o.consent {
			ov := overrideRow{ID: id, DataKeyID: id, Reason: tenants.NewSecret(nh.OverrideReason),
				RequestedBy: p.Actor.MemberID, RequesterKind: p.Actor.Kind, RequesterIssuer: p.Actor.Issuer,
				RequesterSubject: p.Actor.Subject, RequestedAt: now}
			if p.ViaToken {
				ov.RequesterKind = tenants.ActorAPIToken
			}
			if err := tx.Create(&ov).Error; err != nil {
				return err
			}
			approvers, err := overrideApprovers(tx, p.Actor.MemberID)
			if err != nil {
				return err
			}
			if err := noticeTo(tx, id, NoticeOverrideAsked, approvers); err != nil {
				return err
			}
		} else {
			values, err := cases.ValuesOf(tx, nh.CaseID, groups)
			if err != nil {
				return err
			}
			out = &outgoing{row: row, values: pick(values, nh.Fields), docs: docs,
				entries: []stageEntryRow{entry}}
			if err := audit(tx, ActionSend, id, groups); err != nil {
				return err
			}
		}
		view, err = s.view(tx, p, row, false)
		return err
	}}
	receiving := tenants.TenantStep{Tenant: receiver, Fn: func(tx *gorm.DB) error {
		if out == nil {
			return nil // waits for the override: nothing leaves
		}
		return s.receive(tenants.AsPartner(tx, p.TenantID), p.TenantID, out, now)
	}}
	if err := s.across(ctx, sender, receiving); err != nil {
		return nil, err
	}
	return view, nil
}

// pick is values' entries named in names.
func pick(values map[string]any, names []string) map[string]any {
	out := map[string]any{}
	for _, n := range names {
		if v, ok := values[n]; ok {
			out[n] = v
		}
	}
	return out
}

// receive writes the receiver's side of a handoff the sender has just
// sent, in the receiver's step (tx acting as the sender organisation): its
// row, the shared copy under its own handoff data key, the copies of the
// documents, the timeline so far; audited handoff.receive; the inbox told.
func (s *Service) receive(tx *gorm.DB, sender uuid.UUID, out *outgoing, now time.Time) error {
	src := out.row
	part, err := activePartnership(tx, src.PartnershipID, false)
	if err != nil {
		return err
	}
	if part.From.ID != sender {
		return homeward.Errorf(homeward.ECONFLICT, "the partnership does not let this organisation send here")
	}
	if err := ensureKey(tx, src.ID); err != nil {
		return err
	}
	row := &handoffRow{ID: src.ID, DataKeyID: src.ID, Number: src.Number, Side: SideReceiver, PartnerTenantID: sender,
		PartnershipID: src.PartnershipID, State: StateSent, Stage: src.Stage, Confirmed: src.Confirmed,
		Fields: src.Fields, Groups: src.Groups, Basis: src.Basis, StallDays: src.StallDays,
		DocumentsAllowed: src.DocumentsAllowed, CreatedAt: src.CreatedAt, SentAt: &now,
		StageChangedAt: src.StageChangedAt, UpdatedAt: now, Version: src.Version}
	if err := tx.Create(row).Error; err != nil {
		return err
	}
	content, err := json.Marshal(out.values)
	if err != nil {
		return err
	}
	if err := tx.Create(&shareRow{ID: src.ID, DataKeyID: src.ID, Content: tenants.NewSecret(string(content)),
		CreatedAt: now}).Error; err != nil {
		return err
	}
	if _, err := s.writeDocs(tx, row, out.docs, nil, nil, now); err != nil {
		return err
	}
	for _, e := range out.entries {
		mirrored := e
		mirrored.TenantID, mirrored.RecordedBy = uuid.Nil, nil
		mirrored.Note, mirrored.Reason = tenants.NewSecret(e.Note.Text()), tenants.NewSecret(e.Reason.Text())
		if err := tx.Create(&mirrored).Error; err != nil {
			return err
		}
	}
	if err := audit(tx, ActionReceive, src.ID, unlist(src.Groups)); err != nil {
		return err
	}
	_, err = notice(tx, row, NoticeReceived)
	return err
}

// DecideOverride approves or refuses sending without the sharing consent
// (handoff.override.approve; tenants.DistinctApprover).
func (s *Service) DecideOverride(ctx context.Context, id uuid.UUID, approve bool) (*Handoff, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermHandoffOverrideApprove)
	if err != nil {
		return nil, err
	}
	var (
		own *handoffRow
		ov  overrideRow
	)
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if own, _, err = visible(tx, p, id, false, false); err != nil {
			return err
		}
		if own.Side != SideSender || own.State != StateAwaitingOverride {
			return homeward.Errorf(homeward.ECONFLICT, "this handoff waits for no override decision (it is %s)", own.State)
		}
		return tx.Where("id = ?", id).Take(&ov).Error
	})
	if err != nil {
		return nil, err
	}
	if err := tenants.DistinctApprover(ov.requester(), p); err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var (
		out  *outgoing
		view *Handoff
	)
	sender := tenants.TenantStep{Tenant: p.TenantID, Fn: func(tx *gorm.DB) error {
		out, view = nil, nil // a run again after a deadlock starts afresh
		row, err := loadHandoff(tx, id, true, true)
		if err != nil {
			return err
		}
		if row.Version != own.Version || row.State != StateAwaitingOverride {
			return errChanged
		}
		if err := tx.Model(&overrideRow{}).Where("id = ? AND decided_at IS NULL", id).
			Updates(map[string]any{"decided_by": p.Actor.MemberID, "decided_at": now, "approved": approve}).Error; err != nil {
			return err
		}
		changes := map[string]any{"decided_at": now}
		if !approve {
			changes["state"] = StateOverrideRefused
			if err := save(tx, row, changes, now); err != nil {
				return err
			}
			row.State = StateOverrideRefused
			if err := audit(tx, ActionOverrideDecide, id, nil); err != nil {
				return err
			}
			view, err = s.view(tx, p, row, false)
			return err
		}
		delete(changes, "decided_at") // decided_at is the receiver's acceptance
		part, err := activePartnership(tx, row.PartnershipID, true)
		if err != nil {
			return err
		}
		groups := unlist(row.Groups)
		if row.CaseID == nil {
			return homeward.Errorf(homeward.ECONFLICT, "the case of this handoff is gone")
		}
		ref, err := cases.RefOf(tx, *row.CaseID)
		if err != nil {
			return err
		}
		health, err := cases.Consented(tx, ref.ID, cases.PurposeHealthSharing)
		if err != nil {
			return err
		}
		if slices.Contains(groups, tenants.FieldGroupMedical) && !health {
			return homeward.Invalid(map[string]string{"fields": "medical: the medical group needs the health_sharing consent, withdrawn since"})
		}
		// The documents chosen by the starter, read for the approver: the
		// starter's choice was checked when it was made.
		ref.Access = map[string]cases.Access{}
		for _, g := range groups {
			ref.Access[g] = cases.AccessRead
		}
		for _, g := range part.Groups {
			ref.Access[g] = cases.AccessRead
		}
		docs, err := s.readDocs(tx, ref, unlistIDs(row.Documents), part.Groups, part.Documents, health)
		if err != nil {
			return err
		}
		values, err := cases.ValuesOf(tx, ref.ID, groups)
		if err != nil {
			return err
		}
		changes["state"], changes["sent_at"] = StateSent, now
		if err := save(tx, row, changes, now); err != nil {
			return err
		}
		row.State, row.SentAt = StateSent, &now
		var entries []stageEntryRow
		if err := tx.Where("handoff_id = ?", id).Order("recorded_at, id").Find(&entries).Error; err != nil {
			return err
		}
		out = &outgoing{row: row, values: pick(values, unlist(row.Fields)), docs: docs, entries: entries}
		if err := audit(tx, ActionOverrideDecide, id, nil); err != nil {
			return err
		}
		if err := audit(tx, ActionSend, id, groups); err != nil {
			return err
		}
		view, err = s.view(tx, p, row, false)
		return err
	}}
	receiving := tenants.TenantStep{Tenant: own.PartnerTenantID, Fn: func(tx *gorm.DB) error {
		if out == nil {
			return nil
		}
		return s.receive(tenants.AsPartner(tx, p.TenantID), p.TenantID, out, now)
	}}
	if err := s.across(ctx, sender, receiving); err != nil {
		return nil, err
	}
	return view, nil
}
