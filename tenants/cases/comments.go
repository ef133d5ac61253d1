package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Audit actions of comments.
const (
	ActionComment     = "case.comment"
	ActionCommentRead = "case.comment.read"
)

// maxComment bounds a comment's text.
const maxComment = 5000

// commentCursor names the comment list's cursors.
const commentCursor = "comments1"

// commentRow is a row of case_comments; the text is encrypted with the
// case's key.
type commentRow struct {
	TenantID       uuid.UUID  `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID  `gorm:"type:uuid;primaryKey"`
	CaseID         uuid.UUID  `gorm:"type:uuid"`
	DataKeyID      uuid.UUID  `gorm:"type:uuid"`
	AuthorMemberID *uuid.UUID `gorm:"type:uuid"`
	Body           tenants.Secret
	CreatedAt      time.Time
}

func (commentRow) TableName() string { return "case_comments" }

func (r *commentRow) comment() Comment {
	return Comment{ID: r.ID, AuthorID: r.AuthorMemberID, Text: r.Body.Text(), CreatedAt: r.CreatedAt.UTC()}
}

// commentCase loads a case p can see and checks its access to the core.
func commentCase(tx *gorm.DB, p *tenants.Principal, caseID uuid.UUID, write bool) error {
	row, assigned, err := visibleCase(tx, p, caseID, write)
	if err != nil {
		return err
	}
	if write && !canWrite(accessFor(p, isOwn(p, row.OwnerMemberID, assigned)), tenants.FieldGroupCore) {
		return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow commenting on this case")
	}
	return nil
}

// AddComment adds a comment (core write), audited case.comment.
func (s *Service) AddComment(ctx context.Context, caseID uuid.UUID, text string) (*Comment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	now := stamp(s.now())
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); !utf8.ValidString(text) || n < 1 || n > maxComment {
		return nil, homeward.Invalid(map[string]string{"cco_CaseComment": fmt.Sprintf("from 1 to %d characters of text", maxComment)})
	}
	var out Comment
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := commentCase(tx, p, caseID, true); err != nil {
			return err
		}
		row := commentRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, DataKeyID: caseID,
			AuthorMemberID: p.Actor.MemberID, Body: tenants.NewSecret(text), CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := touch(tx, caseID, now); err != nil {
			return err
		}
		out = Comment{ID: row.ID, AuthorID: row.AuthorMemberID, Text: text, CreatedAt: now}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionComment, RecordType: recordType, RecordID: caseID,
			FieldGroups: []string{tenants.FieldGroupCore}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Comments lists a case's comments, oldest first (core read), audited
// case.comment.read.
func (s *Service) Comments(ctx context.Context, caseID uuid.UUID, limit int, cursor string) (*CommentPage, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	fe := homeward.FieldErrors{}
	limit = tenants.PageLimit(limit, fe)
	var afterAt time.Time
	var afterID uuid.UUID
	if cursor != "" {
		var ok bool
		if afterAt, afterID, ok = tenants.DecodeKeysetCursor(commentCursor, cursor, caseID.String()); !ok {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	page := &CommentPage{Comments: []Comment{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		if err := commentCase(tx, p, caseID, false); err != nil {
			return err
		}
		db := tx.Where("case_id = ?", caseID)
		if cursor != "" {
			db = db.Where("created_at > ? OR (created_at = ? AND id > ?)", afterAt, afterAt, afterID)
		}
		var rows []commentRow
		if err := db.Order("created_at, id").Limit(limit + 1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			page.Next = tenants.EncodeKeysetCursor(commentCursor, last.CreatedAt, last.ID, caseID.String())
		}
		for i := range rows {
			page.Comments = append(page.Comments, rows[i].comment())
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionCommentRead, RecordType: recordType,
			RecordID: caseID, FieldGroups: []string{tenants.FieldGroupCore}})
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}
