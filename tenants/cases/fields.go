package cases

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases/htcds"
)

// The field catalogue is the allow-list of a case: every field a client may
// send, its field group, its kind and its limits. Where HTCDS 2.0 defines a
// field, the field carries the standard's name (prs_FirstName) and its
// picklist values come from the standard's file (htcds); Homeward's own
// fields have snake_case names starting with their group (family_…), so they
// are never mistaken for the standard's.
//
// The victim context (vic_*), the trafficking events (hte_*) and the
// referral and closure fields (cas_*) belong to the case core: every role
// with case access reads them (they say what happened and what is being
// done, not who she is). They are stored encrypted all the same.

// Kind is what a field holds.
type Kind string

const (
	KindText     Kind = "text"      // one line
	KindLongText Kind = "long_text" // paragraphs
	KindDate     Kind = "date"      // YYYY-MM-DD
	KindNumber   Kind = "number"    // a whole number
	KindBool     Kind = "bool"      // true or false
	KindPicklist Kind = "picklist"  // one of Values (or a code of CodeList)
	KindMulti    Kind = "multi"     // several of Values (or codes of CodeList)
)

// Code lists the standard names instead of listing values.
const (
	CodeLanguage = "iso639"  // ISO 639 language code: lao, tha, eng (two letters accepted)
	CodeCountry  = "iso3166" // ISO 3166-1 alpha-2 country code: LA, TH, MY
)

// Field is one entry of the catalogue.
type Field struct {
	Name     string   // the JSON key: the HTCDS name where the standard defines the field
	Group    string   // tenants.FieldGroup*: core, identity, family, medical, psychological, legal
	Kind     Kind     //
	Max      int      // characters, for text; the largest value, for numbers
	Min      int      // the smallest value, for numbers
	Values   []string // the allowed values of a picklist
	CodeList string   // CodeLanguage or CodeCountry instead of Values
	HTCDS    bool     // defined by HTCDS 2.0 (exported under its name)
	Search   bool     // blind-indexed: found by exact match through ?q=
	Past     bool     // a date that may not lie in the future
}

// Text limits.
const (
	maxLine       = 200
	maxName       = 100
	maxParagraphs = 10000
)

// catalogue is every field, in the order forms show them.
var catalogue = []Field{
	// identity
	{Name: "prs_FirstName", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true, Search: true},
	{Name: "prs_MiddleName", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "prs_SecondName", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true, Search: true},
	{Name: "prs_Birthdate", Group: tenants.FieldGroupIdentity, Kind: KindDate, HTCDS: true, Search: true, Past: true},
	{Name: "prs_Gender", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, HTCDS: true},
	{Name: "prs_MaritalStatus", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, HTCDS: true},
	{Name: "prs_NumberOfChildren", Group: tenants.FieldGroupIdentity, Kind: KindNumber, Min: 0, Max: 30, HTCDS: true},
	{Name: "prs_PrimaryLanguage", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, CodeList: CodeLanguage, HTCDS: true},
	{Name: "prs_SecondaryLanguage", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, CodeList: CodeLanguage, HTCDS: true},
	{Name: "prs_Citizenship", Group: tenants.FieldGroupIdentity, Kind: KindMulti, CodeList: CodeCountry, HTCDS: true},
	{Name: "prs_HighestLevelOfEducation", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, HTCDS: true},
	{Name: "prs_IdentityNumber", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "prs_Email", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: 254, HTCDS: true},
	{Name: "prs_MobilePhone", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: 40, HTCDS: true},
	{Name: "prs_MailingStreet", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxLine, HTCDS: true},
	{Name: "prs_MailingCity", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "prs_MailingState", Group: tenants.FieldGroupIdentity, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "prs_MailingCountry", Group: tenants.FieldGroupIdentity, Kind: KindPicklist, CodeList: CodeCountry, HTCDS: true},

	// core: victim context, referral, closure
	{Name: "vic_TraffickingStatus", Group: tenants.FieldGroupCore, Kind: KindPicklist, HTCDS: true},
	{Name: "vic_TraffickingStatusDecisionMakingOrg", Group: tenants.FieldGroupCore, Kind: KindPicklist, HTCDS: true},
	{Name: "vic_RelationshipToTrafficker", Group: tenants.FieldGroupCore, Kind: KindPicklist, HTCDS: true},
	{Name: "vic_AgeWhenTrafficked", Group: tenants.FieldGroupCore, Kind: KindNumber, Min: 0, Max: 120, HTCDS: true},
	{Name: "vic_MethodOfRecruitment", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "vic_RecruitmentWebsitesAndApps", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "vic_LocationOfRecruitment", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxLine, HTCDS: true},
	{Name: "vic_LocationOfExploitation", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxLine, HTCDS: true},
	{Name: "vic_MethodsOfControl", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "vic_TypeOfExploitation", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "vic_TypeOfSexExploitation", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "vic_Vulnerabilities", Group: tenants.FieldGroupCore, Kind: KindMulti, HTCDS: true},
	{Name: "cas_ReferringOrganisation", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxLine, HTCDS: true},
	{Name: "cas_IncomingReferralDate", Group: tenants.FieldGroupCore, Kind: KindDate, HTCDS: true, Past: true},
	{Name: "cas_ReferredOrganisation", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxLine, HTCDS: true},
	{Name: "cas_OutgoingReferralDate", Group: tenants.FieldGroupCore, Kind: KindDate, HTCDS: true},
	{Name: "cas_ReasonForCaseClosure", Group: tenants.FieldGroupCore, Kind: KindLongText, Max: 2000, HTCDS: true},

	// family
	{Name: "family_home_village", Group: tenants.FieldGroupFamily, Kind: KindText, Max: maxLine},
	{Name: "family_home_district", Group: tenants.FieldGroupFamily, Kind: KindText, Max: maxName},
	{Name: "family_home_province", Group: tenants.FieldGroupFamily, Kind: KindText, Max: maxName},
	{Name: "family_guardian_name", Group: tenants.FieldGroupFamily, Kind: KindText, Max: maxLine},
	{Name: "family_guardian_contact", Group: tenants.FieldGroupFamily, Kind: KindText, Max: maxLine},
	{Name: "family_members", Group: tenants.FieldGroupFamily, Kind: KindLongText, Max: maxParagraphs},
	{Name: "family_tracing_status", Group: tenants.FieldGroupFamily, Kind: KindPicklist,
		Values: []string{"NotStarted", "InProgress", "Found", "NotFound"}},
	{Name: "family_notes", Group: tenants.FieldGroupFamily, Kind: KindLongText, Max: maxParagraphs},

	// medical, psychological: the notes of the case; entries come with the
	// survivor's path.
	{Name: "medical_notes", Group: tenants.FieldGroupMedical, Kind: KindLongText, Max: maxParagraphs},
	{Name: "psychological_notes", Group: tenants.FieldGroupPsychological, Kind: KindLongText, Max: maxParagraphs},

	// legal
	{Name: "per_RoleInProcess", Group: tenants.FieldGroupLegal, Kind: KindMulti, HTCDS: true},
	{Name: "per_RoleDetails", Group: tenants.FieldGroupLegal, Kind: KindLongText, Max: maxParagraphs, HTCDS: true},
	{Name: "legal_notes", Group: tenants.FieldGroupLegal, Kind: KindLongText, Max: maxParagraphs},
}

