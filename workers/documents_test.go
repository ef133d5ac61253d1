package workers_test

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// TestDocumentPurgeRunsInTheBackground: the daily purge, through scheduler,
// relay and worker, removes a deleted document's content and row and keeps
// a live one.
func TestDocumentPurgeRunsInTheBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	bucket, err := tenants.OpenDocumentBucket(ctx, "file://"+t.TempDir())
	must(t, err)
	defer bucket.Close()
	workers.RegisterDocumentJobs(r.reg, bucket, nil)

	tenant := tenanttest.NewTenant(t, store)
	add := func(name string) *tenants.Document {
		var d *tenants.Document
		must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
			d, err = tenants.StoreDocument(tx, bucket, tenants.NewDocument{
				DataKeyID: uuid.New(), FieldGroup: tenants.FieldGroupIdentity, Filename: name,
				Content: strings.NewReader("plain text of " + name), Purpose: "services",
			}, tenants.DocumentLimits{})
			return err
		}))
		return d
	}
	gone, kept := add("gone.txt"), add("kept.txt")
	must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.DeleteDocument(tx, gone.ID, "services") }))

	period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(100_000)) * 24 * time.Hour)
	s := &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{{Kind: workers.KindDocumentsPurgeAll, Queue: r.queue, Every: 24 * time.Hour}},
		Now: func() time.Time { return period.Add(time.Minute) }}
	must(t, s.RunOnce(ctx))
	r.runRelay(r.relay)
	r.startWorker()
	all := workers.PeriodID(workers.KindDocumentsPurgeAll, period)
	r.waitStatus(all, tenants.OutboxDone)
	r.waitStatus(uuid.NewSHA1(all, tenant[:]), tenants.OutboxDone)

	if ok, err := bucket.Exists(ctx, gone.BlobKey); err != nil || ok {
		t.Fatalf("the deleted document's content is still stored (%v)", err)
	}
	if ok, err := bucket.Exists(ctx, kept.BlobKey); err != nil || !ok {
		t.Fatalf("control: the live document's content is gone (%v)", err)
	}
	must(t, store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		_, _, err := tenants.OpenDocument(tx, bucket, kept.ID, "services")
		return err
	}))
	err = store.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		_, _, err := tenants.OpenDocument(tx, bucket, gone.ID, "services")
		return err
	})
	var he *homeward.Error
	if !errors.As(err, &he) || he.Code != homeward.ENOTFOUND {
		t.Fatalf("the purged document: err = %v, want not found", err)
	}
}
