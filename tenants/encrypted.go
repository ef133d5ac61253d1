package tenants

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// Secret is a string field stored encrypted. A feature declares a model
// field as tenants.Secret (a bytea/BLOB column) and the store does the rest
// inside InTenant: it encrypts on create, save and update with the row's
// data key (the model's DataKeyID field when it has one, so that all rows of
// a case share the case's key, else its ID), bound to tenant, table, row and
// field; it decrypts after every query. Tag a field `homeward:"blindindex"`
// to make it findable by exact match (FindByBlindIndex); never do so for a
// low-cardinality field alone (a gender, a village), whose digests would
// give the values away by their frequencies.
//
// Secret prints as [encrypted] and marshals to JSON as {}: its text leaves
// only through Text, so it cannot slip into a log line or a payload.
type Secret struct {
	text     string
	sealed   []byte
	shredded bool
}

// NewSecret is a value to store.
func NewSecret(text string) Secret { return Secret{text: text} }

// Text is the plaintext ("" when empty or shredded).
func (s Secret) Text() string { return s.text }

// Shredded reports whether the value existed but its data key was destroyed.
func (s Secret) Shredded() bool { return s.shredded }

func (s Secret) String() string   { return "[encrypted]" }
func (s Secret) GoString() string { return "tenants.Secret{[encrypted]}" }

var errNotSealed = errors.New("tenants: an encrypted field reached the database unencrypted: write it inside InTenant through a model")

// Value is the ciphertext; an unencrypted value is refused, never written.
func (s Secret) Value() (driver.Value, error) {
	switch {
	case s.sealed != nil:
		return s.sealed, nil
	case s.text == "":
		return nil, nil
	}
	return nil, errNotSealed
}

// Scan keeps the ciphertext; the after-query callback decrypts it.
func (s *Secret) Scan(src any) error {
	*s = Secret{}
	switch v := src.(type) {
	case nil:
	case []byte:
		s.sealed = bytes.Clone(v)
	case string:
		s.sealed = []byte(v)
	default:
		return fmt.Errorf("tenants: cannot scan %T into an encrypted field", src)
	}
	return nil
}

var secretType = reflect.TypeOf(Secret{})

// secretFields are the encrypted fields of a model.
func secretFields(sch *schema.Schema) []*schema.Field {
	var out []*schema.Field
	for _, f := range sch.Fields {
		if f.FieldType == secretType && f.DBName != "" {
			out = append(out, f)
		}
	}
	return out
}

func hasClause(clauses []string, name string) bool {
	for _, c := range clauses {
		if c == name {
			return true
		}
	}
	return false
}

func isBlindIndexed(f *schema.Field) bool { return f.Tag.Get("homeward") == "blindindex" }

// row is one record being written or read: its struct, id and data key.
type row struct {
	v      reflect.Value
	id     uuid.UUID
	keyID  uuid.UUID
	fields map[*schema.Field]Secret
}

// rowsOf lists the structs of rv (a struct or a slice of them).
func rowsOf(rv reflect.Value) []reflect.Value {
	rv = reflect.Indirect(rv)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]reflect.Value, 0, rv.Len())
		for i := 0; i < rv.Len(); i++ {
			if e := reflect.Indirect(rv.Index(i)); e.Kind() == reflect.Struct {
				out = append(out, e)
			}
		}
		return out
	case reflect.Struct:
		return []reflect.Value{rv}
	}
	return nil
}

func uuidOf(db *gorm.DB, sch *schema.Schema, v reflect.Value, name string) uuid.UUID {
	f := sch.LookUpField(name)
	if f == nil {
		return uuid.Nil
	}
	switch x, _ := f.ValueOf(db.Statement.Context, v); id := x.(type) {
	case uuid.UUID:
		return id
	case *uuid.UUID:
		if id != nil {
			return *id
		}
	}
	return uuid.Nil
}

