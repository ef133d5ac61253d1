package tenants

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The keyring is a small envelope scheme on Go's standard crypto, written up
// in docs/security.md:
//
//	master key (HOMEWARD_MASTER_KEY, never in the database)
//	  wraps each tenant's key-encryption key (tenant_keys)
//	    wraps each record's data key (data_keys)
//	      encrypts the record's fields and documents
//
// Every ciphertext is AES-256-GCM with a random 96-bit nonce and associated
// data naming what it belongs to (tenant, and for fields the table, row and
// field), so a ciphertext copied anywhere else fails to decrypt. Destroying
// a data key (Shred) makes everything it encrypted unreadable everywhere,
// backups included once they age out. Keys derived for other purposes (the
// audit chain, blind indexes) come from the tenant key through HKDF, so they
// survive a master-key rotation, which only re-wraps the tenant keys.

// Errors of the keyring.
var (
	ErrNoKeyring = errors.New("tenants: no keyring: open the store with WithMasterKeys")
	ErrShredded  = errors.New("tenants: the record's data key was destroyed; its encrypted data is gone")
	ErrDecrypt   = errors.New("tenants: a ciphertext failed to decrypt: it was altered or does not belong here")
	ErrNoMaster  = errors.New("tenants: the tenant key was wrapped by a master key that is neither HOMEWARD_MASTER_KEY nor HOMEWARD_MASTER_KEY_PREVIOUS")
)

// envelopeVersion is the first byte of every ciphertext.
const envelopeVersion = 1

// Keyring holds the master keys and a cache of unwrapped tenant keys. Data
// keys are never cached across transactions: a destroyed key is destroyed
// for every process at once.
type Keyring struct {
	current, previous     []byte
	currentID, previousID string

	mu   sync.Mutex
	keks map[uuid.UUID][]byte
}

// NewKeyring takes the master key and, during a rotation, the previous one.
func NewKeyring(current, previous []byte) (*Keyring, error) {
	if len(current) != 32 || (previous != nil && len(previous) != 32) {
		return nil, errors.New("tenants: master keys are 32 bytes")
	}
	k := &Keyring{current: current, currentID: masterKeyID(current), keks: map[uuid.UUID][]byte{}}
	if previous != nil {
		k.previous, k.previousID = previous, masterKeyID(previous)
	}
	return k, nil
}

// masterKeyID names a master key without revealing it, so each wrapped
// tenant key records which master key wrapped it.
func masterKeyID(k []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("homeward/v1/master-key-id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Option configures Open.
type Option func(*Store) error

// WithMasterKeys gives the store its keyring, so that encrypted fields,
// documents and the audit chain work.
func WithMasterKeys(current, previous []byte) Option {
	return func(s *Store) error {
		k, err := NewKeyring(current, previous)
		s.keyring = k
		return err
	}
}

type keyringKey struct{}

func keyringFrom(ctx context.Context) (*Keyring, error) {
	if k, ok := ctx.Value(keyringKey{}).(*Keyring); ok && k != nil {
		return k, nil
	}
	return nil, ErrNoKeyring
}

func seal(key, plaintext []byte, ad string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = envelopeVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], plaintext, []byte(ad)), nil
}

func open(key, ciphertext []byte, ad string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(ciphertext) < 1+n+aead.Overhead() || ciphertext[0] != envelopeVersion {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], []byte(ad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}

// tenantKey is a tenant's key-encryption key, wrapped by a master key.
type tenantKey struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	Wrapped     []byte
	MasterKeyID string
	CreatedAt   time.Time
	RotatedAt   *time.Time
}

func (tenantKey) TableName() string { return "tenant_keys" }

// dataKey is a record's data key, wrapped by its tenant's key.
type dataKey struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	Wrapped     []byte
	CreatedAt   time.Time
	DestroyedAt *time.Time
}

func (dataKey) TableName() string { return "data_keys" }

func kekAD(tenant uuid.UUID) string { return "homeward/v1/tenant-key|" + tenant.String() }

func dekAD(tenant, key uuid.UUID) string {
	return "homeward/v1/data-key|" + tenant.String() + "|" + key.String()
}

// unwrapTenantKey picks the master key that wrapped the tenant key.
func (k *Keyring) unwrapTenantKey(row tenantKey) ([]byte, error) {
	var master []byte
	switch row.MasterKeyID {
	case k.currentID:
		master = k.current
	case k.previousID:
		master = k.previous
	}
	if master == nil {
		return nil, ErrNoMaster
	}
	return open(master, row.Wrapped, kekAD(row.TenantID))
}

