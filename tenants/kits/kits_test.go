package kits_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// sewingKit is a kit of a sewing machine bought in kip at 21 700 to the
// dollar (USD 300.00) and chairs in dollars (2 × USD 45.50): USD 391.00.
func sewingKit() kits.Request {
	return kits.Request{
		BusinessPlan: "Tailoring for the village, from her home",
		Items: []kits.NewItem{
			{Description: "Sewing machine", Quantity: 1, UnitCostMinor: 6_510_000, Currency: kits.LAK},
			{Description: "Chair", Quantity: 2, UnitCostMinor: 4550, Currency: kits.USD},
		},
		Rates: []kits.NewRate{{Currency: kits.LAK, UnitsPerUSD: "21700"}},
	}
}

// caseAudit is the actions of the case's audit trail, oldest first.
func caseAudit(t *testing.T, s *tenants.Store, st staff) []string {
	t.Helper()
	page, err := cases.New(s).CaseAudit(st.auditor, st.caseID, tenants.AuditQuery{Limit: 200})
	must(t, err)
	var out []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		e := page.Entries[i]
		if strings.HasPrefix(e.Action, "kit.") && e.Action != kits.ActionRead {
			if !slices.Equal(e.FieldGroups, []string{tenants.CaseKit}) {
				t.Errorf("%s audited with field groups %v", e.Action, e.FieldGroups)
			}
			out = append(out, e.Action)
		}
	}
	return out
}

// The whole path: a request converted at its recorded rate, approved by a
// second case manager, disbursed, handed over; each step audited.
func TestKitFromRequestToHandover(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := kits.New(s)
			st := newStaff(t, s)
			k, err := svc.Request(st.social, st.caseID, sewingKit())
			must(t, err)
			if k.State != kits.StateRequested || k.TotalUSDCents != 391_00 || k.LimitUSDCents != kits.DefaultLimitUSDCents ||
				len(k.Items) != 2 || k.Items[0].USDCents != 300_00 || k.Items[1].USDCents != 91_00 || k.Reference != "C-00001" {
				t.Fatalf("requested %+v", k)
			}
			if len(k.Rates) != 1 || k.Rates[0].UnitsPerUSD() != "21700" || k.Rates[0].EnteredBy == nil ||
				*k.Rates[0].EnteredBy != *st.socialP.Actor.MemberID || k.Rates[0].EnteredAt.IsZero() {
				t.Errorf("the rate %+v, want 21700 entered by the social worker", k.Rates)
			}

			k, err = svc.Approve(st.manager, k.ID)
			must(t, err)
			if k.State != kits.StateApproved || k.DecidedBy == nil || *k.DecidedBy != *st.managerP.Actor.MemberID {
				t.Fatalf("approved %+v", k)
			}
			// A kit disbursed spends what each item cost, in its currency.
			_, err = svc.Disburse(st.social, k.ID, kits.Spending{On: today(), Spent: []int64{6_400_000}})
			wantCode(t, "a disbursement missing an item", err, homeward.EINVALID)
			k, err = svc.Disburse(st.social, k.ID, kits.Spending{On: today(), Spent: []int64{6_400_000, 8800}})
			must(t, err)
			// 6 400 000 kip = USD 294.93 (294.9308); 2 chairs USD 88.00.
			if k.State != kits.StateDisbursed || k.Disbursement == nil || k.Disbursement.SpentUSDCents != 294_93+88_00 ||
				*k.Items[0].SpentMinor != 6_400_000 || k.Disbursement.On != today() {
				t.Fatalf("disbursed %+v %+v", k, k.Disbursement)
			}
			k, err = svc.HandOver(st.social, k.ID, kits.NewHandover{On: today(), Place: "Her home in Ban Nong",
				ReceivedConfirmed: true, Note: "She signed the receipt"})
			must(t, err)
			if k.State != kits.StateHandedOver || k.Handover == nil || !k.Handover.ReceivedConfirmed ||
				k.Handover.Place != "Her home in Ban Nong" || k.Handover.Note != "She signed the receipt" {
				t.Fatalf("handed over %+v %+v", k, k.Handover)
			}

			got, err := svc.List(st.manager, st.caseID)
			must(t, err)
			if len(got.Kits) != 1 || got.Kits[0].BusinessPlan != "Tailoring for the village, from her home" ||
				got.Kits[0].Items[0].Description != "Sewing machine" || !got.CanWrite || !got.Open {
				t.Errorf("the case's kits %+v", got)
			}
			want := []string{kits.ActionRequest, kits.ActionApprove, kits.ActionDisburse, kits.ActionHandover}
			if a := caseAudit(t, s, st); !slices.Equal(a, want) {
				t.Errorf("audited %v, want %v", a, want)
			}
		})
	}
}

