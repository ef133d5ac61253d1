package care_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

func visit(notes string) care.NewEntry {
	return care.NewEntry{Kind: care.KindVisit, Date: "2025-03-04",
		Fields: map[string]any{"place": care.PlaceMotherChild, "notes": notes}}
}

// Medical entries: the medical officer writes them, the counsellor reads
// them, the social worker and the case manager see neither the list (a
// part of a case they see: forbidden) nor an entry (not_found, as an
// unknown one); another organisation sees no case.
func TestMedicalEntriesFollowTheRoles(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := care.New(s)
			st := newStaff(t, s)
			e, err := svc.AddEntry(st.medical, st.caseID, visit("Checked, treated for malaria"))
			must(t, err)
			if e.Part != tenants.FieldGroupMedical || e.Fields["notes"] != "Checked, treated for malaria" || e.Version != 1 {
				t.Errorf("added %+v", e)
			}
			for who, ctx := range map[string]context.Context{"medical officer": st.medical, "counsellor": st.counsellor} {
				list, err := svc.Entries(ctx, st.caseID, care.SectionMedical)
				must(t, err)
				if len(list.Entries) != 1 || list.Entries[0].ID != e.ID || list.Case.Reference == "" {
					t.Errorf("%s lists %+v", who, list)
				}
				got, err := svc.Entry(ctx, e.ID)
				must(t, err)
				if got.Fields["place"] != care.PlaceMotherChild {
					t.Errorf("%s reads %+v", who, got)
				}
			}
			_, err = svc.AddEntry(st.counsellor, st.caseID, visit("x"))
			wantCode(t, "the counsellor adds a visit", err, homeward.EFORBIDDEN)
			for who, ctx := range map[string]context.Context{"social worker": st.social, "case manager": st.manager} {
				_, err = svc.Entries(ctx, st.caseID, care.SectionMedical)
				wantCode(t, who+" lists medical entries", err, homeward.EFORBIDDEN)
				_, err = svc.Entry(ctx, e.ID)
				wantCode(t, who+" reads a medical entry", err, homeward.ENOTFOUND)
				_, err = svc.UpdateEntry(ctx, e.ID, care.EntryChange{Date: "2025-03-04", Fields: map[string]any{"place": care.PlaceInHouse}})
				wantCode(t, who+" changes a medical entry", err, homeward.ENOTFOUND)
			}
			otherOrg := newOrg(t, s)
			otherManager, _ := member(t, s, otherOrg, "cm-other", tenants.RoleCaseManager)
			_, err = svc.Entries(otherManager, st.caseID, care.SectionMedical)
			wantCode(t, "another organisation lists", err, homeward.ENOTFOUND)
			_, err = svc.Entry(otherManager, e.ID)
			wantCode(t, "another organisation reads", err, homeward.ENOTFOUND)
			_, err = svc.Entry(st.medical, uuid.New())
			wantCode(t, "an unknown entry", err, homeward.ENOTFOUND)

			// A medical officer not assigned to the case sees nothing of it.
			unassigned, _ := member(t, s, st.org, "medical-2", tenants.RoleMedicalOfficer)
			_, err = svc.Entry(unassigned, e.ID)
			wantCode(t, "an unassigned medical officer", err, homeward.ENOTFOUND)

			// The change: the medical officer, at the entry's version.
			ch := care.EntryChange{Date: "2025-03-05", Fields: map[string]any{"place": care.PlaceInHouse}, Version: 1}
			_, err = svc.UpdateEntry(st.counsellor, e.ID, ch)
			wantCode(t, "the counsellor changes", err, homeward.EFORBIDDEN)
			up, err := svc.UpdateEntry(st.medical, e.ID, ch)
			must(t, err)
			if up.Date != "2025-03-05" || up.Fields["place"] != care.PlaceInHouse || up.Fields["notes"] != nil || up.Version != 2 {
				t.Errorf("changed %+v", up)
			}
			_, err = svc.UpdateEntry(st.medical, e.ID, ch)
			wantCode(t, "a change at an old version", err, homeward.ECONFLICT)
		})
	}
}

