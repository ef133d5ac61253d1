package tenants_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// notify asks for a notification and, like the notify:create job would,
// creates it from the outbox row's payload; it returns the notification id.
func notify(t *testing.T, s *tenants.Store, tenant, member, record uuid.UUID) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
		id, err = tenants.Notify(tx, member, "platform:test", "organisation", record)
		return err
	}))
	runNotifyJob(t, s, tenant, id)
	return id
}

// runNotifyJob does the work of the notify:create job whose outbox id is id.
func runNotifyJob(t *testing.T, s *tenants.Store, tenant, id uuid.UUID) {
	t.Helper()
	must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		var row tenants.OutboxMessage
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		var ids map[string]uuid.UUID
		if err := json.Unmarshal([]byte(row.Payload), &ids); err != nil {
			return err
		}
		return tenants.CreateNotification(tx, ids)
	}))
}

func TestNotifyValidates(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	tenant := tenanttest.NewTenant(t, s)
	member, record := uuid.New(), uuid.New()
	for name, tc := range map[string]struct {
		member, record   uuid.UUID
		kind, recordType string
		field            string
	}{
		"no member":           {uuid.Nil, record, "platform:test", "organisation", "member_id"},
		"unknown kind":        {member, record, "case:anything you like", "organisation", "kind"},
		"unknown record type": {member, record, "platform:test", "survivor", "record_type"},
		"no record":           {member, uuid.Nil, "platform:test", "organisation", "record_id"},
	} {
		err := s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
			_, err := tenants.Notify(tx, tc.member, tc.kind, tc.recordType, tc.record)
			return err
		})
		var he *homeward.Error
		if !errors.As(err, &he) || he.Fields[tc.field] == "" {
			t.Errorf("%s: err = %v, want invalid naming %s", name, err, tc.field)
		}
	}
	err := s.Global(context.Background(), func(tx *gorm.DB) error {
		_, err := tenants.Notify(tx, member, "platform:test", "organisation", record)
		return err
	})
	if !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("Notify in Global: err = %v, want ErrNoTenant", err)
	}
	// allowed control
	notify(t, s, tenant, member, record)
}

