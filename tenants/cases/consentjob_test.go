package cases_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestConsentWithdrawalWritesItsJob: a withdrawal writes one
// cases:consent_withdrawn job naming the case and the purpose (by its id)
// in its transaction; recording a consent, and a withdrawal refused
// (nothing standing), write none.
func TestConsentWithdrawalWritesItsJob(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := cases.New(s)
			st := newStaff(t, s)
			c, err := svc.Create(st.manager, intake("Noy", "2008-03-01"))
			must(t, err)
			jobs := func() []tenants.OutboxMessage {
				var rows []tenants.OutboxMessage
				must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
					return tx.Where("tenant_id = ? AND kind = ?", st.org, cases.KindConsentWithdrawn).Find(&rows).Error
				}))
				return rows
			}
			_, err = svc.RecordConsent(st.manager, c.ID, cases.NewConsent{Purpose: cases.PurposeSharing,
				GivenBy: cases.GivenByGirl, GivenOn: "2024-05-01", Basis: cases.BasisSignedForm})
			must(t, err)
			if n := len(jobs()); n != 0 {
				t.Fatalf("recording a consent wrote %d jobs", n)
			}
			_, err = svc.WithdrawConsent(st.manager, c.ID, cases.PurposeStatistics, "")
			wantCode(t, "withdrawing a consent never given", err, homeward.ECONFLICT)
			if n := len(jobs()); n != 0 {
				t.Fatalf("a refused withdrawal wrote %d jobs", n)
			}

			_, err = svc.WithdrawConsent(st.manager, c.ID, cases.PurposeSharing, "she changed her mind")
			must(t, err)
			rows := jobs()
			if len(rows) != 1 {
				t.Fatalf("%d jobs after the withdrawal, want 1", len(rows))
			}
			var ids map[string]uuid.UUID
			must(t, json.Unmarshal([]byte(rows[0].Payload), &ids))
			purpose, ok := cases.PurposeOfID(ids["purpose"])
			if ids["case"] != c.ID || !ok || purpose != cases.PurposeSharing || len(ids) != 2 {
				t.Fatalf("the job's ids: %v (purpose %q, %v)", ids, purpose, ok)
			}
			if _, ok := cases.PurposeOfID(uuid.New()); ok {
				t.Fatal("a random id stands for a purpose")
			}
		})
	}
}
