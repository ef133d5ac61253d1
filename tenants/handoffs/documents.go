package handoffs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
)

// Documents travel as copies: read (and decrypted) on the side that shares
// them, in its step of the transaction (audited document.download there,
// purpose repatriation), and stored again on the other side
// (tenants.StoreDocument: checked, cleaned, encrypted under that side's
// handoff data key, audited document.upload as the partner organisation),
// with a handoff_documents row saying what they came with. Neither side
// ever reads the other's storage.

// maxDocuments bounds the documents of one start, stage or message.
const maxDocuments = 20

// outDoc is a document read on its side, on its way to the other.
type outDoc struct {
	source  uuid.UUID // its id on the sharing side
	group   string
	name    string
	content []byte
}

// linkedCase is the case a stored document belongs to (casedocs'
// case_documents), for checking that a document offered is the case's.
type linkedCase struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	DocumentID uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID     uuid.UUID `gorm:"type:uuid"`
}

func (linkedCase) TableName() string { return "case_documents" }

// readDocs checks and reads documents ids of the case of ref that its
// side shares: each a live document of the case, of one of groups (the
// partnership's), which the member may read (ref), the medical group only
// with health (the case's health_sharing consent). Problems name
// "documents".
func (s *Service) readDocs(tx *gorm.DB, ref *cases.Ref, ids []uuid.UUID, groups []string, allowed, health bool) ([]outDoc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return homeward.Invalid(map[string]string{"documents": fmt.Sprintf(format, args...)})
	}
	switch {
	case len(ids) > maxDocuments:
		return nil, bad("at most %d documents", maxDocuments)
	case !allowed:
		return nil, bad("the partnership does not let documents travel")
	case s.bucket == nil:
		return nil, homeward.Errorf(homeward.EUNAVAILABLE, "document storage is not configured")
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	var links []linkedCase
	if err := db.Where("document_id IN ? AND case_id = ?", ids, ref.ID).Find(&links).Error; err != nil {
		return nil, err
	}
	var docs []tenants.Document
	if err := db.Select("tenant_id", "id", "data_key_id", "field_group", "deleted_at").
		Where("id IN ? AND deleted_at IS NULL", ids).Find(&docs).Error; err != nil {
		return nil, err
	}
	group := map[uuid.UUID]string{}
	for _, d := range docs {
		if slices.ContainsFunc(links, func(l linkedCase) bool { return l.DocumentID == d.ID }) {
			group[d.ID] = d.FieldGroup
		}
	}
	var out []outDoc
	for _, id := range ids {
		if slices.ContainsFunc(out, func(o outDoc) bool { return o.source == id }) {
			continue
		}
		g, ok := group[id]
		switch {
		case !ok || !ref.CanRead(g):
			return nil, bad("%s is not a document of this case", id)
		case g == tenants.FieldGroupPsychological:
			return nil, bad("%s belongs to the psychological group, which never leaves the organisation", id)
		case !slices.Contains(groups, g):
			return nil, bad("%s belongs to the %s group, which the partnership does not share", id, g)
		case g == tenants.FieldGroupMedical && !health:
			return nil, bad("%s belongs to the medical group, which needs the health_sharing consent", id)
		}
		doc, content, err := tenants.OpenDocument(tx, s.bucket, id, purpose)
		if err != nil {
			return nil, err
		}
		out = append(out, outDoc{source: id, group: g, name: doc.Filename.Text(), content: content})
	}
	return out, nil
}

// writeDocs stores copies of docs on row's side (tx's organisation),
// linked to what they came with (a stage or a message), and returns the
// copies' ids in docs' order. Each is under this side's data key of the
// handoff, except on the receiver's side once it has accepted: there it
// joins the receiver's case (caseKey).
func (s *Service) writeDocs(tx *gorm.DB, row *handoffRow, docs []outDoc, stage *Stage, message *uuid.UUID, now time.Time) ([]uuid.UUID, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	key, caseID, err := caseKey(tx, row)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, d := range docs {
		doc, err := tenants.StoreDocument(tx, s.bucket, tenants.NewDocument{DataKeyID: key, FieldGroup: d.group,
			Filename: d.name, Content: bytes.NewReader(d.content), Purpose: purpose}, s.limits)
		if err != nil {
			return nil, err
		}
		if caseID != nil {
			if err := casedocs.Link(tx, *caseID, doc.ID, &casedocs.Entry{Kind: EntryKind, ID: row.ID}); err != nil {
				return nil, err
			}
		}
		link := handoffDocumentRow{DocumentID: doc.ID, HandoffID: row.ID, FieldGroup: d.group, MessageID: message,
			CreatedAt: now}
		if stage != nil {
			st := string(*stage)
			link.Stage = &st
		}
		if err := tx.Create(&link).Error; err != nil {
			return nil, err
		}
		out = append(out, doc.ID)
	}
	return out, nil
}

