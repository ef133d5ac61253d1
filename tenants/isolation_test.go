package tenants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// seedSetting writes one setting for tenant and returns its row.
func seedSetting(t *testing.T, s *tenants.Store, tenant uuid.UUID, key, value string) tenants.Setting {
	t.Helper()
	var row tenants.Setting
	err := s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		if err := tenants.PutSetting(tx, key, value); err != nil {
			return err
		}
		return tx.Where("key = ?", key).Take(&row).Error
	})
	if err != nil {
		t.Fatalf("seed setting: %v", err)
	}
	return row
}

// TestIsolationThroughTheStore holds on both databases: the store is the
// only layer on SQLite and the second one on PostgreSQL.
func TestIsolationThroughTheStore(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			seedSetting(t, s, a, "language", "lo")
			rowB := seedSetting(t, s, b, "language", "th")

			t.Run("read", func(t *testing.T) {
				var seen []tenants.Setting
				must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error { return tx.Find(&seen).Error }))
				if len(seen) != 1 || seen[0].TenantID != a || seen[0].Value != "lo" {
					t.Fatalf("tenant A sees %+v, want only its own row", seen)
				}
				err := s.InTenant(ctx, a, func(tx *gorm.DB) error { return tx.Where("id = ?", rowB.ID).Take(&tenants.Setting{}).Error })
				if !errors.Is(err, gorm.ErrRecordNotFound) {
					t.Fatalf("tenant A reading B's row by id: err = %v, want not found", err)
				}
				// allowed control: B reads its row by the same id
				must(t, s.InTenant(ctx, b, func(tx *gorm.DB) error { return tx.Where("id = ?", rowB.ID).Take(&tenants.Setting{}).Error }))
			})

			t.Run("update", func(t *testing.T) {
				var affected int64
				must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
					r := tx.Model(&tenants.Setting{}).Where("id = ?", rowB.ID).Update("value", "hacked")
					affected = r.RowsAffected
					return r.Error
				}))
				if affected != 0 {
					t.Fatalf("tenant A updated %d of B's rows", affected)
				}
				// the composite key names B: still nothing, the tenant condition wins
				must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
					r := tx.Model(&tenants.Setting{TenantID: b, ID: rowB.ID}).Update("value", "hacked")
					affected = r.RowsAffected
					return r.Error
				}))
				if affected != 0 {
					t.Fatalf("tenant A updated B's row through its primary key")
				}
				if v := value(t, s, b, "language"); v != "th" {
					t.Fatalf("B's value = %q after A's update, want th", v)
				}
				// allowed control
				must(t, s.InTenant(ctx, b, func(tx *gorm.DB) error {
					r := tx.Model(&tenants.Setting{}).Where("id = ?", rowB.ID).Update("value", "ms")
					affected = r.RowsAffected
					return r.Error
				}))
				if affected != 1 || value(t, s, b, "language") != "ms" {
					t.Fatalf("B could not update its own row (affected %d)", affected)
				}
			})

			t.Run("update without a condition is refused", func(t *testing.T) {
				err := s.InTenant(ctx, a, func(tx *gorm.DB) error {
					return tx.Model(&tenants.Setting{}).Update("value", "x").Error
				})
				if !errors.Is(err, gorm.ErrMissingWhereClause) {
					t.Fatalf("unconditional update: err = %v, want ErrMissingWhereClause", err)
				}
			})

			t.Run("delete", func(t *testing.T) {
				var affected int64
				must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
					r := tx.Where("id = ?", rowB.ID).Delete(&tenants.Setting{})
					affected = r.RowsAffected
					return r.Error
				}))
				if affected != 0 || value(t, s, b, "language") == "" {
					t.Fatalf("tenant A deleted B's row")
				}
				tmp := seedSetting(t, s, b, "temporary", "1")
				must(t, s.InTenant(ctx, b, func(tx *gorm.DB) error {
					r := tx.Delete(&tmp)
					affected = r.RowsAffected
					return r.Error
				}))
				if affected != 1 {
					t.Fatalf("B could not delete its own row")
				}
			})

			t.Run("insert for another tenant", func(t *testing.T) {
				err := s.InTenant(ctx, a, func(tx *gorm.DB) error {
					return tx.Create(&tenants.Setting{TenantID: b, ID: uuid.New(), Key: "planted", Value: "x"}).Error
				})
				if err == nil {
					t.Fatal("tenant A inserted a row for B")
				}
				if _, ok, _ := settingOf(t, s, b, "planted"); ok {
					t.Fatal("the planted row exists")
				}
				// allowed control: naming its own tenant, or none, works
				must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
					return tx.Create(&tenants.Setting{TenantID: a, ID: uuid.New(), Key: "own", Value: "x"}).Error
				}))
			})

			t.Run("outside InTenant", func(t *testing.T) {
				err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Find(&[]tenants.Setting{}).Error })
				if !errors.Is(err, tenants.ErrNoTenant) {
					t.Fatalf("tenant-owned query in Global: err = %v, want ErrNoTenant", err)
				}
				// allowed control: global tables are reachable there
				var ts []tenants.Tenant
				must(t, s.Global(ctx, func(tx *gorm.DB) error { return tx.Find(&ts).Error }))
				if len(ts) < 2 {
					t.Fatalf("Global sees %d tenants", len(ts))
				}
			})
		})
	}
}

