package cases

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// CaseAudit is a case's audit trail (audit.read), newest first. It holds
// ids and codes only, so it stays readable after the case is erased. An id
// that names no case of the organisation (another's, or none) is not_found,
// never an empty trail.
func (s *Service) CaseAudit(ctx context.Context, caseID uuid.UUID, q tenants.AuditQuery) (tenants.AuditPage, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermAuditRead)
	if err != nil {
		return tenants.AuditPage{}, err
	}
	q.RecordType, q.RecordID = recordType, caseID
	var out tenants.AuditPage
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&caseRow{}).Where("id = ?", caseID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return errNoCase
		}
		var err error
		out, err = tenants.ListAudit(tx, q)
		return err
	})
	return out, err
}
