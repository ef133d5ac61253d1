package pages_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"gocloud.dev/blob/memblob"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/dashboard"
)

// upload posts the documents page's form as p: the fields, and content as
// the file named name.
func upload(t *testing.T, app *fiber.App, p *tenants.Principal, target, name string, content []byte, kv ...string) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields := append([]string{"csrf_token", p.CSRFToken}, kv...)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, app, req)
}

const pagePDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

// elfProgram is the header of a Linux program.
func elfProgram() []byte {
	h := make([]byte, 128)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[20] = 2, 0x3e, 1
	return h
}

// TestCaseDocumentsPage: the medical officer adds a medical report, which
// its page lists and the social worker's does not; the social worker's
// program named .pdf is refused beside the field (422) and a real PDF
// added; a role with no part in the case files gets 403.
func TestCaseDocumentsPage(t *testing.T) {
	w := newWorld(t)
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	w.deps.CaseDocuments = casedocs.New(w.s, bucket, tenants.DocumentLimits{})
	id := w.newCase(t, "Malivanh")
	page := "/cases/" + id.String() + "/documents"
	medical, social := w.a.members[tenants.RoleMedicalOfficer], w.a.members[tenants.RoleSocialWorker]

	r := upload(t, w.as(t, medical), medical, page, "hospital-referral.pdf", []byte(pagePDF), "part", tenants.FieldGroupMedical)
	wantRedirect(t, "the medical officer's upload", r, page)
	if f := flashOf(r); f != "documents.flash_added" {
		t.Errorf("flash = %q", f)
	}
	r = get(t, w.as(t, medical), page)
	wantStatus(t, "the medical officer's page", r, 200)
	mustContain(t, r, "hospital-referral.pdf", `href="/api/v1/documents/`, `id="documents-medical"`)

	r = get(t, w.as(t, social), page)
	wantStatus(t, "the social worker's page", r, 200)
	mustNotContain(t, r, "hospital-referral.pdf", `id="documents-medical"`)
	mustContain(t, r, `id="documents-support"`, `<option value="support"`, `enctype="multipart/form-data"`)

	r = upload(t, w.as(t, social), social, page, "certificate.pdf", elfProgram(), "part", tenants.CaseSupport)
	wantStatus(t, "a program named .pdf", r, 422)
	mustContain(t, r, `id="document-file-error"`, `aria-invalid="true"`)
	mustNotContain(t, r, "certificate.pdf")
	r = upload(t, w.as(t, social), social, page, "certificate.pdf", []byte(pagePDF), "part", tenants.CaseSupport)
	wantRedirect(t, "control: a real PDF", r, page)
	mustContain(t, get(t, w.as(t, social), page), "certificate.pdf")

	// The social worker may not add to the medical group (the form does
	// not offer it; a forged post is refused by the domain).
	r = upload(t, w.as(t, social), social, page, "x.pdf", []byte(pagePDF), "part", tenants.FieldGroupMedical)
	wantStatus(t, "the social worker adding a medical document", r, 403)

	wantStatus(t, "the finance officer", get(t, w.as(t, w.a.members[tenants.RoleFinanceOfficer]), page), 403)
	wantStatus(t, "b's case manager", get(t, w.as(t, w.b.members[tenants.RoleCaseManager]), page), 404)
}

