package pages

import (
	"context"
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
)

// The documents of a case: GET /cases/:id/documents lists them under each
// part the member may read, and its form adds one to a part the member
// may write (POST, multipart). A feature's page links here with the entry
// a document is for (?part=followup&entry_kind=followup.visit&entry_id=ID):
// the form then carries them. A document is downloaded from the API
// (GET /api/v1/documents/:id), which takes the session's cookie, as an
// attachment: the browser never shows it inside a page of Homeward.

// CaseDocuments is the documents of the cases (*casedocs.Service); each
// call authorizes the principal in ctx.
type CaseDocuments interface {
	List(ctx context.Context, caseID uuid.UUID) (*casedocs.Listing, error)
	Add(ctx context.Context, caseID uuid.UUID, nd casedocs.NewDocument) (*casedocs.Document, error)
	MaxBytes(ctx context.Context) (int64, error) // the organisation's document limit
}

var _ CaseDocuments = (*casedocs.Service)(nil)

var errNoDocuments = homeward.Errorf(homeward.EUNAVAILABLE, "the documents are not available on this server")

// pathDocumentAPI is where a document is downloaded (+ its id).
const pathDocumentAPI = "/api/v1/documents/"

// CaseDocumentsPath is the documents page of case id.
func CaseDocumentsPath(id uuid.UUID) string { return casePath(id) + "/documents" }

// partKey is the message naming a part of a case a document belongs to.
func partKey(part string) string {
	if tenants.IsFieldGroup(part) {
		return "case.group." + part
	}
	return "documents.part_" + part
}

type documentView struct {
	Href, Name, Type, Size string
	Entry                  string // the entry's kind, when it is for one
	At                     *when
}

type documentPart struct {
	Part, Key string
	Documents []documentView
}

type uploadForm struct {
	Action    string
	Parts     []option
	EntryKind string // hidden: the entry the document is for
	EntryID   string
	Errors    fieldErrors
}

type caseDocumentsPage struct {
	CaseHref  string
	Reference string
	Parts     []documentPart
	Upload    *uploadForm // nil: the member may add none
}

// CaseDocuments is GET /cases/:id/documents[?part=&entry_kind=&entry_id=].
func (p *Pages) CaseDocuments(c *fiber.Ctx) error {
	id := idParam(c)
	r, err := p.caseSignedIn(c, CaseDocumentsPath(id))
	if r == nil {
		return err
	}
	if r.principal.TenantID == uuid.Nil || !mayReadSomePart(r.principal) {
		return errNotYours
	}
	typed := url.Values{"part": {c.Query("part")}, "entry_kind": {c.Query("entry_kind")}, "entry_id": {c.Query("entry_id")}}
	return p.caseDocumentsPage(c, r, id, fiber.StatusOK, typed, nil)
}

func (p *Pages) caseDocumentsPage(c *fiber.Ctx, r *request, id uuid.UUID, status int, typed url.Values, errs fieldErrors) error {
	if p.deps.CaseDocuments == nil {
		return errNoDocuments
	}
	l, err := p.deps.CaseDocuments.List(c.UserContext(), id)
	if err != nil {
		return err
	}
	pg := &caseDocumentsPage{CaseHref: casePath(id), Reference: l.Reference}
	for _, part := range l.Read {
		dp := documentPart{Part: part, Key: partKey(part)}
		for _, d := range l.Documents {
			if d.Part != part {
				continue
			}
			v := documentView{Href: pathDocumentAPI + d.ID.String(), Name: d.Filename, Type: d.ContentType,
				Size: r.locale.T("documents.size", "KiB", r.locale.Number((d.Size+1023)/1024)), At: r.when(&d.CreatedAt)}
			if d.Entry != nil {
				v.Entry = d.Entry.Kind
			}
			dp.Documents = append(dp.Documents, v)
		}
		pg.Parts = append(pg.Parts, dp)
	}
	if len(l.Write) > 0 {
		f := &uploadForm{Action: CaseDocumentsPath(id), EntryKind: typed.Get("entry_kind"), EntryID: typed.Get("entry_id"), Errors: errs}
		for _, part := range l.Write {
			f.Parts = append(f.Parts, option{Value: part, Key: partKey(part), Selected: part == typed.Get("part")})
		}
		pg.Upload = f
	}
	return p.render(c, status, "case_documents", p.frame(c, r, "documents.title", PathCases, pg))
}

// uploadErrors are the words of an upload's mistakes, by the form's field:
// the domain's reasons are English, so the page says what the field needs.
var uploadErrors = map[string]string{
	"part":       "documents.error_part",
	"file":       "documents.error_file",
	"filename":   "documents.error_file",
	"entry_kind": "documents.error_entry",
	"entry_id":   "documents.error_entry",
}

// AddCaseDocument is POST /cases/:id/documents (multipart: part, file, and
// the entry_kind and entry_id the page was opened with): 303 back to the
// page, or the page again with the reason beside the field (422; a file
// above the organisation's limit 413). Its body is still on the connection
// (api/uploads.go): it is read through api.DocumentUpload and
// api.FormValue only, once the member is known.
func (p *Pages) AddCaseDocument(c *fiber.Ctx) error {
	id := idParam(c)
	page := CaseDocumentsPath(id)
	r, err := p.caseForm(c, page, func(pr *tenants.Principal) bool {
		return slices.ContainsFunc(tenants.DocumentParts, func(part string) bool { return writes(part)(pr) })
	})
	if r == nil {
		return err
	}
	if p.deps.CaseDocuments == nil {
		return errNoDocuments
	}
	limit, err := p.deps.CaseDocuments.MaxBytes(c.UserContext())
	if err != nil {
		return err
	}
	nd, err := api.DocumentUpload(c, limit)
	if err == nil {
		_, err = p.deps.CaseDocuments.Add(c.UserContext(), id, nd)
	}
	if code := codeOf(err, homeward.EINVALID, homeward.ETOOLARGE); code != "" {
		errs := fieldErrors{}
		for field := range fieldsOf(err) {
			if key, ok := uploadErrors[field]; ok {
				errs[field] = key
			}
		}
		if code == homeward.ETOOLARGE {
			errs["file"] = "documents.error_too_large"
		}
		if len(errs) == 0 {
			errs["file"] = "documents.error_file"
		}
		typed := url.Values{"part": {api.FormValue(c, "part")}, "entry_kind": {api.FormValue(c, "entry_kind")}, "entry_id": {api.FormValue(c, "entry_id")}}
		status := fiber.StatusUnprocessableEntity
		if code == homeward.ETOOLARGE {
			status = fiber.StatusRequestEntityTooLarge
		}
		return p.caseDocumentsPage(c, r, id, status, typed, errs)
	}
	if err != nil {
		return err
	}
	p.flash(c, "documents.flash_added")
	return c.Redirect(page, fiber.StatusSeeOther)
}
