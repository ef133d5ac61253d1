package dashboard_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/dashboard"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// org is an organisation whose provider maps "g-ROLE" to ROLE, and a way
// to sign its members in.
type org struct {
	id     uuid.UUID
	member func(subject string, role tenants.Role) (context.Context, uuid.UUID)
}

func newOrg(t *testing.T, s *tenants.Store) org {
	t.Helper()
	o := org{id: tenanttest.NewOrg(t, s)}
	o.member = func(subject string, role tenants.Role) (context.Context, uuid.UUID) {
		ctx, p := tenanttest.Member(t, s, o.id, subject, role)
		return ctx, *p.Actor.MemberID
	}
	return o
}

func stages(sum *dashboard.Summary) map[cases.Stage]int {
	out := map[cases.Stage]int{}
	for _, sc := range sum.Stages {
		out[sc.Stage] = sc.Cases
	}
	return out
}

func TestDashboardCountsTheCasesInScope(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			o := newOrg(t, s)
			manager, _ := o.member("manager", tenants.RoleCaseManager)
			social, socialID := o.member("social", tenants.RoleSocialWorker)
			other, otherID := o.member("social-2", tenants.RoleSocialWorker)
			lawyer, _ := o.member("lawyer", tenants.RoleLawyer)
			finance, _ := o.member("finance", tenants.RoleFinanceOfficer)
			svc := cases.New(s)
			open := func(assigned uuid.UUID, consents ...cases.Purpose) uuid.UUID {
				nc := cases.NewCase{Values: map[string]any{"prs_FirstName": "Noy", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}}
				for _, p := range consents {
					nc.Consents = append(nc.Consents, cases.NewConsent{Purpose: p, GivenBy: cases.GivenByGirl, GivenOn: "2024-01-10", Basis: cases.BasisSignedForm})
				}
				k, err := svc.Create(manager, nc)
				must(t, err)
				if assigned != uuid.Nil {
					_, err = svc.Assign(manager, k.ID, nil, []uuid.UUID{assigned})
					must(t, err)
				}
				return k.ID
			}
			// The social worker's case is admitted; the other social
			// worker's and an unassigned one stay at intake.
			admitted := open(socialID, cases.PurposeServices)
			open(otherID)
			open(uuid.Nil)
			sh := shelters.New(s)
			shelter, err := sh.Create(manager, shelters.NewShelter{Name: "Vientiane shelter", Province: "Vientiane Capital", Capacity: 12, Active: true})
			must(t, err)
			for _, by := range []string{shelters.ByGirl, shelters.ByFamily} {
				_, err := sh.RecordAcceptance(social, admitted, shelters.NewAcceptance{By: by, On: time.Now().Format(time.DateOnly)})
				must(t, err)
			}
			_, err = sh.Admit(social, admitted, shelters.Admit{ShelterID: shelter.ID, ReferralSource: shelters.SourcePolice,
				AdmittedOn: time.Now().Format(time.DateOnly)})
			must(t, err)
			// Another organisation's cases count nowhere here.
			b := newOrg(t, s)
			bManager, _ := b.member("manager", tenants.RoleCaseManager)
			_, err = svc.Create(bManager, cases.NewCase{Values: map[string]any{"prs_FirstName": "Lan", "prs_Birthdate": "2007-01-01", "prs_Gender": "Feminine"}})
			must(t, err)

			d := dashboard.New(s)
			got := func(ctx context.Context) *dashboard.Summary {
				t.Helper()
				sum, err := d.Dashboard(ctx)
				must(t, err)
				return sum
			}
			all := got(manager)
			if st := stages(all); all.Own || st[cases.StageIntake] != 2 || st[cases.StageShelter] != 1 || len(all.Stages) != len(cases.Stages) {
				t.Errorf("the case manager counts %+v", all.Stages)
			}
			if all.Admissions != 1 || all.Year != time.Now().UTC().Year() {
				t.Errorf("the case manager counts %d admissions in %d", all.Admissions, all.Year)
			}
			if len(all.Shelters) != 1 || all.Shelters[0].Occupancy != 1 || all.Shelters[0].Capacity != 12 {
				t.Errorf("the case manager's shelters: %+v", all.Shelters)
			}

			mine := got(social)
			if st := stages(mine); !mine.Own || st[cases.StageIntake] != 0 || st[cases.StageShelter] != 1 || mine.Admissions != 1 {
				t.Errorf("the social worker counts %+v, %d admissions", mine.Stages, mine.Admissions)
			}
			theirs := got(other)
			if st := stages(theirs); st[cases.StageIntake] != 1 || st[cases.StageShelter] != 0 || theirs.Admissions != 0 {
				t.Errorf("the other social worker counts %+v, %d admissions", theirs.Stages, theirs.Admissions)
			}
			// The lawyer reads its own cases' dashboard, none here, and no
			// shelters (no shelters.read): left out, not zero.
			if l := got(lawyer); stages(l)[cases.StageIntake] != 0 || l.Shelters != nil {
				t.Errorf("the lawyer's dashboard: %+v", l)
			}
			if bSum := got(bManager); stages(bSum)[cases.StageIntake] != 1 || stages(bSum)[cases.StageShelter] != 0 || bSum.Admissions != 0 {
				t.Errorf("the other organisation's case manager counts %+v, %d admissions", bSum.Stages, bSum.Admissions)
			}

			_, err = d.Dashboard(finance)
			if homeward.ErrorCode(err) != homeward.EFORBIDDEN {
				t.Errorf("the finance officer's dashboard: err = %v, want forbidden", err)
			}
		})
	}
}

