package shelters

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// List is the organisation's shelters by name, with their occupancy and
// waiting lists (shelters.read).
func (s *Service) List(ctx context.Context) ([]Shelter, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSheltersRead)
	if err != nil {
		return nil, err
	}
	out := []Shelter{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var rows []shelterRow
		if err := tx.Order("name, id").Find(&rows).Error; err != nil {
			return err
		}
		taken, err := occupancy(tx, nil)
		if err != nil {
			return err
		}
		waiting, err := waitingCounts(tx, nil)
		if err != nil {
			return err
		}
		for i := range rows {
			out = append(out, rows[i].shelter(taken[rows[i].ID], waiting[rows[i].ID]))
		}
		return nil
	})
	return out, err
}

// Get is one shelter of the organisation (shelters.read); another
// organisation's, or none, is not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Shelter, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSheltersRead)
	if err != nil {
		return nil, err
	}
	var out *Shelter
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var err error
		out, err = shelterWithCounts(tx, id, false)
		return err
	})
	return out, err
}

// shelterWithCounts reads a shelter with its occupancy and waiting list.
func shelterWithCounts(tx *gorm.DB, id uuid.UUID, lock bool) (*Shelter, error) {
	row, err := shelterFor(tx, id, lock)
	if err != nil {
		return nil, err
	}
	taken, err := occupancy(tx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	waiting, err := waitingCounts(tx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	sh := row.shelter(taken[id], waiting[id])
	return &sh, nil
}

// Create adds a shelter (shelters.write), audited shelter.create.
func (s *Service) Create(ctx context.Context, ns NewShelter) (*Shelter, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSheltersWrite)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	row := shelterRow{ID: uuid.Must(uuid.NewV7()), Name: strings.TrimSpace(ns.Name), Province: strings.TrimSpace(ns.Province),
		District: strings.TrimSpace(ns.District), Capacity: ns.Capacity, Active: ns.Active, CreatedAt: now, UpdatedAt: now}
	if err := row.check(); err != nil {
		return nil, err
	}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error { return createShelter(tx, &row) })
	if err != nil {
		return nil, err
	}
	out := row.shelter(0, 0)
	return &out, nil
}

// createShelter inserts a checked shelter and audits it.
func createShelter(tx *gorm.DB, row *shelterRow) error {
	if err := tx.Create(row).Error; err != nil {
		return err
	}
	return tenants.Audit(tx, tenants.AuditEntry{Action: ActionShelterCreate, RecordType: recordTypeShelter, RecordID: row.ID})
}

// Update changes a shelter (shelters.write), audited shelter.update. Its
// capacity may not fall below the girls placed there now.
func (s *Service) Update(ctx context.Context, id uuid.UUID, ch ShelterChange) (*Shelter, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSheltersWrite)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var out *Shelter
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		cur, err := shelterWithCounts(tx, id, true)
		if err != nil {
			return err
		}
		row := shelterRow{ID: cur.ID, Name: cur.Name, Province: cur.Province, District: cur.District,
			Capacity: cur.Capacity, Active: cur.Active, CreatedAt: cur.CreatedAt, UpdatedAt: now}
		if ch.Name != nil {
			row.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Province != nil {
			row.Province = strings.TrimSpace(*ch.Province)
		}
		if ch.District != nil {
			row.District = strings.TrimSpace(*ch.District)
		}
		if ch.Capacity != nil {
			row.Capacity = *ch.Capacity
		}
		if ch.Active != nil {
			row.Active = *ch.Active
		}
		if err := row.check(); err != nil {
			return err
		}
		if row.Capacity < cur.Occupancy {
			return homeward.Invalid(map[string]string{"capacity": fmt.Sprintf(
				"at least %d: the girls placed there now (transfer or discharge first)", cur.Occupancy)})
		}
		if err := tx.Model(&shelterRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": row.Name, "province": row.Province, "district": row.District, "capacity": row.Capacity,
			"active": row.Active, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		sh := row.shelter(cur.Occupancy, cur.Waiting)
		out = &sh
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionShelterUpdate, RecordType: recordTypeShelter, RecordID: id})
	})
	return out, err
}

// check reports what is wrong with a shelter's fields, by their names.
func (r *shelterRow) check() error {
	fe := homeward.FieldErrors{}
	if n := utf8.RuneCountInString(r.Name); !utf8.ValidString(r.Name) || n < 1 || n > maxName {
		fe.Add("name", fmt.Sprintf("from 1 to %d characters of text", maxName))
	}
	for field, v := range map[string]string{"province": r.Province, "district": r.District} {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxPlace {
			fe.Add(field, fmt.Sprintf("at most %d characters of text", maxPlace))
		}
	}
	if r.Capacity < 1 || r.Capacity > MaxCapacity {
		fe.Add("capacity", fmt.Sprintf("a whole number of beds from 1 to %d", MaxCapacity))
	}
	return fe.Err()
}

// WaitingList is a shelter's waiting list in order (shelters.read): case
// numbers and since when, never a name.
func (s *Service) WaitingList(ctx context.Context, id uuid.UUID) ([]Waiting, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSheltersRead)
	if err != nil {
		return nil, err
	}
	out := []Waiting{}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if _, err := shelterFor(tx, id, false); err != nil {
			return err
		}
		rows, err := waitingRows(tx, id)
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.CaseID
		}
		numbers, err := caseNumbers(tx, ids)
		if err != nil {
			return err
		}
		for i, r := range rows {
			out = append(out, Waiting{CaseID: r.CaseID, Reference: cases.Reference(numbers[r.CaseID]), Since: r.WaitingSince.UTC(), Position: i + 1})
		}
		return nil
	})
	return out, err
}
