package workers_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// TestNotificationCreatedOnceThroughTheOutbox: a notification asked for in
// a committed transaction is created by its job, once, even when the job is
// delivered again and when its handler runs twice; one asked for in a
// rolled-back transaction never is. Other members and organisations see
// nothing of it.
func TestNotificationCreatedOnceThroughTheOutbox(t *testing.T) {
	t.Parallel()
	for name, store := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, store, sharedRedis(t))
			workers.RegisterNotifications(r.reg)
			ctx := context.Background()
			tenant, other := tenanttest.NewTenant(t, store), tenanttest.NewTenant(t, store)
			member, bystander := uuid.New(), uuid.New()

			boom := errors.New("the business write failed")
			var rolledBack uuid.UUID
			err := store.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
				rolledBack, err = tenants.Notify(tx, member, "platform:test", "organisation", tenant)
				must(t, err)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			var id uuid.UUID
			must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
				id, err = tenants.Notify(tx, member, "platform:test", "organisation", tenant)
				return err
			}))
			if _, ok := r.row(rolledBack); ok {
				t.Fatal("a rolled-back Notify left an outbox row")
			}
			// Notify writes to the default queue; this test keeps to its own.
			must(t, store.Global(ctx, func(tx *gorm.DB) error {
				return tx.Model(&tenants.OutboxMessage{}).Where("id = ?", id).Update("queue", r.queue).Error
			}))
			r.runRelay(r.relay)
			shutdown := r.startWorker()
			row := r.waitStatus(id, tenants.OutboxDone)

			// Delivered again (a stale relay's late send): the worker skips it.
			// The row is done when the handler's transaction commits; asynq
			// drops the first task a moment later, and only then may the
			// same task id be enqueued again.
			eventually(t, 20*time.Second, func() bool {
				_, err := r.insp.GetTaskInfo(r.queue, row.ID.String())
				return errors.Is(err, asynq.ErrTaskNotFound)
			}, func() string { return "the first delivery stayed in the queue" })
			task := asynq.NewTaskWithHeaders(row.Kind, []byte(row.Payload), map[string]string{
				workers.HeaderOutbox: row.ID.String(), workers.HeaderTenant: tenant.String()})
			_, err = r.client.Enqueue(task, asynq.TaskID(row.ID.String()), asynq.Queue(r.queue))
			must(t, err)
			eventually(t, 20*time.Second, func() bool {
				_, err := r.insp.GetTaskInfo(r.queue, row.ID.String())
				return errors.Is(err, asynq.ErrTaskNotFound)
			}, func() string { return "the second delivery was not consumed" })
			shutdown()
			// And the handler itself, run twice past the done check, adds
			// nothing either.
			var ids map[string]uuid.UUID
			must(t, json.Unmarshal([]byte(row.Payload), &ids))
			for range 2 {
				must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error { return workers.CreateNotification(ctx, tx, ids) }))
			}

			page, err := store.Notifications(ctx, tenant, member, tenants.NotificationQuery{})
			must(t, err)
			if len(page.Items) != 1 || page.Items[0].ID != id || page.Items[0].RecordID != tenant {
				t.Fatalf("the member's notifications = %+v, want the one asked for", page.Items)
			}
			if n, _ := store.UnreadNotifications(ctx, tenant, member); n != 1 {
				t.Fatalf("unread = %d, want 1", n)
			}
			if n, _ := store.UnreadNotifications(ctx, tenant, bystander); n != 0 {
				t.Fatalf("another member has %d unread", n)
			}
			if n, _ := store.UnreadNotifications(ctx, other, member); n != 0 {
				t.Fatalf("the same member id in another organisation has %d unread", n)
			}
		})
	}
}