// The trafficking events' own fields (hte_*), in the case core.
var eventCatalogue = []Field{
	{Name: "hte_Type", Group: tenants.FieldGroupCore, Kind: KindPicklist, HTCDS: true},
	{Name: "hte_Date", Group: tenants.FieldGroupCore, Kind: KindDate, HTCDS: true, Past: true},
	{Name: "hte_City", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "hte_Country", Group: tenants.FieldGroupCore, Kind: KindText, Max: maxName, HTCDS: true},
	{Name: "hte_Description", Group: tenants.FieldGroupCore, Kind: KindLongText, Max: 2000, HTCDS: true},
}

// ServerFields are keys of the case resource that only the server sets: a
// write naming one is refused.
var ServerFields = []string{
	"id", "tenant_id", "tenant", "data_key_id", "number", "reference", "cas_Status", "cas_CaseOwner",
	"created_at", "updated_at", "last_activity_at", "closed_at", "erased_at", "access", "consent",
}

var byName = func() map[string]*Field {
	std := htcds.Load()
	m := map[string]*Field{}
	for _, list := range [][]Field{catalogue, eventCatalogue} {
		for i := range list {
			f := &list[i]
			if f.HTCDS {
				sf, ok := std.Field(f.Name)
				if !ok {
					panic("cases: " + f.Name + " is not an HTCDS 2.0 field")
				}
				if (f.Kind == KindPicklist || f.Kind == KindMulti) && f.CodeList == "" {
					f.Values = sf.Values
				}
			}
			m[f.Name] = f
		}
	}
	return m
}()

// Fields is the catalogue, in the order forms show them.
func Fields() []Field { return slices.Clone(catalogue) }

// EventFields are the fields of one trafficking event.
func EventFields() []Field { return slices.Clone(eventCatalogue) }

// Lookup returns the catalogue's field named name.
func Lookup(name string) (Field, bool) {
	f, ok := byName[name]
	if !ok {
		return Field{}, false
	}
	return *f, true
}

// GroupFields lists the fields of one group, in form order.
func GroupFields(group string) []Field {
	var out []Field
	for _, f := range catalogue {
		if f.Group == group {
			out = append(out, f)
		}
	}
	return out
}