// A total over the organisation's limit is refused, naming the total and
// the limit, and nothing is stored; the limit itself is allowed.
func TestKitOverTheLimitIsRefused(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := kits.New(s)
			st := newStaff(t, s)
			over := sewingKit()
			over.Items[1].Quantity = 5 // USD 300 + 5 × 45.50 = USD 527.50
			_, err := svc.Request(st.social, st.caseID, over)
			var he *homeward.Error
			if !asError(err, &he) || he.Code != homeward.EINVALID || !strings.Contains(he.Message, "USD 527.50") ||
				!strings.Contains(he.Message, "USD 500.00") || he.Fields["total"] == "" {
				t.Fatalf("over the limit: %v", err)
			}
			got, err := svc.List(st.manager, st.caseID)
			must(t, err)
			if len(got.Kits) != 0 {
				t.Errorf("a refused request was stored: %+v", got.Kits)
			}
			if a := caseAudit(t, s, st); len(a) != 0 {
				t.Errorf("a refused request was audited: %v", a)
			}
			// Exactly the limit: 300 + 200 = 500.
			at := sewingKit()
			at.Items[1] = kits.NewItem{Description: "Table", Quantity: 4, UnitCostMinor: 5000, Currency: kits.USD}
			k, err := svc.Request(st.social, st.caseID, at)
			must(t, err)
			if k.TotalUSDCents != 500_00 {
				t.Errorf("at the limit: total %d", k.TotalUSDCents)
			}

			// The organisation lowers its limit: a waiting request over it
			// is not approved.
			_, err = svc.SetLimit(st.manager, 300_00)
			wantCode(t, "a case manager setting the limit", err, homeward.EFORBIDDEN)
			_, err = svc.SetLimit(st.admin, 0)
			wantCode(t, "a limit of 0", err, homeward.EINVALID)
			n, err := svc.SetLimit(st.admin, 450_00)
			must(t, err)
			if read, err := svc.Limit(st.auditor); err != nil || read != 450_00 || n != 450_00 {
				t.Errorf("the limit read back: %d %v", read, err)
			}
			_, err = svc.Approve(st.manager, k.ID)
			wantCode(t, "approving over the lowered limit", err, homeward.ECONFLICT)
			_, err = svc.Request(st.social, st.caseID, sewingKit()) // USD 391 fits under 450
			must(t, err)
		})
	}
}

func asError(err error, target **homeward.Error) bool {
	if e, ok := err.(*homeward.Error); ok {
		*target = e
		return true
	}
	return false
}

