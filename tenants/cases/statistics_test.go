package cases_test

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// cell is n cases alike for the statistics: birth date, intake (incoming
// referral) date, gender and types of exploitation, with the consents
// given.
func cell(n int, born, intake, gender string, types []string, purposes ...cases.Purpose) []cases.NewCase {
	values := map[string]any{"cas_IncomingReferralDate": intake}
	if born != "" {
		values["prs_Birthdate"] = born
	}
	if gender != "" {
		values["prs_Gender"] = gender
	}
	if types != nil {
		values["vic_TypeOfExploitation"] = types
	}
	var consents []cases.NewConsent
	for _, p := range purposes {
		consents = append(consents, consent(p))
	}
	batch := make([]cases.NewCase, n)
	for i := range batch {
		batch[i] = cases.NewCase{Values: values, Consents: consents}
	}
	return batch
}

const statisticsHeader = "intake_year,age_band,prs_Gender,vic_TypeOfExploitation,cas_Status,count\n"

func TestStatisticsCountConsentedCasesAndSuppressRowsUnderEleven(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			org := newOrg(t, s)
			stats := cases.PurposeStatistics
			var batch []cases.NewCase
			batch = append(batch, cell(11, "2010-06-01", "2024-05-01", "Feminine", []string{"SexualExploitation"}, stats)...)
			// Not counted: no statistics consent (16 if they were).
			batch = append(batch, cell(5, "2010-06-01", "2024-05-01", "Feminine", []string{"SexualExploitation"}, cases.PurposeServices)...)
			// Suppressed: 10 alike.
			batch = append(batch, cell(10, "2000-01-01", "2024-05-01", "Feminine", []string{"ForcedLabour"}, stats)...)
			// Two types: counted in each type's row. Aged 29 on the day before her 30th birthday.
			batch = append(batch, cell(11, "1990-03-04", "2020-03-03", "Feminine", []string{"SexualExploitation", "ForcedLabour"}, stats)...)
			// Nothing recorded but the intake.
			batch = append(batch, cell(11, "", "2024-05-01", "", nil, stats)...)
			must(t, cases.SeedCases(context.Background(), s, org, batch))

			// A twelfth case in the first row, whose consent is withdrawn.
			manager, _ := member(t, s, org, "manager", tenants.RoleCaseManager)
			withdrawn, err := svc.Create(manager, cell(1, "2010-06-01", "2024-05-01", "Feminine", []string{"SexualExploitation"}, stats)[0])
			must(t, err)
			_, err = svc.WithdrawConsent(manager, withdrawn.ID, stats, "")
			must(t, err)

			out, err := svc.Statistics(manager)
			must(t, err)
			want := statisticsHeader +
				"2020,27-29,Feminine,ForcedLabour,Active,11\n" +
				"2020,27-29,Feminine,SexualExploitation,Active,11\n" +
				"2024,9-17,Feminine,SexualExploitation,Active,11\n" +
				"2024,unknown,Unknown,Unknown,Active,11\n"
			if string(out) != want {
				t.Errorf("statistics:\n%s\nwant:\n%s", out, want)
			}

			var audited bool
			must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
				page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: "statistics"})
				for _, e := range page.Entries {
					audited = audited || e.Action == "statistics.export" && e.Purpose == string(stats)
				}
				return err
			}))
			if !audited {
				t.Error("no statistics.export audit row")
			}
		})
	}
}

func TestStatisticsAreForTheRolesThatHoldThem(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := cases.New(s)
	org := newOrg(t, s)
	for _, role := range []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleCaseManager, tenants.RoleOutreachWorker,
		tenants.RoleFinanceOfficer, tenants.RoleAuditor} {
		ctx, _ := member(t, s, org, "m-"+string(role), role)
		out, err := svc.Statistics(ctx)
		wantCode(t, string(role), err, "")
		if err == nil && string(out) != statisticsHeader {
			t.Errorf("%s: statistics of an organisation without cases = %q, want the header alone", role, out)
		}
	}
	for _, role := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleCounsellor, tenants.RoleVillageVolunteer} {
		ctx, _ := member(t, s, org, "m-"+string(role), role)
		_, err := svc.Statistics(ctx)
		wantCode(t, string(role), err, "forbidden")
	}
	_, err := svc.Statistics(operatorCtx())
	wantCode(t, "the platform operator asking for an organisation's table", err, "forbidden")
}

func TestPlatformStatisticsSumOrganisationsBeforeSuppressing(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			// A row no other test of the package fills: the platform table
			// sums every organisation of the database.
			const row = "2001,48+,NonConforming,ForcedMarriage,Active,"
			var admins [2]context.Context
			for i := range admins {
				org := newOrg(t, s)
				must(t, cases.SeedCases(context.Background(), s, org,
					cell(6, "1950-01-01", "2001-07-01", "NonConforming", []string{"ForcedMarriage"}, cases.PurposeStatistics)))
				admins[i], _ = member(t, s, org, "admin", tenants.RoleTenantAdmin)
				out, err := svc.Statistics(admins[i])
				must(t, err)
				if strings.Contains(string(out), row) {
					t.Errorf("an organisation's 6 cases were published:\n%s", out)
				}
			}

			out, err := svc.PlatformStatistics(operatorCtx())
			must(t, err)
			if !strings.HasPrefix(string(out), statisticsHeader) || !strings.Contains(string(out), "\n"+row+"12\n") {
				t.Errorf("platform statistics:\n%s\nwant the header and the row %s12", out, row)
			}

			_, err = svc.PlatformStatistics(admins[0])
			wantCode(t, "an organisation's admin", err, "forbidden")
		})
	}
}
