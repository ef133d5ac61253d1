package tenants

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Members administration: a tenant admin lists the organisation's members,
// disables and enables them, and overrides the roles their provider groups
// map to. memberships is a global table (it is read before an organisation
// is chosen), so every query here names the principal's organisation
// itself; the authorization matrix test (api/authz_matrix_test.go) checks
// that no organisation sees another's members.

// Member is a membership as the administration pages and API show it.
type Member struct {
	ID           uuid.UUID
	Issuer       string
	Subject      string
	Roles        []Role // what the member may do now
	MappedRoles  []Role // from the provider groups at the last sign-in
	AddedRoles   []Role // the tenant admin's overrides
	RemovedRoles []Role
	Disabled     bool
	Locale       string // "" when the member has not chosen one
	LastLoginAt  *time.Time
	CreatedAt    time.Time
}

// memberRow is a membership with its identity, as the queries here read it
// (GORM scans no embedded unexported struct, so the columns are repeated).
type memberRow struct {
	ID           uuid.UUID `gorm:"type:uuid"`
	TenantID     uuid.UUID `gorm:"type:uuid"`
	IdentityID   uuid.UUID `gorm:"type:uuid"`
	MappedRoles  string
	AddedRoles   string
	RemovedRoles string
	Disabled     bool
	Locale       string
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Issuer       string
	Subject      string
	Slug         string // OrganisationsOf: the organisation's
	Name         string
}

