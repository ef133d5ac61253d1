package tenants

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Setting is one of an organisation's own settings (default language, time
// zone, and the limits later features make configurable). Tenant-owned.
type Setting struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Key       string
	Value     string
	UpdatedAt time.Time
}

// TableName keeps the table's name explicit.
func (Setting) TableName() string { return "tenant_settings" }

// Settings returns the organisation's settings as a map.
func Settings(tx *gorm.DB) (map[string]string, error) {
	var rows []Setting
	if err := tx.Find(&rows).Error; err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m, nil
}

// SettingValue returns one setting, or "" and false when it is not set.
func SettingValue(tx *gorm.DB, key string) (string, bool, error) {
	var s Setting
	err := tx.Where("key = ?", key).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	return s.Value, err == nil, err
}

// PutSetting sets key to value for the transaction's tenant.
func PutSetting(tx *gorm.DB, key, value string) error {
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&Setting{ID: newID(), Key: key, Value: value, UpdatedAt: time.Now().UTC()}).Error
}

// PutSettings sets several settings in the tenant's transaction.
func (s *Store) PutSettings(ctx context.Context, tenantID uuid.UUID, kv map[string]string) error {
	return s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		for k, v := range kv {
			if err := PutSetting(tx, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}
