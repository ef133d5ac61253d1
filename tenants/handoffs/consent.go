package handoffs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// SharingConsentWithdrawn is the work of the job a withdrawal of a case's
// sharing consent writes (cases.KindConsentWithdrawn; the worker calls it
// for the sharing purpose): every live handoff (sent, accepted,
// completed) that organisation tenantID sent from case caseID on the
// strength of that consent (basis consent, not an override) and that
// still shares is marked sharing-stopped on both sides, as the sender's
// Withdraw after acceptance does: sharing_stopped_at on both rows,
// handoff.stop_sharing audited on each side (by the system on the
// sender's, as the sender organisation on the receiver's), and the
// receiver told (NoticeSharingStopped, in-app and mail). It returns how
// many handoffs it stopped.
//
// The withdrawal itself stopped every sending operation at once
// (sharingStopped reads the consent in each); this makes it lasting and
// tells the partner. Nothing is done while the consent stands again (one
// given anew before the job ran). Once per handoff, however often or
// concurrently it runs: the sender's row, locked in the sender's step,
// decides (a row stopped already is left alone), and the receiver's step
// writes only after it, in the same transaction.
func (s *Service) SharingConsentWithdrawn(ctx context.Context, tenantID, caseID uuid.UUID) (int, error) {
	ctx = tenants.WithActor(ctx, tenants.SystemActor)
	var rows []handoffRow
	err := s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		consented, err := cases.Consented(tx, caseID, cases.PurposeSharing)
		if err != nil || consented {
			return err
		}
		return tx.Select(clearHandoffColumns).
			Where("side = ? AND case_id = ? AND basis = ? AND state IN ? AND sharing_stopped_at IS NULL",
				SideSender, caseID, BasisConsent, []string{StateSent, StateAccepted, StateCompleted}).
			Order("id").Find(&rows).Error
	})
	if err != nil {
		return 0, err
	}
	stopped := 0
	for _, r := range rows {
		took, now := false, stamp(s.now())
		sender := tenants.TenantStep{Tenant: tenantID, Fn: func(tx *gorm.DB) error {
			took = false // a run again after a deadlock decides afresh
			row, err := loadHandoff(tx, r.ID, true, false)
			if err != nil {
				return err
			}
			if row.SharingStoppedAt != nil || !live(row.State) {
				return nil
			}
			consented, err := cases.Consented(tx, caseID, cases.PurposeSharing)
			if err != nil || consented {
				return err
			}
			if err := save(tx, row, map[string]any{"sharing_stopped_at": now}, now); err != nil {
				return err
			}
			took = true
			return audit(tx, ActionStopSharing, row.ID, nil)
		}}
		receiver := tenants.TenantStep{Tenant: r.PartnerTenantID, Fn: func(tx *gorm.DB) error {
			if !took {
				return nil
			}
			tx = tenants.AsPartner(tx, tenantID)
			row, err := loadHandoff(tx, r.ID, true, false)
			if err != nil {
				// The rows are written together: a missing one is a fault.
				return fmt.Errorf("handoffs: the partner's row of handoff %s: %v", r.ID, err)
			}
			if row.SharingStoppedAt != nil {
				return nil
			}
			if err := save(tx, row, map[string]any{"sharing_stopped_at": now}, now); err != nil {
				return err
			}
			if err := audit(tx, ActionStopSharing, row.ID, nil); err != nil {
				return err
			}
			_, err = notice(tx, row, NoticeSharingStopped)
			return err
		}}
		if err := s.across(ctx, sender, receiver); err != nil {
			return stopped, err
		}
		if took {
			stopped++
		}
	}
	return stopped, nil
}