// The two-person rule: the requester may not approve, nor may an API
// token (even one with a case manager's role); another case manager may.
// A decided request is final.
func TestKitApprovedByASecondPersonOnly(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := kits.New(s)
			st := newStaff(t, s)
			k, err := svc.Request(st.manager, st.caseID, sewingKit())
			must(t, err)

			_, err = svc.Approve(st.manager, k.ID)
			wantCode(t, "the requester approving", err, homeward.EFORBIDDEN)
			tok, err := s.CreateAPIToken(st.admin, tenants.NewAPIToken{Name: "integration",
				Roles: []tenants.Role{tenants.RoleCaseManager}, ExpiresAt: time.Now().Add(24 * time.Hour)})
			must(t, err)
			tp, err := s.AuthenticateAPIToken(context.Background(), tok.Token)
			must(t, err)
			_, err = svc.Approve(tenants.WithPrincipal(context.Background(), tp), k.ID)
			wantCode(t, "an API token approving", err, homeward.EFORBIDDEN)
			_, err = svc.Approve(st.social, k.ID)
			wantCode(t, "a social worker approving", err, homeward.EFORBIDDEN)
			got, err := svc.Get(st.manager, k.ID)
			must(t, err)
			if got.State != kits.StateRequested || got.DecidedAt != nil {
				t.Fatalf("after the refused approvals: %+v", got)
			}

			approved, err := svc.Approve(st.manager2, k.ID)
			must(t, err)
			if approved.State != kits.StateApproved || *approved.DecidedBy != *st.manager2P.Actor.MemberID {
				t.Fatalf("approved by the second case manager: %+v", approved)
			}
			_, err = svc.Change(st.manager, k.ID, sewingKit())
			wantCode(t, "changing an approved request", err, homeward.ECONFLICT)
			_, err = svc.Approve(st.manager2, k.ID)
			wantCode(t, "approving twice", err, homeward.ECONFLICT)
			_, err = svc.Reject(st.manager2, k.ID, "too late")
			wantCode(t, "rejecting an approved request", err, homeward.ECONFLICT)
			_, err = svc.HandOver(st.social, k.ID, kits.NewHandover{On: today(), Place: "Home", ReceivedConfirmed: true})
			wantCode(t, "handing over before the disbursement", err, homeward.ECONFLICT)
		})
	}
}

// A token's request is approved by neither the token nor the member who
// made it; a change makes the changer the requester.
func TestKitRequesterIsWhoShapedItLast(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := kits.New(s)
	st := newStaff(t, s)
	k, err := svc.Request(st.manager, st.caseID, sewingKit())
	must(t, err)
	changed := sewingKit()
	changed.Items = changed.Items[:1]
	k, err = svc.Change(st.manager2, k.ID, changed)
	must(t, err)
	if len(k.Items) != 1 || k.TotalUSDCents != 300_00 || *k.RequestedBy != *st.manager2P.Actor.MemberID {
		t.Fatalf("changed %+v", k)
	}
	_, err = svc.Approve(st.manager2, k.ID)
	wantCode(t, "the one who changed it approving", err, homeward.EFORBIDDEN)
	_, err = svc.Approve(st.manager, k.ID)
	must(t, err)
	if a := caseAudit(t, s, st); !slices.Equal(a, []string{kits.ActionRequest, kits.ActionChange, kits.ActionApprove}) {
		t.Errorf("audited %v", a)
	}
}

// A rejection needs a reason and is final.
func TestKitRejectedWithAReason(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := kits.New(s)
	st := newStaff(t, s)
	k, err := svc.Request(st.social, st.caseID, sewingKit())
	must(t, err)
	_, err = svc.Reject(st.manager, k.ID, "  ")
	wantCode(t, "a rejection without a reason", err, homeward.EINVALID)
	k, err = svc.Reject(st.manager, k.ID, "Buy a second-hand machine")
	must(t, err)
	if k.State != kits.StateRejected || k.RejectionReason != "Buy a second-hand machine" {
		t.Fatalf("rejected %+v", k)
	}
	_, err = svc.Approve(st.manager2, k.ID)
	wantCode(t, "approving a rejected request", err, homeward.ECONFLICT)
	_, err = svc.Disburse(st.social, k.ID, kits.Spending{On: today()})
	wantCode(t, "disbursing a rejected request", err, homeward.ECONFLICT)
	if a := caseAudit(t, s, st); !slices.Equal(a, []string{kits.ActionRequest, kits.ActionReject}) {
		t.Errorf("audited %v", a)
	}
}

