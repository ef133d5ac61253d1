package shelters_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// Shelters are organisation data: writers add and change them, readers
// list them with their occupancy, another organisation sees nothing.
func TestSheltersBelongToTheirOrganisation(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := shelters.New(s)
			st, other := newStaff(t, s), newStaff(t, s)
			sh, err := svc.Create(st.manager, shelters.NewShelter{Name: " Vientiane shelter ", Province: "Vientiane Capital",
				District: "Sikhottabong", Capacity: 30, Active: true})
			must(t, err)
			if sh.Name != "Vientiane shelter" || sh.Capacity != 30 || sh.Occupancy != 0 || sh.Free() != 30 {
				t.Errorf("created %+v", sh)
			}
			_, err = svc.Create(st.social, shelters.NewShelter{Name: "Mine", Capacity: 5, Active: true})
			wantCode(t, "a social worker adding a shelter", err, homeward.EFORBIDDEN)
			_, err = svc.Create(st.lawyer, shelters.NewShelter{Name: "Mine", Capacity: 5, Active: true})
			wantCode(t, "a lawyer adding a shelter", err, homeward.EFORBIDDEN)
			list, err := svc.List(st.social)
			must(t, err)
			if len(list) != 1 || list[0].ID != sh.ID {
				t.Errorf("the social worker's list: %+v", list)
			}
			_, err = svc.List(st.lawyer)
			wantCode(t, "a lawyer listing shelters", err, homeward.EFORBIDDEN)
			_, err = svc.Get(st.counsellor, sh.ID)
			must(t, err)

			_, err = svc.Get(other.manager, sh.ID)
			wantCode(t, "another organisation's shelter", err, homeward.ENOTFOUND)
			_, err = svc.Update(other.manager, sh.ID, shelters.ShelterChange{Capacity: ptr(1)})
			wantCode(t, "changing another organisation's shelter", err, homeward.ENOTFOUND)
			theirs, err := svc.List(other.manager)
			must(t, err)
			if len(theirs) != 0 {
				t.Errorf("another organisation lists %+v", theirs)
			}

			for _, bad := range []shelters.NewShelter{{Name: "", Capacity: 5}, {Name: "x", Capacity: 0}, {Name: "x", Capacity: 501}} {
				_, err := svc.Create(st.adm, bad)
				wantCode(t, "a shelter without a name or beds", err, homeward.EINVALID)
			}
			ch, err := svc.Update(st.adm, sh.ID, shelters.ShelterChange{Capacity: ptr(500), Active: ptr(false)})
			must(t, err)
			if ch.Capacity != 500 || ch.Active || ch.Name != "Vientiane shelter" {
				t.Errorf("changed %+v", ch)
			}
			if got := auditActions(t, s, st.org, "shelter", sh.ID); !slices.Equal(got, []string{shelters.ActionShelterCreate, shelters.ActionShelterUpdate}) {
				t.Errorf("audited %v", got)
			}
		})
	}
}