// kek returns the tenant key of the transaction's tenant, creating it on
// first use. A key this transaction created is not cached: the transaction
// may still roll back.
func (k *Keyring) kek(tx *gorm.DB, tenant uuid.UUID) ([]byte, error) {
	k.mu.Lock()
	cached := k.keks[tenant]
	k.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	var row tenantKey
	err := db.Where("id = ?", tenant).Take(&row).Error
	created := false
	if errors.Is(err, gorm.ErrRecordNotFound) {
		wrapped, serr := seal(k.current, newKey(), kekAD(tenant))
		if serr != nil {
			return nil, serr
		}
		fresh := tenantKey{ID: tenant, Wrapped: wrapped, MasterKeyID: k.currentID, CreatedAt: time.Now().UTC()}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh)
		if err := res.Error; err != nil {
			return nil, err
		}
		created = true
		err = db.Where("id = ?", tenant).Take(&row).Error
	}
	if err != nil {
		return nil, fmt.Errorf("tenants: load the tenant key: %w", err)
	}
	key, err := k.unwrapTenantKey(row)
	if err != nil {
		return nil, err
	}
	if !created {
		k.mu.Lock()
		k.keks[tenant] = key
		k.mu.Unlock()
	}
	return key, nil
}

// txKeyring returns the keyring and tenant of an InTenant transaction.
func txKeyring(tx *gorm.DB) (*Keyring, uuid.UUID, error) {
	ctx := tx.Statement.Context
	tenant, ok := txTenantFrom(ctx)
	if !ok {
		return nil, uuid.Nil, ErrNoTenant
	}
	k, err := keyringFrom(ctx)
	return k, tenant, err
}

// dataKeyBatch is how many data keys one insert writes.
const dataKeyBatch = 200

// dataKeys loads and unwraps the data keys ids, creating the missing ones
// when create is set. A destroyed key maps to nil.
func dataKeys(tx *gorm.DB, ids []uuid.UUID, create bool) (map[uuid.UUID][]byte, error) {
	k, tenant, err := txKeyring(tx)
	if err != nil {
		return nil, err
	}
	kek, err := k.kek(tx, tenant)
	if err != nil {
		return nil, err
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	var rows []dataKey
	if err := db.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("tenants: load data keys: %w", err)
	}
	out := make(map[uuid.UUID][]byte, len(ids))
	for _, r := range rows {
		if r.Wrapped == nil {
			out[r.ID] = nil
			continue
		}
		key, err := open(kek, r.Wrapped, dekAD(tenant, r.ID))
		if err != nil {
			return nil, err
		}
		out[r.ID] = key
	}
	if !create {
		return out, nil
	}
	// The missing keys are created in one statement: a multi-row insert of
	// new records (a seed batch) needs a key per row.
	var fresh []dataKey
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		key := newKey()
		wrapped, err := seal(kek, key, dekAD(tenant, id))
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, dataKey{ID: id, Wrapped: wrapped, CreatedAt: time.Now().UTC()})
		out[id] = key
	}
	if len(fresh) > 0 {
		if err := db.CreateInBatches(&fresh, dataKeyBatch).Error; err != nil {
			return nil, fmt.Errorf("tenants: create data keys: %w", err)
		}
	}
	return out, nil
}

// AAD names what a ciphertext belongs to: the tenant (implied by the
// transaction), and the table, row and field (or, for a document, its kind
// and id). It is bound to the ciphertext as associated data.
type AAD struct {
	Table  string
	Record uuid.UUID
	Field  string
}

func (a AAD) for_(tenant uuid.UUID) string {
	return strings.Join([]string{"homeward/v1/value", tenant.String(), a.Table, a.Record.String(), a.Field}, "|")
}

// Encrypt encrypts plaintext with the data key keyID (created on first use) of
// the transaction's tenant, bound to aad.
func Encrypt(tx *gorm.DB, keyID uuid.UUID, aad AAD, plaintext []byte) ([]byte, error) {
	keys, err := dataKeys(tx, []uuid.UUID{keyID}, true)
	if err != nil {
		return nil, err
	}
	if keys[keyID] == nil {
		return nil, ErrShredded
	}
	_, tenant, _ := txKeyring(tx)
	return seal(keys[keyID], plaintext, aad.for_(tenant))
}

// Decrypt decrypts what Encrypt encrypted. It fails with ErrShredded once the
// data key is destroyed and with ErrDecrypt when the ciphertext was altered
// or belongs to another tenant, record or field.
func Decrypt(tx *gorm.DB, keyID uuid.UUID, aad AAD, ciphertext []byte) ([]byte, error) {
	keys, err := dataKeys(tx, []uuid.UUID{keyID}, false)
	if err != nil {
		return nil, err
	}
	key, ok := keys[keyID]
	switch {
	case !ok:
		return nil, ErrDecrypt
	case key == nil:
		return nil, ErrShredded
	}
	_, tenant, _ := txKeyring(tx)
	return open(key, ciphertext, aad.for_(tenant))
}

