// Package casedocs is the documents of a case: a scan, a photo, a report
// added to a part of a case (a field group, or the survivor's path's
// support, kit and follow-up parts) and, optionally, to one entry of it (a
// psychological session, a follow-up visit, a starter kit). The content is
// the platform's document storage (tenants.StoreDocument: type checked by
// content, size limited, metadata stripped, encrypted with the case's data
// key, every download audited); this package adds the link to the case and
// the entry, and who may do what.
//
// Access is the document's part's: a member reads the documents of the
// parts of a case it may read, and adds or deletes those of the parts it
// may write (cases.Open, Ref.CanRead, Ref.CanWrite). A case the member may
// not see is not_found, and so is a document of a part it may not read; a
// part it may read but not write is forbidden for a change. The consent
// records are records, not files: no document belongs to them.
package casedocs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// Audit actions of this package; tenants.StoreDocument, OpenDocument and
// DeleteDocument write document.upload, document.download and
// document.delete themselves.
const ActionList = "case.documents.read" // a case's documents listed (their names read)

// purpose is why a case's document is added, read or deleted, for the
// audit log: the survivor's care, which the services consent covers.
const purpose = "services"

// linkRow ties a stored document to its case and, optionally, an entry.
type linkRow struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	DocumentID uuid.UUID `gorm:"type:uuid;primaryKey"`
	CaseID     uuid.UUID `gorm:"type:uuid"`
	EntryKind  *string
	EntryID    *uuid.UUID `gorm:"type:uuid"`
}

func (linkRow) TableName() string { return "case_documents" }

// Entry names the entry of a case a document was added to: its kind, as
// the feature that owns it names its records ("care.session",
// "followup.visit", "kit"), and its id.
type Entry struct {
	Kind string
	ID   uuid.UUID
}

// entryKindPattern is an entry kind: a code, or a feature's code and its
// record's ("followup.visit").
var entryKindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)

// Document is one document of a case as a member may see it.
type Document struct {
	ID          uuid.UUID
	CaseID      uuid.UUID
	Part        string // tenants.DocumentParts
	Entry       *Entry // nil: the document belongs to the part as a whole
	Filename    string // as uploaded, without any folder
	ContentType string // detected from the content
	Size        int64
	CreatedAt   time.Time
	CreatedBy   string // "member:ID", or the actor's identity
}

// NewDocument is a file to add to a case.
type NewDocument struct {
	Part     string // a field group or tenants.CaseSupport, CaseKit, CaseFollowUp
	Entry    *Entry // optional
	Filename string
	Content  io.Reader
}

// Service is the documents of the organisation's cases.
type Service struct {
	store  *tenants.Store
	bucket *blob.Bucket
	limits tenants.DocumentLimits
	now    func() time.Time
}

// New returns the service storing content in bucket (HOMEWARD_BLOB_URL,
// tenants.OpenDocumentBucket) within limits.
func New(store *tenants.Store, bucket *blob.Bucket, limits tenants.DocumentLimits) *Service {
	return &Service{store: store, bucket: bucket, limits: limits, now: time.Now}
}

var errNoDocument = homeward.Errorf(homeward.ENOTFOUND, "no such document")