// Psychological entries are the counsellor's alone: one initial
// assessment, then sessions.
func TestPsychologicalEntriesAreTheCounsellors(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := care.New(s)
			st := newStaff(t, s)
			session := care.NewEntry{Kind: care.KindSession, Date: "2025-03-10",
				Fields: map[string]any{"duration_minutes": 50, "notes": "Sleeps better"}}
			_, err := svc.AddEntry(st.counsellor, st.caseID, session)
			wantCode(t, "a session before the assessment", err, homeward.ECONFLICT)
			assessment := care.NewEntry{Kind: care.KindAssessment, Date: "2025-03-03", Fields: map[string]any{"notes": "First meeting"}}
			_, err = svc.AddEntry(st.counsellor, st.caseID, assessment)
			must(t, err)
			_, err = svc.AddEntry(st.counsellor, st.caseID, assessment)
			wantCode(t, "a second assessment", err, homeward.ECONFLICT)
			sess, err := svc.AddEntry(st.counsellor, st.caseID, session)
			must(t, err)
			if sess.Fields["duration_minutes"] != int64(50) {
				t.Errorf("session %+v", sess.Fields)
			}
			list, err := svc.Entries(st.counsellor, st.caseID, care.SectionPsychological)
			must(t, err)
			if len(list.Entries) != 2 || list.Entries[0].Kind != care.KindSession || list.Entries[1].Kind != care.KindAssessment {
				t.Errorf("the counsellor's list, newest first: %+v", list.Entries)
			}
			for who, ctx := range map[string]context.Context{"medical officer": st.medical, "social worker": st.social,
				"case manager": st.manager, "lawyer": st.lawyer} {
				_, err = svc.Entries(ctx, st.caseID, care.SectionPsychological)
				wantCode(t, who+" lists psychological entries", err, homeward.EFORBIDDEN)
				_, err = svc.Entry(ctx, sess.ID)
				wantCode(t, who+" reads a session", err, homeward.ENOTFOUND)
				_, err = svc.AddEntry(ctx, st.caseID, session)
				wantCode(t, who+" adds a session", err, homeward.EFORBIDDEN)
			}
			_, err = svc.AddEntry(st.outreach, st.caseID, session)
			wantCode(t, "the outreach worker, who sees no case", err, homeward.ENOTFOUND)
		})
	}
}

// An HIV or STI test is refused, and nothing stored, unless the case has a
// standing hiv_sti_testing consent; allowed once it is recorded, refused
// again once withdrawn.
func TestHIVTestNeedsTheTestingConsent(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := care.New(s)
			st := newStaff(t, s)
			test := care.NewEntry{Kind: care.KindHIVTest, Date: "2025-03-04", Fields: map[string]any{"result": "negative"}}
			sti := care.NewEntry{Kind: care.KindSTITest, Date: "2025-03-04", Fields: map[string]any{"infection": "syphilis", "result": "pending"}}
			_, err := svc.AddEntry(st.medical, st.caseID, test)
			wantCode(t, "an HIV test without consent", err, homeward.EFORBIDDEN)
			_, err = svc.AddEntry(st.medical, st.caseID, sti)
			wantCode(t, "an STI test without consent", err, homeward.EFORBIDDEN)
			list, err := svc.Entries(st.medical, st.caseID, care.SectionMedical)
			must(t, err)
			if len(list.Entries) != 0 {
				t.Fatalf("stored after the refusal: %+v", list.Entries)
			}
			_, err = svc.AddEntry(st.medical, st.caseID, visit("a visit needs no testing consent"))
			must(t, err)

			_, err = st.cases.RecordConsent(st.manager, st.caseID, cases.NewConsent{Purpose: cases.PurposeHIVSTITesting,
				GivenBy: cases.GivenByGirl, GivenOn: "2025-03-01", Basis: cases.BasisSignedForm})
			must(t, err)
			_, err = svc.AddEntry(st.medical, st.caseID, test)
			must(t, err)
			_, err = svc.AddEntry(st.medical, st.caseID, sti)
			must(t, err)

			_, err = st.cases.WithdrawConsent(st.manager, st.caseID, cases.PurposeHIVSTITesting, "")
			must(t, err)
			_, err = svc.AddEntry(st.medical, st.caseID, test)
			wantCode(t, "an HIV test after the withdrawal", err, homeward.EFORBIDDEN)
			list, err = svc.Entries(st.medical, st.caseID, care.SectionMedical)
			must(t, err)
			if len(list.Entries) != 3 {
				t.Errorf("%d entries, want the visit and the two tests", len(list.Entries))
			}
		})
	}
}

