package tenants

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/afesip/homeward"
	"gorm.io/gorm"
)

// Audit retention: each organisation keeps its audit rows for
// audit_retention_days (a tenant setting), then the daily prune removes them
// from the front of the chain. PostgreSQL's audit_prune function enforces
// the same bounds: keep them in step (migrations/postgres/00003_audit.sql).
const (
	SettingAuditRetentionDays = "audit_retention_days"
	DefaultAuditRetentionDays = 3650  // ten years
	MinAuditRetentionDays     = 365   // a shorter setting counts as this: nobody can wipe recent history through a setting
	MaxAuditRetentionDays     = 36500 // a hundred years
)

var daysPattern = regexp.MustCompile(`^[0-9]{1,6}$`)

// retentionDays reads a stored setting the way audit_prune does: missing or
// malformed is the default, and the result is held within the bounds.
func retentionDays(v string, ok bool) int {
	days := DefaultAuditRetentionDays
	if ok && daysPattern.MatchString(v) {
		days, _ = strconv.Atoi(v)
	}
	return min(max(days, MinAuditRetentionDays), MaxAuditRetentionDays)
}

// AuditRetentionDays is how many days the transaction's tenant keeps its
// audit rows.
func AuditRetentionDays(tx *gorm.DB) (int, error) {
	v, ok, err := SettingValue(tx, SettingAuditRetentionDays)
	if err != nil {
		return 0, err
	}
	return retentionDays(v, ok), nil
}

// SetAuditRetentionDays sets how many days the transaction's tenant keeps
// its audit rows.
func SetAuditRetentionDays(tx *gorm.DB, days int) error {
	if days < MinAuditRetentionDays || days > MaxAuditRetentionDays {
		return homeward.Invalid(map[string]string{SettingAuditRetentionDays: fmt.Sprintf("%d to %d days", MinAuditRetentionDays, MaxAuditRetentionDays)})
	}
	return PutSetting(tx, SettingAuditRetentionDays, strconv.Itoa(days))
}

// ActionAuditPrune is the audit entry a prune leaves in the chain.
const ActionAuditPrune = "audit.prune"

// AuditPruneReport says what PruneAudit did.
type AuditPruneReport struct {
	Pruned int64 // rows removed
	Anchor int64 // the chain now starts after this seq
}

// ErrAuditPruneRefused: the rows due for pruning do not verify, so they are
// kept as evidence until someone has looked (homeward audit verify).
var ErrAuditPruneRefused = errors.New("tenants: audit prune refused: the rows due for pruning do not verify; run homeward audit verify")

