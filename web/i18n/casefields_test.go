package i18n_test

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/cases/htcds"
	"github.com/afesip/homeward/web/i18n"
)

// caseCatalogueIDs are the message ids the case pages show for the case
// catalogue: its parts, fields, picklist values (a code list such as ISO 3166
// is shown as its codes), stages, statuses, consent purposes with their
// hints, givers and bases of consent, and erasure reasons.
func caseCatalogueIDs() []string {
	var ids []string
	for _, part := range tenants.CaseParts {
		ids = append(ids, "case.group."+part)
	}
	for _, f := range slices.Concat(cases.Fields(), cases.EventFields()) {
		ids = append(ids, "case.field."+f.Name)
		for _, v := range f.Values {
			ids = append(ids, "case.value."+f.Name+"."+v)
		}
	}
	for _, s := range cases.Stages {
		ids = append(ids, "case.stage."+string(s))
	}
	status, _ := htcds.Load().Field("cas_Status")
	for _, s := range status.Values {
		ids = append(ids, "case.status."+s)
	}
	for _, p := range cases.Purposes {
		ids = append(ids, "case.purpose."+string(p), "case.purpose."+string(p)+".hint")
	}
	for _, g := range []string{cases.GivenByGirl, cases.GivenByFamily, cases.GivenByGuardian} {
		ids = append(ids, "case.given_by."+g)
	}
	for _, b := range []string{cases.BasisSignedForm, cases.BasisRecordedVerbal} {
		ids = append(ids, "case.basis."+b)
	}
	for _, r := range cases.ErasureReasons {
		ids = append(ids, "case.erasure.reason."+r)
	}
	return ids
}

// missingCaseLabels lists the ids of caseCatalogueIDs that c lacks.
func missingCaseLabels(c *i18n.Catalogue) []string {
	var missing []string
	for _, id := range caseCatalogueIDs() {
		if !c.Has(id) {
			missing = append(missing, id)
		}
	}
	return missing
}

// TestCaseCatalogueIsTranslated: every entry of the case catalogue has its
// label (Load has already checked that each label exists in every
// language), so a field or value added to tenants/cases without one fails
// here instead of showing its raw name on a page; and the check finds a
// label taken out of the messages.
func TestCaseCatalogueIsTranslated(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	ids := caseCatalogueIDs()
	for _, want := range []string{"case.group.consent", "case.field.hte_Type", "case.value.prs_Gender.Feminine",
		"case.value.vic_TypeOfExploitation.Other", "case.status.FollowUp", "case.purpose.hiv_sti_testing.hint",
		"case.erasure.reason.other"} {
		if !slices.Contains(ids, want) {
			t.Fatalf("the catalogue's ids lack %s: the list is not the whole catalogue", want)
		}
	}
	for _, id := range missingCaseLabels(c) {
		t.Errorf("%s has no message: add it to messages/casefields.*.toml", id)
	}
	if got := c.Locale("en").T("case.value.vic_TypeOfExploitation.Other"); got != "Other" {
		t.Errorf("en case.value.vic_TypeOfExploitation.Other = %q, want Other (a value named like a plural form)", got)
	}
	if got := c.Locale("lo").T("case.purpose.sharing"); strings.Contains(got, "⟦") {
		t.Errorf("lo case.purpose.sharing = %q beside its hint", got)
	}

	// Control: the same messages with one field's label taken out of every
	// language load, and the check names that field.
	dir := os.DirFS("messages")
	names, err := fs.Glob(dir, "*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("the messages folder: %v, %d files", err, len(names))
	}
	gender := regexp.MustCompile(`(?m)^prs_Gender = .*\n`)
	without := fstest.MapFS{}
	for _, name := range names {
		b, err := fs.ReadFile(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "casefields.") {
			b = gender.ReplaceAll(b, nil)
		}
		without[name] = &fstest.MapFile{Data: b}
	}
	lessened, err := i18n.LoadFS(without)
	if err != nil {
		t.Fatalf("the messages without prs_Gender's label: %v", err)
	}
	if got := missingCaseLabels(lessened); !slices.Equal(got, []string{"case.field.prs_Gender"}) {
		t.Errorf("without prs_Gender's label the check found %q, want only case.field.prs_Gender", got)
	}
}
