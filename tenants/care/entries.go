package care

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Entry is one service entry as the principal may see it.
type Entry struct {
	ID        uuid.UUID
	CaseID    uuid.UUID
	Kind      Kind
	Part      string         // the part of the case it belongs to
	Date      string         // YYYY-MM-DD
	Fields    map[string]any // the kind's fields with a value, in their stored forms (cases.Field.Normalize)
	Warnings  []string       // what is unusual about it (WarningUnusualLength), never empty for nothing: []
	Version   int64          // increases with every change; send it back to change the entry
	CreatedBy *uuid.UUID     // member
	CreatedAt time.Time
	UpdatedBy *uuid.UUID
	UpdatedAt time.Time
}

// NewEntry is an entry being recorded: its kind, date and fields.
type NewEntry struct {
	Kind   Kind
	Date   string
	Fields map[string]any // as a JSON decoder or a form gives them
}

// EntryChange replaces an entry's date and fields whole. Its kind stays:
// Kind, when set, must be the entry's. Version, when not 0, must equal the
// entry's (else conflict).
type EntryChange struct {
	Kind    Kind
	Date    string
	Fields  map[string]any
	Version int64
}

// CaseEntries is one section of a case's services: the case as the
// principal sees it, and its entries of the section, newest first.
type CaseEntries struct {
	Case    *cases.Ref
	Entries []Entry
}

// LawsuitWanted sums up the legal section's latest lawsuit wish: "yes" when
// the girl and her family both want a lawsuit, "no" when either does not,
// "undecided" otherwise, and "" before any wish is recorded. It stands in
// for a single case field: the wishes are dated entries, so the history of
// a decision that changed is kept.
func (ce *CaseEntries) LawsuitWanted() string {
	for _, e := range ce.Entries { // newest first
		if e.Kind != KindLawsuitWish {
			continue
		}
		girl, family := e.Fields["girl_wants"], e.Fields["family_wants"]
		switch {
		case girl == WishYes && family == WishYes:
			return WishYes
		case girl == WishNo || family == WishNo:
			return WishNo
		}
		return WishUndecided
	}
	return ""
}

// entryRow is a row of care_entries; details is the kind's fields as a
// JSON object, encrypted with the case's key.
type entryRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID     uuid.UUID `gorm:"type:uuid"`
	DataKeyID  uuid.UUID `gorm:"type:uuid"`
	Kind       Kind
	OccurredOn string
	Details    tenants.Secret
	Version    int64
	CreatedBy  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
	UpdatedBy  *uuid.UUID `gorm:"type:uuid"`
	UpdatedAt  time.Time
}

func (entryRow) TableName() string { return "care_entries" }

// entry is the row as the service returns it.
func (r *entryRow) entry() (Entry, error) {
	spec, ok := SpecOf(r.Kind)
	if !ok {
		return Entry{}, fmt.Errorf("care: entry %s of unknown kind %q", r.ID, r.Kind)
	}
	fields, err := decodeDetails(spec, r.Details.Text())
	if err != nil {
		return Entry{}, fmt.Errorf("care: entry %s: %w", r.ID, err)
	}
	return Entry{ID: r.ID, CaseID: r.CaseID, Kind: r.Kind, Part: spec.Part, Date: r.OccurredOn, Fields: fields,
		Warnings: spec.warnings(r.OccurredOn, fields), Version: r.Version, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}, nil
}

// decodeDetails reads a stored details document back into the stored
// forms of the kind's fields (whole numbers as int64, lists as []string).
func decodeDetails(spec Spec, text string) (map[string]any, error) {
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(raw))
	for _, f := range spec.Fields {
		b, ok := raw[f.Name]
		if !ok {
			continue
		}
		var err error
		switch f.Kind {
		case cases.KindNumber:
			var n int64
			err = json.Unmarshal(b, &n)
			out[f.Name] = n
		case cases.KindMulti:
			var items []string
			err = json.Unmarshal(b, &items)
			out[f.Name] = items
		default: // text, a date or a code (string), or a bool
			var v any
			err = json.Unmarshal(b, &v)
			out[f.Name] = v
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Audit actions: "care.KIND.create", "care.KIND.update" and "care.KIND.read"
// (one entry), "care.SECTION.read" (a case's section listed).
func entryAction(k Kind, verb string) string { return "care." + string(k) + "." + verb }

// ErrNoTestingConsent refuses an HIV or STI test on a case without a
// standing hiv_sti_testing consent.
var ErrNoTestingConsent = homeward.Errorf(homeward.EFORBIDDEN,
	"an HIV or STI test is recorded only with the case's standing hiv_sti_testing consent: record the consent first")

var (
	errNoEntry        = homeward.Errorf(homeward.ENOTFOUND, "no such entry")
	errAssessed       = homeward.Errorf(homeward.ECONFLICT, "this case has its initial psychological assessment already: record sessions")
	errNotAssessedYet = homeward.Errorf(homeward.ECONFLICT, "record the initial psychological assessment before the first session")
)

// specOf is the spec of kind k, or invalid naming "kind".
func specOf(k Kind) (Spec, error) {
	spec, ok := SpecOf(k)
	if !ok {
		names := make([]string, len(Kinds))
		for i, s := range Kinds {
			names[i] = string(s.Kind)
		}
		return Spec{}, homeward.Invalid(map[string]string{"kind": "one of " + strings.Join(names, ", ")})
	}
	return spec, nil
}

// AddEntry records an entry on a case (write access to its kind's part).
// An HIV or STI test needs the case's standing hiv_sti_testing consent
// (forbidden otherwise); the psychological path is one initial assessment,
// then sessions (conflict otherwise). Audited care.KIND.create.
func (s *Service) AddEntry(ctx context.Context, caseID uuid.UUID, ne NewEntry) (*Entry, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	spec, err := specOf(ne.Kind)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	day, fields, err := spec.check(ne.Date, ne.Fields, now)
	if err != nil {
		return nil, err
	}
	details, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	var out Entry
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(spec.Part, true); err != nil {
			return err
		}
		if err := mayAdd(tx, caseID, spec.Kind); err != nil {
			return err
		}
		row := entryRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID, Kind: spec.Kind, OccurredOn: day,
			Details: tenants.NewSecret(string(details)), Version: 1, CreatedBy: p.Actor.MemberID, CreatedAt: now,
			UpdatedBy: p.Actor.MemberID, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) { // an assessment recorded at the same moment
				return errAssessed
			}
			return err
		}
		if err := cases.Touch(tx, caseID, now); err != nil {
			return err
		}
		if out, err = row.entry(); err != nil {
			return err
		}
		return audit(tx, entryAction(spec.Kind, "create"), caseID, spec.Part)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// mayAdd applies the rules of a new entry of kind k on a case beyond its
// fields: the testing consent, and the assessment before the sessions.
func mayAdd(tx *gorm.DB, caseID uuid.UUID, k Kind) error {
	switch {
	case needsTestingConsent(k):
		ok, err := cases.Consented(tx, caseID, cases.PurposeHIVSTITesting)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoTestingConsent
		}
	case k == KindAssessment || k == KindSession:
		var n int64
		if err := tx.Model(&entryRow{}).Where("case_id = ? AND kind = ?", caseID, KindAssessment).Count(&n).Error; err != nil {
			return err
		}
		if k == KindAssessment && n > 0 {
			return errAssessed
		}
		if k == KindSession && n == 0 {
			return errNotAssessedYet
		}
	}
	return nil
}