var (
	languageCode = regexp.MustCompile(`^[a-z]{2,3}$`)
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Normalize checks one value sent for f, under key (the name to report),
// and returns it in its stored form: a string (text, date, picklist), a
// []string (multi), an int64 (number), a bool, or nil to clear the field.
// It accepts what a JSON decoder gives (string, float64, json.Number, bool,
// []any, nil) and what a form gives (string, []string). now is the day the
// past-only dates are checked against. The reason is in plain words, for the
// one who typed it.
func (f Field) Normalize(v any, now time.Time) (any, string) {
	if v == nil {
		return nil, ""
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" && f.Kind != KindMulti {
		return nil, ""
	}
	switch f.Kind {
	case KindText, KindLongText:
		s, ok := v.(string)
		if !ok {
			return nil, "expected text"
		}
		if !utf8.ValidString(s) {
			return nil, "not valid UTF-8 text"
		}
		s = strings.TrimSpace(s)
		if f.Kind == KindText && strings.ContainsAny(s, "\r\n") {
			return nil, "one line only"
		}
		if n := utf8.RuneCountInString(s); n > f.Max {
			return nil, fmt.Sprintf("at most %d characters (this has %d)", f.Max, n)
		}
		return s, ""
	case KindDate:
		s, ok := v.(string)
		if !ok {
			return nil, "expected a date as YYYY-MM-DD"
		}
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			return nil, "expected a date as YYYY-MM-DD"
		}
		if d.Year() < 1900 {
			return nil, "a date from 1900 on"
		}
		if f.Past && d.After(tenants.LatestToday(now)) {
			return nil, "may not lie in the future"
		}
		return d.Format(time.DateOnly), ""
	case KindNumber:
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		case json.Number:
			var err error
			if n, err = x.Float64(); err != nil {
				return nil, "expected a whole number"
			}
		case string:
			var err error
			if n, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
				return nil, "expected a whole number"
			}
		default:
			return nil, "expected a whole number"
		}
		if n != math.Trunc(n) {
			return nil, "expected a whole number"
		}
		if n < float64(f.Min) || n > float64(f.Max) {
			return nil, fmt.Sprintf("a whole number from %d to %d", f.Min, f.Max)
		}
		return int64(n), ""
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, "expected true or false"
		}
		return b, ""
	case KindPicklist:
		s, ok := v.(string)
		if !ok {
			return nil, "expected one value of the list"
		}
		s = strings.TrimSpace(s)
		if reason := f.check(s); reason != "" {
			return nil, reason
		}
		return s, ""
	case KindMulti:
		var items []string
		switch x := v.(type) {
		case []string:
			items = x
		case []any:
			for _, it := range x {
				s, ok := it.(string)
				if !ok {
					return nil, "expected a list of values"
				}
				items = append(items, s)
			}
		default:
			return nil, "expected a list of values"
		}
		out := []string{}
		for _, s := range items {
			s = strings.TrimSpace(s)
			if s == "" || slices.Contains(out, s) {
				continue
			}
			if reason := f.check(s); reason != "" {
				return nil, reason
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, ""
		}
		if len(out) > 30 {
			return nil, "at most 30 values"
		}
		return out, ""
	}
	return nil, "not a field a client sets"
}

// check reports why s is not one of the field's values.
func (f Field) check(s string) string {
	switch f.CodeList {
	case CodeLanguage:
		if !languageCode.MatchString(s) {
			return fmt.Sprintf("%q is not an ISO 639 language code (such as lao, tha, eng)", clip(s))
		}
		return ""
	case CodeCountry:
		if !countryCode.MatchString(s) {
			return fmt.Sprintf("%q is not an ISO 3166 two-letter country code (such as LA, TH, MY)", clip(s))
		}
		return ""
	}
	if !slices.Contains(f.Values, s) {
		return fmt.Sprintf("%q is not one of %s", clip(s), strings.Join(f.Values, ", "))
	}
	return ""
}

// clip keeps an echoed value short (it is the sender's own input).
func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// NormalizeValues checks a whole set of values sent by a client: every key
// must be a catalogue field (a server-set key or an unknown name is reported
// as such) and every value valid. It returns the stored forms; errors name
// each field.
func NormalizeValues(values map[string]any, now time.Time) (map[string]any, error) {
	out := make(map[string]any, len(values))
	fe := homeward.FieldErrors{}
	for k, v := range values {
		if slices.Contains(ServerFields, k) {
			fe.Add(k, "set by the server: a client may not write it")
			continue
		}
		f, ok := byName[k]
		if !ok || f.Group == "" || slices.ContainsFunc(eventCatalogue, func(e Field) bool { return e.Name == k }) {
			fe.Add(k, "not a field of a case")
			continue
		}
		nv, reason := f.Normalize(v, now)
		if reason != "" {
			fe.Add(k, reason)
			continue
		}
		out[k] = nv
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