// EntryKind is the entry of a case (casedocs.Entry) that the documents a
// receiver got on a handoff belong to: the handoff, by its id.
const EntryKind = "handoff"

// caseKey is the data key a copy received on row's side is stored under:
// the receiver's case once the handoff is accepted (and the case live),
// returned as caseID too, so that the copy is one of the case's documents
// and erasing the case shreds it with the rest; else this side's data key
// of the handoff (caseID nil).
func caseKey(tx *gorm.DB, row *handoffRow) (uuid.UUID, *uuid.UUID, error) {
	if row.Side != SideReceiver || row.CaseID == nil {
		return row.ID, nil, nil
	}
	ref, err := cases.RefOf(tx, *row.CaseID)
	switch {
	case homeward.ErrorCode(err) == homeward.ENOTFOUND:
		return row.ID, nil, nil // erased or anonymised: the copy stays the handoff's
	case err != nil:
		return uuid.Nil, nil, err
	}
	return ref.ID, &ref.ID, nil
}

// adoptDocuments makes the copies the receiver holds of handoff row (its
// row, at its acceptance: row.CaseID is the case just created) documents
// of that case: each is stored again under the case's data key, in its
// group, linked into the case's documents with the handoff as their entry
// (casedocs.Link), and the copy under the handoff's key deleted (the purge
// removes its content); the handoff's list and its thread name the new
// copy. Erasing the case then shreds them with the rest of it.
func (s *Service) adoptDocuments(tx *gorm.DB, row *handoffRow) error {
	db := tx.Session(&gorm.Session{NewDB: true})
	var links []handoffDocumentRow
	if err := db.Where("handoff_id = ?", row.ID).Order("created_at, document_id").Find(&links).Error; err != nil {
		return err
	}
	if len(links) == 0 {
		return nil
	}
	if s.bucket == nil {
		return homeward.Errorf(homeward.EUNAVAILABLE, "document storage is not configured")
	}
	for _, l := range links {
		doc, content, err := tenants.OpenDocument(tx, s.bucket, l.DocumentID, purpose)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		var stage *Stage
		if l.Stage != nil {
			st := Stage(*l.Stage)
			stage = &st
		}
		// The new copy takes the old one's place in the handoff's list,
		// with what it came with.
		copies, err := s.writeDocs(tx, row, []outDoc{{source: doc.ID, group: doc.FieldGroup, name: doc.Filename.Text(),
			content: content}}, stage, l.MessageID, l.CreatedAt)
		if err != nil {
			return err
		}
		if err := db.Where("document_id = ?", l.DocumentID).Delete(&handoffDocumentRow{}).Error; err != nil {
			return err
		}
		if err := db.Model(&messageRow{}).Where("handoff_id = ? AND document_id = ?", row.ID, l.DocumentID).
			Update("document_id", copies[0]).Error; err != nil {
			return err
		}
		if err := tenants.DeleteDocument(tx, l.DocumentID, purpose); err != nil {
			return err
		}
	}
	return nil
}

// sharedDocuments are the documents of handoff id this side received, by
// id (the copies), live ones only.
func sharedDocuments(tx *gorm.DB, id uuid.UUID, groups []string) ([]SharedDocument, error) {
	db := tx.Session(&gorm.Session{NewDB: true})
	var links []handoffDocumentRow
	if err := db.Where("handoff_id = ?", id).Order("created_at, document_id").Find(&links).Error; err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(links))
	for i, l := range links {
		ids[i] = l.DocumentID
	}
	return documentsByID(tx, ids, groups)
}