// identify returns a row's id and data key id. A new row without an id gets
// one, and without a data key id uses its own id (stored in its DataKeyID
// field when it has one). An update whose model does not carry the data key
// id reads it from the row, so the value is sealed with the row's own key.
func identify(db *gorm.DB, sch *schema.Schema, v reflect.Value, creating bool) (id, keyID uuid.UUID, err error) {
	ctx := db.Statement.Context
	id, keyID = uuidOf(db, sch, v, "ID"), uuidOf(db, sch, v, "DataKeyID")
	keyField := sch.LookUpField("DataKeyID")
	switch {
	case id == uuid.Nil && creating && v.CanSet():
		id = newID()
		if err := sch.LookUpField("ID").Set(ctx, v, id); err != nil {
			return uuid.Nil, uuid.Nil, err
		}
	case id == uuid.Nil:
		return uuid.Nil, uuid.Nil, fmt.Errorf("tenants: writing encrypted fields of %s needs the row's uuid ID on the model", sch.Table)
	}
	switch {
	case keyID != uuid.Nil:
	case keyField == nil:
		keyID = id
	case creating:
		keyID = id
		if v.CanSet() {
			err = keyField.Set(ctx, v, keyID)
		}
	default:
		err = db.Session(&gorm.Session{NewDB: true}).Table(sch.Table).Where("id = ?", id).
			Select(keyField.DBName).Row().Scan(&keyID)
		if errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("tenants: no %s row %s to update", sch.Table, id)
		}
	}
	return id, keyID, err
}

// encryptBeforeWrite seals every Secret being created or updated and keeps
// the blind index in step, in the statement's transaction.
func encryptBeforeWrite(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st.Schema == nil || isGlobal(st.Schema.Table) {
		return
	}
	fields := secretFields(st.Schema)
	if len(fields) == 0 {
		return
	}
	creating := hasClause(st.BuildClauses, "INSERT")
	model := reflect.Indirect(st.ReflectValue)
	if model.Kind() != reflect.Struct {
		model = reflect.Value{}
	}
	var rows []*row
	add := func(v, idFrom reflect.Value, onlySet bool) bool {
		id, keyID, err := identify(db, st.Schema, idFrom, creating)
		if err != nil {
			_ = db.AddError(err)
			return false
		}
		r := &row{v: v, id: id, keyID: keyID, fields: map[*schema.Field]Secret{}}
		for _, f := range fields {
			x, zero := f.ValueOf(st.Context, v)
			if onlySet && zero { // Updates(struct) writes only the fields set
				continue
			}
			r.fields[f] = x.(Secret)
		}
		rows = append(rows, r)
		return true
	}
	dest := reflect.Indirect(reflect.ValueOf(st.Dest))
	switch {
	case creating || st.Dest == st.Model:
		// Create and Save: the rows themselves are written.
		for _, v := range rowsOf(st.ReflectValue) {
			if !add(v, v, false) {
				return
			}
		}
	case dest.IsValid() && dest.Type() == st.Schema.ModelType && model.IsValid():
		// Model(&row).Updates(Row{...}): the set fields of the value are written.
		if !dest.CanSet() { // passed by value: work on a copy, which GORM then reads
			cp := reflect.New(dest.Type())
			cp.Elem().Set(dest)
			st.Dest, dest = cp.Interface(), cp.Elem()
		}
		if !add(dest, model, true) {
			return
		}
	}
	// Map writes: Update("col", NewSecret(..)), Updates(map[string]any{..}).
	var mapRow *row
	if m, ok := st.Dest.(map[string]any); ok && model.IsValid() {
		for col, val := range m {
			sec, ok := val.(Secret)
			if !ok {
				if p, isPtr := val.(*Secret); isPtr && p != nil {
					sec, ok = *p, true
				}
			}
			f := st.Schema.LookUpField(col)
			if !ok || f == nil || f.FieldType != secretType {
				continue
			}
			if mapRow == nil {
				id, keyID, err := identify(db, st.Schema, model, false)
				if err != nil {
					_ = db.AddError(err)
					return
				}
				mapRow = &row{id: id, keyID: keyID, fields: map[*schema.Field]Secret{}}
			}
			mapRow.fields[f] = sec
		}
	}
	if mapRow != nil {
		rows = append(rows, mapRow)
	}
	if len(rows) == 0 {
		return
	}

	var need []uuid.UUID
	for _, r := range rows {
		for _, s := range r.fields {
			if s.text != "" {
				need = append(need, r.keyID)
				break
			}
		}
	}
	keys := map[uuid.UUID][]byte{}
	if len(need) > 0 {
		var err error
		if keys, err = dataKeys(db, need, true); err != nil {
			_ = db.AddError(err)
			return
		}
	}
	_, tenant, _ := txKeyring(db)
	var indexed []blindIndexWrite
	for _, r := range rows {
		for f, s := range r.fields {
			switch {
			case s.text != "":
				key := keys[r.keyID]
				if key == nil {
					_ = db.AddError(ErrShredded)
					return
				}
				sealed, err := seal(key, []byte(s.text), AAD{Table: st.Schema.Table, Record: r.id, Field: f.DBName}.for_(tenant))
				if err != nil {
					_ = db.AddError(err)
					return
				}
				s.sealed = sealed
			case !s.shredded:
				s.sealed = nil
			}
			if r.v.IsValid() {
				if err := f.Set(st.Context, r.v, s); err != nil {
					_ = db.AddError(err)
					return
				}
			} else {
				st.Dest.(map[string]any)[f.DBName] = s
				delete(st.Dest.(map[string]any), f.Name)
			}
			if isBlindIndexed(f) && !s.shredded {
				indexed = append(indexed, blindIndexWrite{field: f.DBName, record: r.id, keyID: r.keyID, text: s.text})
			}
		}
	}
	if err := putBlindIndex(db, st.Schema.Table, indexed); err != nil {
		_ = db.AddError(err)
	}
}