// The fields of each kind are checked, each fault named.
func TestEntryFieldsAreChecked(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	today := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	svc := care.New(s).WithClock(func() time.Time { return today })
	st := newStaff(t, s)
	add := func(ctx context.Context, kind care.Kind, date string, kv ...any) (*care.Entry, error) {
		f := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i].(string)] = kv[i+1]
		}
		return svc.AddEntry(ctx, st.caseID, care.NewEntry{Kind: kind, Date: date, Fields: f})
	}
	_, err := add(st.medical, "surgery", "2025-03-04")
	wantField(t, "an unknown kind", err, "kind")
	_, err = add(st.medical, care.KindVisit, "2025-03-04")
	wantField(t, "a visit without its place", err, "place")
	_, err = add(st.medical, care.KindVisit, "2025-03-04", "place", "Mahosot")
	wantField(t, "a place off the list", err, "place")
	_, err = add(st.medical, care.KindVisit, "2025-03-04", "place", care.PlaceOther)
	wantField(t, "the other place unnamed", err, "place_other")
	_, err = add(st.medical, care.KindVisit, "2025-03-04", "place", care.PlaceInHouse, "temperature", "38")
	wantField(t, "a field the kind lacks", err, "temperature")
	_, err = add(st.medical, care.KindVisit, "2025-07-01", "place", care.PlaceInHouse)
	wantField(t, "a visit in the future", err, "date")
	_, err = add(st.medical, care.KindVisit, "", "place", care.PlaceInHouse)
	wantField(t, "a visit without a date", err, "date")
	_, err = add(st.medical, care.KindVisit, "2025-03-04", "place", care.PlaceOther, "place_other", "Mahosot hospital")
	must(t, err)
	_, err = add(st.lawyer, care.KindProceeding, "2025-09-15", "step", "hearing", "court", "Vientiane People's Court")
	must(t, err) // a hearing may lie ahead

	_, err = add(st.social, care.KindTraining, "2025-01-06", "trade", "Sewing", "provider", "Vientiane vocational centre",
		"provider_approved", true, "end_on", "2025-03-06")
	wantField(t, "a two-month course", err, "end_on")
	long, err := add(st.social, care.KindTraining, "2025-01-06", "trade", "Sewing", "provider", "Vientiane vocational centre",
		"provider_approved", true, "end_on", "2025-11-06")
	must(t, err)
	usual, err := add(st.social, care.KindTraining, "2025-01-06", "trade", "Hairdressing", "provider", "Lao-Korean college",
		"provider_approved", false, "end_on", "2025-08-06", "internship_place", "Salon", "internship_from", "2025-06-01",
		"internship_to", "2025-05-01")
	wantField(t, "an internship ending before it starts", err, "internship_to")
	usual, err = add(st.social, care.KindTraining, "2025-01-06", "trade", "Hairdressing", "provider", "Lao-Korean college",
		"provider_approved", false, "end_on", "2025-08-06")
	must(t, err)
	if !slices.Equal(long.Warnings, []string{care.WarningUnusualLength}) || len(usual.Warnings) != 0 ||
		usual.Fields["provider_approved"] != false {
		t.Errorf("ten months warns %v, seven months %v (approved %v)", long.Warnings, usual.Warnings, usual.Fields["provider_approved"])
	}
	list, err := svc.Entries(st.social, st.caseID, care.SectionTraining)
	must(t, err)
	if len(list.Entries) != 2 {
		t.Errorf("training: %d entries, want 2", len(list.Entries))
	}
	_, err = svc.Entries(st.social, st.caseID, "cooking")
	wantField(t, "an unknown section", err, "section")
}

