package api

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
)

// Request bodies. fasthttp streams every request body (server.go:
// StreamRequestBody, no multipart pre-parsing): before a handler runs it
// has read the headers and at most 8 KiB of the body, and limitBodies,
// the first middleware after the security headers, decides how much more
// is read:
//
//   - every route but the two document uploads: the whole body, into
//     memory, at most BodyLimit (1 MiB). A larger Content-Length is refused
//     before a byte more is read; a chunked body as soon as it passes the
//     limit (413 too_large). Below this middleware the body is an ordinary
//     one (c.Body(), c.FormValue, ...).
//   - POST /api/v1/cases/:id/documents and POST /cases/:id/documents with a
//     multipart/form-data body: the body stays on the connection. Sign-in
//     runs first; a browser session's CSRF token is read from the form's
//     fields before the file (FormValue; the page's form puts csrf_token
//     first), at most BodyLimit. Only then does the handler, for a member
//     of an organisation, raise the limit to the organisation's document
//     limit plus UploadOverhead (DocumentUpload) and read the file, into
//     memory, before any database transaction starts. Nobody else gets
//     more than BodyLimit: the anonymous are refused before the body is
//     read at all.
//
// A body not read to its end (refused, or not needed) closes the
// connection after the answer: fasthttp would otherwise read its rest as
// the next request. On the upload routes the rest is first discarded, up
// to the current limit, so that a browser still sending sees the answer.
// The two upload routes read their body only through DocumentUpload and
// FormValue: anything else (c.FormValue, c.Body, c.MultipartForm) would
// read the raw stream without a limit.

// UploadOverhead is what a document upload's body may hold beyond the
// document itself: the multipart boundaries and part headers, the file's
// name and the small fields (csrf_token, part, entry_kind, entry_id).
const UploadOverhead = 64 << 10

// UploadBodyLimit is the largest body the server reads at all: a document
// at tenants.DocumentMaxBytesCap with its form. fasthttp is told so
// (server.go), which only decides how it pre-reads a streamed body.
const UploadBodyLimit = tenants.DocumentMaxBytesCap + UploadOverhead

// uploadReadTimeout is how long a member's upload may take to arrive once
// its limit is raised (ReadTimeout, 30 seconds, bounds every other
// request): 20 MiB over a 1 Mbit/s mobile link takes nearly three minutes.
const uploadReadTimeout = 15 * time.Minute

// Bounds on an upload form's fields other than the file.
const (
	maxUploadField = 4 << 10 // bytes of one field's value
	maxUploadParts = 16      // parts in all, the file included
)

const uploadBodyKey = "homeward.upload_body"

// errBodyTooLarge: the body passed the limit of its reader.
var errBodyTooLarge = errors.New("api: the request body is over its limit")

// refusedBodyHeader marks a request whose body refuseLargeBodies refused.
// Only the server sets it: an incoming one is removed.
const refusedBodyHeader = "X-Homeward-Refused-Body"

// refuseLargeBodies is the server's HeaderReceived hook (server.go): it
// runs as soon as a request's headers are read, before fasthttp pre-reads
// the streamed body (up to 8 KiB, which a client waiting for an answer
// before it sends would never send). A Content-Length above what
// limitBodies would read (BodyLimit; UploadBodyLimit for an upload) is
// refused here, unread: the request goes on with an empty body (no
// "100 Continue" is sent either) and the marker, for which limitBodies
// answers 413 and closes the connection.
func refuseLargeBodies(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(refusedBodyHeader)
	limit := int64(BodyLimit)
	if isUpload(h) {
		limit = UploadBodyLimit
	}
	if n := h.ContentLength(); int64(n) > limit {
		h.Del(fiber.HeaderExpect)
		h.SetContentLength(0)
		h.Set(refusedBodyHeader, strconv.Itoa(n))
	}
	return fasthttp.RequestConfig{}
}

