package tenants

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// numberCounter is a row of a per-organisation counter table
// (case_numbers, handoff_numbers): (tenant_id, last_number).
type numberCounter struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	LastNumber int64
}

// TakeNumbers reserves n consecutive numbers from the counter table of
// tx's organisation (a table of this package's migrations with the
// columns tenant_id and last_number, named by the caller's code, never by
// input) and returns the first. The counter row stays locked until the
// transaction ends, so concurrent transactions take distinct, consecutive
// numbers: case numbers C-00042, handoff numbers H-00007.
func TakeNumbers(tx *gorm.DB, table string, n int) (int64, error) {
	if n < 1 {
		return 0, fmt.Errorf("tenants: take %d numbers from %s", n, table)
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	err := db.Table(table).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}},
		DoUpdates: clause.Assignments(map[string]any{"last_number": gorm.Expr(table+".last_number + ?", n)}),
	}).Create(&numberCounter{LastNumber: int64(n)}).Error
	if err != nil {
		return 0, fmt.Errorf("tenants: take a number from %s: %w", table, err)
	}
	var c numberCounter
	if err := db.Table(table).Take(&c).Error; err != nil {
		return 0, err
	}
	return c.LastNumber - int64(n) + 1, nil
}
