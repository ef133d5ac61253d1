package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// listCursor names the case list's cursors.
const listCursor = "cases1"

// purposeSearch is the audit purpose of a list that searched.
const purposeSearch = "search"

// statusStages maps each cas_Status to the stages it stands for.
func statusStages(status string) []Stage {
	var out []Stage
	for _, s := range Stages {
		if s.Status() == status {
			out = append(out, s)
		}
	}
	return out
}

// List returns a page of live cases, most recent activity first, one audit
// row (case.list, purpose search when Q is set) per call whatever the page
// holds. Q is an exact match, through the blind indexes, on the first name,
// the second name, both together, the birth date (YYYY-MM-DD or
// DD/MM/YYYY), or on the case number (C-00042, c-42, 42). A principal who
// reads only its own cases lists only those; names and birth dates are in
// a summary only when it may read the identity group of that case.
func (s *Service) List(ctx context.Context, q Query) (*Page, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	coreScope := p.CaseScope(tenants.FieldGroupCore, false)
	if coreScope == tenants.ScopeNone {
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow listing cases")
	}
	fe := homeward.FieldErrors{}
	limit := tenants.PageLimit(q.Limit, fe)
	q.Q = strings.TrimSpace(q.Q)
	if utf8.RuneCountInString(q.Q) > maxName*2+1 || !utf8.ValidString(q.Q) {
		fe.Add("q", fmt.Sprintf("at most %d characters", maxName*2+1))
	}
	if q.Stage != "" && !slices.Contains(Stages, q.Stage) {
		fe.Add("stage", fmt.Sprintf("one of %v", Stages))
	}
	if q.Status != "" && len(statusStages(q.Status)) == 0 {
		fe.Add("status", strings.Join([]string{StatusActive, StatusFollowUp, StatusClosed, StatusClosedReferred}, ", "))
	}
	scope := strings.Join([]string{q.Q, string(q.Stage), q.Status, fmt.Sprint(q.AssignedToMe)}, "\x00")
	var afterAt time.Time
	var afterID uuid.UUID
	if q.Cursor != "" {
		var ok bool
		if afterAt, afterID, ok = tenants.DecodeKeysetCursor(listCursor, q.Cursor, scope); !ok {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	mine := coreScope == tenants.ScopeOwn || q.AssignedToMe
	if mine && p.Actor.MemberID == nil {
		return &Page{Cases: []Summary{}}, nil // no membership: nothing is its own
	}

	page := &Page{Cases: []Summary{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		db := live(tx.Model(&caseRow{}))
		if q.Q != "" {
			matches, err := search(tx, p.TenantID, q.Q)
			if err != nil {
				return err
			}
			db = db.Where("id IN (?)", matches)
		}
		if q.Stage != "" {
			db = db.Where("stage = ?", q.Stage)
		}
		if q.Status != "" {
			db = db.Where("stage IN ?", statusStages(q.Status))
		}
		if mine {
			db = ownedByMember(db, tx.Session(&gorm.Session{NewDB: true}), p.TenantID, *p.Actor.MemberID)
		}
		if q.Cursor != "" {
			db = db.Where("last_activity_at < ? OR (last_activity_at = ? AND id < ?)", afterAt, afterAt, afterID)
		}
		identity := p.CaseScope(tenants.FieldGroupIdentity, false) != tenants.ScopeNone
		cols := []string{"tenant_id", "id", "data_key_id", "number", "stage", "owner_member_id", "last_activity_at"}
		if identity {
			cols = append(cols, colFirstName, colSecondName, colBirthdate)
		}
		var rows []*caseRow
		if err := db.Select(cols).Order("last_activity_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			page.Next = tenants.EncodeKeysetCursor(listCursor, last.LastActivityAt, last.ID, scope)
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		assigned, err := assignedTo(tx, ids)
		if err != nil {
			return err
		}
		groups := []string{tenants.FieldGroupCore}
		for _, r := range rows {
			sum := Summary{ID: r.ID, Number: r.Number, Reference: Reference(r.Number), Stage: r.Stage,
				OwnerID: r.OwnerMemberID, LastActivityAt: r.LastActivityAt.UTC()}
			own := isOwn(p, r.OwnerMemberID, assigned[r.ID])
			if covers(p.CaseScope(tenants.FieldGroupIdentity, false), own) {
				sum.IdentityShown = true
				sum.FirstName, sum.SecondName, sum.Birthdate = r.FirstName.Text(), r.SecondName.Text(), r.Birthdate.Text()
				if !slices.Contains(groups, tenants.FieldGroupIdentity) {
					groups = append(groups, tenants.FieldGroupIdentity)
				}
			}
			page.Cases = append(page.Cases, sum)
		}
		entry := tenants.AuditEntry{Action: ActionList, RecordType: recordType, FieldGroups: groups}
		if q.Q != "" {
			entry.Purpose = purposeSearch
		}
		return tenants.Audit(tx, entry)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// search is a subquery of the ids of the cases whose first name, second
// name, full name or birth date equals q through the blind indexes, or
// whose case number q reads as.
func search(tx *gorm.DB, tenantID uuid.UUID, q string) (*gorm.DB, error) {
	lookups := map[string]string{colFirstName: q, colSecondName: q, colFullName: q}
	if d, ok := parseBirthdate(q); ok {
		lookups[colBirthdate] = d
	}
	matches, err := tenants.BlindIndexMatches(tx, caseRow{}.TableName(), lookups)
	if err != nil {
		return nil, err
	}
	if number, ok := parseReference(q); ok {
		byNumber := tx.Session(&gorm.Session{NewDB: true}).Model(&caseRow{}).Select("id").
			Where("tenant_id = ? AND number = ?", tenantID, number)
		return tx.Session(&gorm.Session{NewDB: true}).Raw("? UNION ?", matches, byNumber), nil
	}
	return matches, nil
}

// parseBirthdate reads a date as YYYY-MM-DD or DD/MM/YYYY.
func parseBirthdate(q string) (string, bool) {
	for _, layout := range []string{time.DateOnly, "02/01/2006", "2/1/2006"} {
		if d, err := time.Parse(layout, q); err == nil {
			return d.Format(time.DateOnly), true
		}
	}
	return "", false
}
