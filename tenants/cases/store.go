package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// How a case is stored (migration 00009_cases): the clear columns hold no
// personal data (number, stage, owner, dates); everything else is
// encrypted with the case's data key (DataKeyID = ID). The four searchable
// identity fields have their own blind-indexed columns, so that search is
// an exact match on a keyed digest; every other value travels in one
// encrypted JSON document per field group, so adding a field to the
// catalogue needs no migration.

// caseRow is a row of cases.
type caseRow struct {
	TenantID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID      uuid.UUID `gorm:"type:uuid"`
	Number         int64
	Stage          Stage
	Version        int64
	OwnerMemberID  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastActivityAt time.Time
	ClosedAt       *time.Time
	ErasedAt       *time.Time
	AnonymisedAt   *time.Time

	FirstName         tenants.Secret `homeward:"blindindex"`
	SecondName        tenants.Secret `homeward:"blindindex"`
	FullName          tenants.Secret `homeward:"blindindex"` // first and second name, for "Noy Phommachanh"
	Birthdate         tenants.Secret `homeward:"blindindex"` // YYYY-MM-DD
	CoreData          tenants.Secret // groupDoc of the core, with the trafficking events
	IdentityData      tenants.Secret // groupDoc of the other identity fields
	FamilyData        tenants.Secret
	MedicalData       tenants.Secret
	PsychologicalData tenants.Secret
	LegalData         tenants.Secret
}

func (caseRow) TableName() string { return "cases" }

// assignmentRow is a member assigned to a case besides its owner.
type assignmentRow struct {
	TenantID uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	MemberID uuid.UUID `gorm:"type:uuid;primaryKey"`
}

func (assignmentRow) TableName() string { return "case_assignments" }

// The columns of the searchable identity fields, and their fields.
const (
	colFirstName  = "first_name"
	colSecondName = "second_name"
	colFullName   = "full_name"
	colBirthdate  = "birthdate"
)

// groupColumns maps each field group to the encrypted columns that hold it.
var groupColumns = map[string][]string{
	tenants.FieldGroupCore:          {"core_data"},
	tenants.FieldGroupIdentity:      {colFirstName, colSecondName, colFullName, colBirthdate, "identity_data"},
	tenants.FieldGroupFamily:        {"family_data"},
	tenants.FieldGroupMedical:       {"medical_data"},
	tenants.FieldGroupPsychological: {"psychological_data"},
	tenants.FieldGroupLegal:         {"legal_data"},
}

// ownColumn is the column a searchable field has to itself.
var ownColumn = map[string]string{
	"prs_FirstName":  colFirstName,
	"prs_SecondName": colSecondName,
	"prs_Birthdate":  colBirthdate,
}

// secretColumns lists every encrypted column of a case, with its field on
// caseRow.
func (r *caseRow) secretColumns() map[string]*tenants.Secret {
	return map[string]*tenants.Secret{
		colFirstName: &r.FirstName, colSecondName: &r.SecondName, colFullName: &r.FullName,
		colBirthdate: &r.Birthdate, "core_data": &r.CoreData, "identity_data": &r.IdentityData,
		"family_data": &r.FamilyData, "medical_data": &r.MedicalData,
		"psychological_data": &r.PsychologicalData, "legal_data": &r.LegalData,
	}
}

// groupDoc is the stored JSON of one field group: its values by field
// name, and for the core the trafficking events.
type groupDoc struct {
	Values map[string]json.RawMessage `json:"values"`
	Events []eventDoc                 `json:"events,omitempty"`
}

// eventDoc is a trafficking event as stored, under its HTCDS names.
type eventDoc struct {
	Type        string `json:"hte_Type"`
	Date        string `json:"hte_Date,omitempty"`
	City        string `json:"hte_City,omitempty"`
	Country     string `json:"hte_Country,omitempty"`
	Description string `json:"hte_Description,omitempty"`
}

// record is a case's content in the clear: every field's value in its
// stored form (see Field.Normalize) and the trafficking events.
type record struct {
	values map[string]any
	events []Event
}

// record decrypts nothing itself (the store did, on read): it decodes the
// row's columns. A shredded row has no record.
func (r *caseRow) record() (record, error) {
	rec := record{values: map[string]any{}}
	for col, s := range r.secretColumns() {
		if s.Shredded() {
			return rec, tenants.ErrShredded
		}
		text := s.Text()
		if text == "" {
			continue
		}
		switch col {
		case colFullName:
			// derived from the two names
		case colFirstName, colSecondName, colBirthdate:
			for name, c := range ownColumn {
				if c == col {
					rec.values[name] = text
				}
			}
		default:
			var doc groupDoc
			if err := json.Unmarshal([]byte(text), &doc); err != nil {
				return rec, fmt.Errorf("cases: case %s, %s: %w", r.ID, col, err)
			}
			for name, raw := range doc.Values {
				v, err := decodeValue(name, raw)
				if err != nil {
					return rec, fmt.Errorf("cases: case %s, %s: %w", r.ID, col, err)
				}
				rec.values[name] = v
			}
			for _, e := range doc.Events {
				rec.events = append(rec.events, Event(e))
			}
		}
	}
	return rec, nil
}