// limitBodies applies the limits above; see the comment at the top.
func limitBodies(c *fiber.Ctx) error {
	if len(c.Request().Header.Peek(refusedBodyHeader)) > 0 {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	stream := c.Context().RequestBodyStream()
	if stream == nil { // no body: a GET without Content-Length
		return c.Next()
	}
	length := int64(c.Request().Header.ContentLength()) // -1: chunked
	if isUpload(&c.Request().Header) {
		b := &uploadBody{c: c, src: stream, limit: BodyLimit, length: length}
		defer b.finish()
		if length > UploadBodyLimit {
			return fiber.ErrRequestEntityTooLarge
		}
		c.Locals(uploadBodyKey, b)
		return c.Next()
	}
	if length > BodyLimit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	if enc := strings.TrimSpace(string(c.Request().Header.Peek(fiber.HeaderContentEncoding))); enc != "" &&
		!strings.EqualFold(enc, "identity") {
		// fiber's c.Body() would inflate a compressed body with no limit:
		// 1 MiB of gzip can become gigabytes. Bodies are small; refuse it.
		c.Context().SetConnectionClose()
		return malformedBody{&homeward.Error{Code: homeward.EINVALID, Message: "compressed request bodies are not accepted",
			Fields: map[string]string{"Content-Encoding": "send the body uncompressed (no Content-Encoding)"}}}
	}
	body, err := io.ReadAll(io.LimitReader(stream, BodyLimit+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "the request body could not be read")
	}
	if len(body) > BodyLimit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	c.Request().SetBodyRaw(body) // the stream, read to its end, is released
	return c.Next()
}

// isUpload reports whether the request is a document upload whose body
// limitBodies leaves on the connection: POST /api/v1/cases/:id/documents
// or /cases/:id/documents (as fiber matches them: any case, one trailing
// slash, the path as sent), multipart/form-data, not content-encoded.
func isUpload(h *fasthttp.RequestHeader) bool {
	if string(h.Method()) != fiber.MethodPost || len(h.MultipartFormBoundary()) == 0 ||
		len(h.Peek(fiber.HeaderContentEncoding)) > 0 {
		return false
	}
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	if _, rest, ok := strings.Cut(path, "://"); ok && !strings.HasPrefix(path, "/") { // absolute form: http://host/path
		_, path, _ = strings.Cut(rest, "/")
		path = "/" + path
	}
	path = strings.TrimSuffix(strings.ToLower(path), "/")
	path = strings.TrimPrefix(path, "/api/v1")
	id, ok := strings.CutPrefix(path, "/cases/")
	if !ok {
		return false
	}
	id, ok = strings.CutSuffix(id, "/documents")
	return ok && id != "" && !strings.Contains(id, "/")
}

// uploadBody is an upload's body, still on the connection, read through a
// limit that only DocumentUpload raises.
type uploadBody struct {
	c      *fiber.Ctx
	src    io.Reader // fasthttp's stream of the body
	length int64     // the Content-Length, -1 when chunked
	limit  int64     // how many bytes of the body may be read
	read   int64     // bytes read from src
	srcErr error     // sticky: io.EOF at the body's end, or the connection's error
	over   bool      // more than limit came: sticky errBodyTooLarge
	raised bool      // DocumentUpload raised the limit for a member

	form    *multipart.Reader
	values  url.Values      // the fields read so far
	pending *multipart.Part // the first file part, its content unread
	ended   bool            // the form's last part was read
	done    bool            // DocumentUpload read what it needed: no more parts
	parts   int
}

func uploadBodyOf(c *fiber.Ctx) *uploadBody {
	b, _ := c.Locals(uploadBodyKey).(*uploadBody)
	return b
}

// Read reads the body, failing with errBodyTooLarge once more than limit
// bytes came. Errors stay: fasthttp's stream must not be read past its end.
func (b *uploadBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, errBodyTooLarge
	}
	if b.srcErr != nil {
		return 0, b.srcErr
	}
	if room := b.limit + 1 - b.read; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.src.Read(p)
	b.read += int64(n)
	if err != nil {
		b.srcErr = err
	}
	if b.read > b.limit {
		b.over = true
		return n - int(b.read-b.limit), errBodyTooLarge
	}
	return n, err
}

// raise lets a member's upload read up to limit bytes, with the time an
// upload over a slow link needs.
func (b *uploadBody) raise(limit int64) {
	if limit <= b.limit {
		return
	}
	b.limit, b.raised = limit, true
	if conn := b.c.Context().Conn(); conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(uploadReadTimeout))
	}
}

// finish runs before the answer is written: a body read to its end keeps
// the connection. Otherwise the rest is discarded, so that a browser still
// sending it sees the answer rather than a reset, when the body fits
// BodyLimit (UploadBodyLimit for a member's upload: bandwidth, not
// memory); else the connection closes after the answer.
func (b *uploadBody) finish() {
	drain := int64(BodyLimit)
	if b.raised {
		drain = UploadBodyLimit
	}
	if b.srcErr == nil && b.length <= drain {
		buf := make([]byte, 32<<10)
		for b.srcErr == nil && b.read <= drain {
			n, err := b.src.Read(buf)
			b.read += int64(n)
			if err != nil {
				b.srcErr = err
			}
		}
	}
	if b.srcErr != io.EOF {
		b.c.Context().SetConnectionClose()
	}
}

// nextPart returns the form's next part: the pending file first, nil at
// the end of the form.
func (b *uploadBody) nextPart() (*multipart.Part, error) {
	if p := b.pending; p != nil {
		b.pending = nil
		return p, nil
	}
	if b.ended {
		return nil, nil
	}
	if b.form == nil {
		b.form = multipart.NewReader(b, string(b.c.Request().Header.MultipartFormBoundary()))
		b.values = url.Values{}
	}
	if b.parts++; b.parts > maxUploadParts {
		return nil, homeward.Invalid(map[string]string{"file": "expected the upload form: part, file and optionally entry_kind and entry_id"})
	}
	p, err := b.form.NextPart()
	if err == io.EOF {
		b.ended = true
		return nil, nil
	}
	return p, err
}

// isFile reports whether a part is a file rather than a field.
func isFile(p *multipart.Part) bool { return p.FileName() != "" }

