package tenants_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

func TestQueueMailValidates(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	tenant := tenanttest.NewTenant(t, s)
	valid := tenants.Mail{To: "staff@example.org", Template: "platform:test", Language: "lo"}
	for name, tc := range map[string]struct {
		change func(*tenants.Mail)
		field  string
	}{
		"no address":        {func(m *tenants.Mail) { m.To = "" }, "to"},
		"not an address":    {func(m *tenants.Mail) { m.To = "staff at example.org" }, "to"},
		"display name":      {func(m *tenants.Mail) { m.To = "Somchai <staff@example.org>" }, "to"},
		"two addresses":     {func(m *tenants.Mail) { m.To = "a@example.org, b@example.org" }, "to"},
		"header injection":  {func(m *tenants.Mail) { m.To = "a@example.org\r\nBcc: b@example.org" }, "to"},
		"too long":          {func(m *tenants.Mail) { m.To = strings.Repeat("a", 250) + "@example.org" }, "to"},
		"unknown template":  {func(m *tenants.Mail) { m.Template = "case:secret" }, "template"},
		"unknown language":  {func(m *tenants.Mail) { m.Language = "de" }, "language"},
		"zero id":           {func(m *tenants.Mail) { m.IDs = map[string]uuid.UUID{"case": uuid.Nil} }, "ids"},
		"id name not a key": {func(m *tenants.Mail) { m.IDs = map[string]uuid.UUID{"Case Name": uuid.New()} }, "ids"},
	} {
		t.Run(name, func(t *testing.T) {
			m := valid
			tc.change(&m)
			err := s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
				_, err := tenants.QueueMail(tx, m)
				return err
			})
			var he *homeward.Error
			if !errors.As(err, &he) || he.Code != homeward.EINVALID || he.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want invalid naming %s", err, tc.field)
			}
			if m.To != "" && strings.Contains(he.Error(), m.To) {
				t.Fatalf("the error quotes the address: %v", he)
			}
		})
	}
	// allowed control, with every language
	for _, lang := range []string{"lo", "th", "ms", "en", "fr"} {
		m := valid
		m.Language, m.IDs = lang, map[string]uuid.UUID{"case": uuid.New()}
		must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
			_, err := tenants.QueueMail(tx, m)
			return err
		}))
	}
	// outside a tenant's transaction
	err := s.Global(context.Background(), func(tx *gorm.DB) error {
		_, err := tenants.QueueMail(tx, valid)
		return err
	})
	if !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("QueueMail in Global: err = %v, want ErrNoTenant", err)
	}
}

// TestQueueMailWritesRowAndJobTogether: the mail record and its outbox job
// commit together or not at all; the record is the tenant's alone.
func TestQueueMailWritesRowAndJobTogether(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			caseID := uuid.New()

			var rolledBack *tenants.MailMessage
			boom := errors.New("the business write failed")
			err := s.InTenant(ctx, a, func(tx *gorm.DB) (err error) {
				rolledBack, err = tenants.QueueMail(tx, tenants.Mail{To: "x@example.org", Template: "platform:test", Language: "th"})
				must(t, err)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			var committed *tenants.MailMessage
			must(t, s.InTenant(ctx, a, func(tx *gorm.DB) (err error) {
				committed, err = tenants.QueueMail(tx, tenants.Mail{To: " staff@example.org ", Template: "platform:test", Language: "th",
					IDs: map[string]uuid.UUID{"case": caseID}})
				return err
			}))

			if committed.Status != tenants.MailQueued || committed.ToAddress != "staff@example.org" ||
				committed.MessageID != "<"+committed.ID.String()+"@homeward>" || committed.MessageID != tenants.MessageIDOf(committed.ID) {
				t.Fatalf("queued mail = %+v", committed)
			}
			if got, _ := committed.IDs(); got["case"] != caseID || len(got) != 1 {
				t.Fatalf("params = %q", committed.Params)
			}

			var outbox []tenants.OutboxMessage
			must(t, s.Global(ctx, func(tx *gorm.DB) error {
				return tx.Where("kind = ? AND tenant_id = ?", tenants.KindMailSend, a).Find(&outbox).Error
			}))
			if len(outbox) != 1 || outbox[0].Payload != `{"mail":"`+committed.ID.String()+`"}` {
				t.Fatalf("outbox rows for A's mail = %+v, want the committed mail's job only", outbox)
			}
			if strings.Contains(outbox[0].Payload, "example.org") {
				t.Fatal("the job's payload holds the address")
			}
			err = s.InTenant(ctx, a, func(tx *gorm.DB) error { _, err := tenants.MailByID(tx, rolledBack.ID); return err })
			if homeward.ErrorCode(err) != homeward.ENOTFOUND {
				t.Fatalf("the rolled-back mail: err = %v, want not found", err)
			}

			// Tenant isolation: B cannot read A's mail; A can (control).
			err = s.InTenant(ctx, b, func(tx *gorm.DB) error { _, err := tenants.MailByID(tx, committed.ID); return err })
			if homeward.ErrorCode(err) != homeward.ENOTFOUND {
				t.Fatalf("tenant B reading A's mail: err = %v, want not found", err)
			}
			must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error { _, err := tenants.MailByID(tx, committed.ID); return err }))
		})
	}
}

// TestMailRowsUnderRowLevelSecurity: raw SQL as the app role, which the
// GORM callbacks never see, reaches only the tenant's own mail.
func TestMailRowsUnderRowLevelSecurity(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		_, err := tenants.QueueMail(tx, tenants.Mail{To: "a@example.org", Template: "platform:test", Language: "en"})
		return err
	}))
	count := func(tenant uuid.UUID) (n int64) {
		must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
			return tx.Raw("SELECT count(*) FROM mail_messages WHERE tenant_id = ?", a).Scan(&n).Error
		}))
		return n
	}
	if n := count(b); n != 0 {
		t.Fatalf("raw SQL in B counts %d of A's mail", n)
	}
	if n := count(a); n != 1 {
		t.Fatalf("allowed control: raw SQL in A counts %d of its mail, want 1", n)
	}
}
