package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gorm.io/gorm"
)

// Document storage's background work (tenants/documents.go): every day each
// organisation's deleted documents lose their stored content and row, and
// contents no row names (an upload whose transaction rolled back) are
// removed once older than tenants.DocumentOrphanGrace.
const (
	KindDocumentsPurgeAll = "documents:purge_all" // platform-wide: one documents:purge per organisation
	KindDocumentsPurge    = "documents:purge"     // an organisation's purge
)

// DocumentPeriodicJobs is document storage's part of the schedule.
func DocumentPeriodicJobs() []PeriodicJob {
	return []PeriodicJob{{Kind: KindDocumentsPurgeAll, Queue: "low", Every: 24 * time.Hour}}
}

// RegisterDocumentJobs registers the purge handlers on the document bucket.
func RegisterDocumentJobs(r *Registry, bucket *blob.Bucket, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.Register(KindDocumentsPurgeAll, fanOut(KindDocumentsPurge))
	r.Register(KindDocumentsPurge, func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		rep, err := tenants.PurgeTenantDocuments(tx, bucket, tenants.DocumentOrphanGrace)
		if err == nil && rep.Deleted+rep.Orphans > 0 {
			tenant, _ := tenants.TenantFrom(ctx)
			log.InfoContext(ctx, "documents purged", "tenant", tenant.String(), "deleted", rep.Deleted, "orphans", rep.Orphans)
		}
		return err
	})
}
