package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

func consented(t *testing.T, s *tenants.Store, org, id uuid.UUID, purpose cases.Purpose) bool {
	t.Helper()
	var ok bool
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		var err error
		ok, err = cases.Consented(tx, id, purpose)
		return err
	}))
	return ok
}

func TestConsentWithdrawalTakesEffectAtOnce(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			c, err := svc.Create(st.manager, intake("Noy", "2008-03-01"))
			must(t, err)
			if consented(t, s, st.org, c.ID, cases.PurposeStatistics) {
				t.Fatal("consented before any consent")
			}
			given := cases.NewConsent{Purpose: cases.PurposeStatistics, GivenBy: cases.GivenByGirl, GivenOn: "2024-05-01", Basis: cases.BasisSignedForm}
			_, err = svc.RecordConsent(st.manager, c.ID, given)
			must(t, err)
			given.GivenBy = cases.GivenByGuardian
			_, err = svc.RecordConsent(st.manager, c.ID, given)
			must(t, err)
			if !consented(t, s, st.org, c.ID, cases.PurposeStatistics) {
				t.Fatal("not consented after recording")
			}
			_, err = svc.RecordConsent(st.counsellor, c.ID, given)
			wantCode(t, "a counsellor recording consent on a case not hers", err, homeward.ENOTFOUND)
			bad := given
			bad.GivenOn, bad.Purpose = "2999-01-01", "marketing"
			_, err = svc.RecordConsent(st.manager, c.ID, bad)
			var he *homeward.Error
			if !asError(err, &he) || he.Fields["given_on"] == "" || he.Fields["purpose"] == "" {
				t.Errorf("a consent in the future for marketing: %v", err)
			}

			withdrawn, err := svc.WithdrawConsent(st.manager, c.ID, cases.PurposeStatistics, "changed her mind")
			must(t, err)
			if len(withdrawn) != 2 || withdrawn[0].Active() || withdrawn[0].WithdrawalReason != "changed her mind" {
				t.Errorf("withdrawn: %+v", withdrawn)
			}
			if consented(t, s, st.org, c.ID, cases.PurposeStatistics) {
				t.Error("still consented after the withdrawal")
			}
			_, err = svc.WithdrawConsent(st.manager, c.ID, cases.PurposeStatistics, "")
			wantCode(t, "withdrawing again", err, homeward.ECONFLICT)
			history, err := svc.ConsentHistory(st.manager, c.ID)
			must(t, err)
			if len(history) != 2 || history[1].WithdrawalReason != "changed her mind" || history[0].WithdrawnAt == nil {
				t.Errorf("history: %+v", history)
			}
			got, err := svc.Get(st.manager, c.ID)
			must(t, err)
			if len(got.Consent) != 1 || got.Consent[0].Active() {
				t.Errorf("current state: %+v", got.Consent)
			}
		})
	}
}

func TestListWritesOneAuditRowPerCall(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			for _, n := range []string{"Noy", "Kham", "Dao"} {
				_, err := svc.Create(st.manager, intake(n, "2008-03-01"))
				must(t, err)
			}
			count := func() (list, search int) {
				must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
					page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: "case", Limit: 200})
					for _, e := range page.Entries {
						if e.Action == cases.ActionList {
							list++
							if e.Purpose == "search" {
								search++
							}
						}
					}
					return err
				}))
				return list, search
			}
			page, err := svc.List(st.manager, cases.Query{Limit: 2})
			must(t, err)
			if len(page.Cases) != 2 || page.Next == "" || !page.Cases[0].IdentityShown || page.Cases[0].FirstName != "Dao" {
				t.Fatalf("first page: %+v", page)
			}
			next, err := svc.List(st.manager, cases.Query{Limit: 2, Cursor: page.Next})
			must(t, err)
			if len(next.Cases) != 1 || next.Next != "" || next.Cases[0].FirstName != "Noy" {
				t.Errorf("second page: %+v", next)
			}
			if list, _ := count(); list != 2 {
				t.Errorf("two list calls wrote %d audit rows", list)
			}
			_, err = svc.List(st.manager, cases.Query{Q: "kham"})
			must(t, err)
			if list, search := count(); list != 3 || search != 1 {
				t.Errorf("after a search: %d list rows, %d searches", list, search)
			}
			for field, q := range map[string]cases.Query{
				"limit": {Limit: 500}, "cursor": {Cursor: "nope"}, "stage": {Stage: "done"}, "status": {Status: "Open"},
			} {
				_, err := svc.List(st.manager, q)
				var he *homeward.Error
				if !asError(err, &he) || he.Code != homeward.EINVALID || he.Fields[field] == "" {
					t.Errorf("list with a bad %s: %v", field, err)
				}
			}
			_, err = svc.List(st.manager, cases.Query{Limit: 2, Cursor: page.Next, Stage: cases.StageShelter})
			wantCode(t, "a cursor of another query", err, homeward.EINVALID)
			_, err = svc.List(st.admin, cases.Query{})
			wantCode(t, "a tenant admin listing cases", err, homeward.EFORBIDDEN)
			mine, err := svc.List(st.social, cases.Query{})
			must(t, err)
			if len(mine.Cases) != 0 {
				t.Errorf("the social worker lists %d cases, none hers", len(mine.Cases))
			}
			byStatus, err := svc.List(st.manager, cases.Query{Status: cases.StatusActive, Q: "C-00002"})
			must(t, err)
			if len(byStatus.Cases) != 1 || byStatus.Cases[0].Number != 2 {
				t.Errorf("by number: %+v", byStatus.Cases)
			}
		})
	}
}