// PruneAudit removes, in the transaction's tenant, the audit rows older
// than its retention: always a prefix of the chain (the rows up to the first
// one still within retention). It first checks that those rows verify, then
// moves the chain's anchor to the last pruned row (its seq, hash and time,
// signed with the chain key) so that verification starts from there, and
// records the prune itself as an audit entry (ActionAuditPrune).
//
// On PostgreSQL the app role cannot delete audit rows: the deletion runs in
// audit_prune, a function running with its owner's rights that deletes only
// rows of the tenant set by InTenant, only up to the requested seq, and only
// when every one of them is older than the tenant's retention.
func PruneAudit(tx *gorm.DB) (AuditPruneReport, error) {
	var rep AuditPruneReport
	tenant, ok := txTenantFrom(tx.Statement.Context)
	if !ok {
		return rep, ErrNoTenant
	}
	days, err := AuditRetentionDays(tx)
	if err != nil {
		return rep, err
	}
	cutoff := time.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
	db := tx.Session(&gorm.Session{NewDB: true})
	var heads []auditHead
	if err := db.Find(&heads).Error; err != nil || len(heads) == 0 {
		return rep, err // no chain yet
	}
	head, err := lockAuditHead(db)
	if err != nil {
		return rep, err
	}
	rep.Anchor = head.AnchorSeq
	// The chain keeps everything from the first row within retention.
	through := head.Seq
	var keep auditRow
	err = db.Where("seq > ? AND occurred_at >= ?", head.AnchorSeq, cutoff).Order("seq").Take(&keep).Error
	switch {
	case err == nil:
		through = keep.Seq - 1
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return rep, err
	}
	if through <= head.AnchorSeq {
		return rep, nil
	}
	key, err := DeriveKey(tx, auditChainPurpose)
	if err != nil {
		return rep, err
	}
	check := head
	check.Seq = through
	var found VerifyReport
	v, err := walkChain(db, key, tenant, check, nil, &found, through)
	if err != nil {
		return rep, err
	}
	if !found.OK() || v.prevSeq != through {
		return rep, ErrAuditPruneRefused
	}
	mac := anchorMAC(key, tenant, through, v.prevHash, v.prevAt)
	if tx.Dialector.Name() == homeward.DriverPostgres {
		if err := db.Raw("SELECT audit_prune(?, ?)", through, mac).Scan(&rep.Pruned).Error; err != nil {
			return rep, fmt.Errorf("tenants: audit_prune: %w", err)
		}
	} else {
		res := db.Where("seq <= ?", through).Delete(&auditRow{})
		if res.Error != nil {
			return rep, res.Error
		}
		rep.Pruned = res.RowsAffected
		at := v.prevAt
		err := db.Model(&auditHead{}).Where("anchor_seq = ?", head.AnchorSeq).Updates(map[string]any{
			"anchor_seq": through, "anchor_hash": v.prevHash, "anchor_at": at, "anchor_mac": mac, "updated_at": time.Now().UTC(),
		}).Error
		if err != nil {
			return rep, err
		}
	}
	rep.Anchor = through
	// The prune itself goes into the chain: who pruned, and when.
	return rep, Audit(tx, AuditEntry{Action: ActionAuditPrune, RecordType: "audit_log", Purpose: "retention"})
}

// auditGrants are the app role's rights on the chain head and the prune
// function (after grantAppRole's blanket grant): it moves the head (seq,
// hash) but never the anchor, which only audit_prune sets, and never deletes
// a head.
func auditGrants(ident string) []string {
	return []string{
		"REVOKE UPDATE, DELETE, TRUNCATE ON audit_heads FROM " + ident,
		"GRANT UPDATE (seq, hash, updated_at) ON audit_heads TO " + ident,
		"GRANT EXECUTE ON FUNCTION audit_prune(bigint, bytea) TO " + ident,
	}
}

// checkAppendOnly lists the ways the app role could rewrite the audit
// trail: change or delete rows of an append-only table, delete a chain head
// or move its anchor.
func checkAppendOnly(ctx context.Context, db Querier, role string) ([]string, error) {
	var problems []string
	for _, t := range appendOnlyTables {
		var writable bool
		err := db.QueryRowContext(ctx, `SELECT CASE WHEN to_regclass($2::text) IS NULL THEN false ELSE
			has_any_column_privilege($1::name, $2::text, 'UPDATE') OR has_table_privilege($1::name, $2::text, 'DELETE') OR
			has_table_privilege($1::name, $2::text, 'TRUNCATE') END`, role, "public."+t).Scan(&writable)
		if err != nil {
			return nil, err
		}
		if writable {
			problems = append(problems, fmt.Sprintf("the app role %s can UPDATE, DELETE or TRUNCATE the append-only table %s", role, t))
		}
	}
	var heads bool
	err := db.QueryRowContext(ctx, `SELECT CASE WHEN to_regclass('public.audit_heads') IS NULL THEN false ELSE
		has_table_privilege($1::name, 'public.audit_heads', 'DELETE') OR has_table_privilege($1::name, 'public.audit_heads', 'TRUNCATE') OR
		has_column_privilege($1::name, 'public.audit_heads', 'anchor_seq', 'UPDATE') OR has_column_privilege($1::name, 'public.audit_heads', 'anchor_hash', 'UPDATE') OR
		has_column_privilege($1::name, 'public.audit_heads', 'anchor_at', 'UPDATE') OR has_column_privilege($1::name, 'public.audit_heads', 'anchor_mac', 'UPDATE') END`, role).Scan(&heads)
	if err != nil {
		return nil, err
	}
	if heads {
		problems = append(problems, fmt.Sprintf("the app role %s can delete audit chain heads or move their retention anchor (audit_heads)", role))
	}
	return problems, nil
}
