package htcds

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ValidateRecord checks one case's record, as JSON decodes it, against the
// standard's file. A record is keyed by the sheet's section headings
// ("Person", "Person - Victim Context", "Case", "Historic Trafficking
// Events", "Consent", ...), each an object of that section's fields (name →
// value), or an array of such objects for a section that repeats (one per
// trafficking event). A value takes the JSON form of its field's type: text,
// lookups and dates (YYYY-MM-DD) as strings, numbers as numbers, checkboxes
// as booleans, a picklist as one of its value names, a multiselect picklist
// as a non-empty array of them. The error names every fault, by section and
// field; nil means every key and value is the standard's.
func (s *Standard) ValidateRecord(record map[string]any) error {
	sections := map[string]bool{}
	for _, f := range s.fields {
		sections[f.Section] = true
	}
	var faults []string
	for _, section := range slices.Sorted(maps.Keys(record)) {
		if !sections[section] {
			faults = append(faults, fmt.Sprintf("%q is not a section of the standard", section))
			continue
		}
		var entries []any
		repeated := false
		switch v := record[section].(type) {
		case map[string]any:
			entries = []any{v}
		case []any:
			entries, repeated = v, true
		default:
			faults = append(faults, fmt.Sprintf("%s: expected an object or an array of objects", section))
			continue
		}
		for i, e := range entries {
			where := section
			if repeated {
				where = fmt.Sprintf("%s[%d]", section, i)
			}
			obj, ok := e.(map[string]any)
			if !ok {
				faults = append(faults, where+": expected an object")
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(obj)) {
				f, ok := s.fields[name]
				switch {
				case !ok:
					faults = append(faults, fmt.Sprintf("%s.%s: not a field of the standard", where, name))
				case f.Section != section:
					faults = append(faults, fmt.Sprintf("%s.%s: a field of section %q", where, name, f.Section))
				default:
					if reason := f.check(obj[name]); reason != "" {
						faults = append(faults, fmt.Sprintf("%s.%s: %s", where, name, reason))
					}
				}
			}
		}
	}
	if len(faults) > 0 {
		return errors.New("htcds: " + strings.Join(faults, "; "))
	}
	return nil
}

// check reports why v is not a value of the field, "" when it is.
func (f Field) check(v any) string {
	switch {
	case f.Type == "Checkbox":
		if _, ok := v.(bool); !ok {
			return "expected true or false"
		}
	case f.Type == "Number" || f.Type == "Geolocation":
		switch v.(type) {
		case float64, json.Number:
		default:
			return "expected a number"
		}
	case f.Type == "Date":
		d, ok := v.(string)
		if _, err := time.Parse(time.DateOnly, d); !ok || err != nil {
			return "expected a date as YYYY-MM-DD"
		}
	case f.Multi():
		items, ok := v.([]any)
		if !ok || len(items) == 0 {
			return "expected a non-empty array of value names"
		}
		var seen []string
		for _, it := range items {
			s, ok := it.(string)
			if !ok || !f.Allows(s) || slices.Contains(seen, s) {
				return fmt.Sprintf("%v is not a value of the list, or repeated", it)
			}
			seen = append(seen, s)
		}
	case f.Type == "Picklist":
		s, ok := v.(string)
		if !ok || s == "" || !f.Allows(s) {
			return fmt.Sprintf("%v is not a value of the list", v)
		}
	case f.Type == "Text" || f.Type == "Long Text" || f.Type == "Picklist or Text" ||
		strings.HasPrefix(f.Type, "Lookup"):
		if s, ok := v.(string); !ok || s == "" {
			return "expected text"
		}
	default:
		return fmt.Sprintf("the standard gives no usable type (%q)", f.Type)
	}
	return ""
}