// Admission is refused, naming what is missing, and stores nothing,
// until both acceptances and the services consent exist; then she is
// placed and the case moves to shelter, audited.
func TestAdmissionNeedsBothAcceptancesAndTheServicesConsent(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := shelters.New(s)
			st := newStaff(t, s)
			shelter := st.newShelter(t, s, "Vientiane shelter", 30)
			id := st.newCase(t, s)
			admit := shelters.Admit{ShelterID: shelter, ReferralSource: shelters.SourcePolice, AdmittedOn: "2024-02-01"}

			missing := func(what string, want ...string) {
				t.Helper()
				_, err := svc.Admit(st.social, id, admit)
				var he *homeward.Error
				if homeward.ErrorCode(err) != homeward.ECONFLICT || !asError(err, &he) {
					t.Fatalf("%s: %v, want a conflict", what, err)
				}
				var got []string
				for k := range he.Fields {
					got = append(got, k)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: names %v, want %v", what, got, want)
				}
				a, err := svc.Admission(st.manager, id)
				must(t, err)
				if a.Stage != cases.StageIntake || len(a.Placements) != 0 || a.ReferralSource != "" || a.Waiting != nil {
					t.Errorf("%s: something was stored: %+v", what, a)
				}
			}
			missing("nothing recorded", shelters.MissingGirl, shelters.MissingFamily, shelters.MissingConsent)
			_, err := svc.RecordAcceptance(st.social, id, shelters.NewAcceptance{By: shelters.ByGirl, On: "2024-01-12"})
			must(t, err)
			missing("the girl alone", shelters.MissingFamily, shelters.MissingConsent)
			_, err = svc.RecordAcceptance(st.social, id, shelters.NewAcceptance{By: shelters.ByGirl, On: "2024-01-14"})
			wantCode(t, "the girl's acceptance twice", err, homeward.ECONFLICT)
			_, err = svc.RecordAcceptance(st.social, id, shelters.NewAcceptance{By: "neighbour", On: "2099-01-01"})
			wantCode(t, "a neighbour's acceptance in the future", err, homeward.EINVALID)
			_, err = svc.RecordAcceptance(st.manager, id, shelters.NewAcceptance{By: shelters.ByFamily, On: "2024-01-13"})
			must(t, err)
			missing("both acceptances, no consent", shelters.MissingConsent)
			_, err = cases.New(s).RecordConsent(st.social, id, cases.NewConsent{Purpose: cases.PurposeServices,
				GivenBy: cases.GivenByGirl, GivenOn: "2024-01-14", Basis: cases.BasisSignedForm})
			must(t, err)

			a, err := svc.Admit(st.social, id, admit)
			must(t, err)
			if a.Stage != cases.StageShelter || a.Current == nil || a.Current.ShelterID != shelter ||
				a.Current.ShelterName != "Vientiane shelter" || a.Current.PlacedOn != "2024-02-01" || a.ReferralSource != shelters.SourcePolice ||
				a.Girl == nil || a.Family == nil || a.Family.By != shelters.ByFamily || len(a.Missing) != 0 || !a.ServicesConsent {
				t.Errorf("admitted: %+v", a)
			}
			k, err := cases.New(s).Get(st.manager, id)
			must(t, err)
			if k.Stage != cases.StageShelter {
				t.Errorf("the case is at %s", k.Stage)
			}
			sh, err := svc.Get(st.manager, shelter)
			must(t, err)
			if sh.Occupancy != 1 {
				t.Errorf("occupancy %d, want 1", sh.Occupancy)
			}
			_, err = svc.Admit(st.social, id, admit)
			wantCode(t, "admitting her twice", err, homeward.ECONFLICT)
			got := auditActions(t, s, st.org, "case", id)
			if !slices.Contains(got, shelters.ActionAdmit) || !slices.Contains(got, shelters.ActionAcceptance) {
				t.Errorf("audited %v", got)
			}
		})
	}
}

// Who may do what with a case's admission: its core's readers read it,
// its writers record; a case the member may not see is not_found, and so
// is another organisation's shelter.
func TestAdmissionFollowsTheCaseCore(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := shelters.New(s)
			st, other := newStaff(t, s), newStaff(t, s)
			shelter := st.newShelter(t, s, "Vientiane shelter", 30)
			theirs := other.newShelter(t, s, "Their shelter", 30)
			id := st.readyCase(t, s)
			admit := shelters.Admit{ShelterID: shelter, ReferralSource: shelters.SourceBarOutreach, AdmittedOn: today}

			_, err := svc.Admission(st.counsellor, id)
			must(t, err)
			_, err = svc.Admit(st.counsellor, id, admit)
			wantCode(t, "the assigned counsellor admitting", err, homeward.EFORBIDDEN)
			_, err = svc.Admission(st.lawyer, id)
			wantCode(t, "a lawyer not assigned", err, homeward.ENOTFOUND)
			_, err = svc.Admission(st.adm, id)
			wantCode(t, "the tenant admin", err, homeward.ENOTFOUND)
			_, err = svc.Admit(other.manager, id, admit)
			wantCode(t, "another organisation's case manager", err, homeward.ENOTFOUND)
			_, err = svc.Admit(st.manager, id, shelters.Admit{ShelterID: theirs, ReferralSource: shelters.SourcePolice, AdmittedOn: today})
			wantCode(t, "into another organisation's shelter", err, homeward.ENOTFOUND)
			_, err = svc.Admit(st.manager, id, shelters.Admit{ShelterID: shelter, ReferralSource: "radio", AdmittedOn: "01/02/2024"})
			wantCode(t, "an unknown source and a bad date", err, homeward.EINVALID)
			a, err := svc.Admit(st.manager, id, admit)
			must(t, err)
			if a.Current == nil || !a.CanWrite {
				t.Errorf("control: the case manager admits: %+v", a)
			}
		})
	}
}

