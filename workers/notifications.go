package workers

import (
	"context"
	"fmt"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"
)

// RegisterNotifications registers the notify:create handler (tenants.Notify
// writes its jobs).
func RegisterNotifications(r *Registry) {
	r.Register(tenants.KindNotifyCreate, CreateNotification)
}

// CreateNotification is the notify:create handler: it inserts the
// notification the job names. The row's id is the job's, so a second
// delivery inserts nothing (and the worker's done mark already skips it).
func CreateNotification(_ context.Context, tx *gorm.DB, ids map[string]uuid.UUID) error {
	err := tenants.CreateNotification(tx, ids)
	if homeward.ErrorCode(err) == homeward.EINVALID {
		return fmt.Errorf("%s: %w", homeward.ErrorMessage(err), asynq.SkipRetry)
	}
	return err
}