// Add stores a document in a part of case caseID, optionally linked to an
// entry, for the principal in ctx: not_found when it may not see the case,
// forbidden when it may not write the part. Nothing is stored when the
// content is refused (tenants.StoreDocument: too large, not of an allowed
// type). The case's last activity moves.
func (s *Service) Add(ctx context.Context, caseID uuid.UUID, nd NewDocument) (*Document, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, err
	}
	problems := homeward.FieldErrors{}
	if !slices.Contains(tenants.DocumentParts, nd.Part) {
		problems.Add("part", "expected one of "+strings.Join(tenants.DocumentParts, ", "))
	}
	if e := nd.Entry; e != nil {
		if !entryKindPattern.MatchString(e.Kind) || len(e.Kind) > 100 {
			problems.Add("entry_kind", "expected the kind of an entry of the case, such as care.session or followup.visit")
		}
		if e.ID == uuid.Nil {
			problems.Add("entry_id", "expected the id of the entry")
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	var out *Document
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, true)
		if err != nil {
			return err
		}
		if err := ref.Need(nd.Part, true); err != nil {
			return err
		}
		doc, err := tenants.StoreDocument(tx, s.bucket, tenants.NewDocument{DataKeyID: caseID, FieldGroup: nd.Part,
			Filename: nd.Filename, Content: nd.Content, Purpose: purpose}, s.limits)
		if err != nil {
			return err
		}
		link := linkRow{DocumentID: doc.ID, CaseID: caseID}
		if e := nd.Entry; e != nil {
			link.EntryKind, link.EntryID = &e.Kind, &e.ID
		}
		if err := tx.Create(&link).Error; err != nil {
			return err
		}
		if err := cases.Touch(tx, caseID, s.now()); err != nil {
			return err
		}
		out = view(doc, link)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Link ties document documentID, stored in tx's organisation under the
// data key of case caseID (tenants.StoreDocument with DataKeyID = caseID,
// so that erasing the case shreds it with the rest), to that case and
// optionally an entry of it, in the caller's transaction: for a feature
// that brings documents into a case as part of its own work (the
// documents a partner shared on a repatriation handoff, when the
// receiver accepts it: tenants/handoffs). The document's part is its
// field group. The caller has authorized the change.
func Link(tx *gorm.DB, caseID, documentID uuid.UUID, entry *Entry) error {
	if e := entry; e != nil && (!entryKindPattern.MatchString(e.Kind) || len(e.Kind) > 100 || e.ID == uuid.Nil) {
		return fmt.Errorf("casedocs: link: %q is not the kind of an entry", e.Kind)
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	var keys []uuid.UUID
	if err := db.Model(&tenants.Document{}).Where("id = ? AND deleted_at IS NULL", documentID).
		Pluck("data_key_id", &keys).Error; err != nil {
		return err
	}
	if len(keys) != 1 || keys[0] != caseID {
		return errors.New("casedocs: link: the document is not a live document stored under the case's key")
	}
	link := linkRow{DocumentID: documentID, CaseID: caseID}
	if e := entry; e != nil {
		link.EntryKind, link.EntryID = &e.Kind, &e.ID
	}
	return db.Create(&link).Error
}

// MaxBytes is the document size limit of the principal's organisation
// (tenants.DocumentMaxBytes within this service's limits): the upload
// routes ask it before they read a body larger than the server's usual
// limit (api/uploads.go). Unauthenticated without a principal, forbidden
// outside an organisation, as Add is.
func (s *Service) MaxBytes(ctx context.Context) (int64, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return 0, err
	}
	var limit int64
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		limit, err = tenants.DocumentMaxBytes(tx, s.limits)
		return err
	})
	return limit, err
}

// Listing is the documents of a case a member may see, with what it may
// do with each part.
type Listing struct {
	CaseID    uuid.UUID
	Reference string     // the case's number, "C-00042"
	Read      []string   // the parts whose documents it reads, in tenants.DocumentParts order
	Write     []string   // the parts it may add documents to
	Documents []Document // oldest first
}