// The follow-up visits and the starter kits: counted by the features
// themselves on the cases in scope, left out for a member who may not use
// them.
func TestDashboardCountsVisitsAndKits(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			o := newOrg(t, s)
			manager, _ := o.member("manager", tenants.RoleCaseManager)
			social, socialID := o.member("social", tenants.RoleSocialWorker)
			other, _ := o.member("social-2", tenants.RoleSocialWorker)
			lawyer, _ := o.member("lawyer", tenants.RoleLawyer)
			day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }
			// reintegrated is a case of the social worker's reintegrated
			// ago days back, with its visits scheduled (monthly at first).
			reintegrated := func(ago int) uuid.UUID {
				svc := cases.New(s)
				k, err := svc.Create(manager, cases.NewCase{
					Values: map[string]any{"prs_FirstName": "Dao", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"},
					Consents: []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl,
						GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}}})
				must(t, err)
				_, err = svc.Assign(manager, k.ID, nil, []uuid.UUID{socialID})
				must(t, err)
				must(t, s.InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
					return cases.MoveStage(tx, k.ID, cases.StageShelter, "", time.Now())
				}))
				r, err := followup.New(s).Reintegrate(social, k.ID, followup.NewReintegration{
					Destination: followup.DestinationFamily, Date: day(-ago), Place: "Ban Xai"})
				must(t, err)
				must(t, s.InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
					_, err := followup.GenerateSchedule(tx, r.ID)
					return err
				}))
				return k.ID
			}
			// A month after 35 days ago is 4 to 7 days ago: overdue. A
			// month after 27 days ago is in 1 to 4 days: due soon (the
			// default schedule reminds a week before). The second
			// visits are weeks away.
			overdue := reintegrated(35)
			reintegrated(27)
			// A kit of USD 300, disbursed at its price.
			ks := kits.New(s)
			kit, err := ks.Request(social, overdue, kits.Request{BusinessPlan: "Tailoring from her home",
				Items: []kits.NewItem{{Description: "Sewing machine", Quantity: 1, UnitCostMinor: 300_00, Currency: kits.USD}}})
			must(t, err)
			_, err = ks.Approve(manager, kit.ID)
			must(t, err)
			_, err = ks.Disburse(social, kit.ID, kits.Spending{On: day(0), Spent: []int64{300_00}})
			must(t, err)

			d := dashboard.New(s)
			for _, c := range []struct {
				who           string
				ctx           context.Context
				overdue, soon int64
				kits, spent   int64
			}{
				{"the case manager", manager, 1, 1, 1, 300_00},
				{"the social worker", social, 1, 1, 1, 300_00},
				{"a social worker not assigned", other, 0, 0, 0, 0},
			} {
				sum, err := d.Dashboard(c.ctx)
				must(t, err)
				if v := sum.Visits; v == nil || v.Overdue != c.overdue || v.DueSoon != c.soon || v.Within != followup.DefaultSchedule.RemindDaysBefore {
					t.Errorf("%s's visits: %+v, want %d overdue and %d due soon", c.who, v, c.overdue, c.soon)
				}
				if k := sum.Kits; k == nil || k.Disbursed != c.kits || k.SpentUSDCents != c.spent {
					t.Errorf("%s's kits: %+v, want %d disbursed for %d cents", c.who, k, c.kits, c.spent)
				}
			}
			// The lawyer uses neither the follow-up nor the kits: left
			// out, not zero.
			sum, err := d.Dashboard(lawyer)
			must(t, err)
			if sum.Visits != nil || sum.Kits != nil {
				t.Errorf("the lawyer's dashboard: visits %+v, kits %+v", sum.Visits, sum.Kits)
			}
		})
	}
}
