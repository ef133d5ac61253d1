package tenants_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"gocloud.dev/blob"
	"gorm.io/gorm"
)

// documentRig is a store, a document folder opened the way serve opens it,
// and a raw connection (the owner on PostgreSQL) that sees what someone
// holding the database or the disk would.
type documentRig struct {
	store  *tenants.Store
	bucket *blob.Bucket
	dir    string
	raw    *sql.DB
	ph     func(int) string
}

func documentRigs(t *testing.T) map[string]*documentRig {
	t.Helper()
	ctx := context.Background()
	open := func(t *testing.T) (*blob.Bucket, string) {
		dir := filepath.Join(t.TempDir(), "documents") // missing: the opener creates it
		b, err := tenants.OpenDocumentBucket(ctx, "file://"+filepath.ToSlash(dir))
		must(t, err)
		t.Cleanup(func() { b.Close() })
		return b, dir
	}
	pg := tenanttest.Postgres(t)
	owner, err := sql.Open("pgx", pg.OwnerURL)
	must(t, err)
	t.Cleanup(func() { owner.Close() })
	file := filepath.Join(t.TempDir(), "h.db")
	tenanttest.MigrateSQLite(t, file)
	lite, err := sql.Open("sqlite", tenants.SQLiteDSN(file))
	must(t, err)
	t.Cleanup(func() { lite.Close() })

	rigs := map[string]*documentRig{
		homeward.DriverPostgres: {store: tenanttest.OpenPostgres(t), raw: owner, ph: func(i int) string { return fmt.Sprintf("$%d", i) }},
		homeward.DriverSQLite:   {store: tenanttest.OpenSQLiteFile(t, file), raw: lite, ph: func(int) string { return "?" }},
	}
	for _, r := range rigs {
		r.bucket, r.dir = open(t)
	}
	return rigs
}

// store uploads a document as a case worker of tenant would.
func (r *documentRig) upload(tenant uuid.UUID, nd tenants.NewDocument) (*tenants.Document, error) {
	if nd.Purpose == "" {
		nd.Purpose = "services"
	}
	if nd.FieldGroup == "" {
		nd.FieldGroup = tenants.FieldGroupIdentity
	}
	var doc *tenants.Document
	err := r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		doc, err = tenants.StoreDocument(tx, r.bucket, nd, tenants.DocumentLimits{})
		return err
	})
	return doc, err
}

func (r *documentRig) open(tenant, id uuid.UUID) (*tenants.Document, []byte, error) {
	var doc *tenants.Document
	var content []byte
	err := r.store.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		doc, content, err = tenants.OpenDocument(tx, r.bucket, id, "services")
		return err
	})
	return doc, content, err
}

// files lists every file under the document folder, with its bytes.
func (r *documentRig) files(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[strings.TrimPrefix(p, r.dir)] = b
		return err
	})
	must(t, err)
	return out
}

// rows counts the tenant's document rows as the database holds them.
func (r *documentRig) rows(t *testing.T, tenant uuid.UUID) int {
	t.Helper()
	var n int
	must(t, r.raw.QueryRow("SELECT count(*) FROM documents WHERE tenant_id = "+r.ph(1), tenant.String()).Scan(&n))
	return n
}

func fieldReason(t *testing.T, err error, code, field string) string {
	t.Helper()
	var he *homeward.Error
	if !errors.As(err, &he) || he.Code != code {
		t.Fatalf("err = %v, want a %s *homeward.Error", err, code)
	}
	if he.Fields[field] == "" {
		t.Fatalf("err = %v, want a reason for %q", err, field)
	}
	return he.Fields[field]
}