// documentsByID describes this side's live documents ids, in the order
// given, of the groups given (nil: any).
func documentsByID(tx *gorm.DB, ids []uuid.UUID, groups []string) ([]SharedDocument, error) {
	var docs []tenants.Document
	if err := tx.Session(&gorm.Session{NewDB: true}).Where("id IN ? AND deleted_at IS NULL", ids).
		Find(&docs).Error; err != nil {
		return nil, err
	}
	var out []SharedDocument
	for _, id := range ids {
		for _, d := range docs {
			if d.ID == id && (groups == nil || slices.Contains(groups, d.FieldGroup)) && !d.Filename.Shredded() {
				out = append(out, SharedDocument{ID: d.ID, Group: d.FieldGroup, FileName: d.Filename.Text(),
					ContentType: d.ContentType, Size: d.Size})
			}
		}
	}
	return out, nil
}

// errNoDocument is a document this side holds no readable copy of on a
// handoff: not_found, like an unknown one.
var errNoDocument = homeward.Errorf(homeward.ENOTFOUND, "no such document of this handoff")

// Document returns the copy this side holds of a document shared on
// handoff id (one handoff_documents lists: the start's, a stage's or a
// message's, received from the other side) and its content, for the
// principal in ctx. Either side: the receiver's copies of the sender's
// documents (before the acceptance under the handoff's key, after it the
// documents of its case, which casedocs serves too), the sender's of the
// receiver's (a stage's or a message's). A document this side sent is a
// document of its own case, not a copy: casedocs serves it, this does not.
//
// Who: whoever reaches the handoff (visible), and reads the document's
// group as the shared copy shows it (readableGroups: before the
// acceptance a group it reads on every case, after it one it reads on the
// case). Not_found for a handoff it does not reach or its organisation
// holds no row of, a document not of this handoff (or the other side's),
// one of a group it may not read, and once the handoff is no longer
// between the sides (declined or withdrawn: the copies are gone, the key
// shredded). Audited document.download (tenants.OpenDocument) and
// handoff.document_read with the document's group, purpose repatriation.
func (s *Service) Document(ctx context.Context, id, documentID uuid.UUID) (*SharedDocument, []byte, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.bucket == nil {
		return nil, nil, homeward.Errorf(homeward.EUNAVAILABLE, "document storage is not configured")
	}
	var (
		out     *SharedDocument
		content []byte
	)
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		row, _, err := visible(tx, p, id, false, false)
		if err != nil {
			return err
		}
		if !live(row.State) {
			return errNoDocument
		}
		var n int64
		if err := tx.Session(&gorm.Session{NewDB: true}).Model(&handoffDocumentRow{}).
			Where("handoff_id = ? AND document_id = ?", id, documentID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return errNoDocument
		}
		readable, err := readableGroups(tx, p, row)
		if err != nil {
			return err
		}
		docs, err := documentsByID(tx, []uuid.UUID{documentID}, readable)
		if err != nil {
			return err
		}
		if len(docs) != 1 {
			return errNoDocument
		}
		_, data, err := tenants.OpenDocument(tx, s.bucket, documentID, purpose)
		switch {
		case homeward.ErrorCode(err) == homeward.ENOTFOUND || errors.Is(err, tenants.ErrShredded):
			return errNoDocument
		case err != nil:
			return err
		}
		out, content = &docs[0], data
		return audit(tx, ActionDocumentRead, id, []string{docs[0].Group})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, content, nil
}

// dropDocuments deletes the copies this side received of handoff id
// (tenants.DeleteDocument: the purge removes their content).
func dropDocuments(tx *gorm.DB, id uuid.UUID) error {
	var ids []uuid.UUID
	if err := tx.Session(&gorm.Session{NewDB: true}).Model(&handoffDocumentRow{}).Where("handoff_id = ?", id).
		Pluck("document_id", &ids).Error; err != nil {
		return err
	}
	for _, d := range ids {
		err := tenants.DeleteDocument(tx, d, purpose)
		if err != nil && homeward.ErrorCode(err) != homeward.ENOTFOUND {
			return err
		}
	}
	return nil
}

// parseDay reads a stage or feedback date: "" is today (in the
// organisation's time zone), else YYYY-MM-DD, not in the future.
func parseDay(field, on string, today time.Time) (string, error) {
	on = strings.TrimSpace(on)
	if on == "" {
		return today.Format(time.DateOnly), nil
	}
	d, err := time.Parse(time.DateOnly, on)
	switch {
	case err != nil:
		return "", homeward.Invalid(map[string]string{field: "expected a date as YYYY-MM-DD"})
	case d.After(today):
		return "", homeward.Invalid(map[string]string{field: "may not lie in the future"})
	case d.Year() < 2000:
		return "", homeward.Invalid(map[string]string{field: "a date from 2000 on"})
	}
	return on, nil
}
