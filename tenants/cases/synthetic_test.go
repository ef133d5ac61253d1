package cases_test

import (
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode"

	"github.com/afesip/homeward/tenants/cases"
)

// TestSyntheticCasesAreValidAndRealistic: every synthetic case passes the
// catalogue's checks, and the caseload has AFESIP's shape.
func TestSyntheticCasesAreValidAndRealistic(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	const n = 2000
	stages := map[cases.Stage]int{}
	purposes := map[cases.Purpose]int{}
	var feminine, laoScript, latin int
	for c := range cases.SyntheticCases(7, n, now) {
		values, err := cases.NormalizeValues(c.Values, now)
		if err != nil {
			t.Fatalf("synthetic values refused: %v\n%v", err, c.Values)
		}
		for _, e := range c.Events {
			for name, v := range map[string]string{"hte_Type": e.Type, "hte_Date": e.Date, "hte_City": e.City, "hte_Country": e.Country} {
				f, _ := cases.Lookup(name)
				if _, reason := f.Normalize(v, now); reason != "" {
					t.Fatalf("event %s = %q: %s", name, v, reason)
				}
			}
		}
		if exploited := c.Events[len(c.Events)-1]; exploited.Type != "Exploitation" || (exploited.Country != "TH" && exploited.Country != "MY") {
			t.Fatalf("exploitation event %+v, want Thailand or Malaysia", exploited)
		}

		birth, _ := time.Parse(time.DateOnly, values["prs_Birthdate"].(string))
		age := 0
		for !birth.AddDate(age+1, 0, 0).After(now) {
			age++
		}
		if age < 12 || age > 24 {
			t.Fatalf("age at intake %d (born %s), want 12 to 24", age, birth.Format(time.DateOnly))
		}
		if !slices.Equal(values["prs_Citizenship"].([]string), []string{"LA"}) || values["prs_PrimaryLanguage"] != "lao" {
			t.Fatalf("citizenship %v, language %v", values["prs_Citizenship"], values["prs_PrimaryLanguage"])
		}
		if values["prs_Gender"] == "Feminine" {
			feminine++
		}
		if first := []rune(values["prs_FirstName"].(string)); unicode.Is(unicode.Lao, first[0]) {
			laoScript++
		} else if unicode.Is(unicode.Latin, first[0]) {
			latin++
		}

		stages[c.Stage]++
		_, reason := values["cas_ReasonForCaseClosure"]
		if (c.Stage == cases.StageClosed) != reason {
			t.Fatalf("stage %s with closure reason %v", c.Stage, values["cas_ReasonForCaseClosure"])
		}
		for _, cs := range c.Consents {
			purposes[cs.Purpose]++
		}
		if slices.ContainsFunc(c.Consents, func(cs cases.NewConsent) bool { return cs.Purpose == cases.PurposeHealthSharing }) &&
			!slices.ContainsFunc(c.Consents, func(cs cases.NewConsent) bool { return cs.Purpose == cases.PurposeSharing }) {
			t.Fatal("health_sharing without sharing")
		}
	}
	for _, s := range cases.Stages {
		if stages[s] == 0 {
			t.Errorf("no synthetic case at stage %s: %v", s, stages)
		}
	}
	if feminine < n*8/10 || feminine == n {
		t.Errorf("%d of %d feminine, want most but not all", feminine, n)
	}
	if laoScript < n/2 || latin < n/5 {
		t.Errorf("names: %d in Lao script, %d in Latin letters, of %d", laoScript, latin, n)
	}
	if purposes[cases.PurposeServices] < n*9/10 || purposes[cases.PurposeStatistics] < n*3/4 ||
		purposes[cases.PurposeSharing] == 0 || purposes[cases.PurposeSharing] > n/2 {
		t.Errorf("consents: %v", purposes)
	}
}

// TestSyntheticCasesAreReproducible: the same seed gives the same cases,
// another seed others.
func TestSyntheticCasesAreReproducible(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	collect := func(seed uint64) []cases.NewCase {
		var out []cases.NewCase
		for c := range cases.SyntheticCases(seed, 50, now) {
			out = append(out, c)
		}
		return out
	}
	a, b, other := collect(1), collect(1), collect(2)
	if len(a) != 50 {
		t.Fatalf("%d cases, want 50", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different cases")
	}
	if reflect.DeepEqual(a, other) {
		t.Fatal("control: another seed gave the same cases")
	}
}
