package shelters_test

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
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestMain drops the package's PostgreSQL database afterwards.
func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }

// The organisation and member fixtures every tenant package's tests share.
var (
	newOrg = tenanttest.NewOrg
	member = tenanttest.Member
)

// staff is one organisation with the members the tests act as.
type staff struct {
	org                                      uuid.UUID
	manager, social, counsellor, lawyer, adm context.Context
	socialP, counsellorP                     *tenants.Principal
}

func newStaff(t *testing.T, s *tenants.Store) staff {
	t.Helper()
	st := staff{org: newOrg(t, s)}
	st.manager, _ = member(t, s, st.org, "manager", tenants.RoleCaseManager)
	st.social, st.socialP = member(t, s, st.org, "social", tenants.RoleSocialWorker)
	st.counsellor, st.counsellorP = member(t, s, st.org, "counsellor", tenants.RoleCounsellor)
	st.lawyer, _ = member(t, s, st.org, "lawyer", tenants.RoleLawyer)
	st.adm, _ = member(t, s, st.org, "admin", tenants.RoleTenantAdmin)
	return st
}

// newCase opens a case at intake as the case manager, assigned to the
// social worker and the counsellor, with the consents given.
func (st staff) newCase(t *testing.T, s *tenants.Store, consents ...cases.Purpose) uuid.UUID {
	t.Helper()
	svc := cases.New(s)
	nc := cases.NewCase{Values: map[string]any{"prs_FirstName": "Noy", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}}
	for _, p := range consents {
		nc.Consents = append(nc.Consents, cases.NewConsent{Purpose: p, GivenBy: cases.GivenByFamily, GivenOn: "2024-01-10",
			Basis: cases.BasisSignedForm})
	}
	c, err := svc.Create(st.manager, nc)
	must(t, err)
	_, err = svc.Assign(st.manager, c.ID, c.OwnerID, []uuid.UUID{*st.socialP.Actor.MemberID, *st.counsellorP.Actor.MemberID})
	must(t, err)
	return c.ID
}

// readyCase is a case that may be admitted: both acceptances recorded,
// a standing services consent.
func (st staff) readyCase(t *testing.T, s *tenants.Store) uuid.UUID {
	t.Helper()
	id := st.newCase(t, s, cases.PurposeServices)
	svc := shelters.New(s)
	_, err := svc.RecordAcceptance(st.social, id, shelters.NewAcceptance{By: shelters.ByGirl, On: "2024-01-12"})
	must(t, err)
	_, err = svc.RecordAcceptance(st.social, id, shelters.NewAcceptance{By: shelters.ByGuardian, On: "2024-01-13"})
	must(t, err)
	return id
}

// newShelter adds a shelter of capacity beds as the case manager.
func (st staff) newShelter(t *testing.T, s *tenants.Store, name string, capacity int) uuid.UUID {
	t.Helper()
	sh, err := shelters.New(s).Create(st.manager, shelters.NewShelter{Name: name, Province: "Vientiane Capital", Capacity: capacity, Active: true})
	must(t, err)
	return sh.ID
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := homeward.ErrorCode(err); got != code {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

// auditActions are the actions audited on a record of recordType, oldest
// first.
func auditActions(t *testing.T, s *tenants.Store, tenant uuid.UUID, recordType string, record uuid.UUID) []string {
	t.Helper()
	var out []string
	must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: recordType, RecordID: record, Limit: 200})
		for i := len(page.Entries) - 1; i >= 0; i-- {
			out = append(out, page.Entries[i].Action)
		}
		return err
	}))
	return out
}

var today = time.Now().UTC().Format(time.DateOnly)
