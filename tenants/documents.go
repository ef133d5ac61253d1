package tenants

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/afesip/homeward"
	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
	"gorm.io/gorm"
)

// Documents are the files of a case (scans, photos, reports), stored through
// gocloud.dev/blob in a folder on one server or in S3-compatible storage
// (HOMEWARD_BLOB_URL). Before anything is stored the content is checked: its
// size against the organisation's limit, its type, detected from the bytes
// (never the name), against an allow-list, and images lose their metadata
// (imagemeta.go). The content is then encrypted with the case's data key,
// bound to the tenant and the document, so the bucket only ever holds
// ciphertext and shredding the case's key makes its documents unreadable
// everywhere, backups included. The file name is personal data too and is
// an encrypted column. Every download writes an audit entry in the same
// transaction.
//
// A bucket write cannot take part in the database transaction, so the two
// are ordered to keep one rule: a committed row always has its content.
//
//   - StoreDocument writes the content first and the row second. When the
//     transaction then rolls back, the content is an orphan: ciphertext
//     that no row names. PurgeDocuments removes orphans once they are older
//     than DocumentOrphanGrace (so a transaction still running is never
//     robbed of its content).
//   - DeleteDocument marks the row deleted (and drops its file name) in the
//     transaction; PurgeDocuments then removes the content and the row. A
//     content removed by a purge whose transaction then fails is simply not
//     found by the next purge.
//
// Access control is the caller's: these functions assume the caller has
// checked that the actor may read or change documents of this field group
// of this case (sign-in and the permission matrix come with a later issue).

// Document size limits. An organisation may choose its own limit (the
// setting document_max_bytes, SetDocumentMaxBytes) up to the cap.
const (
	DefaultDocumentMaxBytes = 20 << 20  // 20 MiB
	DocumentMaxBytesCap     = 100 << 20 // 100 MiB: the content is held in memory while it is checked and encrypted
	SettingDocumentMaxBytes = "document_max_bytes"
)

// DocumentParts are the parts of a case a document may belong to (its
// FieldGroup, whose access is the document's): every part of a case but
// the consent records, which are records, not files.
var DocumentParts = slices.DeleteFunc(slices.Clone(CaseParts), func(p string) bool { return p == CaseConsent })

// DocumentOrphanGrace is how old stored content without a row must be before
// PurgeDocuments removes it: far longer than any transaction runs.
const DocumentOrphanGrace = time.Hour

// Audit actions of documents.
const (
	ActionDocumentUpload   = "document.upload"
	ActionDocumentDownload = "document.download"
	ActionDocumentDelete   = "document.delete"
)

// DocumentLimits are the server's bounds on document sizes; the zero value
// means DefaultDocumentMaxBytes and DocumentMaxBytesCap.
type DocumentLimits struct {
	Default int64 // the limit of an organisation that has not set its own
	Cap     int64 // the most an organisation may set
}

func (l DocumentLimits) normal() (def, limit int64) {
	def, limit = l.Default, l.Cap
	if limit <= 0 {
		limit = DocumentMaxBytesCap
	}
	if def <= 0 {
		def = DefaultDocumentMaxBytes
	}
	return min(def, limit), limit
}

// Document is one stored file of a case. Tenant-owned.
type Document struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	DataKeyID   uuid.UUID `gorm:"type:uuid"` // the case's data key
	FieldGroup  string    // the part of the case it belongs to: DocumentParts
	Filename    Secret    // as uploaded, without any folder; empty once deleted
	ContentType string    // detected from the content, e.g. application/pdf
	Size        int64     // bytes of the stored (cleaned) content
	BlobKey     string    // TENANT/DOCUMENT: no names
	CreatedAt   time.Time
	CreatedBy   string // who uploaded it: "member:ID", else "KIND:ISSUER#SUBJECT"
	DeletedAt   *time.Time
}

// TableName keeps the table's name explicit.
func (Document) TableName() string { return "documents" }

// NewDocument is a file to store.
type NewDocument struct {
	DataKeyID  uuid.UUID // the case's data key: the document is readable exactly as long as the case
	FieldGroup string
	Filename   string // as the browser sent it; any folder part is dropped
	Content    io.Reader
	Purpose    string // why it is added, a code for the audit log such as "services"
}