// Shred destroys the data key keyID of the transaction's tenant and the
// blind-index entries of everything it encrypted: from then on nothing it
// encrypted can be read, in this database or in any backup taken later.
func Shred(tx *gorm.DB, keyID uuid.UUID) error {
	if _, _, err := txKeyring(tx); err != nil {
		return err
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	now := time.Now().UTC()
	res := db.Model(&dataKey{}).Where("id = ? AND wrapped IS NOT NULL", keyID).
		Updates(map[string]any{"wrapped": nil, "destroyed_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		// Never used yet: record it destroyed so it cannot be created later.
		err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&dataKey{ID: keyID, CreatedAt: now, DestroyedAt: &now}).Error
		if err != nil {
			return err
		}
	}
	return db.Where("data_key_id = ?", keyID).Delete(&blindIndexEntry{}).Error
}

// DeriveKey returns a 32-byte key for purpose, derived from the tenant key
// of the transaction's tenant (HKDF-SHA256). The audit chain and blind
// indexes use it; the key is never stored and survives master-key rotation.
func DeriveKey(tx *gorm.DB, purpose string) ([]byte, error) {
	k, tenant, err := txKeyring(tx)
	if err != nil {
		return nil, err
	}
	kek, err := k.kek(tx, tenant)
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, kek, tenant[:], "homeward/v1/derive|"+purpose, 32)
}

// normalise makes exact-match search forgiving of case, spacing, Unicode
// composition (Lao and Thai text arrives in both forms) and Latin accents
// (é = e). Only the combining diacritics of Latin, Greek and Cyrillic
// (U+0300–U+036F) are dropped: Lao and Thai vowel and tone marks are
// combining marks too, and they tell names apart.
func normalise(v string) string {
	d := []rune(norm.NFD.String(v))
	kept := d[:0]
	for _, r := range d {
		if r < 0x0300 || r > 0x036F {
			kept = append(kept, r)
		}
	}
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(string(kept))), " "))
}

// Normalise is the form in which blind-indexed values are compared.
func Normalise(v string) string { return normalise(v) }

// blindIndexDigest is the keyed hash of a normalised value for one field:
// equal values give equal digests within a tenant, and nothing without the
// tenant's key.
func blindIndexDigest(tx *gorm.DB, table, field, value string) ([]byte, error) {
	key, err := DeriveKey(tx, blindIndexPurpose)
	if err != nil {
		return nil, err
	}
	return blindIndexMAC(key, table, field, value), nil
}

// blindIndexPurpose names the blind-index key among the keys DeriveKey gives.
const blindIndexPurpose = "blind-index"

// blindIndexMAC is the digest of value under the blind-index key.
func blindIndexMAC(key []byte, table, field, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(table + "\x00" + field + "\x00" + normalise(value)))
	return m.Sum(nil)
}

// RotationReport says what a master-key rotation did.
type RotationReport struct {
	Rewrapped int // tenant keys moved from the previous master key to the current one
	Current   int // tenant keys already under the current master key
}

// RotateMasterKey re-wraps every tenant key still wrapped by the previous
// master key with the current one, tenant by tenant, each in its own
// transaction; the data is not touched. Run it after setting
// HOMEWARD_MASTER_KEY to the new key and HOMEWARD_MASTER_KEY_PREVIOUS to the
// old one; once it reports nothing left, the previous key can be retired.
func (s *Store) RotateMasterKey(ctx context.Context) (RotationReport, error) {
	var rep RotationReport
	k := s.keyring
	if k == nil {
		return rep, ErrNoKeyring
	}
	ts, err := s.Tenants(ctx)
	if err != nil {
		return rep, err
	}
	for _, t := range ts {
		err := s.InTenant(ctx, t.ID, func(tx *gorm.DB) error {
			var rows []tenantKey
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Find(&rows).Error; err != nil {
				return err
			}
			for _, row := range rows {
				if row.MasterKeyID == k.currentID {
					rep.Current++
					continue
				}
				key, err := k.unwrapTenantKey(row)
				if err != nil {
					return fmt.Errorf("organisation %s: %w", t.Slug, err)
				}
				wrapped, err := seal(k.current, key, kekAD(row.TenantID))
				if err != nil {
					return err
				}
				now := time.Now().UTC()
				if err := tx.Model(&row).Updates(map[string]any{"wrapped": wrapped, "master_key_id": k.currentID, "rotated_at": now}).Error; err != nil {
					return err
				}
				rep.Rewrapped++
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}