// TestDocuments: what the issue asks for, on both databases. "A renamed
// executable, an oversize file and an image with GPS metadata: refused,
// refused, stored without the metadata", each beside an accepted control.
func TestDocuments(t *testing.T) {
	for name, r := range documentRigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := tenanttest.NewTenant(t, r.store), tenanttest.NewTenant(t, r.store)
			caseA := uuid.New()

			t.Run("a renamed executable is refused, a real PDF is accepted", func(t *testing.T) {
				for _, c := range []struct {
					what, name string
					content    []byte
					reason     string
				}{
					{"ELF program", "report.pdf", elfExecutable(), "a program"},
					{"Windows program", "report.pdf", peExecutable(), "a program"},
					{"ZIP archive", "scan.pdf", zipOf(t, map[string]string{"a.txt": "x"}), "an archive"},
					{"HTML page", "notes.txt", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "text/html"},
					{"SVG with script", "photo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml"},
					{"shell script", "notes.txt", []byte("#!/bin/sh\nrm -rf /\n"), "text/x-shellscript"},
				} {
					_, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: c.name, Content: bytes.NewReader(c.content)})
					reason := fieldReason(t, err, homeward.EINVALID, "file")
					if !strings.Contains(reason, c.reason) || !strings.Contains(reason, "accepted are PDF, JPEG, PNG") {
						t.Fatalf("%s as %s: reason %q, want it to say %q and list what is accepted", c.what, c.name, reason, c.reason)
					}
				}
				if n, files := r.rows(t, a), r.files(t); n != 0 || len(files) != 0 {
					t.Fatalf("refused files left %d rows and %d stored files", n, len(files))
				}
				// control: a real PDF (and the same bytes under any name) is accepted
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: `C:\fakepath\Referral letter.pdf`, Content: bytes.NewReader(smallPDF)})
				must(t, err)
				got, content, err := r.open(a, doc.ID)
				must(t, err)
				if got.ContentType != "application/pdf" || got.Filename.Text() != "Referral letter.pdf" || !bytes.Equal(content, smallPDF) {
					t.Fatalf("PDF read back as %s %q, %d bytes", got.ContentType, got.Filename.Text(), len(content))
				}
			})

			t.Run("an oversize file is refused, nothing is written", func(t *testing.T) {
				other := tenanttest.NewTenant(t, r.store)
				must(t, r.store.InTenant(ctx, other, func(tx *gorm.DB) error {
					return tenants.SetDocumentMaxBytes(tx, 1024, tenants.DocumentLimits{})
				}))
				endless := &countingReader{}
				_, err := r.upload(other, tenants.NewDocument{DataKeyID: uuid.New(), Filename: "big.txt", Content: endless})
				if reason := fieldReason(t, err, homeward.ETOOLARGE, "file"); !strings.Contains(reason, "1 KiB") {
					t.Fatalf("reason %q should name the limit", reason)
				}
				if endless.n > 1025 {
					t.Fatalf("read %d bytes of an endless upload, want at most the limit and one", endless.n)
				}
				_, err = r.upload(other, tenants.NewDocument{DataKeyID: uuid.New(), Filename: "big.txt", Content: strings.NewReader(strings.Repeat("a", 1025))})
				fieldReason(t, err, homeward.ETOOLARGE, "file")
				if n, files := r.rows(t, other), r.files(t); n != 0 || hasPrefix(files, "/"+other.String()) {
					t.Fatalf("oversize uploads left %d rows or stored files %v", n, keys(files))
				}
				// control: exactly the limit is accepted
				_, err = r.upload(other, tenants.NewDocument{DataKeyID: uuid.New(), Filename: "fits.txt", Content: strings.NewReader(strings.Repeat("a", 1024))})
				must(t, err)
				// the organisation's limit stays within the cap
				err = r.store.InTenant(ctx, other, func(tx *gorm.DB) error {
					return tenants.SetDocumentMaxBytes(tx, tenants.DocumentMaxBytesCap+1, tenants.DocumentLimits{})
				})
				fieldReason(t, err, homeward.EINVALID, tenants.SettingDocumentMaxBytes)
				must(t, r.store.InTenant(ctx, other, func(tx *gorm.DB) error {
					if err := tenants.PutSetting(tx, tenants.SettingDocumentMaxBytes, "999999999999"); err != nil {
						return err
					}
					n, err := tenants.DocumentMaxBytes(tx, tenants.DocumentLimits{})
					if n != tenants.DocumentMaxBytesCap {
						t.Fatalf("a setting above the cap gives %d, want the cap", n)
					}
					return err
				}))
			})

			t.Run("a JPEG with GPS metadata is stored without it", func(t *testing.T) {
				clean := encodeJPEG(t)
				tagged := jpegWithMetadata(t, clean)
				for _, canary := range jpegCanaries {
					if !bytes.Contains(tagged, []byte(canary)) {
						t.Fatalf("the test image lacks %q: the check below would prove nothing", canary)
					}
				}
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.FieldGroupMedical, Filename: "photo.jpg", Content: bytes.NewReader(tagged)})
				must(t, err)
				_, content, err := r.open(a, doc.ID)
				must(t, err)
				for _, canary := range jpegCanaries {
					if bytes.Contains(content, []byte(canary)) {
						t.Fatalf("the stored image still holds %q", canary)
					}
				}
				if doc.ContentType != "image/jpeg" || doc.Size != int64(len(content)) || len(content) >= len(tagged) {
					t.Fatalf("stored %s of %d bytes (read %d, uploaded %d)", doc.ContentType, doc.Size, len(content), len(tagged))
				}
				samePicture(t, jpeg.Decode, clean, content)
				if !bytes.Equal(content, clean) {
					t.Fatal("the stored JPEG should be the clean encoding exactly: only metadata goes")
				}

				// control: a clean JPEG is stored byte for byte
				doc, err = r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "clean.jpg", Content: bytes.NewReader(clean)})
				must(t, err)
				if _, content, err = r.open(a, doc.ID); err != nil || !bytes.Equal(content, clean) {
					t.Fatalf("a clean JPEG changed: %v", err)
				}
			})

			t.Run("a PNG with text and Exif chunks is stored without them", func(t *testing.T) {
				clean := encodePNG(t)
				tagged := pngWithMetadata(t, clean)
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "scan.png", Content: bytes.NewReader(tagged)})
				must(t, err)
				_, content, err := r.open(a, doc.ID)
				must(t, err)
				for _, canary := range []string{"tEXt", "eXIf", "tIME", "Village of Ban Canary", "CanaryCam"} {
					if !bytes.Contains(tagged, []byte(canary)) || bytes.Contains(content, []byte(canary)) {
						t.Fatalf("%q: in the upload %v, in the stored image %v", canary, bytes.Contains(tagged, []byte(canary)), bytes.Contains(content, []byte(canary)))
					}
				}
				if !bytes.Equal(content, clean) {
					t.Fatal("the stored PNG should be the clean encoding exactly")
				}
				samePicture(t, png.Decode, clean, content)
			})

			t.Run("office documents without macros only", func(t *testing.T) {
				docx := map[string]string{
					"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
					"word/document.xml":   `<?xml version="1.0"?><w:document/>`,
				}
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.FieldGroupLegal, Filename: "statement.docx", Content: bytes.NewReader(zipOf(t, docx))})
				must(t, err)
				if !strings.Contains(doc.ContentType, "wordprocessingml") {
					t.Fatalf("DOCX detected as %s", doc.ContentType)
				}
				docx["word/vbaProject.bin"] = "macro"
				_, err = r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "statement.docx", Content: bytes.NewReader(zipOf(t, docx))})
				if reason := fieldReason(t, err, homeward.EINVALID, "file"); !strings.Contains(reason, "macros") {
					t.Fatalf("macro document: reason %q", reason)
				}
			})

			t.Run("the stored files and the database hold no plaintext", func(t *testing.T) {
				canary := "Canary-" + uuid.NewString()
				nameCanary := "Canary name " + uuid.NewString() + ".txt"
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.FieldGroupPsychological,
					Filename: nameCanary, Content: strings.NewReader("Session notes: " + canary + "\n")})
				must(t, err)
				if !strings.HasPrefix(doc.ContentType, "text/plain") {
					t.Fatalf("text detected as %s", doc.ContentType)
				}
				files := r.files(t)
				if _, ok := files["/"+a.String()+"/"+doc.ID.String()]; !ok {
					t.Fatalf("no stored file %s/%s among %v", a, doc.ID, keys(files))
				}
				for path, b := range files {
					if bytes.Contains(b, []byte(canary)) || strings.Contains(path, "Canary") {
						t.Fatalf("%s holds the plaintext", path)
					}
				}
				var name []byte
				must(t, r.raw.QueryRow("SELECT filename FROM documents WHERE id = "+r.ph(1), doc.ID.String()).Scan(&name))
				if len(name) == 0 || bytes.Contains(name, []byte("Canary")) {
					t.Fatalf("the filename column holds %q", name)
				}
				// control: through the store both read back
				got, content, err := r.open(a, doc.ID)
				must(t, err)
				if got.Filename.Text() != nameCanary || !strings.Contains(string(content), canary) {
					t.Fatalf("read back %q / %q", got.Filename.Text(), content)
				}
			})

			t.Run("every download is audited", func(t *testing.T) {
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.FieldGroupMedical, Filename: "lab.txt", Content: strings.NewReader("results")})
				must(t, err)
				audited := func() (uploads, downloads int) {
					must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
						page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: "document", RecordID: doc.ID})
						for _, e := range page.Entries {
							if len(e.FieldGroups) != 1 || e.FieldGroups[0] != tenants.FieldGroupMedical || e.Purpose != "services" {
								t.Fatalf("audit entry %+v: want the medical group and the purpose", e)
							}
							switch e.Action {
							case tenants.ActionDocumentUpload:
								uploads++
							case tenants.ActionDocumentDownload:
								downloads++
							}
						}
						return err
					}))
					return
				}
				if up, down := audited(); up != 1 || down != 0 {
					t.Fatalf("after the upload: %d uploads, %d downloads audited", up, down)
				}
				if _, _, err := r.open(a, doc.ID); err != nil {
					t.Fatal(err)
				}
				if _, down := audited(); down != 1 {
					t.Fatalf("one download wrote %d audit entries", down)
				}
				// a download whose transaction rolls back leaves no entry, and hands nothing out
				err = r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					if _, _, err := tenants.OpenDocument(tx, r.bucket, doc.ID, "services"); err != nil {
						return err
					}
					return errors.New("the response could not be sent")
				})
				if err == nil {
					t.Fatal("rollback expected")
				}
				if _, down := audited(); down != 1 {
					t.Fatalf("after a rolled-back download: %d entries, want 1", down)
				}
				rep, err := r.store.VerifyAudit(ctx, a, nil)
				must(t, err)
				if !rep.OK() {
					t.Fatalf("the audit chain does not verify: %s", rep.String())
				}
			})

			t.Run("a document of a shredded case cannot be opened", func(t *testing.T) {
				caseS, caseK := uuid.New(), uuid.New()
				gone, err := r.upload(a, tenants.NewDocument{DataKeyID: caseS, Filename: "a.txt", Content: strings.NewReader("to be erased")})
				must(t, err)
				kept, err := r.upload(a, tenants.NewDocument{DataKeyID: caseK, Filename: "b.txt", Content: strings.NewReader("to be kept")})
				must(t, err)
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error { return tenants.Shred(tx, caseS) }))
				if _, _, err := r.open(a, gone.ID); !errors.Is(err, tenants.ErrShredded) {
					t.Fatalf("opening a document of a shredded case: err = %v, want ErrShredded", err)
				}
				// even with the row's checks bypassed the stored bytes no longer decrypt
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error {
					sealed, err := r.bucket.ReadAll(ctx, gone.BlobKey)
					if err != nil {
						return err
					}
					_, err = tenants.Decrypt(tx, caseS, tenants.AAD{Table: "documents", Record: gone.ID, Field: "content"}, sealed)
					if !errors.Is(err, tenants.ErrShredded) {
						t.Fatalf("decrypting the stored bytes: err = %v, want ErrShredded", err)
					}
					return nil
				}))
				_, err = r.upload(a, tenants.NewDocument{DataKeyID: caseS, Filename: "c.txt", Content: strings.NewReader("new")})
				if !errors.Is(err, tenants.ErrShredded) {
					t.Fatalf("adding a document to a shredded case: err = %v, want ErrShredded", err)
				}
				// control: another case's document still opens
				if _, content, err := r.open(a, kept.ID); err != nil || string(content) != "to be kept" {
					t.Fatalf("control: %v %q", err, content)
				}
			})

			t.Run("another organisation cannot open a document", func(t *testing.T) {
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "a.txt", Content: strings.NewReader("A's")})
				must(t, err)
				if _, _, err := r.open(b, doc.ID); homeward.ErrorCode(err) != homeward.ENOTFOUND {
					t.Fatalf("B opening A's document: err = %v, want not_found", err)
				}
				err = r.store.InTenant(ctx, b, func(tx *gorm.DB) error { return tenants.DeleteDocument(tx, doc.ID, "services") })
				if homeward.ErrorCode(err) != homeward.ENOTFOUND {
					t.Fatalf("B deleting A's document: err = %v, want not_found", err)
				}
				// control: A opens it
				if _, content, err := r.open(a, doc.ID); err != nil || string(content) != "A's" {
					t.Fatalf("control: %v %q", err, content)
				}
			})

			t.Run("a document belongs to any part of a case but the consent records", func(t *testing.T) {
				for _, part := range []string{tenants.CaseSupport, tenants.CaseKit, tenants.CaseFollowUp, tenants.FieldGroupCore} {
					doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: part, Filename: part + ".txt", Content: strings.NewReader("plan")})
					must(t, err)
					if doc.FieldGroup != part {
						t.Fatalf("stored in %q, want %q", doc.FieldGroup, part)
					}
				}
				_, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.CaseConsent, Filename: "form.txt", Content: strings.NewReader("x")})
				fieldReason(t, err, homeward.EINVALID, "field_group")
			})

			t.Run("input is checked", func(t *testing.T) {
				for _, c := range []struct {
					field string
					nd    tenants.NewDocument
				}{
					{"field_group", tenants.NewDocument{DataKeyID: caseA, FieldGroup: "hobbies", Filename: "a.txt", Content: strings.NewReader("x")}},
					{"filename", tenants.NewDocument{DataKeyID: caseA, Filename: `C:\fakepath\`, Content: strings.NewReader("x")}},
					{"filename", tenants.NewDocument{DataKeyID: caseA, Filename: "  ", Content: strings.NewReader("x")}},
					{"filename", tenants.NewDocument{DataKeyID: caseA, Filename: "a\x00.txt", Content: strings.NewReader("x")}},
					{"data_key_id", tenants.NewDocument{Filename: "a.txt", Content: strings.NewReader("x")}},
					{"purpose", tenants.NewDocument{DataKeyID: caseA, Filename: "a.txt", Purpose: "because I said so", Content: strings.NewReader("x")}},
					{"file", tenants.NewDocument{DataKeyID: caseA, Filename: "a.txt", Content: strings.NewReader("")}},
				} {
					_, err := r.upload(a, c.nd)
					fieldReason(t, err, homeward.EINVALID, c.field)
				}
			})

			t.Run("deletion and the purge", func(t *testing.T) {
				live, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "live.txt", Content: strings.NewReader("stays")})
				must(t, err)
				doc, err := r.upload(a, tenants.NewDocument{DataKeyID: caseA, Filename: "old.txt", Content: strings.NewReader("goes")})
				must(t, err)
				must(t, r.store.InTenant(ctx, a, func(tx *gorm.DB) error { return tenants.DeleteDocument(tx, doc.ID, "services") }))
				if _, _, err := r.open(a, doc.ID); homeward.ErrorCode(err) != homeward.ENOTFOUND {
					t.Fatalf("opening a deleted document: err = %v, want not_found", err)
				}
				var name []byte
				must(t, r.raw.QueryRow("SELECT filename FROM documents WHERE id = "+r.ph(1), doc.ID.String()).Scan(&name))
				if name != nil {
					t.Fatal("a deleted document keeps its file name")
				}

				// an upload whose transaction rolls back leaves an orphan
				var orphan *tenants.Document
				err = r.store.InTenant(ctx, a, func(tx *gorm.DB) (err error) {
					orphan, err = tenants.StoreDocument(tx, r.bucket, tenants.NewDocument{DataKeyID: caseA, FieldGroup: tenants.FieldGroupCore,
						Filename: "x.txt", Purpose: "services", Content: strings.NewReader("rolled back")}, tenants.DocumentLimits{})
					if err != nil {
						return err
					}
					return errors.New("a later step failed")
				})
				if err == nil || orphan == nil {
					t.Fatalf("rollback expected: %v", err)
				}
				exists := func(key string) bool {
					ok, err := r.bucket.Exists(ctx, key)
					must(t, err)
					return ok
				}
				if !exists(orphan.BlobKey) || !exists(doc.BlobKey) {
					t.Fatal("the test expects the orphan and the deleted document's content on disk")
				}

				rep, err := r.store.PurgeDocuments(ctx, r.bucket, tenants.DocumentOrphanGrace)
				must(t, err)
				if rep.Deleted < 1 || exists(doc.BlobKey) || r.countID(t, doc.ID) != 0 {
					t.Fatalf("purge %+v: the deleted document's content or row remains", rep)
				}
				if !exists(orphan.BlobKey) {
					t.Fatal("a fresh orphan (its transaction may still be running) was removed before the grace period")
				}
				rep, err = r.store.PurgeDocuments(ctx, r.bucket, 0)
				must(t, err)
				if rep.Orphans < 1 || exists(orphan.BlobKey) {
					t.Fatalf("purge %+v: the orphan remains", rep)
				}
				// control: live documents are untouched
				if _, content, err := r.open(a, live.ID); err != nil || string(content) != "stays" {
					t.Fatalf("control after the purge: %v %q", err, content)
				}
			})
		})
	}
}

func (r *documentRig) countID(t *testing.T, id uuid.UUID) int {
	t.Helper()
	var n int
	must(t, r.raw.QueryRow("SELECT count(*) FROM documents WHERE id = "+r.ph(1), id.String()).Scan(&n))
	return n
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	c.n += len(p)
	return len(p), nil
}

func hasPrefix(files map[string][]byte, prefix string) bool {
	for k := range files {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// smallPDF is a complete one-page PDF (header, objects, cross-reference
// table, trailer), as small as a valid one gets.
var smallPDF = func() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 44 >>\nstream\nBT /F1 18 Tf 20 40 Td (Referral) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}()

// elfExecutable is the 64-byte header of a Linux x86-64 executable.
func elfExecutable() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(h[16:], 2)    // ET_EXEC
	binary.LittleEndian.PutUint16(h[18:], 0x3e) // x86-64
	binary.LittleEndian.PutUint32(h[20:], 1)
	return append(h, make([]byte, 64)...)
}

// peExecutable is a DOS stub pointing at a PE header.
func peExecutable() []byte {
	h := make([]byte, 256)
	copy(h, "MZ")
	binary.LittleEndian.PutUint32(h[0x3c:], 0x80)
	copy(h[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(h[0x84:], 0x8664)
	return h
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	// [Content_Types].xml first, as office programs write it
	names := []string{"[Content_Types].xml"}
	for n := range files {
		if n != names[0] {
			names = append(names, n)
		}
	}
	for _, n := range names {
		body, ok := files[n]
		if !ok {
			continue
		}
		w, err := zw.Create(n)
		must(t, err)
		_, err = io.WriteString(w, body)
		must(t, err)
	}
	must(t, zw.Close())
	return b.Bytes()
}

func testPicture() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 24; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 15), 120, 255})
		}
	}
	return img
}

func encodeJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, jpeg.Encode(&b, testPicture(), &jpeg.Options{Quality: 90}))
	return b.Bytes()
}

func encodePNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, png.Encode(&b, testPicture()))
	return b.Bytes()
}

// jpegCanaries are in the metadata jpegWithMetadata adds and nowhere else.
var jpegCanaries = []string{"Exif\x00\x00", "CanaryCam", "\x11\x00\x00\x00\x01\x00\x00\x00\x3a\x00\x00\x00", "xmpmeta", "Taken at the shelter", "MPF\x00", "Appended picture"}

// exifWithGPS is an Exif block (little-endian TIFF) whose IFD0 names the
// camera and points at a GPS IFD holding a latitude of 17.97 N.
func exifWithGPS() []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	put16 := func(v uint16) { binary.Write(&b, le, v) }
	put32 := func(v uint32) { binary.Write(&b, le, v) }
	b.WriteString("II*\x00")
	put32(8)
	// IFD0 at 8: two entries
	put16(2)
	put16(0x010f) // Make
	put16(2)      // ASCII
	put32(10)
	put32(8 + 2 + 2*12 + 4) // -> 38
	put16(0x8825)           // GPSInfo
	put16(4)                // LONG
	put32(1)
	put32(38 + 10) // -> 48
	put32(0)       // no next IFD
	b.WriteString("CanaryCam\x00")
	// GPS IFD at 48: two entries
	put16(2)
	put16(0x0001) // GPSLatitudeRef
	put16(2)
	put32(2)
	b.WriteString("N\x00\x00\x00")
	put16(0x0002) // GPSLatitude, 3 rationals
	put16(5)
	put32(3)
	put32(48 + 2 + 2*12 + 4) // -> 78
	put32(0)
	for _, v := range []uint32{17, 1, 58, 1, 12, 1} {
		put32(v)
	}
	return append([]byte("Exif\x00\x00"), b.Bytes()...)
}

func segment(marker byte, data []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(data)+2))
	return append(s, data...)
}

// jpegWithMetadata splices into a clean JPEG what phones and editors add:
// Exif with GPS, XMP, an MPF index, a comment, and a second picture after
// the end of the first.
func jpegWithMetadata(t *testing.T, clean []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.Write(clean[:2])
	b.Write(segment(0xE1, exifWithGPS()))
	b.Write(segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>17,58N</exif:GPSLatitude></x:xmpmeta>")))
	b.Write(segment(0xE2, []byte("MPF\x00II*\x00")))
	b.Write(segment(0xFE, []byte("Taken at the shelter")))
	b.Write(clean[2:])
	b.WriteString("Appended picture")
	return b.Bytes()
}

func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngWithMetadata adds text, Exif and time chunks after the header, and
// bytes after the end.
func pngWithMetadata(t *testing.T, clean []byte) []byte {
	t.Helper()
	ihdrEnd := 8 + 12 + 13
	var b bytes.Buffer
	b.Write(clean[:ihdrEnd])
	b.Write(pngChunk("tEXt", []byte("Comment\x00Village of Ban Canary")))
	b.Write(pngChunk("eXIf", exifWithGPS()[6:]))
	b.Write(pngChunk("tIME", []byte{0x07, 0xe9, 1, 2, 3, 4, 5}))
	b.Write(clean[ihdrEnd:])
	return b.Bytes()
}

// samePicture decodes both and compares every pixel: the metadata went,
// the picture did not change at all.
func samePicture(t *testing.T, decode func(io.Reader) (image.Image, error), want, got []byte) {
	t.Helper()
	a, err := decode(bytes.NewReader(want))
	must(t, err)
	b, err := decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("the stored image no longer decodes: %v", err)
	}
	if a.Bounds() != b.Bounds() {
		t.Fatalf("size changed: %v -> %v", a.Bounds(), b.Bounds())
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel (%d,%d) changed", x, y)
			}
		}
	}
}

// TestOpenDocumentBucket: file URLs open a folder (created when missing,
// private to the service); other schemes are refused.
func TestOpenDocumentBucket(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "documents")
	b, err := tenants.OpenDocumentBucket(ctx, "file://"+filepath.ToSlash(dir))
	must(t, err)
	defer b.Close()
	must(t, b.WriteAll(ctx, uuid.NewString()+"/"+uuid.NewString(), []byte("x"), nil))
	fi, err := os.Stat(dir)
	must(t, err)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("the document folder has mode %v, want 0700", fi.Mode().Perm())
	}
	if _, err := tenants.OpenDocumentBucket(ctx, "gs://bucket"); err == nil {
		t.Fatal("an unsupported scheme was accepted")
	}
}
