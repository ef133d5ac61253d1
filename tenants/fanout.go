package tenants

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// EnqueueForEachTenant writes job into the outbox once for every
// organisation, each row carrying its organisation so that the worker runs
// the handler inside InTenant for it. tx is a Global transaction (a
// platform-wide periodic job fanning out per-tenant work: audit checkpoints,
// retention). job.ID is required: each row's id derives from it and the
// organisation, so a redelivered fan-out writes nothing twice. It returns
// how many rows it wrote.
func EnqueueForEachTenant(tx *gorm.DB, job Job) (int, error) {
	if !kindPattern.MatchString(job.Kind) {
		return 0, errors.New("tenants: job kind must look like area:action")
	}
	if len(job.IDs) > 0 {
		return 0, errors.New("tenants: a job for every organisation carries no record ids")
	}
	if job.ID == uuid.Nil {
		return 0, errors.New("tenants: EnqueueForEachTenant needs the job id each organisation's id derives from")
	}
	if _, in := txTenantFrom(tx.Statement.Context); in {
		return 0, errors.New("tenants: EnqueueForEachTenant runs in a Global transaction")
	}
	if job.Queue == "" {
		job.Queue = "default"
	}
	var ids []uuid.UUID
	if err := tx.Model(&Tenant{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	written := 0
	for _, id := range ids {
		tenant := id
		m := &OutboxMessage{
			ID: uuid.NewSHA1(job.ID, tenant[:]), TenantID: &tenant,
			Kind: job.Kind, Queue: job.Queue, Payload: "{}", Status: OutboxPending, CreatedAt: time.Now().UTC(),
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(m)
		if res.Error != nil {
			return written, res.Error
		}
		written += int(res.RowsAffected)
	}
	return written, nil
}
