// Package htcds is the Human Trafficking Case Data Standard 2.0 (IOM,
// CC BY 4.0; see NOTICE.md) as Homeward reads it: the field names, their
// types and the values of their picklists, from the standard's own sheet
// embedded here unchanged. The case API, its validation and the HTCDS
// export all answer to it, so a field or value is valid exactly when the
// standard's file says so.
package htcds

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed htcds-2.0-field-standards.csv
var sheet string

// Field is one field of the standard.
type Field struct {
	Section     string   // the sheet's heading: Person, Person - Victim Context, Case, ...
	Name        string   // with its prefix: prs_FirstName
	Label       string   // English label
	Type        string   // Text, Long Text, Date, Number, Checkbox, Picklist, Multiselect Picklist, Lookup [...], ...
	Values      []string // the picklist's value names; nil when the standard names a code list instead (ISO ...) or none
	CodeList    string   // the standard's instruction when the values are an external code list ("Use ISO 3166 ...")
	Description string
}

// Picklist reports whether the field takes values from a list (its own or
// an external code list).
func (f Field) Picklist() bool { return strings.Contains(f.Type, "Picklist") }

// Multi reports whether the field takes several values.
func (f Field) Multi() bool { return strings.HasPrefix(f.Type, "Multiselect") }

// Allows reports whether v is one of the field's picklist values. A field
// without its own list (text, or an external code list) allows any v.
func (f Field) Allows(v string) bool {
	if f.Values == nil {
		return true
	}
	return slices.Contains(f.Values, v)
}

// Standard is the standard's fields by name, in the sheet's order.
type Standard struct {
	fields map[string]Field
	order  []string
}

var (
	once     sync.Once
	standard *Standard
	loadErr  error
)

// Load returns the embedded standard (parsed once).
func Load() *Standard {
	once.Do(func() { standard, loadErr = Parse(sheet) })
	if loadErr != nil {
		panic(loadErr) // the embedded file is part of the build: a test covers it
	}
	return standard
}

// Parse reads the standard's sheet. Rows have uneven column counts (section
// headings are one cell), so the reader takes any.
func Parse(text string) (*Standard, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("htcds: %w", err)
	}
	s := &Standard{fields: map[string]Field{}}
	section := ""
	for i, row := range rows {
		if i == 0 {
			continue // the header
		}
		cell := func(n int) string {
			if n < len(row) {
				return strings.TrimSpace(row[n])
			}
			return ""
		}
		name := cell(6)
		if name == "" {
			if cell(0) != "" {
				// A heading may break across lines in the sheet ("Person -\nVictim
				// Context"): the break is layout, the name is its words.
				section = strings.Join(strings.Fields(cell(0)), " ")
			}
			continue
		}
		f := Field{Section: section, Name: name, Label: cell(5), Type: cell(7), Description: cell(11)}
		if f.Picklist() {
			var values []string
			for _, v := range strings.Split(cell(9), "\n") {
				if v = strings.TrimSpace(v); v != "" {
					values = append(values, v)
				}
			}
			if len(values) == 1 && strings.Contains(values[0], " ") {
				f.CodeList = values[0]
			} else if len(values) > 0 {
				f.Values = values
			}
		}
		if _, dup := s.fields[name]; !dup {
			s.order = append(s.order, name)
		}
		s.fields[name] = f
	}
	if len(s.fields) == 0 {
		return nil, fmt.Errorf("htcds: the sheet holds no fields")
	}
	return s, nil
}

// Field returns the field named name (with its prefix).
func (s *Standard) Field(name string) (Field, bool) {
	f, ok := s.fields[name]
	return f, ok
}

// Fields lists every field in the sheet's order.
func (s *Standard) Fields() []Field {
	out := make([]Field, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.fields[n])
	}
	return out
}