// The legal section sums the latest lawsuit wish up: a lawsuit only when
// the girl and her family both want one.
func TestLawsuitWish(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := care.New(s)
	st := newStaff(t, s)
	wish := func(date, girl, family string) {
		t.Helper()
		_, err := svc.AddEntry(st.lawyer, st.caseID, care.NewEntry{Kind: care.KindLawsuitWish, Date: date,
			Fields: map[string]any{"girl_wants": girl, "family_wants": family}})
		must(t, err)
	}
	summary := func() string {
		t.Helper()
		list, err := svc.Entries(st.manager, st.caseID, care.SectionLegal) // the case manager reads legal
		must(t, err)
		return list.LawsuitWanted()
	}
	if got := summary(); got != "" {
		t.Errorf("no wish yet: %q", got)
	}
	wish("2025-01-10", care.WishYes, care.WishUndecided)
	if got := summary(); got != care.WishUndecided {
		t.Errorf("the family undecided: %q", got)
	}
	wish("2025-02-10", care.WishYes, care.WishYes)
	if got := summary(); got != care.WishYes {
		t.Errorf("both want it: %q", got)
	}
	wish("2025-03-10", care.WishNo, care.WishYes)
	if got := summary(); got != care.WishNo {
		t.Errorf("the girl changed her mind: %q", got)
	}
	_, err := svc.AddEntry(st.manager, st.caseID, care.NewEntry{Kind: care.KindLawsuitWish, Date: "2025-03-11",
		Fields: map[string]any{"girl_wants": care.WishYes, "family_wants": care.WishYes}})
	wantCode(t, "the case manager, a reader of legal, records a wish", err, homeward.EFORBIDDEN)
}

// Every service is in the case's audit trail, by kind and part, without a
// value.
func TestEntriesAreAudited(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := care.New(s)
	st := newStaff(t, s)
	e, err := svc.AddEntry(st.medical, st.caseID, visit("Secret words"))
	must(t, err)
	_, err = svc.Entry(st.medical, e.ID)
	must(t, err)
	admin, _ := member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	trail, err := st.cases.CaseAudit(admin, st.caseID, tenants.AuditQuery{})
	must(t, err)
	var actions []string
	for _, r := range trail.Entries {
		actions = append(actions, r.Action)
		if r.Action == "care.visit.create" && !slices.Equal(r.FieldGroups, []string{tenants.FieldGroupMedical}) {
			t.Errorf("care.visit.create names %v", r.FieldGroups)
		}
	}
	if !slices.Contains(actions, "care.visit.create") || !slices.Contains(actions, "care.visit.read") {
		t.Errorf("the case's trail: %v", actions)
	}
}

// Erasing the case leaves nothing of its entries readable.
func TestErasureTakesTheEntries(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := care.New(s)
	st := newStaff(t, s)
	e, err := svc.AddEntry(st.medical, st.caseID, visit("Secret words"))
	must(t, err)
	er, err := st.cases.RequestErasure(st.manager, st.caseID, cases.ErasureCreatedInError, "")
	must(t, err)
	admin, _ := member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	_, err = st.cases.DecideErasure(admin, er.ID, true)
	must(t, err)
	_, err = svc.Entry(st.medical, e.ID)
	wantCode(t, "an entry of an erased case", err, homeward.ENOTFOUND)
}