// field reads a field part's value into values.
func (b *uploadBody) field(p *multipart.Part) error {
	v, err := io.ReadAll(io.LimitReader(p, maxUploadField+1))
	if err != nil {
		return err
	}
	name := p.FormName()
	if len(v) > maxUploadField {
		return homeward.Invalid(map[string]string{name: "too long"})
	}
	b.values.Add(name, string(v))
	return nil
}

// leadingFields reads the form's fields up to its first file, whose
// content stays on the connection.
func (b *uploadBody) leadingFields() error {
	if b.done || b.form != nil && (b.pending != nil || b.ended) {
		return nil
	}
	for {
		p, err := b.nextPart()
		if err != nil || p == nil {
			return err
		}
		if isFile(p) {
			b.pending = p
			return nil
		}
		if err := b.field(p); err != nil {
			return err
		}
	}
}

// FormValue is a field of the request's form. On an upload route it is
// one of the fields before the file (reading no file); elsewhere
// c.FormValue. The sign-in's and the pages' CSRF checks read the token so.
func FormValue(c *fiber.Ctx, name string) string {
	if b := uploadBodyOf(c); b != nil {
		if b.leadingFields() != nil {
			return ""
		}
		return b.values.Get(name)
	}
	return c.FormValue(name)
}

var errUploadForm = homeward.Invalid(map[string]string{"file": "required: the file, as a multipart/form-data part"})

// DocumentUpload reads an upload form (the API's, and the case page's):
// part, file, and optionally entry_kind with entry_id, the file at most
// limit bytes (the organisation's, casedocs.Service.MaxBytes: call it
// first, which also refuses the anonymous). The file is read into memory,
// whole, before anything else happens: a file over limit is too_large
// naming it (tenants.DocumentTooLarge), without reading more of it.
func DocumentUpload(c *fiber.Ctx, limit int64) (casedocs.NewDocument, error) {
	b := uploadBodyOf(c)
	if b == nil { // a body limitBodies read (not multipart, say): 1 MiB at most
		return bufferedUpload(c)
	}
	defer func() { b.done = true }()
	b.raise(limit + UploadOverhead)
	if b.length > limit+UploadOverhead {
		return casedocs.NewDocument{}, tenants.DocumentTooLarge(limit)
	}
	uploadError := func(err error) error {
		if errors.Is(err, errBodyTooLarge) {
			return tenants.DocumentTooLarge(limit)
		}
		var herr *homeward.Error
		if errors.As(err, &herr) {
			return err
		}
		return errUploadForm
	}
	var (
		content []byte
		name    string
		found   bool
	)
	for {
		p, err := b.nextPart()
		if err != nil {
			return casedocs.NewDocument{}, uploadError(err)
		}
		if p == nil {
			break
		}
		switch {
		case !isFile(p):
			err = b.field(p)
		case p.FormName() != "file": // another file: skipped, within the limit
		case found:
			return casedocs.NewDocument{}, homeward.Invalid(map[string]string{"file": "one file per upload"})
		default:
			found, name = true, p.FileName()
			content, err = io.ReadAll(io.LimitReader(p, limit+1))
			if err == nil && int64(len(content)) > limit {
				return casedocs.NewDocument{}, tenants.DocumentTooLarge(limit)
			}
		}
		if err != nil {
			return casedocs.NewDocument{}, uploadError(err)
		}
	}
	nd, problems := uploadFields(b.values.Get)
	if !found {
		problems.Add("file", "required: the file, as a multipart/form-data part")
	}
	if err := problems.Err(); err != nil {
		return nd, err
	}
	nd.Filename, nd.Content = name, bytes.NewReader(content)
	return nd, nil
}

// uploadFields reads part, entry_kind and entry_id.
func uploadFields(value func(string) string) (casedocs.NewDocument, homeward.FieldErrors) {
	nd := casedocs.NewDocument{Part: value("part")}
	problems := homeward.FieldErrors{}
	if kind, id := value("entry_kind"), value("entry_id"); kind != "" || id != "" {
		entryID, err := uuid.Parse(id)
		if err != nil {
			problems.Add("entry_id", "expected the id of the entry (a UUID) with entry_kind")
		}
		nd.Entry = &casedocs.Entry{Kind: kind, ID: entryID}
	}
	return nd, problems
}

// bufferedUpload is DocumentUpload of a body already in memory.
func bufferedUpload(c *fiber.Ctx) (casedocs.NewDocument, error) {
	nd, problems := uploadFields(func(name string) string { return c.FormValue(name) })
	fh, err := c.FormFile("file")
	if err != nil {
		problems.Add("file", "required: the file, as a multipart/form-data part")
	}
	if err := problems.Err(); err != nil {
		return nd, err
	}
	f, err := fh.Open()
	if err != nil {
		return nd, err
	}
	defer f.Close()
	content, err := io.ReadAll(f)
	if err != nil {
		return nd, err
	}
	nd.Filename, nd.Content = fh.Filename, bytes.NewReader(content)
	return nd, nil
}
