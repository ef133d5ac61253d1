package tenants

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Tenant statuses. A suspended organisation keeps its data but nobody of it
// can sign in or be served.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Tenant is an organisation using Homeward: AFESIP Laos, AFESIP's French
// headquarters, a partner NGO in Thailand or Malaysia.
type Tenant struct {
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Slug      string    // short name used in addresses, e.g. afesip-laos
	Name      string
	Country   string // ISO 3166-1 alpha-2
	City      string
	Status    string
	Demo      bool // made by seed --demo; shown as demo data
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewTenant is what an operator gives to add an organisation.
type NewTenant struct {
	Slug    string
	Name    string
	Country string
	City    string
	Demo    bool
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`)

// Validate names each bad field and why.
func (n *NewTenant) Validate() error {
	n.Slug = strings.TrimSpace(n.Slug)
	n.Name = strings.TrimSpace(n.Name)
	n.Country = strings.ToUpper(strings.TrimSpace(n.Country))
	n.City = strings.TrimSpace(n.City)
	f := homeward.FieldErrors{}
	if !slugPattern.MatchString(n.Slug) {
		f.Add("slug", "3 to 40 lowercase letters, digits or hyphens, starting and ending with a letter or digit")
	}
	if n.Name == "" {
		f.Add("name", "required")
	} else if utf8.RuneCountInString(n.Name) > 200 {
		f.Add("name", "at most 200 characters")
	}
	if !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(n.Country) {
		f.Add("country", "a two-letter ISO 3166 country code such as LA, TH, MY or FR")
	}
	if utf8.RuneCountInString(n.City) > 200 {
		f.Add("city", "at most 200 characters")
	}
	return f.Err()
}

// AddTenant creates an organisation. A slug already taken is a conflict.
func (s *Store) AddTenant(ctx context.Context, n NewTenant) (*Tenant, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	t := &Tenant{ID: newID(), Slug: n.Slug, Name: n.Name, Country: n.Country, City: n.City, Status: StatusActive, Demo: n.Demo}
	err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Create(t).Error })
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, &homeward.Error{Code: homeward.ECONFLICT, Message: "an organisation with this slug exists", Fields: map[string]string{"slug": "already taken"}}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Tenants lists every organisation, by slug.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	var ts []Tenant
	err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Order("slug").Find(&ts).Error })
	return ts, err
}

// TenantBySlug finds an organisation by its slug.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Where("slug = ?", slug).Take(&t).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no organisation %q", slug)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// TenantByID finds an organisation by its id.
func (s *Store) TenantByID(ctx context.Context, id uuid.UUID) (*Tenant, error) {
	var t Tenant
	err := s.Global(ctx, func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&t).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no such organisation")
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// SetTenantStatus suspends (StatusSuspended) or reactivates (StatusActive)
// an organisation.
func (s *Store) SetTenantStatus(ctx context.Context, slug, status string) (*Tenant, error) {
	if status != StatusActive && status != StatusSuspended {
		return nil, homeward.Invalid(map[string]string{"status": "active or suspended"})
	}
	t, err := s.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	err = s.Global(ctx, func(tx *gorm.DB) error {
		return tx.Model(t).Updates(map[string]any{"status": status, "updated_at": time.Now().UTC()}).Error
	})
	if err != nil {
		return nil, err
	}
	t.Status = status
	return t, nil
}

// newID returns a time-ordered UUID (version 7), so new rows cluster at the
// end of indexes.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}