// TestIsolationInPostgres shows row-level security as the last line: raw SQL
// as the app role, which the GORM callbacks never see.
func TestIsolationInPostgres(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
	seedSetting(t, s, a, "language", "lo")
	rowB := seedSetting(t, s, b, "language", "th")

	count := func(tenant uuid.UUID) (n int64) {
		must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
			return tx.Raw("SELECT count(*) FROM tenant_settings WHERE tenant_id = ?", b).Scan(&n).Error
		}))
		return n
	}
	if n := count(a); n != 0 {
		t.Fatalf("raw SQL in A counts %d of B's rows", n)
	}
	if n := count(b); n != 1 {
		t.Fatalf("allowed control: raw SQL in B counts %d of its rows, want 1", n)
	}

	var affected int64
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		r := tx.Exec("UPDATE tenant_settings SET value = 'hacked' WHERE id = ?", rowB.ID)
		affected = r.RowsAffected
		return r.Error
	}))
	if affected != 0 {
		t.Fatal("raw UPDATE in A changed B's row")
	}
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		r := tx.Exec("DELETE FROM tenant_settings WHERE id = ?", rowB.ID)
		affected = r.RowsAffected
		return r.Error
	}))
	if affected != 0 {
		t.Fatal("raw DELETE in A removed B's row")
	}
	err := s.InTenant(ctx, a, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO tenant_settings (tenant_id, id, key, value, updated_at) VALUES (?, ?, 'planted', 'x', now())", b, uuid.New()).Error
	})
	if err == nil {
		t.Fatal("raw INSERT in A for B passed the policy")
	}
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO tenant_settings (tenant_id, id, key, value, updated_at) VALUES (?, ?, 'raw', 'x', now())", a, uuid.New()).Error
	}))

	// No tenant set: a transaction of the app role sees nothing at all.
	var n int64
	must(t, s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Raw("SELECT count(*) FROM tenant_settings").Scan(&n).Error
	}))
	if n != 0 {
		t.Fatalf("with no tenant set, the app role counts %d rows", n)
	}
	// and the tenant setting does not outlive its transaction on a pooled connection
	for i := 0; i < 5; i++ {
		must(t, s.Global(ctx, func(tx *gorm.DB) error {
			return tx.Raw("SELECT count(*) FROM tenant_settings").Scan(&n).Error
		}))
		if n != 0 {
			t.Fatalf("after InTenant, a later transaction counts %d rows", n)
		}
	}
}