// Entries lists a case's entries of one section (Sections), newest first
// (read access to the section's part: forbidden without it), audited
// care.SECTION.read.
func (s *Service) Entries(ctx context.Context, caseID uuid.UUID, section string) (*CaseEntries, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	part := sectionPart(section)
	if part == "" {
		return nil, homeward.Invalid(map[string]string{"section": "one of " + strings.Join(Sections, ", ")})
	}
	out := &CaseEntries{Entries: []Entry{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		if err := ref.Need(part, false); err != nil {
			return err
		}
		out.Case = ref
		var rows []entryRow
		if err := tx.Where("case_id = ? AND kind IN ?", caseID, SectionKinds(section)).
			Order("occurred_on DESC, id DESC").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			e, err := rows[i].entry()
			if err != nil {
				return err
			}
			out.Entries = append(out.Entries, e)
		}
		return audit(tx, "care."+section+".read", caseID, part)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleEntry loads entry id and opens its case for p: not_found unless p
// may read the entry's part of the case.
func visibleEntry(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock bool) (*entryRow, *cases.Ref, Spec, error) {
	var row entryRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, Spec{}, errNoEntry
		}
		return nil, nil, Spec{}, err
	}
	spec, ok := SpecOf(row.Kind)
	if !ok {
		return nil, nil, Spec{}, fmt.Errorf("care: entry %s of unknown kind %q", row.ID, row.Kind)
	}
	ref, err := cases.Open(tx, p, row.CaseID, lock)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND || err == nil && !ref.CanRead(spec.Part) {
		return nil, nil, Spec{}, errNoEntry
	}
	if err != nil {
		return nil, nil, Spec{}, err
	}
	return &row, ref, spec, nil
}

// Entry returns one entry (read access to its part of its case: not_found
// otherwise, as an unknown one), audited care.KIND.read.
func (s *Service) Entry(ctx context.Context, id uuid.UUID) (*Entry, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out Entry
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, spec, err := visibleEntry(tx, p, id, false)
		if err != nil {
			return err
		}
		if out, err = row.entry(); err != nil {
			return err
		}
		return audit(tx, entryAction(spec.Kind, "read"), row.CaseID, spec.Part)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEntry replaces an entry's date and fields (write access to its
// part: forbidden for a reader, not_found for anyone else), checked as a
// new entry of its kind is, except for the testing consent, which governs
// testing, not the recording of a result later, audited care.KIND.update.
func (s *Service) UpdateEntry(ctx context.Context, id uuid.UUID, ch EntryChange) (*Entry, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out Entry
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, ref, spec, err := visibleEntry(tx, p, id, true)
		if err != nil {
			return err
		}
		if err := ref.Need(spec.Part, true); err != nil {
			return err
		}
		if ch.Kind != "" && ch.Kind != row.Kind {
			return homeward.Invalid(map[string]string{"kind": "an entry keeps its kind: " + string(row.Kind)})
		}
		if ch.Version != 0 && ch.Version != row.Version {
			return errChanged
		}
		day, fields, err := spec.check(ch.Date, ch.Fields, now)
		if err != nil {
			return err
		}
		details, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		res := tx.Model(&entryRow{ID: row.ID, DataKeyID: row.DataKeyID}).Where("version = ?", row.Version).Updates(map[string]any{
			"occurred_on": day, "details": tenants.NewSecret(string(details)), "version": row.Version + 1,
			"updated_by": p.Actor.MemberID, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errChanged
		}
		if err := cases.Touch(tx, row.CaseID, now); err != nil {
			return err
		}
		row.OccurredOn, row.Details, row.Version, row.UpdatedBy, row.UpdatedAt =
			day, tenants.NewSecret(string(details)), row.Version+1, p.Actor.MemberID, now
		if out, err = row.entry(); err != nil {
			return err
		}
		return audit(tx, entryAction(spec.Kind, "update"), row.CaseID, spec.Part)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

var errChanged = homeward.Errorf(homeward.ECONFLICT, "it changed meanwhile: read it again")
