package cases_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/cases/htcds"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// seedOne seeds nc as the only case of tenant and returns its id.
func seedOne(t *testing.T, s *tenants.Store, tenant uuid.UUID, nc cases.NewCase) uuid.UUID {
	t.Helper()
	must(t, cases.SeedCases(context.Background(), s, tenant, []cases.NewCase{nc}))
	ctx, _ := member(t, s, tenant, "seed-lister", tenants.RoleCaseManager)
	page, err := cases.New(s).List(ctx, cases.Query{})
	must(t, err)
	if len(page.Cases) != 1 {
		t.Fatalf("the organisation has %d cases, want the one seeded", len(page.Cases))
	}
	return page.Cases[0].ID
}

func consent(p cases.Purpose) cases.NewConsent {
	return cases.NewConsent{Purpose: p, GivenBy: cases.GivenByGirl, GivenOn: "2024-02-01", Basis: cases.BasisSignedForm}
}

// exportable is a case with a value in every group, and words that must
// never leave in an export (Homeward's own fields, medical, psychological).
var exportable = cases.NewCase{
	Values: map[string]any{
		"prs_FirstName": "Noy", "prs_SecondName": "Vongsa", "prs_Birthdate": "2008-03-14", "prs_Gender": "Feminine",
		"prs_Citizenship": []string{"LA"}, "prs_NumberOfChildren": 1, "prs_PrimaryLanguage": "lao",
		"vic_TraffickingStatus": "ActualVictimOfTrafficking", "vic_TypeOfExploitation": []string{"SexualExploitation"},
		"vic_AgeWhenTrafficked": 15, "vic_LocationOfRecruitment": "Savannakhet",
		"cas_IncomingReferralDate": "2024-02-01",
		"family_home_village":      "canary-village", "family_tracing_status": "Found",
		"medical_notes": "canary-medical", "psychological_notes": "canary-psychological",
		"per_RoleInProcess": []string{"RecruiterOrIntermediary"}, "legal_notes": "canary-legal",
	},
	Events: []cases.Event{{Type: "Recruitment", Date: "2023-11-02", City: "Pakse", Country: "LA"}},
}

func decodeRecord(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("the export is not a JSON object: %v", err)
	}
	return m
}

// section is one section of a decoded record, nil when absent.
func section(record map[string]any, name string) map[string]any {
	m, _ := record[name].(map[string]any)
	return m
}

func TestExportIsTheStandardsRecordOfWhatTheExporterReads(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			org := newOrg(t, s)
			nc := exportable
			nc.Consents = []cases.NewConsent{consent(cases.PurposeSharing)}
			id := seedOne(t, s, org, nc)
			ctx, _ := member(t, s, org, "manager", tenants.RoleCaseManager)

			out, err := svc.ExportHTCDS(ctx, id)
			must(t, err)
			record := decodeRecord(t, out)
			std := htcds.Load()
			if err := std.ValidateRecord(record); err != nil {
				t.Fatalf("the export does not validate against the standard's file: %v\n%s", err, out)
			}
			person := section(record, "Person")
			if person["prs_FirstName"] != "Noy" || person["prs_Birthdate"] != "2008-03-14" ||
				person["prs_NumberOfChildren"] != float64(1) || !slices.Equal(person["prs_Citizenship"].([]any), []any{"LA"}) {
				t.Errorf("Person = %v; want the identity fields in their JSON types", person)
			}
			if v := section(record, "Person - Victim Context")["vic_TypeOfExploitation"]; !slices.Equal(v.([]any), []any{"SexualExploitation"}) {
				t.Errorf("vic_TypeOfExploitation = %v", v)
			}
			if v := section(record, "Person - Perpetrator Context")["per_RoleInProcess"]; v == nil {
				t.Error("per_RoleInProcess missing for a case manager, who reads the legal group")
			}
			if v := section(record, "Case")["cas_Status"]; v != cases.StatusActive {
				t.Errorf("cas_Status = %v, want %s (the intake stage)", v, cases.StatusActive)
			}
			if v := section(record, "Referral Details")["cas_IncomingReferralDate"]; v != "2024-02-01" {
				t.Errorf("cas_IncomingReferralDate = %v", v)
			}
			if v := section(record, "Consent")["con_Consent"]; v != true {
				t.Errorf("con_Consent = %v, want true", v)
			}
			events, _ := record["Historic Trafficking Events"].([]any)
			if len(events) != 1 || events[0].(map[string]any)["hte_City"] != "Pakse" {
				t.Errorf("Historic Trafficking Events = %v; want the one event", record["Historic Trafficking Events"])
			}
			for _, never := range []string{"canary", "family", "medical", "psychological", "legal_notes", "Found"} {
				if strings.Contains(string(out), never) {
					t.Errorf("the export holds %q: %s", never, out)
				}
			}

			// The negative control: the validator refuses what the standard
			// does not define, so its nil above means something.
			person["prs_Nickname"] = "N"
			if err := std.ValidateRecord(record); err == nil || !strings.Contains(err.Error(), "prs_Nickname") {
				t.Errorf("a record with an unknown key validated: %v", err)
			}
			delete(person, "prs_Nickname")
			person["prs_Gender"] = "Female"
			if err := std.ValidateRecord(record); err == nil || !strings.Contains(err.Error(), "prs_Gender") {
				t.Errorf("a record with an unknown value validated: %v", err)
			}

			var entry *tenants.AuditRecord
			must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
				page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: "case", RecordID: id})
				for i, e := range page.Entries {
					if e.Action == "case.export" {
						entry = &page.Entries[i]
						break
					}
				}
				return err
			}))
			want := []string{tenants.FieldGroupCore, tenants.FieldGroupIdentity, tenants.FieldGroupLegal}
			if entry == nil || entry.Purpose != string(cases.PurposeSharing) || !slices.Equal(entry.FieldGroups, want) {
				t.Errorf("audit case.export = %+v; want purpose sharing, groups %v", entry, want)
			}
		})
	}
}