// documentTypes is the allow-list of contents, by detected type. Office
// formats are accepted only in their macro-free kinds (checkOffice); never
// executables, scripts, HTML or SVG (which can carry script), or archives.
var documentTypes = []struct{ mime, name string }{
	{"application/pdf", "PDF"},
	{"image/jpeg", "JPEG"},
	{"image/png", "PNG"},
	{"image/webp", "WebP"},
	{"text/plain", "plain text"},
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word (DOCX)"},
	{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (XLSX)"},
	{"application/vnd.oasis.opendocument.text", "OpenDocument text (ODT)"},
}

func allowedTypeNames() string {
	names := make([]string, len(documentTypes))
	for i, t := range documentTypes {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// OpenDocumentBucket opens the storage named by HOMEWARD_BLOB_URL:
//
//   - file:///PATH: a folder on one server, created (mode 0700) when
//     missing; temporary files are written beside the final ones, so the
//     final rename never crosses file systems;
//   - s3://BUCKET?endpoint=https://HOST&region=REGION&use_path_style=true:
//     S3-compatible storage; credentials come from the standard AWS
//     variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or
//     AWS_SHARED_CREDENTIALS_FILE, or the platform's workload identity).
//
// Tests use gocloud.dev/blob/memblob or a fileblob folder directly.
func OpenDocumentBucket(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("tenants: HOMEWARD_BLOB_URL is not a URL: %w", err)
	}
	switch u.Scheme {
	case fileblob.Scheme:
		opener := &fileblob.URLOpener{Options: fileblob.Options{CreateDir: true, NoTempDir: true, DirFileMode: 0o700}}
		return opener.OpenBucketURL(ctx, u)
	case s3blob.Scheme:
		return blob.OpenBucket(ctx, rawURL)
	}
	return nil, fmt.Errorf("tenants: HOMEWARD_BLOB_URL: expected a file:// or s3:// URL, got %q", u.Scheme+"://")
}

// DocumentMaxBytes is the organisation's document size limit: its setting
// document_max_bytes within the cap, else the default.
func DocumentMaxBytes(tx *gorm.DB, limits DocumentLimits) (int64, error) {
	def, limit := limits.normal()
	v, ok, err := SettingValue(tx, SettingDocumentMaxBytes)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return def, nil // a damaged setting does not block uploads
	}
	return min(n, limit), nil
}

// SetDocumentMaxBytes sets the organisation's document size limit.
func SetDocumentMaxBytes(tx *gorm.DB, n int64, limits DocumentLimits) error {
	if _, limit := limits.normal(); n < 1 || n > limit {
		return homeward.Invalid(map[string]string{SettingDocumentMaxBytes: "expected a size from 1 byte to " + humanBytes(limit)})
	}
	return PutSetting(tx, SettingDocumentMaxBytes, strconv.FormatInt(n, 10))
}

// DocumentTooLarge is the refusal of a file above the organisation's
// document limit (too_large, naming the field file): StoreDocument's, and
// the upload routes' when a body's size already says so (api/uploads.go).
func DocumentTooLarge(limit int64) error {
	return &homeward.Error{Code: homeward.ETOOLARGE, Message: "the file is too large",
		Fields: map[string]string{"file": "larger than this organisation's limit of " + humanBytes(limit)}}
}

// StoreDocument checks, cleans and encrypts a file of a case and stores it:
// refused as too_large above the organisation's limit (before anything is
// written), as invalid when its content is not of an allowed type; images
// are stored without their metadata. It writes an audit entry and returns
// the new row. The comment at the top of this file says what happens to the
// stored content when the transaction rolls back.
func StoreDocument(tx *gorm.DB, bucket *blob.Bucket, nd NewDocument, limits DocumentLimits) (*Document, error) {
	_, tenant, err := txKeyring(tx)
	if err != nil {
		return nil, err
	}
	if bucket == nil {
		return nil, errors.New("tenants: StoreDocument needs the document bucket")
	}
	ctx := tx.Statement.Context
	problems := homeward.FieldErrors{}
	if nd.DataKeyID == uuid.Nil {
		problems.Add("data_key_id", "required: the case the document belongs to")
	}
	if !slices.Contains(DocumentParts, nd.FieldGroup) {
		problems.Add("field_group", "expected one of "+strings.Join(DocumentParts, ", "))
	}
	name := cleanFilename(nd.Filename)
	if reason := checkFilename(name); reason != "" {
		problems.Add("filename", reason)
	}
	if !codePattern.MatchString(nd.Purpose) {
		problems.Add("purpose", "required: a purpose code saying why the document is added, such as services")
	}
	if nd.Content == nil {
		problems.Add("file", "required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}

	limit, err := DocumentMaxBytes(tx, limits)
	if err != nil {
		return nil, err
	}
	// Read one byte more than allowed: that byte tells "too large" without
	// reading (or holding) the rest.
	content, err := io.ReadAll(io.LimitReader(nd.Content, limit+1))
	if err != nil {
		return nil, fmt.Errorf("tenants: read the document: %w", err)
	}
	if int64(len(content)) > limit {
		return nil, DocumentTooLarge(limit)
	}
	contentType, content, err := checkContent(content)
	if err != nil {
		return nil, err
	}

	doc := &Document{
		ID: newID(), DataKeyID: nd.DataKeyID, FieldGroup: nd.FieldGroup, Filename: NewSecret(name),
		ContentType: contentType, Size: int64(len(content)),
		CreatedAt: time.Now().UTC(), CreatedBy: actorRef(ActorFrom(ctx)),
	}
	doc.BlobKey = tenant.String() + "/" + doc.ID.String()
	sealed, err := Encrypt(tx, doc.DataKeyID, documentAAD(doc.ID), content)
	if err != nil {
		return nil, err
	}
	if err := bucket.WriteAll(ctx, doc.BlobKey, sealed, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return nil, fmt.Errorf("tenants: write the document content: %w", err)
	}
	if err := tx.Create(doc).Error; err != nil {
		// No row was written: the content is certainly an orphan.
		_ = bucket.Delete(context.WithoutCancel(ctx), doc.BlobKey)
		return nil, err
	}
	// Audited last: the first audit of a transaction holds the tenant's
	// chain head until the transaction ends, so the slow write comes before.
	if err := Audit(tx, AuditEntry{Action: ActionDocumentUpload, RecordType: "document", RecordID: doc.ID,
		FieldGroups: []string{doc.FieldGroup}, Purpose: nd.Purpose}); err != nil {
		return nil, err
	}
	return doc, nil
}

// OpenDocument returns a document and its content, and writes the audit
// entry of the download (purpose: why it is read) in the same transaction.
// A document of another tenant, or a deleted one, is not_found; one whose
// case was shredded fails with ErrShredded.
func OpenDocument(tx *gorm.DB, bucket *blob.Bucket, id uuid.UUID, purpose string) (*Document, []byte, error) {
	if !codePattern.MatchString(purpose) {
		return nil, nil, homeward.Invalid(map[string]string{"purpose": "required: a purpose code saying why the document is read, such as services"})
	}
	doc, err := findDocument(tx, id)
	if err != nil {
		return nil, nil, err
	}
	if doc.Filename.Shredded() {
		return nil, nil, ErrShredded
	}
	sealed, err := bucket.ReadAll(tx.Statement.Context, doc.BlobKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tenants: read the content of document %s: %w", doc.ID, err)
	}
	content, err := Decrypt(tx, doc.DataKeyID, documentAAD(doc.ID), sealed)
	if err != nil {
		return nil, nil, err
	}
	// Audited after the slow read (see StoreDocument); the entry commits
	// with the transaction, before the caller hands the content out.
	if err := Audit(tx, AuditEntry{Action: ActionDocumentDownload, RecordType: "document", RecordID: doc.ID,
		FieldGroups: []string{doc.FieldGroup}, Purpose: purpose}); err != nil {
		return nil, nil, err
	}
	return doc, content, nil
}

// DeleteDocument deletes a document: in the transaction its row is marked
// deleted and loses its file name, and an audit entry is written; the next
// PurgeDocuments removes its content and then the row.
func DeleteDocument(tx *gorm.DB, id uuid.UUID, purpose string) error {
	if !codePattern.MatchString(purpose) {
		return homeward.Invalid(map[string]string{"purpose": "required: a purpose code saying why the document is deleted"})
	}
	doc, err := findDocument(tx, id)
	if err != nil {
		return err
	}
	if err := Audit(tx, AuditEntry{Action: ActionDocumentDelete, RecordType: "document", RecordID: doc.ID,
		FieldGroups: []string{doc.FieldGroup}, Purpose: purpose}); err != nil {
		return err
	}
	return tx.Model(&Document{}).Where("id = ? AND deleted_at IS NULL", doc.ID).
		Updates(map[string]any{"deleted_at": time.Now().UTC(), "filename": nil}).Error
}

func findDocument(tx *gorm.DB, id uuid.UUID) (*Document, error) {
	var doc Document
	err := tx.Where("id = ? AND deleted_at IS NULL", id).Take(&doc).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no such document")
	}
	if err != nil {
		return nil, err
	}
	return &doc, nil
}

// DocumentPurge says what PurgeDocuments removed.
type DocumentPurge struct {
	Deleted int // deleted documents whose content and row were removed
	Orphans int // stored contents no row names (a transaction rolled back), or left-over temporary files
}

// PurgeDocuments finishes deletions and removes orphans for every
// organisation, each in its own transaction (PurgeTenantDocuments); the
// scheduler runs the same per organisation through the outbox.
func (s *Store) PurgeDocuments(ctx context.Context, bucket *blob.Bucket, grace time.Duration) (DocumentPurge, error) {
	var rep DocumentPurge
	ts, err := s.Tenants(ctx)
	if err != nil {
		return rep, err
	}
	for _, t := range ts {
		err := s.InTenant(ctx, t.ID, func(tx *gorm.DB) error {
			r, err := PurgeTenantDocuments(tx, bucket, grace)
			rep.Deleted += r.Deleted
			rep.Orphans += r.Orphans
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// PurgeTenantDocuments, in the tenant's transaction, removes the content and
// then the row of every deleted document, and every stored content older
// than grace that no row names (an upload whose transaction rolled back) or
// temporary file left by a crash during a write.
func PurgeTenantDocuments(tx *gorm.DB, bucket *blob.Bucket, grace time.Duration) (DocumentPurge, error) {
	var rep DocumentPurge
	ctx := tx.Statement.Context
	tenant, ok := txTenantFrom(ctx)
	if !ok {
		return rep, ErrNoTenant
	}
	var gone []Document
	if err := tx.Select("tenant_id", "id", "blob_key").Where("deleted_at IS NOT NULL").Find(&gone).Error; err != nil {
		return rep, err
	}
	for _, d := range gone {
		if err := bucket.Delete(ctx, d.BlobKey); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return rep, fmt.Errorf("tenants: remove the content of document %s: %w", d.ID, err)
		}
		if err := tx.Where("id = ?", d.ID).Delete(&Document{}).Error; err != nil {
			return rep, err
		}
		rep.Deleted++
	}
	n, err := purgeOrphans(tx, bucket, tenant, time.Now().Add(-grace))
	rep.Orphans = n
	return rep, err
}

// purgeOrphans removes the tenant's stored contents older than cutoff that
// no row names, and temporary files left by a crash during a write.
func purgeOrphans(tx *gorm.DB, bucket *blob.Bucket, tenant uuid.UUID, cutoff time.Time) (int, error) {
	ctx := tx.Statement.Context
	prefix := tenant.String() + "/"
	removed := 0
	candidates := map[uuid.UUID]string{}
	check := func() error {
		if len(candidates) == 0 {
			return nil
		}
		ids := make([]uuid.UUID, 0, len(candidates))
		for id := range candidates {
			ids = append(ids, id)
		}
		var known []uuid.UUID
		if err := tx.Model(&Document{}).Where("id IN ?", ids).Pluck("id", &known).Error; err != nil {
			return err
		}
		for _, id := range known {
			delete(candidates, id)
		}
		for _, key := range candidates {
			if err := bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return fmt.Errorf("tenants: remove an orphaned document content: %w", err)
			}
			removed++
		}
		clear(candidates)
		return nil
	}
	it := bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return removed, fmt.Errorf("tenants: list stored documents: %w", err)
		}
		if obj.IsDir || !obj.ModTime.Before(cutoff) {
			continue
		}
		rest := strings.TrimPrefix(obj.Key, prefix)
		if id, err := uuid.Parse(rest); err == nil {
			candidates[id] = obj.Key
		} else if id, _, ok := strings.Cut(rest, "."); ok && strings.HasSuffix(rest, ".tmp") && uuid.Validate(id) == nil {
			// fileblob's temporary file from a write that never finished
			if err := bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return removed, err
			}
			removed++
		}
		if len(candidates) >= 500 {
			if err := check(); err != nil {
				return removed, err
			}
		}
	}
	return removed, check()
}

func documentAAD(id uuid.UUID) AAD { return AAD{Table: "documents", Record: id, Field: "content"} }

// checkContent detects the type of content, refuses what is not allowed,
// and returns the type and the content to store (images without metadata).
func checkContent(content []byte) (string, []byte, error) {
	refuse := func(reason string) (string, []byte, error) {
		return "", nil, homeward.Invalid(map[string]string{"file": reason})
	}
	if len(content) == 0 {
		return refuse("the file is empty")
	}
	m := mimetype.Detect(content)
	allowed := false
	for _, t := range documentTypes {
		allowed = allowed || m.Is(t.mime)
	}
	if !allowed {
		return refuse(fmt.Sprintf("its content is %s, whatever its name says; accepted are %s", describeType(m), allowedTypeNames()))
	}
	var err error
	switch {
	case m.Is("image/jpeg"):
		if content, err = stripJPEG(content); err == nil {
			_, err = jpeg.DecodeConfig(bytes.NewReader(content))
		}
	case m.Is("image/png"):
		if content, err = stripPNG(content); err == nil {
			_, err = png.DecodeConfig(bytes.NewReader(content))
		}
	case m.Is("image/webp"):
		content, err = stripWebP(content)
	case strings.HasPrefix(m.String(), "application/vnd."):
		if reason := checkOffice(content); reason != "" {
			return refuse(reason)
		}
	}
	if err != nil {
		return refuse(errDamagedImage.Error())
	}
	return m.String(), content, nil
}

// describeType names a detected type for a person.
func describeType(m *mimetype.MIME) string {
	for p := m; p != nil; p = p.Parent() {
		switch {
		case p.Is("application/x-elf"), p.Is("application/vnd.microsoft.portable-executable"),
			p.Is("application/x-mach-binary"), p.Is("application/x-msdownload"):
			return "a program (" + m.String() + ")"
		case p.Is("application/zip"), p.Is("application/x-7z-compressed"), p.Is("application/x-rar-compressed"),
			p.Is("application/gzip"), p.Is("application/x-tar"):
			return "an archive (" + m.String() + ")"
		}
	}
	if m.Is("application/octet-stream") {
		return "of an unknown kind"
	}
	return m.String()
}

// checkOffice refuses office documents that are not sound ZIP containers or
// that carry macros (a macro-enabled file renamed to .docx is detected as
// DOCX by its layout).
func checkOffice(content []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return "the document is damaged"
	}
	for _, f := range zr.File {
		name := strings.ToLower(f.Name)
		if strings.HasSuffix(name, "vbaproject.bin") || strings.HasSuffix(name, "vbadata.xml") ||
			strings.HasPrefix(name, "basic/") || strings.HasPrefix(name, "scripts/") {
			return "documents with macros are not accepted; save it without macros (or as PDF)"
		}
	}
	return ""
}

// cleanFilename keeps the last part of a name a browser may send with its
// folder (C:\fakepath\scan.pdf).
func cleanFilename(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	if strings.HasSuffix(s, "/") { // a folder, not a file
		return ""
	}
	s = strings.TrimSpace(path.Base(s))
	if s == "." || s == "/" || s == ".." {
		return ""
	}
	return s
}

func checkFilename(s string) string {
	switch {
	case s == "":
		return "required"
	case !utf8.ValidString(s):
		return "expected UTF-8 text"
	case len(s) > 255:
		return "expected at most 255 bytes"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "expected a name without control characters"
	}
	return ""
}

// actorRef names who acts, for created_by: the membership when a person
// acts, else the actor's identity.
func actorRef(a Actor) string {
	if a.MemberID != nil {
		return "member:" + a.MemberID.String()
	}
	return a.Kind + ":" + a.Issuer + "#" + a.Subject
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