// decryptAfterQuery opens every Secret loaded by a query.
func decryptAfterQuery(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st.Schema == nil || isGlobal(st.Schema.Table) {
		return
	}
	fields := secretFields(st.Schema)
	if len(fields) == 0 {
		return
	}
	var rows []*row
	var need []uuid.UUID
	for _, v := range rowsOf(st.ReflectValue) {
		r := &row{v: v, id: uuidOf(db, st.Schema, v, "ID"), keyID: uuidOf(db, st.Schema, v, "DataKeyID"), fields: map[*schema.Field]Secret{}}
		if r.keyID == uuid.Nil {
			r.keyID = r.id
		}
		for _, f := range fields {
			x, _ := f.ValueOf(st.Context, v)
			if s := x.(Secret); s.sealed != nil {
				r.fields[f] = s
			}
		}
		if len(r.fields) > 0 {
			rows = append(rows, r)
			need = append(need, r.keyID)
		}
	}
	if len(rows) == 0 {
		return
	}
	keys, err := dataKeys(db, need, false)
	if err != nil {
		_ = db.AddError(err)
		return
	}
	_, tenant, _ := txKeyring(db)
	for _, r := range rows {
		key, ok := keys[r.keyID]
		for f, s := range r.fields {
			switch {
			case !ok:
				_ = db.AddError(fmt.Errorf("%w (%s.%s: no data key)", ErrDecrypt, st.Schema.Table, f.DBName))
				return
			case key == nil:
				s.shredded = true
			default:
				pt, err := open(key, s.sealed, AAD{Table: st.Schema.Table, Record: r.id, Field: f.DBName}.for_(tenant))
				if err != nil {
					_ = db.AddError(fmt.Errorf("%w (%s.%s)", err, st.Schema.Table, f.DBName))
					return
				}
				s.text = string(pt)
			}
			if err := f.Set(st.Context, r.v, s); err != nil {
				_ = db.AddError(err)
				return
			}
		}
	}
}

// blindIndexEntry lets an encrypted field be found by exact match.
type blindIndexEntry struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID uuid.UUID `gorm:"type:uuid"`
	Table     string    `gorm:"column:table_name"`
	RecordID  uuid.UUID `gorm:"type:uuid"`
	Field     string
	Digest    []byte
}

func (blindIndexEntry) TableName() string { return "blind_index" }

// blindIndexWrite is the new value of one blind-indexed field of a row
// ("" drops its entry).
type blindIndexWrite struct {
	field         string
	record, keyID uuid.UUID
	text          string
}