func TestRetentionAnonymisesClosedCases(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			st := newStaff(t, s)
			now := time.Now()
			closeAt := func(at time.Time) uuid.UUID {
				svc := cases.New(s).WithClock(func() time.Time { return at })
				c, err := svc.Create(st.manager, intake("Old", "1990-01-01"))
				must(t, err)
				closed := cases.StageClosed
				_, err = svc.Update(st.manager, c.ID, cases.Patch{Stage: &closed,
					Values: map[string]any{"cas_ReasonForCaseClosure": "Follow-up finished"}})
				must(t, err)
				return c.ID
			}
			old, recent := closeAt(now.AddDate(-11, 0, 0)), closeAt(now.AddDate(-1, 0, 0))
			svc := cases.New(s)

			r, err := svc.Retention(st.admin)
			must(t, err)
			if r.Years != cases.DefaultRetentionYears {
				t.Errorf("default retention %d", r.Years)
			}
			_, err = svc.SetRetention(st.admin, cases.Retention{Years: 101})
			wantCode(t, "101 years", err, homeward.EINVALID)
			_, err = svc.SetRetention(st.manager, cases.Retention{Years: 5})
			wantCode(t, "a case manager setting retention", err, homeward.EFORBIDDEN)
			_, err = svc.RetentionDue(st.manager, 0)
			wantCode(t, "a case manager reviewing retention", err, homeward.EFORBIDDEN)
			due, err := svc.RetentionDue(st.admin, 30*24*time.Hour)
			must(t, err)
			if len(due) != 1 || due[0].ID != old {
				t.Fatalf("due: %+v", due)
			}

			for run, want := range []int{1, 0} {
				var n int
				must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
					var err error
					n, err = cases.AnonymiseDue(tx, now)
					return err
				}))
				if n != want {
					t.Errorf("run %d anonymised %d, want %d", run+1, n, want)
				}
			}
			_, err = svc.Get(st.manager, old)
			wantCode(t, "the anonymised case", err, homeward.ENOTFOUND)
			_, err = svc.Get(st.manager, recent)
			must(t, err)
			trail, err := svc.CaseAudit(st.auditor, old, tenants.AuditQuery{})
			must(t, err)
			anonymised := 0
			for _, e := range trail.Entries {
				if e.Action == cases.ActionAnonymise {
					anonymised++
				}
			}
			if anonymised != 1 {
				t.Errorf("%d case.anonymise rows, want 1", anonymised)
			}
		})
	}
}

func TestComments(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			c, err := svc.Create(st.social, intake("Noy", "2008-03-01"))
			must(t, err)
			for _, text := range []string{"first", "second", "third"} {
				_, err := svc.AddComment(st.social, c.ID, text)
				must(t, err)
			}
			_, err = svc.AddComment(st.social, c.ID, "  ")
			wantCode(t, "an empty comment", err, homeward.EINVALID)
			_, err = svc.AddComment(st.manager, c.ID, string(make([]rune, 5001)))
			wantCode(t, "a long comment", err, homeward.EINVALID)
			_, err = svc.Assign(st.manager, c.ID, c.OwnerID, []uuid.UUID{*st.counsellorP.Actor.MemberID})
			must(t, err)
			_, err = svc.AddComment(st.counsellor, c.ID, "x")
			wantCode(t, "a counsellor (core read only) commenting", err, homeward.EFORBIDDEN)
			page, err := svc.Comments(st.counsellor, c.ID, 2, "")
			must(t, err)
			if len(page.Comments) != 2 || page.Comments[0].Text != "first" || page.Next == "" {
				t.Fatalf("first page: %+v", page)
			}
			rest, err := svc.Comments(st.counsellor, c.ID, 2, page.Next)
			must(t, err)
			if len(rest.Comments) != 1 || rest.Comments[0].Text != "third" || rest.Next != "" {
				t.Errorf("second page: %+v", rest)
			}
			_, err = svc.Comments(st.lawyer, c.ID, 0, "")
			wantCode(t, "a lawyer not assigned", err, homeward.ENOTFOUND)
		})
	}
}