func TestAcrossTenants(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			seedSetting(t, s, b, "secret", "b-only")
			var seenInA int
			err := s.AcrossTenants(ctx,
				tenants.TenantStep{Tenant: a, Fn: func(tx *gorm.DB) error {
					var rows []tenants.Setting
					if err := tx.Find(&rows).Error; err != nil {
						return err
					}
					seenInA = len(rows)
					return tenants.PutSetting(tx, "handoff", "sent")
				}},
				tenants.TenantStep{Tenant: b, Fn: func(tx *gorm.DB) error { return tenants.PutSetting(tx, "handoff", "received") }},
			)
			must(t, err)
			if seenInA != 0 {
				t.Fatalf("the sender's step saw %d of the receiver's rows", seenInA)
			}
			if value(t, s, a, "handoff") != "sent" || value(t, s, b, "handoff") != "received" {
				t.Fatal("each step should have written its own tenant's row")
			}

			boom := errors.New("receiver refused")
			err = s.AcrossTenants(ctx,
				tenants.TenantStep{Tenant: a, Fn: func(tx *gorm.DB) error { return tenants.PutSetting(tx, "second", "sent") }},
				tenants.TenantStep{Tenant: b, Fn: func(tx *gorm.DB) error { return boom }},
			)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if _, ok, _ := settingOf(t, s, a, "second"); ok {
				t.Fatal("a failed second step must roll back the first")
			}
		})
	}
}

func TestAddTenantValidation(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	_, err := s.AddTenant(ctx, tenants.NewTenant{Slug: "Bad Slug", Name: "", Country: "Laos"})
	var he *homeward.Error
	if !errors.As(err, &he) || he.Code != homeward.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	for _, f := range []string{"slug", "name", "country"} {
		if he.Fields[f] == "" {
			t.Errorf("no reason for field %s: %v", f, he.Fields)
		}
	}
	if _, err := s.AddTenant(ctx, tenants.NewTenant{Slug: "afesip-laos", Name: "AFESIP Laos", Country: "la"}); err != nil {
		t.Fatalf("valid tenant: %v", err)
	}
	_, err = s.AddTenant(ctx, tenants.NewTenant{Slug: "afesip-laos", Name: "Again", Country: "LA"})
	if homeward.ErrorCode(err) != homeward.ECONFLICT {
		t.Fatalf("duplicate slug: err = %v, want conflict", err)
	}
	tn, err := s.SetTenantStatus(ctx, "afesip-laos", tenants.StatusSuspended)
	if err != nil || tn.Status != tenants.StatusSuspended {
		t.Fatalf("suspend: %v %+v", err, tn)
	}
	if got, _ := s.TenantBySlug(ctx, "afesip-laos"); got.Status != tenants.StatusSuspended || got.Country != "LA" {
		t.Fatalf("stored tenant = %+v", got)
	}
}

func value(t *testing.T, s *tenants.Store, tenant uuid.UUID, key string) string {
	t.Helper()
	v, _, err := settingOf(t, s, tenant, key)
	must(t, err)
	return v
}

func settingOf(t *testing.T, s *tenants.Store, tenant uuid.UUID, key string) (v string, ok bool, err error) {
	t.Helper()
	err = s.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		v, ok, err = tenants.SettingValue(tx, key)
		return err
	})
	return v, ok, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteWritersWait: with IMMEDIATE transactions a second writer waits
// for the first instead of failing with "database is locked".
func TestSQLiteWritersWait(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	tenant := tenanttest.NewTenant(t, s)
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.InTenant(ctx, tenant, func(tx *gorm.DB) error {
			if err := tenants.PutSetting(tx, "first", "1"); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	second := make(chan error, 1)
	go func() {
		second <- s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.PutSetting(tx, "second", "1") })
	}()
	select {
	case err := <-second:
		t.Fatalf("the second writer finished while the first held the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	must(t, <-first)
	must(t, <-second)
	if value(t, s, tenant, "first") != "1" || value(t, s, tenant, "second") != "1" {
		t.Fatal("both writes should have committed")
	}
}