// putBlindIndex brings the entries of a statement's rows of table in step
// with their new values: one upsert for all the values and one delete per
// field for the emptied ones, so that a multi-row insert (a seed batch)
// costs a few statements, not a few per row.
func putBlindIndex(db *gorm.DB, table string, writes []blindIndexWrite) error {
	if len(writes) == 0 {
		return nil
	}
	tx := db.Session(&gorm.Session{NewDB: true})
	key, err := DeriveKey(tx, blindIndexPurpose)
	if err != nil {
		return err
	}
	type slot struct {
		record uuid.UUID
		field  string
	}
	at := map[slot]int{}
	var entries []blindIndexEntry
	emptied := map[string][]uuid.UUID{}
	for _, w := range writes {
		if w.text == "" {
			emptied[w.field] = append(emptied[w.field], w.record)
			continue
		}
		e := blindIndexEntry{ID: newID(), DataKeyID: w.keyID, Table: table, RecordID: w.record, Field: w.field,
			Digest: blindIndexMAC(key, table, w.field, w.text)}
		// One statement may not upsert a row twice: the last value wins.
		if i, ok := at[slot{w.record, w.field}]; ok {
			entries[i] = e
			continue
		}
		at[slot{w.record, w.field}] = len(entries)
		entries = append(entries, e)
	}
	for field, records := range emptied {
		if err := tx.Where("table_name = ? AND field = ? AND record_id IN ?", table, field, records).
			Delete(&blindIndexEntry{}).Error; err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "table_name"}, {Name: "record_id"}, {Name: "field"}},
		DoUpdates: clause.AssignmentColumns([]string{"digest", "data_key_id"}),
	}).CreateInBatches(&entries, blindIndexBatch).Error
}

// blindIndexBatch is how many entries one upsert writes: few round trips,
// and few enough parameters that binding stays cheap.
const blindIndexBatch = 200

// dropBlindIndexAfterDelete removes the entries of deleted rows.
func dropBlindIndexAfterDelete(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st.Schema == nil || isGlobal(st.Schema.Table) {
		return
	}
	indexed := false
	for _, f := range secretFields(st.Schema) {
		indexed = indexed || isBlindIndexed(f)
	}
	if !indexed {
		return
	}
	tx := db.Session(&gorm.Session{NewDB: true})
	var ids []uuid.UUID
	for _, v := range rowsOf(st.ReflectValue) {
		if id := uuidOf(db, st.Schema, v, "ID"); id != uuid.Nil {
			ids = append(ids, id)
		}
	}
	q := tx.Where("table_name = ?", st.Schema.Table)
	if len(ids) > 0 {
		q = q.Where("record_id IN ?", ids)
	} else { // deleted by a condition: drop what no longer has a row
		q = q.Where("record_id NOT IN (?)", tx.Table(st.Schema.Table).Select("id"))
	}
	if err := q.Delete(&blindIndexEntry{}).Error; err != nil {
		_ = db.AddError(err)
	}
}

// FindByBlindIndex returns the ids of the rows of table whose encrypted
// field equals value (after normalising case, spacing and Unicode form).
func FindByBlindIndex(tx *gorm.DB, table, field, value string) ([]uuid.UUID, error) {
	digest, err := blindIndexDigest(tx, table, field, value)
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	err = tx.Model(&blindIndexEntry{}).Where("table_name = ? AND field = ? AND digest = ?", table, field, digest).
		Order("record_id").Pluck("record_id", &ids).Error
	return ids, err
}

// BlindIndexMatches is a subquery selecting the ids of the rows of table
// whose encrypted field equals its value, for any field → value pair of
// lookups; use it as `id IN (?)`. The match stays inside the database, so a
// common name matching thousands of rows costs a semi-join rather than a
// list of ids sent back and forth.
func BlindIndexMatches(tx *gorm.DB, table string, lookups map[string]string) (*gorm.DB, error) {
	tid, ok := txTenantFrom(tx.Statement.Context)
	if !ok {
		return nil, ErrNoTenant
	}
	key, err := DeriveKey(tx, blindIndexPurpose)
	if err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(lookups))
	for f := range lookups {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	q := tx.Session(&gorm.Session{NewDB: true}).Model(&blindIndexEntry{}).Select("record_id").
		// A subquery is built, not run: the tenant callbacks never see it, so
		// it names its tenant itself (row-level security binds it as well).
		Where("tenant_id = ? AND table_name = ?", tid, table)
	match := tx.Session(&gorm.Session{NewDB: true})
	for i, f := range fields {
		cond := []any{"field = ? AND digest = ?", f, blindIndexMAC(key, table, f, lookups[f])}
		if i == 0 {
			match = match.Where(cond[0], cond[1:]...)
		} else {
			match = match.Or(cond[0], cond[1:]...)
		}
	}
	return q.Where(match), nil
}