// List returns the documents of case caseID in the parts the principal may
// read, and audits the reading of their names. A case's documents are few
// (a handful per service and visit), so they come in one list.
func (s *Service) List(ctx context.Context, caseID uuid.UUID) (*Listing, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, err
	}
	var out *Listing
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		ref, err := cases.Open(tx, p, caseID, false)
		if err != nil {
			return err
		}
		out = &Listing{CaseID: caseID, Reference: ref.Reference}
		for _, part := range tenants.DocumentParts {
			if ref.CanRead(part) {
				out.Read = append(out.Read, part)
			}
			if ref.CanWrite(part) {
				out.Write = append(out.Write, part)
			}
		}
		if len(out.Read) == 0 {
			return nil
		}
		var links []linkRow
		if err := tx.Where("case_id = ?", caseID).Find(&links).Error; err != nil {
			return err
		}
		if len(links) == 0 {
			return nil
		}
		byID := make(map[uuid.UUID]linkRow, len(links))
		ids := make([]uuid.UUID, 0, len(links))
		for _, l := range links {
			byID[l.DocumentID] = l
			ids = append(ids, l.DocumentID)
		}
		var docs []tenants.Document
		if err := tx.Where("id IN ? AND deleted_at IS NULL AND field_group IN ?", ids, out.Read).
			Order("created_at, id").Find(&docs).Error; err != nil {
			return err
		}
		if len(docs) == 0 {
			return nil
		}
		listed := map[string]bool{}
		for i := range docs {
			out.Documents = append(out.Documents, *view(&docs[i], byID[docs[i].ID]))
			listed[docs[i].FieldGroup] = true
		}
		parts := slices.DeleteFunc(slices.Clone(out.Read), func(part string) bool { return !listed[part] })
		return tenants.Audit(tx, tenants.AuditEntry{Action: ActionList, RecordType: "case", RecordID: caseID,
			FieldGroups: parts, Purpose: purpose})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Open returns document id and its content for the principal in ctx, and
// audits the download: not_found unless it may see the case and read the
// document's part.
func (s *Service) Open(ctx context.Context, id uuid.UUID) (*Document, []byte, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return nil, nil, err
	}
	var (
		out     *Document
		content []byte
	)
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		link, _, _, err := s.find(tx, p, id, false)
		if err != nil {
			return err
		}
		doc, data, err := tenants.OpenDocument(tx, s.bucket, id, purpose)
		if err != nil {
			return err
		}
		out, content = view(doc, link), data
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, content, nil
}

// Delete deletes document id for the principal in ctx: not_found unless it
// may see the case and read the document's part, forbidden unless it may
// write that part. The content goes at the next purge
// (tenants.PurgeDocuments), and the link with the row.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermSignedIn)
	if err != nil {
		return err
	}
	return s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		link, part, ref, err := s.find(tx, p, id, true)
		if err != nil {
			return err
		}
		if err := ref.Need(part, true); err != nil {
			return err
		}
		if err := tenants.DeleteDocument(tx, id, purpose); err != nil {
			return err
		}
		return cases.Touch(tx, link.CaseID, s.now())
	})
}

// find reads the link of document id and its part, and opens its case
// for p (locked for a change): not_found when there is no such
// live document of a case, when p may not see the case, or may not read
// the document's part.
func (s *Service) find(tx *gorm.DB, p *tenants.Principal, id uuid.UUID, lock bool) (linkRow, string, *cases.Ref, error) {
	var (
		link  linkRow
		parts []string
	)
	err := tx.Where("document_id = ?", id).Take(&link).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return link, "", nil, errNoDocument
	}
	if err != nil {
		return link, "", nil, err
	}
	if err := tx.Model(&tenants.Document{}).Where("id = ? AND deleted_at IS NULL", id).Pluck("field_group", &parts).Error; err != nil {
		return link, "", nil, err
	}
	if len(parts) != 1 {
		return link, "", nil, errNoDocument
	}
	ref, err := cases.Open(tx, p, link.CaseID, lock)
	if homeward.ErrorCode(err) == homeward.ENOTFOUND || err == nil && !ref.CanRead(parts[0]) {
		return link, "", nil, errNoDocument
	}
	return link, parts[0], ref, err
}

func view(d *tenants.Document, l linkRow) *Document {
	out := &Document{ID: d.ID, CaseID: l.CaseID, Part: d.FieldGroup, Filename: d.Filename.Text(),
		ContentType: d.ContentType, Size: d.Size, CreatedAt: d.CreatedAt.UTC(), CreatedBy: d.CreatedBy}
	if l.EntryKind != nil && l.EntryID != nil {
		out.Entry = &Entry{Kind: *l.EntryKind, ID: *l.EntryID}
	}
	return out
}
