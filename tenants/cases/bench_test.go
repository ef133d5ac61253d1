package cases_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The benchmarks of docs/performance.md run on PostgreSQL against one
// organisation holding benchCases synthetic cases, seeded once, by the
// first benchmark that needs them (a plain go test never pays for it).
const benchCases = 100_000

// benchSearchName is a first name of the synthetic caseload, written in
// Latin letters: about one case in a hundred has it.
const benchSearchName = "Somphone"

var bench struct {
	once    sync.Once
	err     error
	store   *tenants.Store
	svc     *cases.Service
	tenant  uuid.UUID
	manager context.Context // the organisation's case manager
	ids     []uuid.UUID     // a random sample of the cases
}

// benchOrganisation seeds the organisation on first use and returns it.
func benchOrganisation(b *testing.B) {
	b.Helper()
	bench.once.Do(func() {
		// Opened apart from the first benchmark's cleanup: it serves them all.
		bench.store, bench.err = tenants.Open(context.Background(), homeward.DriverPostgres, tenanttest.Postgres(b).AppURL,
			nil, tenants.WithMasterKeys(tenanttest.MasterKey, nil))
		if bench.err != nil {
			return
		}
		bench.svc = cases.New(bench.store)
		bench.tenant = newOrg(b, bench.store)
		bench.manager, _ = member(b, bench.store, bench.tenant, "bench-case-manager", tenants.RoleCaseManager)
		start := time.Now()
		batch := make([]cases.NewCase, 0, 500)
		for c := range cases.SyntheticCases(1, benchCases, start) {
			if batch = append(batch, c); len(batch) == cap(batch) {
				if bench.err = cases.SeedCases(context.Background(), bench.store, bench.tenant, batch); bench.err != nil {
					return
				}
				batch = batch[:0]
			}
		}
		b.Logf("seeded %d cases in %s", benchCases, time.Since(start).Round(time.Second))
		bench.err = bench.store.InTenant(context.Background(), bench.tenant, func(tx *gorm.DB) error {
			return tx.Raw("SELECT id FROM cases WHERE tenant_id = ? ORDER BY random() LIMIT 1000", bench.tenant).Scan(&bench.ids).Error
		})
	})
	if bench.err != nil {
		b.Fatalf("seed the benchmark organisation: %v", bench.err)
	}
}

// BenchmarkListFirstPage: the case list as a case manager opens it, the
// default page, most recent activity first (one audit row per request).
func BenchmarkListFirstPage(b *testing.B) {
	benchOrganisation(b)
	var listed int
	for b.Loop() {
		p, err := bench.svc.List(bench.manager, cases.Query{})
		if err != nil {
			b.Fatal(err)
		}
		listed += len(p.Cases)
	}
	if listed == 0 {
		b.Fatal("the first page is empty")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(listed), "ns/case")
}

// BenchmarkSearchByFirstName: ?q= with a first name, found through the
// blind index (exact match), the first page of the matches.
func BenchmarkSearchByFirstName(b *testing.B) {
	benchOrganisation(b)
	var found int
	for b.Loop() {
		p, err := bench.svc.List(bench.manager, cases.Query{Q: benchSearchName})
		if err != nil {
			b.Fatal(err)
		}
		found += len(p.Cases)
	}
	if found == 0 {
		b.Fatalf("no case named %s", benchSearchName)
	}
}

// caseColumns reads a case row's encrypted columns through the store,
// which decrypts them (tenants.Secret) with the case's data key: what
// every read of a case costs in decryption.
type caseColumns struct {
	TenantID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID                uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID         uuid.UUID `gorm:"type:uuid"`
	FirstName         tenants.Secret
	SecondName        tenants.Secret
	FullName          tenants.Secret
	Birthdate         tenants.Secret
	CoreData          tenants.Secret
	IdentityData      tenants.Secret
	FamilyData        tenants.Secret
	MedicalData       tenants.Secret
	PsychologicalData tenants.Secret
	LegalData         tenants.Secret
}

func (caseColumns) TableName() string { return "cases" }

// BenchmarkGetCase: one case read by a case manager (Service.Get: the row,
// its decryption, its assignment and consent, the audit row), then the
// decryption alone: the same row read in the same kind of transaction with
// every encrypted column, with the core's only, and with none (the
// difference is the cost of decrypting them, the data key's unwrapping
// included).
func BenchmarkGetCase(b *testing.B) {
	benchOrganisation(b)
	b.Run("service", func(b *testing.B) {
		i := 0
		for b.Loop() {
			c, err := bench.svc.Get(bench.manager, bench.ids[i%len(bench.ids)])
			if err != nil {
				b.Fatal(err)
			}
			if c.Values["prs_FirstName"] == nil {
				b.Fatal("the case manager does not see the first name")
			}
			i++
		}
	})
	for _, c := range []struct {
		name    string
		columns []string
	}{
		{"decrypt_all_groups", nil},
		{"decrypt_core_only", []string{"tenant_id", "id", "data_key_id", "core_data"}},
		{"decrypt_nothing", []string{"tenant_id", "id", "data_key_id"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				var row caseColumns
				err := bench.store.InTenant(context.Background(), bench.tenant, func(tx *gorm.DB) error {
					q := tx.Where("id = ?", bench.ids[i%len(bench.ids)])
					if c.columns != nil {
						q = q.Select(c.columns)
					}
					return q.Take(&row).Error
				})
				if err != nil {
					b.Fatal(err)
				}
				if got := row.CoreData.Text() != ""; got != (c.name != "decrypt_nothing") {
					b.Fatalf("core decrypted: %v", got)
				}
				i++
			}
		})
	}
}
