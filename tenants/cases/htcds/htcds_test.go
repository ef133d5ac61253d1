package htcds

import (
	"slices"
	"testing"
)

func TestTheEmbeddedStandardHasTheFieldsCasesUse(t *testing.T) {
	s := Load()
	g, ok := s.Field("prs_Gender")
	if !ok || g.Multi() || !g.Picklist() {
		t.Fatalf("prs_Gender = %+v, %v; want a single picklist", g, ok)
	}
	if !g.Allows("Feminine") || g.Allows("Female") {
		t.Errorf("prs_Gender allows Feminine %v (want true), Female %v (want false)", g.Allows("Feminine"), g.Allows("Female"))
	}
	e, _ := s.Field("vic_TypeOfExploitation")
	if !e.Multi() || !slices.Contains(e.Values, "SexualExploitation") {
		t.Errorf("vic_TypeOfExploitation = %+v; want a multiselect with SexualExploitation", e)
	}
	c, _ := s.Field("prs_Citizenship")
	if c.Values != nil || c.CodeList == "" || !c.Allows("LA") {
		t.Errorf("prs_Citizenship = %+v; want the ISO 3166 code list, no own values", c)
	}
	sp, _ := s.Field("spl_Type")
	if slices.Contains(sp.Values, "") || !slices.Contains(sp.Values, "SocialCare") {
		t.Errorf("spl_Type values %q: want SocialCare and no empty value", sp.Values)
	}
	st, _ := s.Field("cas_Status")
	if want := []string{"Active", "FollowUp", "Closed", "ClosedReferred"}; !slices.Equal(st.Values, want) {
		t.Errorf("cas_Status values %q, want %q", st.Values, want)
	}
	if _, ok := s.Field("prs_Nickname"); ok {
		t.Error("prs_Nickname is not in the standard, but Field found it")
	}
}

func TestParseRefusesAnEmptySheet(t *testing.T) {
	if _, err := Parse("Section,Status\n"); err == nil {
		t.Fatal("Parse of a sheet without fields succeeded")
	}
	if _, err := Parse("h\nPerson\n,DRAFT,Core,prs_,FirstName,First Name,prs_FirstName,Text\n"); err != nil {
		t.Fatalf("Parse of a one-field sheet: %v", err)
	}
}
