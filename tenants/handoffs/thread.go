package handoffs

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// Thread is a page of the shared thread (handoff.thread / thread_own).
func (s *Service) Thread(ctx context.Context, id uuid.UUID, limit int, cursor string) (*MessagePage, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	fe := homeward.FieldErrors{}
	limit = tenants.PageLimit(limit, fe)
	var after uuid.UUID
	if cursor != "" {
		var ok bool
		if after, ok = tenants.DecodeListCursor("m1", cursor, id.String()); !ok {
			fe.Add("cursor", tenants.BadCursor)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	page := &MessagePage{Messages: []Message{}}
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		_, a, err := visible(tx, p, id, false, false)
		if err != nil {
			return err
		}
		if !a.thread {
			return homeward.Errorf(homeward.EFORBIDDEN, "your roles do not allow the thread of this handoff")
		}
		q := tx.Where("handoff_id = ?", id)
		if after != uuid.Nil {
			q = q.Where("id > ?", after)
		}
		var rows []messageRow
		// Message ids are time-ordered (UUIDv7): the id alone orders the
		// thread, oldest first.
		if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			page.Next = tenants.EncodeListCursor("m1", rows[limit-1].ID, id.String())
		}
		var docIDs []uuid.UUID
		for _, r := range rows {
			if r.DocumentID != nil {
				docIDs = append(docIDs, *r.DocumentID)
			}
		}
		docs, err := documentsByID(tx, docIDs, nil)
		if err != nil {
			return err
		}
		var groups []string
		for _, r := range rows {
			m := Message{ID: r.ID, FromSide: r.FromSide, AuthorID: r.AuthorID, Text: r.Text.Text(),
				CreatedAt: r.CreatedAt.UTC()}
			for i := range docs {
				if r.DocumentID != nil && docs[i].ID == *r.DocumentID {
					d := docs[i]
					m.Document = &d
					groups = appendOnce(groups, d.Group)
				}
			}
			page.Messages = append(page.Messages, m)
		}
		return audit(tx, ActionThreadRead, id, groups)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Post posts a message (and optionally a document of this side's case) to
// the thread.
func (s *Service) Post(ctx context.Context, id uuid.UUID, text string, document *uuid.UUID) (*Message, error) {
	fe := homeward.FieldErrors{}
	text = checkText(fe, "text", text, maxNote, document == nil)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	p, own, err := s.prepare(ctx, id, "", func(a access) bool { return a.thread }, "write in the thread of")
	if err != nil {
		return nil, err
	}
	if !live(own.State) {
		return nil, stateConflict(own, "written to")
	}
	if own.Side == SideSender && own.SharingStoppedAt != nil {
		return nil, &homeward.Error{Code: homeward.ECONFLICT, Message: "sharing has stopped: nothing more reaches the partner",
			Fields: map[string]string{"state": "sharing stopped"}}
	}
	now := stamp(s.now())
	msgID := uuid.Must(uuid.NewV7())
	var (
		out  *Message
		docs []outDoc
	)
	var ids []uuid.UUID
	if document != nil {
		ids = []uuid.UUID{*document}
	}
	err = s.mirror(ctx, own, func(tx *gorm.DB) error {
		if own.Side == SideSender {
			stopped, err := sharingStopped(tx, own)
			if err != nil {
				return err
			}
			if stopped {
				return consentProblem
			}
		}
		var err error
		docs, err = s.stageDocs(tx, p, own, ids)
		return err
	}, func(tx *gorm.DB, row *handoffRow) error {
		m := messageRow{ID: msgID, HandoffID: id, DataKeyID: id, FromSide: row.Side, AuthorID: p.Actor.MemberID,
			Text: tenants.NewSecret(text), DocumentID: document, CreatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		var groups []string
		for _, d := range docs {
			groups = appendOnce(groups, d.group)
		}
		if err := audit(tx, ActionMessage, id, groups); err != nil {
			return err
		}
		out = &Message{ID: msgID, FromSide: row.Side, AuthorID: p.Actor.MemberID, Text: text, CreatedAt: now}
		if document != nil {
			got, err := documentsByID(tx, ids, nil)
			if err != nil {
				return err
			}
			if len(got) == 1 {
				out.Document = &got[0]
			}
		}
		return nil
	}, func(tx *gorm.DB, row *handoffRow) error {
		copies, err := s.writeDocs(tx, row, docs, nil, &msgID, now)
		if err != nil {
			return err
		}
		m := messageRow{ID: msgID, HandoffID: id, DataKeyID: id, FromSide: own.Side, Text: tenants.NewSecret(text),
			CreatedAt: now}
		if len(copies) == 1 {
			m.DocumentID = &copies[0]
		}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		var groups []string
		for _, d := range docs {
			groups = appendOnce(groups, d.group)
		}
		if err := audit(tx, ActionMessage, id, groups); err != nil {
			return err
		}
		_, err = notice(tx, row, NoticeMessage)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
