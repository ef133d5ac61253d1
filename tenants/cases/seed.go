package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// ActionSeed is the audit action of a batch of seeded cases.
const ActionSeed = "case.seed"

// seedChunk is how many cases one INSERT writes: enough to make the
// round trips few, few enough that binding stays cheap (the SQLite
// driver's cost grows faster than the number of parameters).
const seedChunk = 100

// SeedCases writes a batch of cases for seeding (demo and synthetic data) as
// the system: one transaction, values checked as Create checks them,
// consents recorded, one audit row (case.seed) for the batch. The cases
// are at their NewCase.Stage (a closed or referred one closed now), without
// owner. Rows, their data keys and blind-index entries are written in
// multi-row INSERTs, so a batch of a few hundred cases costs a few dozen
// statements.
func SeedCases(ctx context.Context, store *tenants.Store, tenantID uuid.UUID, batch []NewCase) error {
	if len(batch) == 0 {
		return nil
	}
	now := stamp(time.Now())
	ncs := make([]newCase, len(batch))
	for i, nc := range batch {
		checked, err := checkNewCase(nc, now)
		if err != nil {
			return fmt.Errorf("cases: seed case %d of the batch: %w", i, err)
		}
		ncs[i] = checked
	}
	ctx = tenants.WithActor(ctx, tenants.SystemActor)
	return store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		first, err := tenants.TakeNumbers(tx, "case_numbers", len(batch))
		if err != nil {
			return err
		}
		var rows []*caseRow
		for start := 0; start < len(ncs); start += seedChunk {
			end := min(start+seedChunk, len(ncs))
			chunk, err := insertCases(tx, now, ncs[start:end], first+int64(start))
			if err != nil {
				return err
			}
			rows = append(rows, chunk...)
		}
		var consents []consentRow
		for i, nc := range batch {
			for _, c := range nc.Consents {
				consents = append(consents, consentRow{ID: uuid.Must(uuid.NewV7()), CaseID: rows[i].ID,
					DataKeyID: rows[i].ID, Purpose: c.Purpose, GivenBy: c.GivenBy, GivenOn: c.GivenOn,
					Basis: c.Basis, RecordedAt: now})
			}
		}
		if len(consents) > 0 {
			if err := tx.CreateInBatches(&consents, seedChunk).Error; err != nil {
				return err
			}
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionSeed, RecordType: recordType})
	})
}
