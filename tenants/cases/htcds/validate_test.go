package htcds

import (
	"encoding/json"
	"strings"
	"testing"
)

// validRecord is a record every part of which the sheet defines.
const validRecord = `{
	"Person": {"prs_FirstName": "Noy", "prs_Birthdate": "2009-04-02", "prs_Gender": "Feminine",
		"prs_NumberOfChildren": 0, "prs_Citizenship": ["LA"], "prs_Deceased": false},
	"Person - Victim Context": {"vic_TypeOfExploitation": ["SexualExploitation", "ForcedLabour"],
		"vic_LocationOfRecruitment": "Savannakhet"},
	"Case": {"cas_Status": "Active"},
	"Historic Trafficking Events": [{"hte_Type": "Recruitment", "hte_Date": "2023-01-05"}, {"hte_Type": "Exploitation"}],
	"Consent": {"con_Consent": true}
}`

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateRecordAcceptsTheStandardsKeysAndValues(t *testing.T) {
	if err := Load().ValidateRecord(decode(t, validRecord)); err != nil {
		t.Fatalf("a valid record: %v", err)
	}
}

func TestValidateRecordNamesEachFault(t *testing.T) {
	cases := []struct {
		name, section, patch, want string
	}{
		{"unknown section", "Victim", `{"vic_AgeWhenTrafficked": 14}`, `"Victim" is not a section`},
		{"unknown field", "Person", `{"prs_Nickname": "N"}`, "Person.prs_Nickname: not a field"},
		{"Homeward's own field", "Person", `{"family_home_village": "Ban Na"}`, "Person.family_home_village: not a field"},
		{"field of another section", "Person", `{"cas_Status": "Active"}`, `a field of section "Case"`},
		{"unknown picklist value", "Person", `{"prs_Gender": "Female"}`, "Person.prs_Gender: Female is not a value"},
		{"unknown multiselect value", "Person - Victim Context", `{"vic_TypeOfExploitation": ["Begging2"]}`,
			"vic_TypeOfExploitation: Begging2 is not a value"},
		{"multiselect as one value", "Person - Victim Context", `{"vic_TypeOfExploitation": "ForcedLabour"}`,
			"expected a non-empty array"},
		{"number as text", "Person", `{"prs_NumberOfChildren": "2"}`, "expected a number"},
		{"checkbox as text", "Consent", `{"con_Consent": "yes"}`, "expected true or false"},
		{"date in another form", "Person", `{"prs_Birthdate": "02/04/2009"}`, "expected a date as YYYY-MM-DD"},
		{"event value", "Historic Trafficking Events", `[{"hte_Type": "Sale"}]`, "Historic Trafficking Events[0].hte_Type"},
		{"section not an object", "Case", `"Active"`, "Case: expected an object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			record := decode(t, validRecord)
			var v any
			if err := json.Unmarshal([]byte(c.patch), &v); err != nil {
				t.Fatal(err)
			}
			if obj, ok := v.(map[string]any); ok && record[c.section] != nil {
				for k, x := range obj {
					record[c.section].(map[string]any)[k] = x
				}
			} else {
				record[c.section] = v
			}
			err := Load().ValidateRecord(record)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestSectionHeadingsAreTheirWords(t *testing.T) {
	f, _ := Load().Field("vic_TypeOfExploitation")
	if f.Section != "Person - Victim Context" {
		t.Errorf("section %q, want the heading without its line break", f.Section)
	}
}
