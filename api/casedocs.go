package api

import (
	"mime"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/casedocs"
)

// The documents of a case (routes.go: /api/v1/cases/:id/documents,
// /api/v1/documents/:id). An upload is a multipart form (part, the file,
// and optionally entry_kind and entry_id) up to the organisation's
// document limit, read as uploads.go says; the service checks the content,
// stores it encrypted, authorizes by the document's part and audits.

type caseDocuments struct {
	docs *casedocs.Service // nil: no document storage on this server
}

var errNoDocumentStorage = homeward.Errorf(homeward.EUNAVAILABLE, "this server has no document storage")

func (d *caseDocuments) ready() error {
	if d.docs == nil {
		return errNoDocumentStorage
	}
	return nil
}

// documentBody is a document of a case, without its content.
type documentBody struct {
	ID          uuid.UUID  `json:"id"`
	CaseID      uuid.UUID  `json:"case_id"`
	Part        string     `json:"part"`
	EntryKind   *string    `json:"entry_kind"`
	EntryID     *uuid.UUID `json:"entry_id"`
	Filename    string     `json:"filename"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	CreatedAt   time.Time  `json:"created_at"`
}

func documentJSON(doc casedocs.Document) documentBody {
	out := documentBody{ID: doc.ID, CaseID: doc.CaseID, Part: doc.Part, Filename: doc.Filename,
		ContentType: doc.ContentType, Size: doc.Size, CreatedAt: doc.CreatedAt.UTC()}
	if e := doc.Entry; e != nil {
		out.EntryKind, out.EntryID = &e.Kind, &e.ID
	}
	return out
}

// documentsBody is GET /api/v1/cases/:id/documents: every document of the
// parts the caller may read, oldest first (a case has few: one list).
type documentsBody struct {
	Documents []documentBody `json:"documents"`
}

func (d *caseDocuments) list(c *fiber.Ctx) error {
	if err := d.ready(); err != nil {
		return err
	}
	l, err := d.docs.List(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	out := documentsBody{Documents: make([]documentBody, 0, len(l.Documents))}
	for _, doc := range l.Documents {
		out.Documents = append(out.Documents, documentJSON(doc))
	}
	return c.JSON(out)
}

// upload is POST /api/v1/cases/:id/documents, a multipart form: the
// organisation's document limit is asked first (which refuses the
// anonymous before the body is read), then the form is read within it
// (uploads.go), then the service authorizes and stores.
func (d *caseDocuments) upload(c *fiber.Ctx) error {
	if err := d.ready(); err != nil {
		return err
	}
	limit, err := d.docs.MaxBytes(c.UserContext())
	if err != nil {
		return err
	}
	nd, err := DocumentUpload(c, limit)
	if err != nil {
		return err
	}
	doc, err := d.docs.Add(c.UserContext(), pathID(c), nd)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(documentJSON(*doc))
}

// download is GET /api/v1/documents/:id: the content, as an attachment
// under its original name (RFC 6266: quoted, or RFC 2231-encoded when not
// ASCII, so no name can break the header), typed as detected on upload.
func (d *caseDocuments) download(c *fiber.Ctx) error {
	if err := d.ready(); err != nil {
		return err
	}
	doc, content, err := d.docs.Open(c.UserContext(), pathID(c))
	if err != nil {
		return err
	}
	return SendDocument(c, doc.ID, doc.Filename, doc.ContentType, content)
}

// SendDocument answers with a stored document's content, as an attachment
// under its original name (RFC 6266: quoted, or RFC 2231-encoded when not
// ASCII, so no name can break the header; a name mime cannot encode:
// "document-ID"), typed as detected on upload. Like every answer here it
// is not cached (no-store). The case documents' download, a handoff's
// shared copies (handoffs.go) and their page (web/pages) answer with it.
func SendDocument(c *fiber.Ctx, id uuid.UUID, filename, contentType string, content []byte) error {
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disposition == "" {
		disposition = `attachment; filename="document-` + id.String() + `"`
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, disposition)
	return c.Send(content)
}

// remove is DELETE /api/v1/documents/:id.
func (d *caseDocuments) remove(c *fiber.Ctx) error {
	if err := d.ready(); err != nil {
		return err
	}
	if err := d.docs.Delete(c.UserContext(), pathID(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