// decodeValue turns a stored JSON value back into its stored form.
func decodeValue(name string, raw json.RawMessage) (any, error) {
	f, ok := byName[name]
	if !ok {
		return nil, fmt.Errorf("stored field %q is not in the catalogue", name)
	}
	var err error
	switch f.Kind {
	case KindNumber:
		var n int64
		err = json.Unmarshal(raw, &n)
		return n, err
	case KindBool:
		var b bool
		err = json.Unmarshal(raw, &b)
		return b, err
	case KindMulti:
		var l []string
		err = json.Unmarshal(raw, &l)
		return l, err
	}
	var s string
	err = json.Unmarshal(raw, &s)
	return s, err
}

// columns encodes a record as the plaintext of each encrypted column (""
// for none). The core document is always written, so that a case always
// has its data key and a row to tell it exists.
func (rec record) columns() (map[string]string, error) {
	docs := map[string]*groupDoc{}
	out := map[string]string{}
	for name, v := range rec.values {
		if col, ok := ownColumn[name]; ok {
			out[col] = v.(string)
			continue
		}
		g := byName[name].Group
		if docs[g] == nil {
			docs[g] = &groupDoc{Values: map[string]json.RawMessage{}}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		docs[g].Values[name] = raw
	}
	if docs[tenants.FieldGroupCore] == nil {
		docs[tenants.FieldGroupCore] = &groupDoc{Values: map[string]json.RawMessage{}}
	}
	for _, e := range rec.events {
		docs[tenants.FieldGroupCore].Events = append(docs[tenants.FieldGroupCore].Events, eventDoc(e))
	}
	first, _ := rec.values["prs_FirstName"].(string)
	second, _ := rec.values["prs_SecondName"].(string)
	if first != "" && second != "" {
		out[colFullName] = first + " " + second
	}
	for g, doc := range docs {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out[g+"_data"] = string(b)
	}
	return out, nil
}

// setColumns writes a record's columns into the row, to be encrypted.
func (r *caseRow) setColumns(rec record) error {
	cols, err := rec.columns()
	if err != nil {
		return err
	}
	for col, s := range r.secretColumns() {
		*s = tenants.NewSecret(cols[col])
	}
	return nil
}

// columnGroup is the field group an encrypted column belongs to.
func columnGroup(col string) string {
	for g, cols := range groupColumns {
		if slices.Contains(cols, col) {
			return g
		}
	}
	return ""
}

// live selects the cases that are neither erased nor anonymised.
func live(tx *gorm.DB) *gorm.DB {
	return tx.Where("erased_at IS NULL AND anonymised_at IS NULL")
}

// ownedByMember keeps, of q (on cases), those member owns or is assigned to:
// "own" as isOwn decides it for one case. db is a new session of the
// transaction for the assignments' subquery, which names tenant itself.
func ownedByMember(q, db *gorm.DB, tenant, member uuid.UUID) *gorm.DB {
	return q.Where("owner_member_id = ? OR id IN (?)", member,
		db.Model(&assignmentRow{}).Select("case_id").Where("tenant_id = ? AND member_id = ?", tenant, member))
}

var errNoCase = homeward.Errorf(homeward.ENOTFOUND, "no such case")

// loadCase reads a live case, locked for update when lock is set (the lock
// is PostgreSQL's; SQLite's write transaction holds the database already).
func loadCase(tx *gorm.DB, id uuid.UUID, lock bool) (*caseRow, error) {
	q := live(tx)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row caseRow
	err := q.Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoCase
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// assignedTo lists the members assigned to each of the cases ids.
func assignedTo(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID][]uuid.UUID, error) {
	out := map[uuid.UUID][]uuid.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []assignmentRow
	if err := tx.Where("case_id IN ?", ids).Order("case_id, member_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, a := range rows {
		out[a.CaseID] = append(out[a.CaseID], a.MemberID)
	}
	return out, nil
}

// Reference is the human-friendly form of a case number: C-00042.
func Reference(number int64) string { return fmt.Sprintf("C-%05d", number) }

// parseReference reads a case number as people type it: "C-00042",
// "c-42", "c42" or "42".
func parseReference(q string) (int64, bool) {
	s := q
	if len(s) > 0 && (s[0] == 'c' || s[0] == 'C') {
		s = s[1:]
		if len(s) > 0 && s[0] == '-' {
			s = s[1:]
		}
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// stamp is a time as the database keeps it (PostgreSQL: microseconds), so
// that what a cursor carries compares equal to what is stored.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
