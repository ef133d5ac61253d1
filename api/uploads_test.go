package api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gocloud.dev/blob/memblob"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
)

// The document uploads take bodies up to the organisation's document limit
// (uploads.go); every other route keeps BodyLimit.

// pdfOf is a PDF of n bytes (a comment pads it).
func pdfOf(n int) []byte {
	head, tail := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%", "\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// uploadForm is an upload's multipart body: the fields in order, then the
// file, then the fields after.
func uploadForm(t *testing.T, before []string, file []byte, after ...string) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	field := func(kv []string) {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := mw.WriteField(kv[i], kv[i+1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	field(before)
	fw, err := mw.CreateFormFile("file", "scan.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	field(after)
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

// chunked hides a body's length: net/http sends it chunked.
type chunked struct{ io.Reader }

// postChunked posts body, chunked, to the server at base as a client
// would (app.Test cannot send a chunked body).
func postChunked(t *testing.T, base, path, bearer string, body []byte, contentType string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, chunked{bytes.NewReader(body)})
	if err != nil || req.ContentLength != 0 { // 0 with a body: unknown, sent chunked
		t.Fatalf("request: %v, length %d", err, req.ContentLength)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s chunked: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// TestLargeUploads: a 5 MiB document goes through the API, in one piece or
// chunked, and reads back the same; the same size anywhere else is 413; a
// file over the organisation's limit is 413 naming the field, whatever
// the body's framing; the anonymous are refused before their body is read.
func TestLargeUploads(t *testing.T) {
	s := storeForTest(t)
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	app, _ := newTestServer(t, Deps{Database: s, Store: s, Sessions: anonymous, RateLimit: 1 << 30, Documents: bucket}, nil)
	base := listen(t, app)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	manager := o.jwt[tenants.RoleCaseManager]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	target := fmt.Sprintf("/api/v1/cases/%s", k["id"])
	send := func(method, path, bearer string, body io.Reader, contentType string) response {
		t.Helper()
		header := []string{"Content-Type", contentType}
		if bearer != "" {
			header = append(header, "Authorization", "Bearer "+bearer)
		}
		return do(t, app, method, path, body, header...)
	}
	// readBack downloads the document an upload answered and compares it.
	readBack := func(what string, r response, want []byte) {
		t.Helper()
		if r.status != 201 {
			t.Fatalf("%s: %d %.300s", what, r.status, r.body)
		}
		doc := decode(t, r.body)
		if doc["size"] != float64(len(want)) || doc["content_type"] != "application/pdf" {
			t.Errorf("%s: %v", what, doc)
		}
		got := get(t, app, fmt.Sprintf("/api/v1/documents/%s", doc["id"]), "Authorization", "Bearer "+manager)
		if got.status != 200 || got.body != string(want) {
			t.Errorf("%s reads back %d, %d bytes, want %d", what, got.status, len(got.body), len(want))
		}
	}

	photo := pdfOf(5 << 20)
	body, ct := uploadForm(t, []string{"part", tenants.CaseSupport}, photo)
	readBack("5 MiB through the API", send("POST", target+"/documents", manager, bytes.NewReader(body), ct), photo)
	other := pdfOf(5<<20 - 1)
	body2, ct2 := uploadForm(t, nil, other, "part", tenants.CaseSupport) // the part after the file
	readBack("5 MiB chunked, the part after the file", postChunked(t, base, target+"/documents", manager, body2, ct2), other)

	// The same size to another route: 413, whether its length is declared
	// or not.
	patch := `{"prs_FirstName":"` + strings.Repeat("x", 5<<20) + `"}`
	wantError(t, send("PATCH", target, manager, strings.NewReader(patch), "application/json"), 413,
		`{"error":{"code":"too_large","message":"request entity too large"}}`)
	// Chunked, on a raw connection: one chunk of BodyLimit+1 bytes and no
	// end, all of which the server reads before it refuses (no unread
	// byte: the answer cannot be lost to a reset).
	r, err := rawRequest(t, base, "PATCH "+target+" HTTP/1.1\r\nHost: homeward.test\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer "+manager+"\r\nTransfer-Encoding: chunked\r\n\r\n"+fmt.Sprintf("%x\r\n", BodyLimit+1),
		[]byte(patch[:BodyLimit+1]+"\r\n"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, r, 413, `{"error":{"code":"too_large","message":"request entity too large"}}`)
	// A multipart body to a route that is not an upload: 413 too.
	wantError(t, send("POST", target+"/comments", manager, bytes.NewReader(body), ct), 413,
		`{"error":{"code":"too_large","message":"request entity too large"}}`)
	// The anonymous: 401 before the body is read.
	if r := send("POST", target+"/documents", "", bytes.NewReader(body), ct); r.status != 401 {
		t.Errorf("an anonymous upload: %d %s", r.status, r.body)
	}

	// Over the organisation's limit (2 MiB here): 413 naming the file, by
	// the declared length or while reading a chunked one; at the limit
	// itself, 201.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.InTenant(context.Background(), o.id, func(tx *gorm.DB) error {
		return tenants.SetDocumentMaxBytes(tx, 2<<20, tenants.DocumentLimits{})
	}))
	tooLarge := `{"error":{"code":"too_large","message":"the file is too large","fields":{"file":"larger than this organisation's limit of 2 MiB"}}}`
	wantError(t, send("POST", target+"/documents", manager, bytes.NewReader(body), ct), 413, tooLarge)
	wantError(t, postChunked(t, base, target+"/documents", manager, body, ct), 413, tooLarge)
	over, ctOver := uploadForm(t, []string{"part", tenants.CaseSupport}, pdfOf(2<<20+1))
	wantError(t, send("POST", target+"/documents", manager, bytes.NewReader(over), ctOver), 413, tooLarge)
	atLimit := pdfOf(2 << 20)
	body3, ct3 := uploadForm(t, []string{"part", tenants.CaseSupport}, atLimit)
	readBack("at the limit", send("POST", target+"/documents", manager, bytes.NewReader(body3), ct3), atLimit)
	// An invalid form is still 422 naming its field.
	body4, ct4 := uploadForm(t, []string{"part", "nonsense"}, pdfOf(1<<10))
	if r := send("POST", target+"/documents", manager, bytes.NewReader(body4), ct4); r.status != 422 || !strings.Contains(r.body, `"part"`) {
		t.Errorf("an unknown part: %d %s", r.status, r.body)
	}
}

// rawRequest sends head and then body on a fresh connection to base, and
// reads the answer within a few seconds: what the server says before (or
// without) reading the rest of the body.
func rawRequest(t *testing.T, base, head string, body []byte, wait time.Duration) (response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Close { // net/http takes "Connection: close" out of the header
		resp.Header.Set("Connection", "close")
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// TestUploadBodiesWaitForSignIn: on a raw connection, an anonymous upload
// declaring 50 MiB is answered 401 after its first 8 KiB (what fasthttp
// reads ahead), the rest never read; a member's is read (control); a
// declared length above the largest upload is 413 before any of it.
func TestUploadBodiesWaitForSignIn(t *testing.T) {
	s := storeForTest(t)
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	app, _ := newTestServer(t, Deps{Database: s, Store: s, Sessions: anonymous, RateLimit: 1 << 30, Documents: bucket}, nil)
	base := listen(t, app)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	manager := o.jwt[tenants.RoleCaseManager]
	k := createCase(t, app, manager, `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	path := fmt.Sprintf("/api/v1/cases/%s/documents", k["id"])
	const boundary = "b0undary"
	head := func(length int, bearer string) string {
		h := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: homeward.test\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n", path, boundary, length)
		if bearer != "" {
			h += "Authorization: Bearer " + bearer + "\r\n"
		}
		return h + "\r\n"
	}
	start := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"part\"\r\n\r\nsupport\r\n--" + boundary +
		"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
	prefix := append([]byte(start), pdfOf(16<<10)...)[:8<<10]

	r, err := rawRequest(t, base, head(50<<20, ""), prefix, 5*time.Second)
	if err != nil || r.status != 401 {
		t.Fatalf("an anonymous 50 MiB upload, 8 KiB sent: %+v %v, want 401 at once", r, err)
	}
	// Control: a member's 10 MiB upload (within the organisation's 20 MiB)
	// of the same start is read: no answer while the body is missing.
	if r, err := rawRequest(t, base, head(10<<20, manager), prefix, 2*time.Second); err == nil {
		t.Errorf("a member's 10 MiB upload, 8 KiB sent, was answered at once: %d %s", r.status, r.body)
	}
	// Above the largest upload: 413 from the headers alone.
	r, err = rawRequest(t, base, head(UploadBodyLimit+1, manager), nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, r, 413, `{"error":{"code":"too_large","message":"request entity too large"}}`)
	if r.header.Get("Connection") != "close" {
		t.Errorf("the refused upload keeps its connection: %v", r.header)
	}
}

// TestUploadCSRFTokenBeforeTheFile: a browser session's upload carries
// its CSRF token in a field before the file, which sign-in reads without
// reading the file; after the file it is not found (403).
func TestUploadCSRFTokenBeforeTheFile(t *testing.T) {
	s := storeForTest(t)
	app := authServer(t, s)
	o := newTestOrg(t, s, newTestProvider(t, 0))
	k := createCase(t, app, o.jwt[tenants.RoleCaseManager], `{"prs_FirstName":"Noy","prs_Birthdate":"2008-03-01","prs_Gender":"Feminine"}`)
	id, sess, err := s.StartSession(context.Background(), o.id, o.members[tenants.RoleCaseManager], "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte, ct string) response {
		t.Helper()
		return do(t, app, "POST", fmt.Sprintf("/api/v1/cases/%s/documents", k["id"]), bytes.NewReader(body), "Content-Type", ct,
			"Cookie", sessionCookie+"="+id, "Origin", "http://127.0.0.1:8080", fiber.HeaderAccept, fiber.MIMEApplicationJSON)
	}
	photo := pdfOf(3 << 20)
	body, ct := uploadForm(t, []string{csrfField, sess.CSRFToken, "part", tenants.CaseSupport}, photo)
	if r := post(body, ct); r.status != 201 {
		t.Fatalf("control: the token first: %d %s", r.status, r.body)
	}
	body, ct = uploadForm(t, []string{"part", tenants.CaseSupport}, photo, csrfField, sess.CSRFToken)
	if r := post(body, ct); r.status != 403 {
		t.Errorf("the token after the file: %d %s, want 403", r.status, r.body)
	}
	body, ct = uploadForm(t, []string{csrfField, "not-the-token", "part", tenants.CaseSupport}, photo)
	if r := post(body, ct); r.status != 403 {
		t.Errorf("a wrong token: %d %s, want 403", r.status, r.body)
	}
}
