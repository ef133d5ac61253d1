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
// and optionally entry_kind and entry_id); the service checks the content,
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

// upload is POST /api/v1/cases/:id/documents, a multipart form.
func (d *caseDocuments) upload(c *fiber.Ctx) error {
	if err := d.ready(); err != nil {
		return err
	}
	nd, closeFile, err := DocumentUpload(c)
	if err != nil {
		return err
	}
	defer closeFile()
	doc, err := d.docs.Add(c.UserContext(), pathID(c), nd)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(documentJSON(*doc))
}

// DocumentUpload reads an upload form (the API's, and the case page's):
// part, file, and optionally entry_kind with entry_id. The caller closes
// the file when done.
func DocumentUpload(c *fiber.Ctx) (casedocs.NewDocument, func(), error) {
	nd := casedocs.NewDocument{Part: c.FormValue("part")}
	problems := homeward.FieldErrors{}
	if kind, id := c.FormValue("entry_kind"), c.FormValue("entry_id"); kind != "" || id != "" {
		entryID, err := uuid.Parse(id)
		if err != nil {
			problems.Add("entry_id", "expected the id of the entry (a UUID) with entry_kind")
		}
		nd.Entry = &casedocs.Entry{Kind: kind, ID: entryID}
	}
	fh, err := c.FormFile("file")
	if err != nil {
		problems.Add("file", "required: the file, as a multipart/form-data part")
	}
	if err := problems.Err(); err != nil {
		return nd, func() {}, err
	}
	f, err := fh.Open()
	if err != nil {
		return nd, func() {}, err
	}
	nd.Filename, nd.Content = fh.Filename, f
	return nd, func() { f.Close() }, nil
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
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": doc.Filename})
	if disposition == "" { // a name mime cannot encode: the id stands in
		disposition = `attachment; filename="document-` + doc.ID.String() + `"`
	}
	c.Set(fiber.HeaderContentType, doc.ContentType)
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
