package tenants_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// Tell: a member with a contact address gets the notification and the
// mail (in the address's language, carrying the ids only); a member
// without one gets the notification alone.
func TestTellNotifiesAndMailsWhoGaveAnAddress(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	a := orgWithProvider(t, s, testIssuer)
	withAddress := signIn(t, s, a, "a-with", "g-social_worker")
	without := signIn(t, s, a, "a-without", "g-social_worker")
	if _, err := s.SetMemberContact(tenants.WithPrincipal(ctx, withAddress),
		tenants.MemberContact{Address: "worker@afesip.example.org", Language: "lo"}); err != nil {
		t.Fatal(err)
	}
	record := uuid.New()
	n := tenants.Notice{Kind: "platform:test", RecordType: "organisation", RecordID: record, Template: "platform:test",
		MailIDs: map[string]uuid.UUID{"organisation": record}}
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		for _, p := range []*tenants.Principal{withAddress, without} {
			if err := tenants.Tell(tx, *p.Actor.MemberID, n); err != nil {
				return err
			}
		}
		return nil
	}))
	var notices int64
	var mails []tenants.MailMessage
	must(t, s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Model(&tenants.OutboxMessage{}).Where("kind = ? AND tenant_id = ?", tenants.KindNotifyCreate, a).
			Count(&notices).Error
	}))
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error { return tx.Find(&mails).Error }))
	if notices != 2 {
		t.Errorf("%d notifications asked for, want one for each member", notices)
	}
	if len(mails) != 1 || mails[0].ToAddress != "worker@afesip.example.org" || mails[0].Language != "lo" ||
		mails[0].Template != "platform:test" {
		t.Fatalf("mails: %+v, want one to the member who gave an address", mails)
	}
}
