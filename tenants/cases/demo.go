package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// DemoStaff signs in the demo organisation's member holding role, as that
// person would sign in (demo mode: web/demoidp's accounts), and returns
// the principal. SeedDemo calls it only when it has cases to add, so that
// a restart records no sign-in that nobody made.
type DemoStaff func(ctx context.Context, role tenants.Role) (*tenants.Principal, error)

// demoCase is one readable demo case: who she is, what happened, who
// follows her and how far she has come. The people are invented.
type demoCase struct {
	first, second string
	age           int // at intake
	gender        string
	home          int // index in syntheticHomes
	dest          int // index in syntheticDestinations
	exploitation  string
	stage         Stage
	assigned      []tenants.Role // besides the case manager, who owns it
	consents      []Purpose
	medical       string
	psychological string
	legal         string // legal_notes
	closure       string
	kit           bool // the demo's starter kit is hers (tenants/kits: SeedDemo)
}

// demoCases are the dozen cases of afesip-laos in demo mode: every stage,
// and each demo persona (social worker, counsellor, medical officer,
// lawyer) assigned to some, so that each sees cases and the groups of her
// role. Names mix Lao script and Latin letters as real files do.
var demoCases = []demoCase{
	{first: "ນ້ອຍ", second: "ພົມມະຈັນ", age: 15, home: 0, dest: 0, exploitation: "SexualExploitation", stage: StageShelter,
		assigned: []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeFamilyTracing, PurposeHIVSTITesting},
		medical:  syntheticMedicalNotes[0], psychological: syntheticPsychologicalNotes[0], kit: true},
	{first: "Chanthala", second: "Sisouvanh", age: 16, home: 2, dest: 2, exploitation: "SexualExploitation", stage: StageIntake,
		assigned: []tenants.Role{tenants.RoleSocialWorker},
		consents: []Purpose{PurposeServices}},
	{first: "ມະນີວັນ", second: "ວົງສະຫວັນ", age: 14, home: 1, dest: 8, exploitation: "SexualExploitation", stage: StageShelter,
		assigned: []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleLawyer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeFamilyTracing, PurposeHIVSTITesting},
		medical:  syntheticMedicalNotes[1], psychological: syntheticPsychologicalNotes[1],
		legal: syntheticLegalNotes[1]},
	{first: "Souda", second: "Inthavong", age: 17, home: 5, dest: 3, exploitation: "SexualExploitation", stage: StageReintegrated,
		assigned:      []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor},
		consents:      []Purpose{PurposeServices, PurposeStatistics, PurposeFamilyTracing},
		psychological: syntheticPsychologicalNotes[2]},
	{first: "ແສງເດືອນ", second: "ຈັນທະວົງ", age: 13, home: 8, dest: 5, exploitation: "SexualExploitation", stage: StageShelter,
		assigned: []tenants.Role{tenants.RoleCounsellor, tenants.RoleMedicalOfficer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeHIVSTITesting},
		medical:  syntheticMedicalNotes[2], psychological: syntheticPsychologicalNotes[0]},
	{first: "Viengkham", second: "Keomany", age: 18, home: 9, dest: 1, exploitation: "SexualExploitation", stage: StageClosed,
		assigned: []tenants.Role{tenants.RoleSocialWorker},
		consents: []Purpose{PurposeServices, PurposeStatistics},
		closure:  syntheticClosures[0]},
	{first: "ພອນສະຫວັນ", second: "ສີຫາລາດ", age: 16, home: 3, dest: 9, exploitation: "ForcedLabour", stage: StageShelter,
		assigned: []tenants.Role{tenants.RoleSocialWorker, tenants.RoleLawyer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeFamilyTracing},
		legal:    syntheticLegalNotes[0]},
	{first: "Ladda", second: "Xayavong", age: 19, home: 6, dest: 6, exploitation: "Servitude", stage: StageReferred,
		consents: []Purpose{PurposeServices, PurposeSharing}},
	{first: "ວິໄລ", second: "ພິລາວົງ", age: 15, home: 4, dest: 4, exploitation: "SexualExploitation", stage: StageIntake,
		assigned: []tenants.Role{tenants.RoleSocialWorker, tenants.RoleMedicalOfficer},
		consents: []Purpose{PurposeServices, PurposeHIVSTITesting},
		medical:  syntheticMedicalNotes[0]},
	{first: "Bounmy", second: "Souliyavong", age: 14, gender: "Masculine", home: 10, dest: 10, exploitation: "ForcedLabour", stage: StageShelter,
		assigned:      []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor},
		consents:      []Purpose{PurposeServices, PurposeStatistics},
		psychological: syntheticPsychologicalNotes[1]},
	{first: "ທິບພະວັນ", second: "ແສງສະຫວັນ", age: 20, home: 11, dest: 7, exploitation: "ForcedMarriage", stage: StageReintegrated,
		assigned: []tenants.Role{tenants.RoleSocialWorker, tenants.RoleLawyer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeSharing},
		legal:    syntheticLegalNotes[0]},
	{first: "Maly", second: "Douangmala", age: 17, home: 7, dest: 0, exploitation: "SexualExploitation", stage: StageShelter,
		assigned: []tenants.Role{tenants.RoleCounsellor, tenants.RoleMedicalOfficer, tenants.RoleLawyer},
		consents: []Purpose{PurposeServices, PurposeStatistics, PurposeHIVSTITesting, PurposeFamilyTracing},
		medical:  syntheticMedicalNotes[1], psychological: syntheticPsychologicalNotes[2],
		legal: syntheticLegalNotes[1]},
}