// A full shelter puts the case on its waiting list; beds go to the list
// in order; transfers need a free bed; discharge ends the stay; every stay
// stays in the history.
func TestWaitingListTransferAndDischarge(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := shelters.New(s)
			st := newStaff(t, s)
			small := st.newShelter(t, s, "Small shelter", 1)
			big := st.newShelter(t, s, "Big shelter", 2)
			first, second, third := st.readyCase(t, s), st.readyCase(t, s), st.readyCase(t, s)
			into := func(shelter uuid.UUID) shelters.Admit {
				return shelters.Admit{ShelterID: shelter, ReferralSource: shelters.SourcePartnerHandoff, AdmittedOn: "2024-02-01"}
			}

			a, err := svc.Admit(st.manager, first, into(small))
			must(t, err)
			if a.Current == nil {
				t.Fatalf("the first case is not placed: %+v", a)
			}
			a, err = svc.Admit(st.manager, second, into(small))
			must(t, err)
			if a.Current != nil || a.Waiting == nil || a.Waiting.Position != 1 || a.Stage != cases.StageIntake {
				t.Errorf("the second case into a full shelter: %+v", a)
			}
			a, err = svc.Admit(st.manager, third, into(small))
			must(t, err)
			if a.Waiting == nil || a.Waiting.Position != 2 {
				t.Errorf("the third case: %+v", a.Waiting)
			}
			list, err := svc.WaitingList(st.social, small)
			must(t, err)
			if len(list) != 2 || list[0].CaseID != second || list[1].CaseID != third || list[0].Reference == "" {
				t.Errorf("the waiting list: %+v", list)
			}

			// A transfer into a full shelter is refused; into one with a bed it moves her.
			_, err = svc.Transfer(st.manager, first, shelters.Transfer{ShelterID: small, TransferredOn: "2024-03-01"})
			wantCode(t, "a transfer to where she is", err, homeward.EINVALID)
			_, err = svc.Transfer(st.manager, first, shelters.Transfer{ShelterID: big, TransferredOn: "2024-01-01"})
			wantCode(t, "a transfer before her stay began", err, homeward.EINVALID)
			a, err = svc.Transfer(st.manager, first, shelters.Transfer{ShelterID: big, TransferredOn: "2024-03-01"})
			must(t, err)
			if len(a.Placements) != 2 || a.Placements[0].EndReason != shelters.EndTransfer || a.Current == nil ||
				a.Current.ShelterID != big || a.Current.Arrival != shelters.ArrivalTransfer {
				t.Errorf("after the transfer: %+v", a.Placements)
			}

			// A bed is free in the small shelter: the third case waits behind the second.
			a, err = svc.Admit(st.manager, third, into(small))
			must(t, err)
			if a.Current != nil || a.Waiting == nil || a.Waiting.Position != 2 {
				t.Errorf("the third case jumping the queue: %+v", a)
			}
			a, err = svc.Admit(st.manager, second, into(small))
			must(t, err)
			if a.Current == nil || a.Waiting != nil {
				t.Errorf("the second case, next in line: %+v", a)
			}
			list, err = svc.WaitingList(st.manager, small)
			must(t, err)
			if len(list) != 1 || list[0].CaseID != third || list[0].Position != 1 {
				t.Errorf("the waiting list after: %+v", list)
			}
			_, err = svc.Transfer(st.manager, first, shelters.Transfer{ShelterID: small, TransferredOn: "2024-03-02"})
			wantCode(t, "a transfer into a full shelter", err, homeward.ECONFLICT)

			// Leaving the list, discharge.
			a, err = svc.CancelWaiting(st.social, third)
			must(t, err)
			if a.Waiting != nil {
				t.Errorf("still waiting: %+v", a.Waiting)
			}
			_, err = svc.CancelWaiting(st.social, third)
			wantCode(t, "leaving no list", err, homeward.ECONFLICT)
			_, err = svc.Discharge(st.manager, first, shelters.Discharge{DischargedOn: "2024-02-15", Reason: shelters.DischargeReintegrated})
			wantCode(t, "a discharge before the stay began", err, homeward.EINVALID)
			_, err = svc.Discharge(st.manager, first, shelters.Discharge{DischargedOn: "2024-04-01", Reason: "bored"})
			wantCode(t, "an unknown reason", err, homeward.EINVALID)
			a, err = svc.Discharge(st.manager, first, shelters.Discharge{DischargedOn: "2024-04-01", Reason: shelters.DischargeReintegrated})
			must(t, err)
			if a.Current != nil || len(a.Placements) != 2 || a.Placements[1].EndReason != shelters.DischargeReintegrated {
				t.Errorf("after the discharge: %+v", a.Placements)
			}
			_, err = svc.Discharge(st.manager, first, shelters.Discharge{DischargedOn: "2024-04-02", Reason: shelters.DischargeOther})
			wantCode(t, "discharging her twice", err, homeward.ECONFLICT)
			sh, err := svc.Get(st.manager, big)
			must(t, err)
			if sh.Occupancy != 0 {
				t.Errorf("the big shelter's occupancy after the discharge: %d", sh.Occupancy)
			}
			got := auditActions(t, s, st.org, "case", first)
			for _, action := range []string{shelters.ActionAdmit, shelters.ActionTransfer, shelters.ActionDischarge} {
				if !slices.Contains(got, action) {
					t.Errorf("%s not audited: %v", action, got)
				}
			}
		})
	}
}

