package tenants_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// probePerson is a test model declaring encrypted fields the way features do.
type probePerson struct {
	TenantID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID      uuid.UUID `gorm:"type:uuid"`
	Name           tenants.Secret
	IdentityNumber tenants.Secret `homeward:"blindindex"`
	Note           string
}

func (probePerson) TableName() string { return "probe_people" }

const probeTablePG = `
CREATE TABLE IF NOT EXISTS probe_people (
    tenant_id uuid NOT NULL REFERENCES tenants (id), id uuid NOT NULL, data_key_id uuid NOT NULL,
    name bytea, identity_number bytea, note text NOT NULL DEFAULT '', PRIMARY KEY (tenant_id, id));
ALTER TABLE probe_people ENABLE ROW LEVEL SECURITY;
ALTER TABLE probe_people FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON probe_people;
CREATE POLICY tenant_isolation ON probe_people
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON probe_people TO ` + tenanttest.AppRole

const probeTableSQLite = `CREATE TABLE probe_people (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, data_key_id TEXT NOT NULL,
    name BLOB, identity_number BLOB, note TEXT NOT NULL DEFAULT '', PRIMARY KEY (tenant_id, id))`

// encryptionRig is a store with the probe table and a raw connection (the
// owner on PostgreSQL) that sees what an attacker with the database would.
type encryptionRig struct {
	store *tenants.Store
	raw   *sql.DB
	file  string // SQLite only
	ph    func(int) string
}

var probeOnce sync.Once

func encryptionRigs(t *testing.T) map[string]*encryptionRig {
	t.Helper()
	pg := tenanttest.Postgres(t)
	owner, err := sql.Open("pgx", pg.OwnerURL)
	must(t, err)
	t.Cleanup(func() { owner.Close() })
	var ddlErr error
	probeOnce.Do(func() { _, ddlErr = owner.Exec(probeTablePG) })
	must(t, ddlErr)

	file := filepath.Join(t.TempDir(), "h.db")
	tenanttest.MigrateSQLite(t, file)
	lite, err := sql.Open("sqlite", tenants.SQLiteDSN(file))
	must(t, err)
	t.Cleanup(func() { lite.Close() })
	_, err = lite.Exec(probeTableSQLite)
	must(t, err)
	return map[string]*encryptionRig{
		homeward.DriverPostgres: {store: tenanttest.OpenPostgres(t), raw: owner, ph: func(i int) string { return "$" + string(rune('0'+i)) }},
		homeward.DriverSQLite:   {store: tenanttest.OpenSQLiteFile(t, file), raw: lite, file: file, ph: func(int) string { return "?" }},
	}
}

func (r *encryptionRig) add(t *testing.T, tenant uuid.UUID, p probePerson) probePerson {
	t.Helper()
	must(t, r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) error { return tx.Create(&p).Error }))
	return p
}

func (r *encryptionRig) load(tenant, id uuid.UUID) (probePerson, error) {
	var p probePerson
	err := r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&p).Error })
	return p, err
}

// rawCopy copies column from one row to another behind the store's back, as
// someone with write access to the database could.
func (r *encryptionRig) rawCopy(t *testing.T, fromCol string, from uuid.UUID, toCol string, to uuid.UUID) {
	t.Helper()
	var v []byte
	must(t, r.raw.QueryRow("SELECT "+fromCol+" FROM probe_people WHERE id = "+r.ph(1), from.String()).Scan(&v))
	_, err := r.raw.Exec("UPDATE probe_people SET "+toCol+" = "+r.ph(1)+" WHERE id = "+r.ph(2), v, to.String())
	must(t, err)
}