// Who reaches the kits: the case part as docs/permissions.md has it.
func TestKitAccessFollowsTheCase(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	svc := kits.New(s)
	st := newStaff(t, s)
	k, err := svc.Request(st.social, st.caseID, sewingKit())
	must(t, err)

	_, err = svc.List(st.social, st.caseID)
	must(t, err) // control: the assigned social worker
	_, err = svc.List(st.otherSocial, st.caseID)
	wantCode(t, "a social worker not assigned", err, homeward.ENOTFOUND)
	_, err = svc.Get(st.otherSocial, k.ID)
	wantCode(t, "a social worker not assigned, by the kit", err, homeward.ENOTFOUND)
	_, err = svc.List(st.counsellor, st.caseID)
	wantCode(t, "the assigned counsellor (no kit part)", err, homeward.EFORBIDDEN)
	_, err = svc.Get(st.counsellor, k.ID)
	wantCode(t, "the assigned counsellor, by the kit", err, homeward.ENOTFOUND)
	_, err = svc.Request(st.counsellor, st.caseID, sewingKit())
	wantCode(t, "the assigned counsellor requesting", err, homeward.EFORBIDDEN)

	otherOrg := newOrg(t, s)
	otherManager, _ := member(t, s, otherOrg, "cm-other", tenants.RoleCaseManager)
	_, err = svc.Get(otherManager, k.ID)
	wantCode(t, "another organisation's case manager", err, homeward.ENOTFOUND)
	_, err = svc.Approve(otherManager, k.ID)
	wantCode(t, "another organisation's case manager approving", err, homeward.ENOTFOUND)
	_, err = svc.Request(otherManager, st.caseID, sewingKit())
	wantCode(t, "another organisation's case manager requesting", err, homeward.ENOTFOUND)

	// A closed case takes no new request.
	must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
		for _, to := range []cases.Stage{cases.StageShelter, cases.StageReintegrated} {
			if err := cases.MoveStage(tx, st.caseID, to, "", time.Now()); err != nil {
				return err
			}
		}
		return cases.MoveStage(tx, st.caseID, cases.StageClosed, "Follow-up completed", time.Now())
	}))
	_, err = svc.Request(st.social, st.caseID, sewingKit())
	wantCode(t, "a request on a closed case", err, homeward.ECONFLICT)
}

// Bad requests name each field; dates follow the path.
func TestKitFieldsAreChecked(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	svc := kits.New(s)
	st := newStaff(t, s)
	bad := kits.Request{Items: []kits.NewItem{
		{Description: "", Quantity: 0, UnitCostMinor: -1, Currency: "EUR"},
		{Description: "Scissors", Quantity: 1, UnitCostMinor: 100, Currency: kits.THB},
	}, Rates: []kits.NewRate{{Currency: kits.LAK, UnitsPerUSD: "21700"}}}
	_, err := svc.Request(st.social, st.caseID, bad)
	var he *homeward.Error
	if !asError(err, &he) {
		t.Fatalf("bad request: %v", err)
	}
	for _, field := range []string{"business_plan", "items[0].description", "items[0].quantity", "items[0].unit_cost_minor",
		"items[0].currency", "rates[0].currency", "rates"} {
		if he.Fields[field] == "" {
			t.Errorf("no reason for %s: %v", field, he.Fields)
		}
	}
	k, err := svc.Request(st.social, st.caseID, sewingKit())
	must(t, err)
	k, err = svc.Approve(st.manager, k.ID)
	must(t, err)
	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	_, err = svc.Disburse(st.social, k.ID, kits.Spending{On: tomorrow, Spent: []int64{1, -1, 5}})
	if !asError(err, &he) || he.Fields["disbursed_on"] == "" || he.Fields["spent"] == "" || he.Fields["spent[1]"] == "" {
		t.Errorf("a disbursement in the future, of three items (one negative) for two: %v", err)
	}
	k, err = svc.Disburse(st.social, k.ID, kits.Spending{On: today(), Spent: []int64{1, 1}})
	must(t, err)
	_, err = svc.HandOver(st.social, k.ID, kits.NewHandover{On: "2001-01-01", Place: ""})
	if !asError(err, &he) || he.Fields["handed_over_on"] == "" || he.Fields["place"] == "" {
		t.Errorf("a hand-over before the disbursement, without a place: %v", err)
	}
}