// demoRoles are the demo personas who work on the demo cases.
var demoRoles = []tenants.Role{tenants.RoleCaseManager, tenants.RoleSocialWorker, tenants.RoleCounsellor,
	tenants.RoleMedicalOfficer, tenants.RoleLawyer}

// DemoSeeded is what SeedDemo added, for the features beyond the case
// file, which import this package (so it cannot call them), to carry some
// demo cases further along the survivor's path as the same staff
// (tenants/followup.SeedDemo, tenants/kits.SeedDemo). Nil when nothing was
// added: they add nothing either, so a second seed adds nothing twice.
type DemoSeeded struct {
	TenantID uuid.UUID
	Cases    int // how many cases were added
	// As is ctx signed in as the demo member holding the role (one of
	// the case manager, social worker, counsellor, medical officer and
	// lawyer), as the services take it.
	As func(tenants.Role) context.Context
	// Kit is the case, at the shelter stage, whose starter kit the demo
	// requests.
	Kit uuid.UUID
	// Reintegrate are the cases the demo reintegrates, in order, left at
	// the shelter stage with a standing services consent and the social
	// worker assigned.
	Reintegrate []DemoReintegration
}

// DemoReintegration is a demo case to reintegrate: where she goes home to.
type DemoReintegration struct {
	CaseID uuid.UUID
	Place  string // her home village, district and province
}

// SeedDemo adds the demo cases to organisation tenantID when it has no case
// at all, and returns what it added (nil when nothing): running it again
// adds nothing. The cases go through the production path, each step by
// the role that may take it: the case manager records the intake and
// consent, assigns the staff and moves the stage; the medical officer, the
// counsellor and the lawyer write their own groups. The cases to be
// reintegrated stay at the shelter stage: reintegration is the follow-up's
// (DemoSeeded.Reintegrate).
func (s *Service) SeedDemo(ctx context.Context, tenantID uuid.UUID, staff DemoStaff) (*DemoSeeded, error) {
	var existing int64
	err := s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		return tx.Model(&caseRow{}).Limit(1).Count(&existing).Error
	})
	if err != nil || existing > 0 {
		return nil, err
	}
	people := map[tenants.Role]*tenants.Principal{}
	for _, r := range demoRoles {
		p, err := staff(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("sign in the demo %s: %w", r, err)
		}
		if p.TenantID != tenantID || p.Actor.MemberID == nil {
			return nil, fmt.Errorf("the demo %s is not a member of the organisation", r)
		}
		people[r] = p
	}
	as := func(r tenants.Role) context.Context { return tenants.WithPrincipal(ctx, people[r]) }
	out := &DemoSeeded{TenantID: tenantID, As: as}
	today := day(s.now())
	for i, d := range demoCases {
		id, err := s.seedDemoCase(as, today, d)
		if err != nil {
			return out, fmt.Errorf("demo case %d: %w", i+1, err)
		}
		out.Cases++
		if d.kit {
			out.Kit = id
		}
		if d.stage == StageReintegrated {
			home := syntheticHomes[d.home]
			out.Reintegrate = append(out.Reintegrate, DemoReintegration{CaseID: id,
				Place: home.village + ", " + home.district + ", " + home.province})
		}
	}
	return out, nil
}