func TestEncryptedFields(t *testing.T) {
	for name, r := range encryptionRigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, r.store), tenanttest.NewTenant(t, r.store)
			caseA := uuid.New()
			canary := "Canary-" + uuid.NewString()
			p1 := r.add(t, a, probePerson{ID: uuid.New(), DataKeyID: caseA, Name: tenants.NewSecret(canary), IdentityNumber: tenants.NewSecret("LA-1234-5678")})
			p2 := r.add(t, a, probePerson{ID: uuid.New(), DataKeyID: caseA, Name: tenants.NewSecret("Second person"), IdentityNumber: tenants.NewSecret("LA-0000-0002")})
			p3 := r.add(t, a, probePerson{ID: uuid.New(), DataKeyID: uuid.New(), Name: tenants.NewSecret("Another case")})
			pb := r.add(t, b, probePerson{ID: uuid.New(), DataKeyID: uuid.New(), Name: tenants.NewSecret("Other organisation")})

			t.Run("round trip", func(t *testing.T) {
				got, err := r.load(a, p1.ID)
				must(t, err)
				if got.Name.Text() != canary || got.IdentityNumber.Text() != "LA-1234-5678" {
					t.Fatalf("read back %q / %q", got.Name.Text(), got.IdentityNumber.Text())
				}
				if s := got.Name.String(); strings.Contains(s, "Canary") {
					t.Fatalf("a Secret prints its text: %s", s)
				}
				// every way of writing re-encrypts: Save, Updates(struct), Update(column)
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					got.Note = "saved"
					got.Name = tenants.NewSecret("Renamed once")
					if err := tx.Save(&got).Error; err != nil {
						return err
					}
					if err := tx.Model(&got).Updates(probePerson{Name: tenants.NewSecret("Renamed twice")}).Error; err != nil {
						return err
					}
					return tx.Model(&probePerson{ID: p2.ID}).Where("id = ?", p2.ID).Update("name", tenants.NewSecret("Renamed by column")).Error
				}))
				if got, _ := r.load(a, p1.ID); got.Name.Text() != "Renamed twice" || got.Note != "saved" {
					t.Fatalf("after Save and Updates: %q %q", got.Name.Text(), got.Note)
				}
				if got, _ := r.load(a, p2.ID); got.Name.Text() != "Renamed by column" {
					t.Fatalf("after Update(column): %q", got.Name.Text())
				}
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					return tx.Model(&p1).Update("name", tenants.NewSecret(canary)).Error
				}))
			})

			t.Run("no plaintext in the database", func(t *testing.T) {
				if r.file != "" {
					for _, f := range []string{r.file, r.file + "-wal"} {
						b, err := os.ReadFile(f)
						if err != nil && !os.IsNotExist(err) {
							t.Fatal(err)
						}
						if bytes.Contains(b, []byte(canary)) || bytes.Contains(b, []byte("LA-1234-5678")) {
							t.Fatalf("%s holds the plaintext", filepath.Base(f))
						}
					}
				}
				for _, table := range []string{"probe_people", "data_keys", "tenant_keys", "blind_index", "outbox"} {
					rows, err := r.raw.Query("SELECT * FROM " + table)
					must(t, err)
					cols, _ := rows.Columns()
					n := 0
					for rows.Next() {
						vals := make([]any, len(cols))
						ptrs := make([]any, len(cols))
						for i := range vals {
							ptrs[i] = &vals[i]
						}
						must(t, rows.Scan(ptrs...))
						for _, v := range vals {
							var s string
							switch x := v.(type) {
							case []byte:
								s = string(x)
							case string:
								s = x
							}
							if strings.Contains(s, canary) || strings.Contains(s, "LA-1234-5678") {
								t.Fatalf("table %s holds the plaintext", table)
							}
						}
						n++
					}
					rows.Close()
					if table == "probe_people" && n < 4 {
						t.Fatalf("the raw scan saw %d rows: it would miss the canary", n)
					}
				}
			})

			t.Run("a ciphertext moved elsewhere fails to decrypt", func(t *testing.T) {
				r.rawCopy(t, "name", p1.ID, "identity_number", p1.ID) // another field, same row
				if _, err := r.load(a, p1.ID); !errors.Is(err, tenants.ErrDecrypt) {
					t.Fatalf("moved to another field: err = %v, want ErrDecrypt", err)
				}
				r.rawCopy(t, "name", p1.ID, "name", p2.ID) // another row of the same case (same data key)
				if _, err := r.load(a, p2.ID); !errors.Is(err, tenants.ErrDecrypt) {
					t.Fatalf("moved to another record: err = %v, want ErrDecrypt", err)
				}
				r.rawCopy(t, "name", p1.ID, "name", p3.ID) // another case
				if _, err := r.load(a, p3.ID); !errors.Is(err, tenants.ErrDecrypt) {
					t.Fatalf("moved to another case: err = %v, want ErrDecrypt", err)
				}
				r.rawCopy(t, "name", p1.ID, "name", pb.ID) // another tenant
				if _, err := r.load(b, pb.ID); !errors.Is(err, tenants.ErrDecrypt) {
					t.Fatalf("moved to another tenant: err = %v, want ErrDecrypt", err)
				}
				// control: p1 fails only for the moved identity number; written
				// back through the store, p1 reads again, name and all
				if _, err := r.load(a, p1.ID); !errors.Is(err, tenants.ErrDecrypt) {
					t.Fatalf("p1 with a moved identity number: err = %v, want ErrDecrypt", err)
				}
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					return tx.Model(&p1).Update("identity_number", tenants.NewSecret("LA-1234-5678")).Error
				}))
				got, err := r.load(a, p1.ID)
				if err != nil || got.Name.Text() != canary {
					t.Fatalf("control: the original no longer reads: %v", err)
				}
			})

			t.Run("blind index and shredding", func(t *testing.T) {
				find := func(tenant uuid.UUID, v string) []uuid.UUID {
					var ids []uuid.UUID
					must(t, r.store.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
						ids, err = tenants.FindByBlindIndex(tx, "probe_people", "identity_number", v)
						return err
					}))
					return ids
				}
				if ids := find(a, "  la-1234-5678 "); len(ids) != 1 || ids[0] != p1.ID {
					t.Fatalf("exact-match search found %v, want p1", ids)
				}
				if ids := find(b, "LA-1234-5678"); len(ids) != 0 {
					t.Fatalf("another tenant finds %v", ids)
				}
				survivor := r.add(t, a, probePerson{ID: uuid.New(), DataKeyID: uuid.New(), Name: tenants.NewSecret("Kept"), IdentityNumber: tenants.NewSecret("LA-9999")})

				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error { return tenants.Shred(tx, caseA) }))
				got, err := r.load(a, p1.ID)
				must(t, err)
				if !got.Name.Shredded() || got.Name.Text() != "" || got.IdentityNumber.Text() != "" {
					t.Fatalf("after shredding the case, its fields read %q / %q", got.Name.Text(), got.IdentityNumber.Text())
				}
				if ids := find(a, "LA-1234-5678"); len(ids) != 0 {
					t.Fatalf("after shredding, the blind index still finds %v", ids)
				}
				var left int
				must(t, r.raw.QueryRow("SELECT count(*) FROM blind_index WHERE data_key_id = "+r.ph(1), caseA.String()).Scan(&left))
				if left != 0 {
					t.Fatalf("%d blind-index entries of the shredded case remain", left)
				}
				err = r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					_, err := tenants.Encrypt(tx, caseA, tenants.AAD{Table: "probe_people", Record: p1.ID, Field: "name"}, []byte("again"))
					return err
				})
				if !errors.Is(err, tenants.ErrShredded) {
					t.Fatalf("encrypting with a destroyed key: err = %v, want ErrShredded", err)
				}
				// control: another case of the same tenant is untouched
				if got, err := r.load(a, survivor.ID); err != nil || got.Name.Text() != "Kept" {
					t.Fatalf("control case after shredding another: %v %q", err, got.Name.Text())
				}
				if ids := find(a, "la-9999"); len(ids) != 1 {
					t.Fatalf("control case no longer found: %v", ids)
				}
			})
		})
	}
}

func TestEncryptBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	tenanttest.MigrateSQLite(t, path)
	s := tenanttest.OpenSQLiteFile(t, path)
	ctx := context.Background()
	a := tenanttest.NewTenant(t, s)
	key, rec := uuid.New(), uuid.New()
	aad := tenants.AAD{Table: "documents", Record: rec, Field: "content"}
	var ct []byte
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) (err error) {
		ct, err = tenants.Encrypt(tx, key, aad, []byte("file contents"))
		return err
	}))
	must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
		pt, err := tenants.Decrypt(tx, key, aad, ct)
		if err != nil || string(pt) != "file contents" {
			t.Fatalf("decrypt: %v %q", err, pt)
		}
		other := aad
		other.Record = uuid.New()
		if _, err := tenants.Decrypt(tx, key, other, ct); !errors.Is(err, tenants.ErrDecrypt) {
			t.Fatalf("another record: %v", err)
		}
		return nil
	}))
	// a store without master keys refuses rather than writing plaintext
	plain, err := tenants.Open(ctx, homeward.DriverSQLite, path, nil)
	must(t, err)
	defer plain.Close()
	err = plain.InTenant(ctx, a, func(tx *gorm.DB) error {
		_, err := tenants.Encrypt(tx, key, aad, []byte("x"))
		return err
	})
	if !errors.Is(err, tenants.ErrNoKeyring) {
		t.Fatalf("without master keys: err = %v, want ErrNoKeyring", err)
	}
}

