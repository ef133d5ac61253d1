package care

import (
	"fmt"
	"slices"
	"time"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Kind is what a service entry records.
type Kind string

// The kinds of entries, by part.
const (
	KindAssessment     Kind = "assessment"      // psychological: the initial assessment, one per case
	KindSession        Kind = "session"         // psychological: a session, after the assessment
	KindVisit          Kind = "visit"           // medical: a visit, in-house or at a hospital
	KindReferral       Kind = "referral"        // medical: a referral to a hospital
	KindHIVTest        Kind = "hiv_test"        // medical: only with the hiv_sti_testing consent
	KindSTITest        Kind = "sti_test"        // medical: only with the hiv_sti_testing consent
	KindLawsuitWish    Kind = "lawsuit_wish"    // legal: whether the girl and her family want a lawsuit
	KindProceeding     Kind = "proceeding"      // legal: a step of the case or a hearing
	KindLawyer         Kind = "lawyer"          // legal: the lawyer acting for her
	KindRightsTraining Kind = "rights_training" // legal: training on her rights
	KindLiteracy       Kind = "literacy"        // support (education): a literacy assessment
	KindEnrolment      Kind = "enrolment"       // support (education): a school enrolment
	KindTraining       Kind = "training"        // support (vocational training): a course and its internship
)

// Field is one field of an entry kind: a field as the case catalogue
// describes and checks it (cases.Field.Normalize), and whether the entry
// needs it.
type Field struct {
	cases.Field
	Required bool
}

// Spec is an entry kind: its section, its part of the case, whether its
// date may lie ahead, and its fields besides the date. Every entry has a
// date: when it happened (a visit, a test), began (a school year, a
// course), or was recorded (a wish).
type Spec struct {
	Kind    Kind
	Section string // the list it belongs to: Sections
	Part    string // the part of the case that decides access
	Ahead   bool   // the date may lie in the future (a hearing, a course)
	Fields  []Field
}

// The sections of a case's services: each a list of entry kinds under one
// part, with its own address in the API.
const (
	SectionPsychological = "psychological"
	SectionMedical       = "medical"
	SectionLegal         = "legal"
	SectionEducation     = "education"
	SectionTraining      = "training"
)

// Sections lists the sections in the order of the survivor's path.
var Sections = []string{SectionPsychological, SectionMedical, SectionLegal, SectionEducation, SectionTraining}

// Referral places of the medical entries. The organisations' own partners
// (AFESIP's: the National Mother and Child Hospital in Vientiane and the
// Savannakhet provincial hospital) are codes, named in every language on
// the pages; "other" takes the place's name in place_other.
const (
	PlaceInHouse     = "in_house"
	PlaceMotherChild = "mother_child_hospital_vientiane"
	PlaceSavannakhet = "savannakhet_provincial_hospital"
	PlaceOther       = "other"
	placeOtherField  = "place_other"
)

// Text limits, in characters: one line, and paragraphs.
const maxText, maxParagraph = 200, 10000

// Answers of a lawsuit wish.
const (
	WishYes       = "yes"
	WishNo        = "no"
	WishUndecided = "undecided"
)

// Course lengths of a vocational training: AFESIP's approved courses last
// 6 to 9 months, theory and internship; an entry outside that is flagged
// (Entry.Warnings), and one outside 3 to 12 months refused as a mistake.
const (
	trainingMinMonths, trainingMaxMonths = 3, 12
	usualMinMonths, usualMaxMonths       = 6, 9
)

// WarningUnusualLength flags a training outside the usual 6 to 9 months.
const WarningUnusualLength = "unusual_length"

func text(name string, max int, required bool) Field {
	kind := cases.KindText
	if max > maxText {
		kind = cases.KindLongText
	}
	return Field{Field: cases.Field{Name: name, Kind: kind, Max: max}, Required: required}
}

func pick(name string, required bool, values ...string) Field {
	return Field{Field: cases.Field{Name: name, Kind: cases.KindPicklist, Values: values}, Required: required}
}

func date(name string, required bool) Field {
	return Field{Field: cases.Field{Name: name, Kind: cases.KindDate}, Required: required}
}

var (
	results = []string{"negative", "positive", "indeterminate", "pending"}
	wishes  = []string{WishYes, WishNo, WishUndecided}
	notes   = text("notes", maxParagraph, false)
)

// Kinds are the entry kinds, in the order the pages offer them.
var Kinds = []Spec{
	{Kind: KindAssessment, Section: SectionPsychological, Part: tenants.FieldGroupPsychological, Fields: []Field{
		text("notes", maxParagraph, true),
	}},
	{Kind: KindSession, Section: SectionPsychological, Part: tenants.FieldGroupPsychological, Fields: []Field{
		{Field: cases.Field{Name: "duration_minutes", Kind: cases.KindNumber, Min: 5, Max: 480}, Required: true},
		notes,
	}},
	{Kind: KindVisit, Section: SectionMedical, Part: tenants.FieldGroupMedical, Fields: []Field{
		pick("place", true, PlaceInHouse, PlaceMotherChild, PlaceSavannakhet, PlaceOther),
		text(placeOtherField, maxText, false),
		text("reason", maxText, false),
		notes,
	}},
	{Kind: KindReferral, Section: SectionMedical, Part: tenants.FieldGroupMedical, Fields: []Field{
		pick("place", true, PlaceMotherChild, PlaceSavannakhet, PlaceOther),
		text(placeOtherField, maxText, false),
		text("reason", maxParagraph, false),
		text("outcome", maxParagraph, false),
	}},
	{Kind: KindHIVTest, Section: SectionMedical, Part: tenants.FieldGroupMedical, Fields: []Field{
		pick("result", true, results...),
		notes,
	}},
	{Kind: KindSTITest, Section: SectionMedical, Part: tenants.FieldGroupMedical, Fields: []Field{
		pick("infection", true, "syphilis", "gonorrhoea", "chlamydia", "hepatitis_b", "hepatitis_c", "trichomoniasis", "hpv", "other"),
		pick("result", true, results...),
		notes,
	}},
	{Kind: KindLawsuitWish, Section: SectionLegal, Part: tenants.FieldGroupLegal, Fields: []Field{
		pick("girl_wants", true, wishes...),
		pick("family_wants", true, wishes...),
		notes,
	}},
	{Kind: KindProceeding, Section: SectionLegal, Part: tenants.FieldGroupLegal, Ahead: true, Fields: []Field{
		pick("step", true, "complaint", "investigation", "prosecution", "hearing", "judgment", "appeal", "compensation", "closed"),
		text("court", maxText, false),
		text("outcome", maxParagraph, false),
	}},
	{Kind: KindLawyer, Section: SectionLegal, Part: tenants.FieldGroupLegal, Fields: []Field{
		text("name", maxText, true),
		pick("affiliation", false, "organisation", "lao_bar_association", "ministry_of_justice", "other"),
		text("contact", maxText, false),
	}},
	{Kind: KindRightsTraining, Section: SectionLegal, Part: tenants.FieldGroupLegal, Fields: []Field{
		{Field: cases.Field{Name: "topics", Kind: cases.KindMulti,
			Values: []string{"victims_rights", "women_rights", "child_rights", "labour_rights", "legal_process", "other"}}, Required: true},
		notes,
	}},
	{Kind: KindLiteracy, Section: SectionEducation, Part: tenants.CaseSupport, Fields: []Field{
		pick("level", true, "cannot_read", "beginner", "basic", "functional"),
		notes,
	}},
	{Kind: KindEnrolment, Section: SectionEducation, Part: tenants.CaseSupport, Ahead: true, Fields: []Field{
		text("school", maxText, true),
		text("grade", 50, false),
		date("until", false),
		notes,
	}},
	{Kind: KindTraining, Section: SectionTraining, Part: tenants.CaseSupport, Ahead: true, Fields: []Field{
		text("trade", maxText, true),
		text("provider", maxText, true),
		{Field: cases.Field{Name: "provider_approved", Kind: cases.KindBool}, Required: true},
		date("end_on", true),
		text("internship_place", maxText, false),
		date("internship_from", false),
		date("internship_to", false),
		pick("outcome", false, "ongoing", "completed", "dropped_out"),
		notes,
	}},
}

// SpecOf returns the spec of kind k.
func SpecOf(k Kind) (Spec, bool) {
	i := slices.IndexFunc(Kinds, func(s Spec) bool { return s.Kind == k })
	if i < 0 {
		return Spec{}, false
	}
	return Kinds[i], true
}

// SectionKinds lists the kinds of a section, in order.
func SectionKinds(section string) []Kind {
	var out []Kind
	for _, s := range Kinds {
		if s.Section == section {
			out = append(out, s.Kind)
		}
	}
	return out
}

// sectionPart is the part of the case a section belongs to ("" for none).
func sectionPart(section string) string {
	for _, s := range Kinds {
		if s.Section == section {
			return s.Part
		}
	}
	return ""
}

// ReservedKeys are the keys of an entry that are not its kind's fields.
var ReservedKeys = []string{"id", "case_id", "kind", "part", "date", "version", "warnings",
	"created_by", "created_at", "updated_by", "updated_at"}

// check reads date and fields for an entry of the kind, sent by a client,
// and returns their stored forms: invalid naming each fault ("date" or the
// field's name) otherwise. now is the day a past-only date is checked
// against.
func (s Spec) check(day string, fields map[string]any, now time.Time) (string, map[string]any, error) {
	fe := homeward.FieldErrors{}
	d, reason := cases.Field{Name: "date", Kind: cases.KindDate, Past: !s.Ahead}.Normalize(day, now)
	switch {
	case reason != "":
		fe.Add("date", reason)
	case d == nil:
		fe.Add("date", "required: the day it happened, as YYYY-MM-DD")
	}
	out := map[string]any{}
	for name, v := range fields {
		i := slices.IndexFunc(s.Fields, func(f Field) bool { return f.Name == name })
		if i < 0 {
			fe.Add(name, fmt.Sprintf("not a field of a %s entry", s.Kind))
			continue
		}
		nv, reason := s.Fields[i].Normalize(v, now)
		if reason != "" {
			fe.Add(name, reason)
			continue
		}
		if nv != nil {
			out[name] = nv
		}
	}
	for _, f := range s.Fields {
		if _, ok := out[f.Name]; f.Required && !ok && fe[f.Name] == "" {
			fe.Add(f.Name, "required")
		}
	}
	if err := fe.Err(); err != nil {
		return "", nil, err
	}
	day = d.(string)
	s.crossCheck(fe, day, out)
	return day, out, fe.Err()
}

// crossCheck reports what is wrong between the fields of an entry whose
// fields are each valid.
func (s Spec) crossCheck(fe homeward.FieldErrors, day string, f map[string]any) {
	if place, ok := f["place"]; ok && place == PlaceOther && f[placeOtherField] == nil {
		fe.Add(placeOtherField, "required when the place is other: its name")
	}
	if until, ok := f["until"].(string); ok && until < day {
		fe.Add("until", "may not come before the date of enrolment")
	}
	if from, ok := f["internship_from"].(string); ok {
		if to, ok := f["internship_to"].(string); ok && to < from {
			fe.Add("internship_to", "may not come before the internship's first day")
		}
	}
	if end, ok := f["end_on"].(string); ok && s.Kind == KindTraining {
		start, _ := time.Parse(time.DateOnly, day)
		last, _ := time.Parse(time.DateOnly, end)
		if last.Before(start.AddDate(0, trainingMinMonths, 0)) || last.After(start.AddDate(0, trainingMaxMonths, 0)) {
			fe.Add("end_on", fmt.Sprintf("a course lasts %d to %d months (usually %d to %d)",
				trainingMinMonths, trainingMaxMonths, usualMinMonths, usualMaxMonths))
		}
	}
}

// warnings are the codes of what is unusual about a valid entry.
func (s Spec) warnings(day string, f map[string]any) []string {
	out := []string{}
	if end, ok := f["end_on"].(string); ok && s.Kind == KindTraining {
		start, _ := time.Parse(time.DateOnly, day)
		last, _ := time.Parse(time.DateOnly, end)
		if last.Before(start.AddDate(0, usualMinMonths, 0)) || last.After(start.AddDate(0, usualMaxMonths, 0)) {
			out = append(out, WarningUnusualLength)
		}
	}
	return out
}

// needsTestingConsent reports whether an entry of kind k records an HIV or
// STI test: only with the case's standing hiv_sti_testing consent.
func needsTestingConsent(k Kind) bool { return k == KindHIVTest || k == KindSTITest }