func TestExportLeavesOutTheGroupsTheExporterMayNotRead(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := cases.New(s)
	org := newOrg(t, s)
	nc := exportable
	nc.Consents = []cases.NewConsent{consent(cases.PurposeSharing)}
	id := seedOne(t, s, org, nc)

	admin, _ := member(t, s, org, "admin", tenants.RoleTenantAdmin)
	_, err := s.SetPermissionAdjustments(admin, tenants.PermissionAdjustments{
		tenants.CaseGroupPermission(tenants.FieldGroupLegal, false, false): {Remove: []tenants.Role{tenants.RoleCaseManager}},
	})
	must(t, err)
	ctx, _ := member(t, s, org, "manager", tenants.RoleCaseManager)
	out, err := svc.ExportHTCDS(ctx, id)
	must(t, err)
	record := decodeRecord(t, out)
	must(t, htcds.Load().ValidateRecord(record))
	if _, ok := record["Person - Perpetrator Context"]; ok || strings.Contains(string(out), "per_RoleInProcess") {
		t.Errorf("the legal group went out without legal read: %s", out)
	}
	if section(record, "Person")["prs_FirstName"] != "Noy" {
		t.Errorf("the identity group is missing, though the case manager reads it: %s", out)
	}
}

func TestExportNeedsTheStandingSharingConsent(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			org := newOrg(t, s)
			nc := exportable
			nc.Consents = []cases.NewConsent{consent(cases.PurposeServices), consent(cases.PurposeStatistics)}
			id := seedOne(t, s, org, nc)
			ctx, _ := member(t, s, org, "manager", tenants.RoleCaseManager)

			_, err := svc.ExportHTCDS(ctx, id)
			wantCode(t, "export without the sharing consent", err, "forbidden")

			_, err = svc.RecordConsent(ctx, id, consent(cases.PurposeSharing))
			must(t, err)
			_, err = svc.ExportHTCDS(ctx, id)
			wantCode(t, "export with the sharing consent", err, "")

			_, err = svc.WithdrawConsent(ctx, id, cases.PurposeSharing, "she changed her mind")
			must(t, err)
			_, err = svc.ExportHTCDS(ctx, id)
			wantCode(t, "export right after the withdrawal", err, "forbidden")
		})
	}
}

func TestExportIsTheCaseManagersAlone(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := cases.New(s)
	org, other := newOrg(t, s), newOrg(t, s)
	nc := exportable
	nc.Consents = []cases.NewConsent{consent(cases.PurposeSharing)}
	id := seedOne(t, s, org, nc)

	manager, _ := member(t, s, org, "manager", tenants.RoleCaseManager)
	_, err := svc.ExportHTCDS(manager, id)
	wantCode(t, "case manager", err, "")

	for _, role := range []tenants.Role{tenants.RoleSocialWorker, tenants.RoleLawyer, tenants.RoleTenantAdmin} {
		ctx, _ := member(t, s, org, "m-"+string(role), role)
		_, err := svc.ExportHTCDS(ctx, id)
		wantCode(t, string(role), err, "forbidden")
	}
	_, err = svc.ExportHTCDS(operatorCtx(), id)
	wantCode(t, "platform operator", err, "forbidden")

	otherManager, _ := member(t, s, other, "manager", tenants.RoleCaseManager)
	_, err = svc.ExportHTCDS(otherManager, id)
	wantCode(t, "another organisation's case manager", err, "not_found")
	_, err = svc.ExportHTCDS(manager, uuid.New())
	wantCode(t, "an unknown case", err, "not_found")
}