// TestMasterKeyRotation: with the new master key and the previous one given
// everything decrypts, before and after `keys rotate`; with only the new key
// nothing decrypts until the rotation has run, and then everything does.
func TestMasterKeyRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	tenanttest.MigrateSQLite(t, path)
	lite, err := sql.Open("sqlite", tenants.SQLiteDSN(path))
	must(t, err)
	_, err = lite.Exec(probeTableSQLite)
	lite.Close()
	must(t, err)
	ctx := context.Background()
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	open := func(current, previous []byte) *tenants.Store {
		s, err := tenants.Open(ctx, homeward.DriverSQLite, path, nil, tenants.WithMasterKeys(current, previous))
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	read := func(s *tenants.Store, tenant, id uuid.UUID) (string, error) {
		var p probePerson
		err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&p).Error })
		return p.Name.Text(), err
	}

	before := open(oldKey, nil)
	tenant := tenanttest.NewTenant(t, before)
	id := uuid.New()
	must(t, before.InTenant(ctx, tenant, func(tx *gorm.DB) error {
		return tx.Create(&probePerson{ID: id, DataKeyID: id, Name: tenants.NewSecret("Before rotation")}).Error
	}))

	if _, err := read(open(newKey, nil), tenant, id); !errors.Is(err, tenants.ErrNoMaster) {
		t.Fatalf("new key alone before rotating: err = %v, want ErrNoMaster", err)
	}
	during := open(newKey, oldKey)
	if v, err := read(during, tenant, id); err != nil || v != "Before rotation" {
		t.Fatalf("new key with the previous one: %q %v", v, err)
	}
	rep, err := during.RotateMasterKey(ctx)
	if err != nil || rep.Rewrapped != 1 {
		t.Fatalf("rotate: %+v %v", rep, err)
	}
	if rep, err := during.RotateMasterKey(ctx); err != nil || rep.Rewrapped != 0 || rep.Current != 1 {
		t.Fatalf("second rotation should find nothing to do: %+v %v", rep, err)
	}
	after := open(newKey, nil)
	if v, err := read(after, tenant, id); err != nil || v != "Before rotation" {
		t.Fatalf("new key alone after rotating: %q %v", v, err)
	}
	if _, err := read(open(oldKey, nil), tenant, id); !errors.Is(err, tenants.ErrNoMaster) {
		t.Fatalf("the old key alone after rotating: err = %v, want ErrNoMaster", err)
	}
}
