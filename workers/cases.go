package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Case files' background work (tenants/cases): every day each
// organisation's closed cases whose retention has ended are anonymised
// (their data key shredded), as the organisation's retention rule says.
const (
	KindCasesAnonymiseAll = "cases:anonymise_all" // platform-wide: one cases:anonymise per organisation
	KindCasesAnonymise    = "cases:anonymise"     // an organisation's retention run
)

// CasePeriodicJobs is case files' part of the schedule.
func CasePeriodicJobs() []PeriodicJob {
	return []PeriodicJob{{Kind: KindCasesAnonymiseAll, Queue: "low", Every: 24 * time.Hour}}
}

// RegisterCaseJobs registers the retention handlers. A run finds only the
// cases still due, so running it twice anonymises each case once.
func RegisterCaseJobs(r *Registry, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.Register(KindCasesAnonymiseAll, fanOut(KindCasesAnonymise))
	r.Register(KindCasesAnonymise, func(ctx context.Context, tx *gorm.DB, _ map[string]uuid.UUID) error {
		n, err := cases.AnonymiseDue(tx, time.Now())
		if err == nil && n > 0 {
			tenant, _ := tenants.TenantFrom(ctx)
			log.InfoContext(ctx, "closed cases anonymised at the end of their retention", "tenant", tenant.String(), "cases", n)
		}
		return err
	})
}