// TestNotificationsPerMember: a member's list (newest first, paged with an
// opaque cursor), unread count and read marks; another member's
// notification is not found, another tenant's invisible. Each denial is
// paired with its owner doing the same thing.
func TestNotificationsPerMember(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tenant, other := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			alice, bob := uuid.New(), uuid.New()
			var mine []uuid.UUID // alice's, oldest first
			for range 5 {
				mine = append(mine, notify(t, s, tenant, alice, tenant))
			}
			bobs := notify(t, s, tenant, bob, tenant)
			otherTenants := notify(t, s, other, alice, other) // same member id, another organisation

			t.Run("created once even when the job runs twice", func(t *testing.T) {
				runNotifyJob(t, s, tenant, mine[0])
				runNotifyJob(t, s, tenant, mine[0])
				if n, err := s.UnreadNotifications(ctx, tenant, alice); err != nil || n != 5 {
					t.Fatalf("alice's unread = %d, %v; want 5", n, err)
				}
			})

			t.Run("list, newest first, in pages", func(t *testing.T) {
				p1, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: 2})
				must(t, err)
				p2, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: 2, Cursor: p1.NextCursor})
				must(t, err)
				p3, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: 2, Cursor: p2.NextCursor})
				must(t, err)
				// Alice's cursor is hers (the control above): Bob's list refuses it.
				_, err = s.Notifications(ctx, tenant, bob, tenants.NotificationQuery{Limit: 2, Cursor: p1.NextCursor})
				if he, ok := err.(*homeward.Error); !ok || he.Fields["cursor"] == "" {
					t.Fatalf("another member's cursor: err = %v, want invalid naming cursor", err)
				}
				var got []uuid.UUID
				for _, p := range []*tenants.NotificationPage{p1, p2, p3} {
					for _, n := range p.Items {
						got = append(got, n.ID)
						if n.MemberID != alice || n.Kind != "platform:test" || n.RecordType != "organisation" || n.RecordID != tenant || n.ReadAt != nil {
							t.Fatalf("notification = %+v", n)
						}
					}
				}
				want := []uuid.UUID{mine[4], mine[3], mine[2], mine[1], mine[0]}
				if len(got) != len(want) || p1.NextCursor == "" || p2.NextCursor == "" || p3.NextCursor != "" {
					t.Fatalf("pages %d+%d+%d items, cursors %q %q %q", len(p1.Items), len(p2.Items), len(p3.Items), p1.NextCursor, p2.NextCursor, p3.NextCursor)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("order: got %v, want %v", got, want)
					}
				}
				all, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{})
				must(t, err)
				if len(all.Items) != 5 || all.NextCursor != "" {
					t.Fatalf("default page: %d items, cursor %q", len(all.Items), all.NextCursor)
				}
			})

			t.Run("limits and cursors are checked", func(t *testing.T) {
				for _, limit := range []int{-1, 201} {
					_, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: limit})
					if he := (*homeward.Error)(nil); !errors.As(err, &he) || he.Fields["limit"] == "" {
						t.Errorf("limit %d: err = %v", limit, err)
					}
				}
				if _, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: 200}); err != nil {
					t.Errorf("allowed control: limit 200: %v", err)
				}
				p1, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{Limit: 1})
				must(t, err)
				for name, cursor := range map[string]string{"garbage": "not-a-cursor", "another member's": p1.NextCursor} {
					member := alice
					if name == "another member's" {
						member = bob
					}
					_, err := s.Notifications(ctx, tenant, member, tenants.NotificationQuery{Cursor: cursor})
					if he := (*homeward.Error)(nil); !errors.As(err, &he) || he.Fields["cursor"] == "" {
						t.Errorf("%s cursor: err = %v", name, err)
					}
				}
			})

			t.Run("members see only their own", func(t *testing.T) {
				page, err := s.Notifications(ctx, tenant, bob, tenants.NotificationQuery{})
				must(t, err)
				if len(page.Items) != 1 || page.Items[0].ID != bobs {
					t.Fatalf("bob's list = %+v, want his one notification", page.Items)
				}
				// alice cannot mark bob's notification read...
				err = s.MarkNotificationRead(ctx, tenant, alice, bobs)
				if homeward.ErrorCode(err) != homeward.ENOTFOUND {
					t.Fatalf("alice marking bob's notification: err = %v, want not found", err)
				}
				if n, _ := s.UnreadNotifications(ctx, tenant, bob); n != 1 {
					t.Fatalf("bob's unread = %d after alice's attempt, want 1", n)
				}
				// ...bob can, and again without error
				must(t, s.MarkNotificationRead(ctx, tenant, bob, bobs))
				must(t, s.MarkNotificationRead(ctx, tenant, bob, bobs))
				if n, _ := s.UnreadNotifications(ctx, tenant, bob); n != 0 {
					t.Fatalf("bob's unread = %d after marking, want 0", n)
				}
				page, err = s.Notifications(ctx, tenant, bob, tenants.NotificationQuery{})
				must(t, err)
				if page.Items[0].ReadAt == nil {
					t.Fatal("bob's notification has no read time")
				}
				if homeward.ErrorCode(s.MarkNotificationRead(ctx, tenant, bob, uuid.New())) != homeward.ENOTFOUND {
					t.Fatal("marking a notification that does not exist")
				}
			})

			t.Run("other organisations' are invisible", func(t *testing.T) {
				// alice's id in the other organisation: its notification is not hers here
				page, err := s.Notifications(ctx, tenant, alice, tenants.NotificationQuery{})
				must(t, err)
				for _, n := range page.Items {
					if n.ID == otherTenants {
						t.Fatal("another organisation's notification is listed")
					}
				}
				if homeward.ErrorCode(s.MarkNotificationRead(ctx, tenant, alice, otherTenants)) != homeward.ENOTFOUND {
					t.Fatal("marked another organisation's notification read")
				}
				// allowed control: in its own organisation it is there and unread
				if n, _ := s.UnreadNotifications(ctx, other, alice); n != 1 {
					t.Fatalf("unread in the other organisation = %d, want 1", n)
				}
			})

			t.Run("mark all read", func(t *testing.T) {
				must(t, s.MarkNotificationRead(ctx, tenant, alice, mine[2]))
				n, err := s.MarkAllNotificationsRead(ctx, tenant, alice)
				must(t, err)
				if n != 4 {
					t.Fatalf("marked %d, want alice's 4 still unread", n)
				}
				if u, _ := s.UnreadNotifications(ctx, tenant, alice); u != 0 {
					t.Fatalf("alice's unread = %d", u)
				}
				// bob's (read above) and the other organisation's are untouched
				if u, _ := s.UnreadNotifications(ctx, other, alice); u != 1 {
					t.Fatalf("marking all in one organisation changed another's: unread %d", u)
				}
			})
		})
	}
}

// TestCreateNotificationRefusesUnknownKinds: a payload naming a kind or
// record type the code does not know creates nothing.
func TestCreateNotificationRefusesUnknownKinds(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	tenant := tenanttest.NewTenant(t, s)
	ids := map[string]uuid.UUID{"notification": uuid.New(), "member": uuid.New(), "kind": uuid.New(), "record_type": uuid.New(), "record": uuid.New()}
	err := s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error { return tenants.CreateNotification(tx, ids) })
	if homeward.ErrorCode(err) != homeward.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
}
