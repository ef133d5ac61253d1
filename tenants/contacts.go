package tenants

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afesip/homeward"
)

// A member's contact address: where every mail to a member goes (follow-up
// reminders, repatriation-handoff notices), and in which language.
// Memberships hold no e-mail address (an identity is (issuer, subject),
// never an address, and memberships is a global table that holds no
// personal data), so a member who wants mail gives an address here, for
// the organisation it acts in: member_contacts (migration 00015) is
// tenant-owned. Mail carries only a reference and a date, never a name.

// MemberContact is where mail to a member goes, and in which language.
type MemberContact struct {
	Address  string // a bare e-mail address; "" when the member wants no mail
	Language string // one of Locales (web/emails.Languages)
}

// ActionContactChange is the audit action of a member setting or removing
// its contact address (the entry never holds the address).
const ActionContactChange = "member.contact.change"

// memberContactRow is a row of member_contacts.
type memberContactRow struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	MemberID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	Address   string
	Language  string
	UpdatedAt time.Time
}

func (memberContactRow) TableName() string { return "member_contacts" }

// ContactOf is where mail to the member goes, read inside the caller's
// tenant transaction (InTenant; a feature queueing mail with QueueMail in
// the same transaction): false when the member gave no address, is not a
// member of the transaction's organisation, or is disabled (a disabled
// member gets no mail).
func ContactOf(tx *gorm.DB, memberID uuid.UUID) (MemberContact, bool, error) {
	if _, ok := txTenantFrom(tx.Statement.Context); !ok {
		return MemberContact{}, false, ErrNoTenant
	}
	var rows []memberContactRow
	err := tx.Session(&gorm.Session{NewDB: true}).Where("member_id = ?", memberID).
		Where(`EXISTS (SELECT 1 FROM memberships m WHERE m.id = member_contacts.member_id
AND m.tenant_id = member_contacts.tenant_id AND NOT m.disabled)`).
		Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return MemberContact{}, false, err
	}
	return MemberContact{Address: rows[0].Address, Language: rows[0].Language}, true, nil
}

// contactPrincipal is the context's principal when it is a member of an
// organisation signed in as themselves: unauthenticated without one;
// forbidden for a platform operator (no organisation) and for an API
// token (no membership: a program has no mailbox of its own here).
func contactPrincipal(ctx context.Context) (*Principal, error) {
	p, err := orgPrincipal(ctx, PermSignedIn)
	if err != nil {
		return nil, err
	}
	if p.ViaToken || p.Actor.MemberID == nil {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "only a signed-in member has a contact address")
	}
	return p, nil
}

// MemberContact is the contact address of the member in the context (its
// own; any signed-in member). None given: an empty address and the
// member's language, which a form offers first.
func (s *Store) MemberContact(ctx context.Context) (MemberContact, error) {
	p, err := contactPrincipal(ctx)
	if err != nil {
		return MemberContact{}, err
	}
	out := MemberContact{Language: p.Locale}
	if !slices.Contains(Locales, out.Language) {
		out.Language = "en"
	}
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		var rows []memberContactRow
		if err := tx.Where("member_id = ?", *p.Actor.MemberID).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		out = MemberContact{Address: rows[0].Address, Language: rows[0].Language}
		return nil
	})
	if err != nil {
		return MemberContact{}, err
	}
	return out, nil
}

// SetMemberContact sets the contact address of the member in the context
// (its own; any signed-in member) and the language of its mail; an empty
// address removes it (no mail). The address must be one a mail can take
// (tenants.Mail's rules for To: bare, no display name, at most 254
// characters); each field's mistake is named (invalid: "address",
// "language"). Audited member.contact.change, never with the address.
// It returns the contact as stored.
func (s *Store) SetMemberContact(ctx context.Context, c MemberContact) (MemberContact, error) {
	p, err := contactPrincipal(ctx)
	if err != nil {
		return MemberContact{}, err
	}
	c, err = c.normalize()
	if err != nil {
		return MemberContact{}, err
	}
	member := *p.Actor.MemberID
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if c.Address == "" {
			if err := tx.Where("member_id = ?", member).Delete(&memberContactRow{}).Error; err != nil {
				return err
			}
		} else if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "member_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"address", "language", "updated_at"}),
		}).Create(&memberContactRow{MemberID: member, Address: c.Address, Language: c.Language,
			UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}).Error; err != nil {
			return err
		}
		return Audit(tx, AuditEntry{Action: ActionContactChange, RecordType: "member", RecordID: member})
	})
	if err != nil {
		return MemberContact{}, err
	}
	return c, nil
}

// normalize trims the address and checks both fields, naming each bad one.
func (c MemberContact) normalize() (MemberContact, error) {
	c.Address = strings.TrimSpace(c.Address)
	f := homeward.FieldErrors{}
	if c.Address != "" {
		if why := addressProblem(c.Address); why != "" {
			f.Add("address", why)
		}
	}
	if !slices.Contains(Locales, c.Language) {
		f.Add("language", "one of "+strings.Join(Locales, ", "))
	}
	if err := f.Err(); err != nil {
		return MemberContact{}, err
	}
	return c, nil
}