func (r *memberRow) membershipRow() *membershipRow {
	return &membershipRow{ID: r.ID, TenantID: r.TenantID, IdentityID: r.IdentityID, MappedRoles: r.MappedRoles,
		AddedRoles: r.AddedRoles, RemovedRoles: r.RemovedRoles, Disabled: r.Disabled, Locale: r.Locale,
		LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (r *memberRow) member() Member {
	m := r.membershipRow().membership()
	return Member{
		ID: m.ID, Issuer: r.Issuer, Subject: r.Subject, Roles: m.Roles(),
		MappedRoles: m.MappedRoles, AddedRoles: m.AddedRoles, RemovedRoles: m.RemovedRoles,
		Disabled: m.Disabled, Locale: m.Locale, LastLoginAt: m.LastLoginAt, CreatedAt: m.CreatedAt,
	}
}

// MemberQuery selects a page of members, oldest first.
type MemberQuery struct {
	Limit         int    // 1 to MaxPage; 0 means DefaultPage
	Cursor        string // Next of the previous page with the same search
	SubjectPrefix string // only identities whose subject starts with this
}

// MemberPage is one page of members; Next is "" on the last page.
type MemberPage struct {
	Members []Member
	Next    string
}

// Members lists the principal's organisation's members (members.read).
func (s *Store) Members(ctx context.Context, q MemberQuery) (*MemberPage, error) {
	p, err := orgPrincipal(ctx, PermMembersRead)
	if err != nil {
		return nil, err
	}
	f := homeward.FieldErrors{}
	limit := pageLimit(q.Limit, f)
	if utf8.RuneCountInString(q.SubjectPrefix) > 500 {
		f.Add("subject", "at most 500 characters")
	}
	var after uuid.UUID
	if q.Cursor != "" {
		var ok bool
		if after, ok = decodeListCursor("m1", q.Cursor, q.SubjectPrefix); !ok {
			f.Add("cursor", badCursor)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	sql := `SELECT m.*, i.issuer, i.subject FROM memberships m JOIN identities i ON i.id = m.identity_id WHERE m.tenant_id = ?`
	args := []any{p.TenantID}
	if q.SubjectPrefix != "" {
		sql += ` AND substr(i.subject, 1, ?) = ?`
		args = append(args, utf8.RuneCountInString(q.SubjectPrefix), q.SubjectPrefix)
	}
	if after != uuid.Nil {
		sql += ` AND m.id > ?`
		args = append(args, after)
	}
	sql += ` ORDER BY m.id LIMIT ?`
	args = append(args, limit+1)
	var rows []memberRow
	if err := s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		return tx.Raw(sql, args...).Scan(&rows).Error
	}); err != nil {
		return nil, err
	}
	page := &MemberPage{Members: []Member{}}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeListCursor("m1", rows[len(rows)-1].ID, q.SubjectPrefix)
	}
	for i := range rows {
		page.Members = append(page.Members, rows[i].member())
	}
	return page, nil
}

// SetMemberDisabled disables (or enables again) a member of the principal's
// organisation (members.write), audited member.disable or member.enable. A
// disabled member's sessions, JWTs and API tokens stop working with their
// next request. Nobody disables themselves (conflict).
func (s *Store) SetMemberDisabled(ctx context.Context, id uuid.UUID, disabled bool) (*Member, error) {
	p, err := orgPrincipal(ctx, PermMembersWrite)
	if err != nil {
		return nil, err
	}
	if disabled && p.Actor.MemberID != nil && *p.Actor.MemberID == id {
		return nil, homeward.Errorf(homeward.ECONFLICT, "you cannot disable yourself: ask another tenant admin")
	}
	var out Member
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, err := memberOf(tx, p.TenantID, id)
		if err != nil {
			return err
		}
		if row.Disabled != disabled {
			now := time.Now().UTC()
			if err := tx.Model(&membershipRow{}).Where("id = ? AND tenant_id = ?", id, p.TenantID).
				Updates(map[string]any{"disabled": disabled, "updated_at": now}).Error; err != nil {
				return err
			}
			row.Disabled = disabled
			action := "member.enable"
			if disabled {
				action = "member.disable"
			}
			if err := Audit(tx, AuditEntry{Action: action, RecordType: "membership", RecordID: id}); err != nil {
				return err
			}
			if disabled { // re-enabling must not bring back a session from before
				if err := tx.Where("membership_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
					return err
				}
			}
		}
		out = row.member()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetMemberRoles replaces a member's role overrides (members.write): add
// are roles the member holds whatever their groups map to, remove are roles
// they never hold; sending both empty returns to the provider's mapping.
// Audited member.roles. A tenant admin cannot remove tenant_admin from
// themselves (conflict), so an organisation is not locked out by mistake.
func (s *Store) SetMemberRoles(ctx context.Context, id uuid.UUID, add, remove []Role) (*Member, error) {
	p, err := orgPrincipal(ctx, PermMembersWrite)
	if err != nil {
		return nil, err
	}
	f := homeward.FieldErrors{}
	check := func(field string, rs []Role) {
		for _, r := range rs {
			if !ValidRole(r) || r == RolePlatformOperator {
				f.Add(field, fmt.Sprintf("%q is not an organisation role (one of %s)", r, orgRoleNames()))
			}
		}
	}
	check("add", add)
	check("remove", remove)
	for _, r := range add {
		if slices.Contains(remove, r) {
			f.Add("remove", fmt.Sprintf("%q is also in add", r))
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out Member
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, err := memberOf(tx, p.TenantID, id)
		if err != nil {
			return err
		}
		after := effectiveRoles(parseRoles(row.MappedRoles), add, remove)
		if p.Actor.MemberID != nil && *p.Actor.MemberID == id && !slices.Contains(after, RoleTenantAdmin) &&
			slices.Contains(row.member().Roles, RoleTenantAdmin) {
			return homeward.Errorf(homeward.ECONFLICT, "you cannot take tenant_admin from yourself: ask another tenant admin")
		}
		row.AddedRoles, row.RemovedRoles, row.UpdatedAt = joinRoles(add), joinRoles(remove), time.Now().UTC()
		if err := tx.Model(&membershipRow{}).Where("id = ? AND tenant_id = ?", id, p.TenantID).
			Updates(map[string]any{"added_roles": row.AddedRoles, "removed_roles": row.RemovedRoles, "updated_at": row.UpdatedAt}).Error; err != nil {
			return err
		}
		if err := Audit(tx, AuditEntry{Action: "member.roles", RecordType: "membership", RecordID: id}); err != nil {
			return err
		}
		out = row.member()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Member reads one member of the principal's organisation (members.read):
// not_found for another organisation's member, as for one that does not
// exist.
func (s *Store) Member(ctx context.Context, id uuid.UUID) (*Member, error) {
	p, err := orgPrincipal(ctx, PermMembersRead)
	if err != nil {
		return nil, err
	}
	var out Member
	err = s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, err := memberOf(tx, p.TenantID, id)
		if err != nil {
			return err
		}
		out = row.member()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetMemberLocale stores the signed-in member's own language (one of
// Locales) with their membership, so that it follows them to every device;
// "" forgets the choice (the organisation's default applies again). Any
// member may set their own, and only their own: the membership is the
// principal's. An API token or a platform operator has no membership to
// keep it in (forbidden).
//
// Not audited: a language is a member's preference about their own screen,
// neither access to records nor a change to who may do what, and auditing
// it would take the organisation's audit-chain lock for a click on the
// language picker.
func (s *Store) SetMemberLocale(ctx context.Context, lang string) error {
	p := PrincipalFrom(ctx)
	if p == nil {
		return homeward.Errorf(homeward.EUNAUTHENTICATED, "sign in first")
	}
	if p.ViaToken || p.Actor.MemberID == nil || p.TenantID == uuid.Nil {
		return homeward.Errorf(homeward.EFORBIDDEN, "only a signed-in member keeps a language with their membership")
	}
	if lang != "" && !slices.Contains(Locales, lang) {
		return homeward.Invalid(map[string]string{"lang": "one of " + strings.Join(Locales, ", ")})
	}
	return s.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		res := tx.Model(&membershipRow{}).Where("id = ? AND tenant_id = ?", *p.Actor.MemberID, p.TenantID).
			Updates(map[string]any{"locale": lang, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return homeward.Errorf(homeward.ENOTFOUND, "no such member")
		}
		return nil
	})
}

// memberOf reads one member of the organisation: not_found for another
// organisation's member, exactly as for one that does not exist.
func memberOf(tx *gorm.DB, tenantID, id uuid.UUID) (*memberRow, error) {
	var rows []memberRow
	err := tx.Raw(`SELECT m.*, i.issuer, i.subject FROM memberships m JOIN identities i ON i.id = m.identity_id
WHERE m.tenant_id = ? AND m.id = ?`, tenantID, id).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no such member")
	}
	return &rows[0], nil
}

// orgPrincipal is the context's principal when it may do perm in an
// organisation: unauthenticated without one, forbidden without the right or
// for a platform operator (who acts for no organisation).
func orgPrincipal(ctx context.Context, perm Permission) (*Principal, error) {
	p := PrincipalFrom(ctx)
	if err := Authorize(p, perm); err != nil {
		return nil, err
	}
	if p.TenantID == uuid.Nil {
		return nil, errNoOrganisation
	}
	return p, nil
}

// OrgPrincipal is the principal of the context when it acts for an
// organisation and holds perm: unauthenticated without one, forbidden
// without the right or without an organisation (a platform operator).
func OrgPrincipal(ctx context.Context, perm Permission) (*Principal, error) {
	return orgPrincipal(ctx, perm)
}

// MaxStaff bounds how many members StaffOf lists: an organisation's staff,
// not its history.
const MaxStaff = 500

// StaffOf lists the enabled members of the transaction's organisation who
// hold a role now, by subject (then id), at most MaxStaff: those a feature
// may give work to (a case's owner and assigned staff: the assignment
// form, cases.Service.Staff). The caller has authorized the reader; the
// members are shown as the members page shows them, by subject, since a
// membership holds no name.
func StaffOf(tx *gorm.DB) ([]Member, error) {
	tenant, ok := txTenantFrom(tx.Statement.Context)
	if !ok {
		return nil, ErrNoTenant
	}
	var rows []memberRow
	if err := tx.Session(&gorm.Session{NewDB: true}).Raw(`SELECT m.*, i.issuer, i.subject FROM memberships m
		JOIN identities i ON i.id = m.identity_id WHERE m.tenant_id = ? AND NOT m.disabled ORDER BY i.subject, m.id`, tenant).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := []Member{}
	for i := range rows {
		if m := rows[i].member(); len(m.Roles) > 0 && len(out) < MaxStaff {
			out = append(out, m)
		}
	}
	return out, nil
}

// MembersHolding lists, in the order given, which of ids are enabled
// members of the transaction's organisation holding one of roles now (any
// role when none is given): a feature addressing work to the staff of a
// record (follow-up reminders to a case's social workers) asks it inside
// its own transaction.
func MembersHolding(tx *gorm.DB, ids []uuid.UUID, roles ...Role) ([]uuid.UUID, error) {
	tenant, ok := txTenantFrom(tx.Statement.Context)
	if !ok {
		return nil, ErrNoTenant
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []membershipRow
	if err := tx.Session(&gorm.Session{NewDB: true}).Where("tenant_id = ? AND id IN ? AND NOT disabled", tenant, ids).
		Find(&rows).Error; err != nil {
		return nil, err
	}
	holds := map[uuid.UUID]bool{}
	for i := range rows {
		have := rows[i].membership().Roles()
		holds[rows[i].ID] = len(have) > 0 && (len(roles) == 0 || slices.ContainsFunc(roles, func(r Role) bool { return slices.Contains(have, r) }))
	}
	var out []uuid.UUID
	for _, id := range ids {
		if holds[id] {
			out = append(out, id)
			holds[id] = false // once, even when given twice
		}
	}
	return out, nil
}