// seedDemoCase takes one demo case through its path and returns its id.
func (s *Service) seedDemoCase(as func(tenants.Role) context.Context, today time.Time, d demoCase) (uuid.UUID, error) {
	home, dest := syntheticHomes[d.home], syntheticDestinations[d.dest]
	gender := d.gender
	if gender == "" {
		gender = "Feminine"
	}
	referred := 30 + 41*d.age // a different, plausible date for each
	values := map[string]any{
		"prs_FirstName":                          d.first,
		"prs_SecondName":                         d.second,
		"prs_Birthdate":                          today.AddDate(-d.age, -d.home, -d.dest).Format(time.DateOnly), // a birthday of her own
		"prs_Gender":                             gender,
		"prs_PrimaryLanguage":                    "lao",
		"prs_Citizenship":                        []string{"LA"},
		"vic_TraffickingStatus":                  "ActualVictimOfTrafficking",
		"vic_TraffickingStatusDecisionMakingOrg": "Police",
		"vic_RelationshipToTrafficker":           "Acquainted",
		"vic_AgeWhenTrafficked":                  d.age - 1,
		"vic_LocationOfRecruitment":              home.village + ", " + home.district + ", " + home.province,
		"vic_LocationOfExploitation":             dest.city + ", " + dest.country,
		"vic_TypeOfExploitation":                 []string{d.exploitation},
		"cas_ReferringOrganisation":              syntheticReferrers[d.dest%len(syntheticReferrers)],
		"cas_IncomingReferralDate":               daysBefore(today, referred),
		"family_home_village":                    home.village,
		"family_home_district":                   home.district,
		"family_home_province":                   home.province,
		"family_tracing_status":                  "Found",
	}
	if d.exploitation == "SexualExploitation" {
		values["vic_TypeOfSexExploitation"] = []string{"Prostitution"}
	}
	manager := as(tenants.RoleCaseManager)
	c, err := s.Create(manager, NewCase{Values: values, Events: []Event{
		{Type: "Recruitment", Date: daysBefore(today, referred+200), City: home.district, Country: "LA"},
		{Type: "Exploitation", Date: daysBefore(today, referred+190), City: dest.city, Country: dest.country},
	}})
	if err != nil {
		return uuid.Nil, err
	}
	for _, p := range d.consents {
		given := GivenByGirl
		if d.age < 18 && p == PurposeServices {
			given = GivenByFamily // a child's admission: her family accepts too
		}
		if _, err := s.RecordConsent(manager, c.ID, NewConsent{Purpose: p, GivenBy: given,
			GivenOn: daysBefore(today, referred-3), Basis: BasisSignedForm}); err != nil {
			return uuid.Nil, err
		}
	}
	var assigned []uuid.UUID
	for _, r := range d.assigned {
		assigned = append(assigned, *tenants.PrincipalFrom(as(r)).Actor.MemberID)
	}
	owner := tenants.PrincipalFrom(manager).Actor.MemberID
	if _, err := s.Assign(manager, c.ID, owner, assigned); err != nil {
		return uuid.Nil, err
	}
	// Each specialist writes her own group, on the cases she is assigned.
	notes := []struct {
		role   tenants.Role
		has    bool
		values map[string]any
	}{
		{tenants.RoleMedicalOfficer, d.medical != "", map[string]any{"medical_notes": d.medical}},
		{tenants.RoleCounsellor, d.psychological != "", map[string]any{"psychological_notes": d.psychological}},
		{tenants.RoleLawyer, d.legal != "", map[string]any{"legal_notes": d.legal,
			"per_RoleInProcess": []string{"RecruiterOrIntermediary", "Exploiter"}}},
	}
	for _, n := range notes {
		if !n.has {
			continue
		}
		if _, err := s.Update(as(n.role), c.ID, Patch{Values: n.values}); err != nil {
			return uuid.Nil, fmt.Errorf("%s notes: %w", n.role, err)
		}
	}
	// The demo walks each case along its path directly: admission,
	// reintegration and the end of follow-up are the features' own
	// (tenants/shelters, tenants/followup), and the demo's placements are
	// recorded by shelters.SeedDemo afterwards.
	p := tenants.PrincipalFrom(manager)
	for _, move := range demoPath(d, today) {
		if len(move.Values) > 0 {
			if _, err := s.Update(manager, c.ID, Patch{Values: move.Values}); err != nil {
				return uuid.Nil, fmt.Errorf("before %s: %w", *move.Stage, err)
			}
		}
		err := s.store.InTenant(manager, p.TenantID, func(tx *gorm.DB) error {
			return MoveStage(tx, c.ID, *move.Stage, "", s.now())
		})
		if err != nil {
			return uuid.Nil, fmt.Errorf("to %s: %w", *move.Stage, err)
		}
	}
	return c.ID, nil
}

// demoPath is the stage moves from intake to the case's stage.
func demoPath(d demoCase, today time.Time) []Patch {
	to := func(s Stage, values map[string]any) Patch { return Patch{Stage: &s, Values: values} }
	switch d.stage {
	case StageShelter:
		return []Patch{to(StageShelter, nil)}
	case StageReintegrated: // reintegrated by the follow-up's demo (DemoSeeded.Reintegrate)
		return []Patch{to(StageShelter, nil)}
	case StageClosed:
		return []Patch{to(StageShelter, nil), to(StageReintegrated, nil),
			to(StageClosed, map[string]any{"cas_ReasonForCaseClosure": d.closure})}
	case StageReferred:
		return []Patch{to(StageReferred, map[string]any{"cas_ReferredOrganisation": syntheticReferredTo[0],
			"cas_OutgoingReferralDate": today.Format(time.DateOnly)})}
	}
	return nil
}
