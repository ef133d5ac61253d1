package pages_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/blob/memblob"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/handoffs"
)

// TestHandoffSharedDocumentDownloads: the receiver's handoff page links
// the copy of the document the sender shared, before the acceptance, and
// the link downloads it (the content as sent, an attachment under its
// name, never cached). Denied, beside that control: the sender's case
// manager asking for the receiver's copy (404), the receiver's tenant
// admin (no handoff role: 403), a third organisation's case manager (404),
// anyone not signed in (to sign in); after the withdrawal the copy is gone
// (404) and the page links nothing.
func TestHandoffSharedDocumentDownloads(t *testing.T) {
	w := newWorld(t)
	bucket := memblob.OpenBucket(nil)
	svc := handoffs.New(w.s).WithDocuments(bucket, tenants.DocumentLimits{})
	w.deps.Handoffs = svc
	docs := casedocs.New(w.s, bucket, tenants.DocumentLimits{})
	w.deps.CaseDocuments = docs
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	ps, err := svc.ProposePartnership(ctxOf(w.a.members[tenants.RoleTenantAdmin]), handoffs.NewPartnership{
		Partner: w.b.slug, Purpose: handoffs.PurposeHandoffs, Sending: true,
		Groups: []string{tenants.FieldGroupIdentity, tenants.FieldGroupFamily}, Documents: true, AgreementRef: "DSA-A-B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DecidePartnership(ctxOf(w.b.members[tenants.RoleTenantAdmin]), ps.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	caseID := w.newCase(t, "Noy")
	w.consent(t, caseID, cases.PurposeSharing)
	const content = "Passport of Noy, issued in Vientiane"
	doc, err := docs.Add(ctxOf(cm), caseID, casedocs.NewDocument{Part: tenants.FieldGroupIdentity, Filename: "passport.txt",
		Content: strings.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Start(ctxOf(cm), handoffs.NewHandoff{PartnershipID: ps.ID, CaseID: caseID, Fields: []string{"prs_FirstName"},
		Documents: []uuid.UUID{doc.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctxOf(bcm), h.ID)
	if err != nil || got.Shared == nil || len(got.Shared.Documents) != 1 {
		t.Fatalf("the receiver's copy: %v %+v", err, got)
	}
	link := "/handoffs/" + h.ID.String() + "/documents/" + got.Shared.Documents[0].ID.String()

	page := get(t, w.as(t, bcm), "/handoffs/"+h.ID.String())
	wantStatus(t, "the receiver's handoff page", page, 200)
	mustContain(t, page, `<a href="`+link+`" download>passport.txt</a>`)
	r := get(t, w.as(t, bcm), link)
	wantStatus(t, "the receiver's download", r, 200)
	if r.body != content || r.header.Get("Content-Disposition") != `attachment; filename=passport.txt` ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the download: %q %v", r.body, r.header)
	}

	wantStatus(t, "the sender asks for the receiver's copy", get(t, w.as(t, cm), link), 404)
	wantStatus(t, "the receiver's tenant admin", get(t, w.as(t, w.b.members[tenants.RoleTenantAdmin]), link), 403)
	c := w.newOrg(t, "c")
	wantStatus(t, "a third organisation", get(t, w.as(t, c.members[tenants.RoleCaseManager]), link), 404)
	wantRedirect(t, "anonymous", get(t, w.as(t, nil), link), "/login?next=%2Fhandoffs%2F"+h.ID.String())

	// In the thread: the sender's own document links its case's download,
	// the receiver's copy this route.
	// Posted through the page's message form, which offers the case's
	// documents; a document that is no id is refused, nothing posted.
	senderPage := get(t, w.as(t, cm), "/handoffs/"+h.ID.String())
	mustContain(t, senderPage, `<option value="`+doc.ID.String()+`">passport.txt`)
	r = post(t, w.as(t, cm), "/handoffs/"+h.ID.String()+"/messages", form(cm, "text", "her passport again", "document", "passport"))
	wantStatus(t, "a document that is no id", r, 422)
	mustContain(t, r, `id="message-document-error"`)
	wantRedirect(t, "the message with its document", post(t, w.as(t, cm), "/handoffs/"+h.ID.String()+"/messages",
		form(cm, "text", "her passport again", "document", doc.ID.String())), "/handoffs/"+h.ID.String()+"#thread")
	th, err := svc.Thread(ctxOf(bcm), h.ID, 0, "")
	if err != nil || len(th.Messages) != 1 || th.Messages[0].Document == nil {
		t.Fatalf("the receiver's thread: %v %+v", err, th)
	}
	threadLink := "/handoffs/" + h.ID.String() + "/documents/" + th.Messages[0].Document.ID.String()
	mustContain(t, get(t, w.as(t, cm), "/handoffs/"+h.ID.String()), `<a href="/api/v1/documents/`+doc.ID.String()+`" download>passport.txt</a>`)
	mustContain(t, get(t, w.as(t, bcm), "/handoffs/"+h.ID.String()), `<a href="`+threadLink+`" download>passport.txt</a>`)
	wantStatus(t, "the receiver's thread copy", get(t, w.as(t, bcm), threadLink), 200)

	if _, err := svc.Withdraw(ctxOf(cm), h.ID, "the family was found"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "after the withdrawal", get(t, w.as(t, bcm), link), 404)
	mustNotContain(t, get(t, w.as(t, bcm), "/handoffs/"+h.ID.String()), link)
}