// pagePDFOf is a PDF of n bytes (a comment pads it).
func pagePDFOf(n int) []byte {
	head, tail := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%", "\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// TestLargeDocumentThroughThePage: a 5 MiB scan goes through the page's
// form and reads back the same; the same size to another form is 413;
// the CSRF token is read from the field before the file (after it, 403);
// a file over the organisation's limit is the page again with the reason
// beside the field (413).
func TestLargeDocumentThroughThePage(t *testing.T) {
	w := newWorld(t)
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	svc := casedocs.New(w.s, bucket, tenants.DocumentLimits{})
	w.deps.CaseDocuments = svc
	id := w.newCase(t, "Malivanh")
	page := "/cases/" + id.String() + "/documents"
	medical := w.a.members[tenants.RoleMedicalOfficer]
	scan := pagePDFOf(5 << 20)

	r := upload(t, w.as(t, medical), medical, page, "scan.pdf", scan, "part", tenants.FieldGroupMedical)
	wantRedirect(t, "a 5 MiB scan", r, page)
	l, err := svc.List(ctxOf(medical), id)
	if err != nil || len(l.Documents) != 1 || l.Documents[0].Filename != "scan.pdf" {
		t.Fatalf("the documents: %+v %v", l, err)
	}
	_, content, err := svc.Open(ctxOf(medical), l.Documents[0].ID)
	if err != nil || !bytes.Equal(content, scan) {
		t.Errorf("the scan reads back %d bytes (%v), want %d", len(content), err, len(scan))
	}

	// The same size to another form of the case: 413, the error page.
	r = post(t, w.as(t, medical), "/cases/"+id.String()+"/comments", form(medical, "text", string(scan)))
	wantStatus(t, "5 MiB to the comments", r, 413)

	// The token after the file is not read: 403 (the token first: 303
	// above).
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("part", tenants.FieldGroupMedical)
	fw, _ := mw.CreateFormFile("file", "late.pdf")
	fw.Write(scan)
	mw.WriteField("csrf_token", medical.CSRFToken)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, page, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	wantStatus(t, "the token after the file", do(t, w.as(t, medical), req), 403)

	// Over the organisation's limit (2 MiB): the form again, 413.
	if err := w.s.InTenant(context.Background(), w.a.id, func(tx *gorm.DB) error {
		return tenants.SetDocumentMaxBytes(tx, 2<<20, tenants.DocumentLimits{})
	}); err != nil {
		t.Fatal(err)
	}
	r = upload(t, w.as(t, medical), medical, page, "big.pdf", pagePDFOf(3<<20), "part", tenants.FieldGroupMedical)
	wantStatus(t, "3 MiB over a limit of 2", r, 413)
	mustContain(t, r, `id="document-file-error"`, "larger than your organisation allows", `<option value="medical" selected`)
	r = upload(t, w.as(t, medical), medical, page, "small.pdf", pagePDFOf(1<<20), "part", tenants.FieldGroupMedical)
	wantRedirect(t, "control: 1 MiB under the limit", r, page)
}

// TestDashboardCharts: the case manager's dashboard draws the
// organisation's figures as SVG images with their figures in a table; the
// social worker's counts its own cases; the follow-up visits and the kits
// only for those who use them; the finance officer's dashboard
// has no case figures and still works.
func TestDashboardCharts(t *testing.T) {
	w := newWorld(t)
	w.deps.Dashboard = dashboard.New(w.s)
	w.newCase(t, "Malivanh") // at intake, assigned to the social worker
	w.newCase(t, "Noy")

	r := get(t, w.as(t, w.a.members[tenants.RoleCaseManager]), "/")
	wantStatus(t, "the case manager's dashboard", r, 200)
	mustContain(t, r, `id="figures"`, `The organisation’s figures`, `role="img"`, `aria-label="Cases by stage. Intake: 2;`,
		`<title>Intake: 2</title>`, `<th scope="row">Intake</th><td>2</td>`,
		`id="chart-visits"`, `aria-label="Follow-up visits. Overdue: 0; Due within 7 days: 0"`, `<title>Overdue: 0</title>`,
		`<th scope="row">Due within 7 days</th><td>0</td>`, `id="kits"`, `starter kits disbursed in`, `<strong>$0.00</strong>`)

	r = get(t, w.as(t, w.a.members[tenants.RoleSocialWorker]), "/")
	wantStatus(t, "the social worker's dashboard", r, 200)
	mustContain(t, r, `Figures of your cases`, `<title>Intake: 2</title>`)

	r = get(t, w.as(t, w.b.members[tenants.RoleSocialWorker]), "/")
	mustContain(t, r, `<title>Intake: 0</title>`)

	// The lawyer's dashboard counts its own cases, without the follow-up
	// and the kits it does not use.
	r = get(t, w.as(t, w.a.members[tenants.RoleLawyer]), "/")
	mustContain(t, r, `id="chart-stages"`)
	mustNotContain(t, r, `id="chart-visits"`, `id="kits"`)

	r = get(t, w.as(t, w.a.members[tenants.RoleFinanceOfficer]), "/")
	wantStatus(t, "the finance officer's dashboard", r, 200)
	mustNotContain(t, r, `id="figures"`, `role="img"`)
	if !strings.Contains(r.body, "card") {
		t.Errorf("the finance officer's dashboard lost its cards: %.300s", r.body)
	}
}