// A capacity may not fall below the girls placed; an erased case frees
// her bed and leaves the waiting list.
func TestCapacityAndErasedCases(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := shelters.New(s)
			st := newStaff(t, s)
			_, approver := member(t, s, st.org, "approver", tenants.RoleCaseManager)
			shelter := st.newShelter(t, s, "Vientiane shelter", 2)
			placed, other := st.readyCase(t, s), st.readyCase(t, s)
			for _, id := range []uuid.UUID{placed, other} {
				_, err := svc.Admit(st.manager, id, shelters.Admit{ShelterID: shelter, ReferralSource: shelters.SourceFamily, AdmittedOn: today})
				must(t, err)
			}
			_, err := svc.Update(st.manager, shelter, shelters.ShelterChange{Capacity: ptr(1)})
			wantCode(t, "a capacity below the girls placed", err, homeward.EINVALID)

			erasure, err := cases.New(s).RequestErasure(st.manager, placed, cases.ErasureCreatedInError, "")
			must(t, err)
			_, err = cases.New(s).DecideErasure(tenants.WithPrincipal(context.Background(), approver), erasure.ID, true)
			must(t, err)
			sh, err := svc.Update(st.manager, shelter, shelters.ShelterChange{Capacity: ptr(1)})
			must(t, err)
			if sh.Occupancy != 1 || sh.Capacity != 1 {
				t.Errorf("after the erasure: %+v", sh)
			}
		})
	}
}

// SeedDemo gives the organisation its two shelters once, and places the
// cases already at the shelter stage.
func TestSeedDemoIsIdempotent(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			st := newStaff(t, s)
			sheltered := st.newCase(t, s, cases.PurposeServices)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				return cases.MoveStage(tx, sheltered, cases.StageShelter, "", time.Now())
			}))
			for range 2 {
				must(t, shelters.SeedDemo(context.Background(), s, st.org))
			}
			list, err := shelters.New(s).List(st.manager)
			must(t, err)
			var names []string
			taken := 0
			for _, sh := range list {
				names = append(names, sh.Name)
				taken += sh.Occupancy
			}
			if !slices.Equal(names, []string{"Savannakhet shelter", "Vientiane shelter"}) || taken != 1 {
				t.Errorf("seeded %v with %d placed", names, taken)
			}
			a, err := shelters.New(s).Admission(st.manager, sheltered)
			must(t, err)
			if a.Current == nil || len(a.Missing) != 0 {
				t.Errorf("the sheltered demo case: %+v", a)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func asError(err error, target **homeward.Error) bool { return errors.As(err, target) }
