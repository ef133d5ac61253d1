package pages_test

import (
	"context"
	"html/template"
	"net/url"
	"testing"

	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
)

// The member's own page (/me) against the real contact addresses on the
// settings pages' world (SQLite).

// contactIn is the member's contact as features read it (tenants.ContactOf).
func contactIn(t *testing.T, w *world, o *org, p *tenants.Principal) (tenants.MemberContact, bool) {
	t.Helper()
	var c tenants.MemberContact
	var ok bool
	if err := w.s.InTenant(context.Background(), o.id, func(tx *gorm.DB) (err error) {
		c, ok, err = tenants.ContactOf(tx, *p.Actor.MemberID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c, ok
}

// TestMePageContactAddress: every member reaches its own page from the
// header and sets its contact address there: a mistake is shown beside
// its field (422, what was typed kept, nothing stored), a save is
// confirmed, an empty address removes it; another organisation's member
// never sees it. Anyone not signed in is sent to sign in; the platform
// operator, who has no membership, gets 403.
func TestMePageContactAddress(t *testing.T) {
	w := newWorld(t)
	finance := w.a.members[tenants.RoleFinanceOfficer] // follows no case: a contact all the same
	sw := w.a.members[tenants.RoleSocialWorker]

	wantRedirect(t, "anonymous", get(t, w.as(t, nil), "/me"), "/login?next="+url.QueryEscape("/me"))
	wantRedirect(t, "anonymous posts", post(t, w.as(t, nil), "/me/contact", url.Values{"address": {"x@example.org"}, "language": {"en"}}),
		"/login?next="+url.QueryEscape("/me"))
	wantStatus(t, "the operator", get(t, w.as(t, w.op), "/me"), 403)
	wantStatus(t, "the operator posts", post(t, w.as(t, w.op), "/me/contact", url.Values{"csrf_token": {"csrf-op"},
		"address": {"op@example.org"}, "language": {"en"}}), 403)
	mustNotContain(t, get(t, w.as(t, w.op), "/"), `id="my-account"`)

	for _, role := range tenants.Roles {
		if role == tenants.RolePlatformOperator {
			continue
		}
		p := w.a.members[role]
		r := get(t, w.as(t, p), "/me")
		wantStatus(t, string(role), r, 200)
		mustContain(t, r, `action="/me/contact"`, `name="csrf_token" value="`+p.CSRFToken+`"`, `id="contact-none"`,
			"never a name", `id="my-account" href="/me" aria-current="page"`)
		mustContain(t, get(t, w.as(t, p), "/"), `id="my-account" href="/me"`)
	}

	r := post(t, w.as(t, finance), "/me/contact", form(finance, "address", "Somchai <s@afesip.example.org>", "language", "lo"))
	wantStatus(t, "an address with a display name", r, 422)
	mustContain(t, r, "Give one e-mail address", `value="Somchai &lt;s@afesip.example.org&gt;"`,
		`aria-describedby="contact-help contact-address-error" aria-invalid="true"`, `<option value="lo" lang="lo" selected>`)
	r = post(t, w.as(t, finance), "/me/contact", form(finance, "address", "s@afesip.example.org", "language", "de"))
	wantStatus(t, "another language", r, 422)
	mustContain(t, r, `id="contact-language-error">Choose a language.`)
	wantStatus(t, "without the form's token", post(t, w.as(t, finance), "/me/contact",
		url.Values{"address": {"s@afesip.example.org"}, "language": {"lo"}}), 403)
	if c, ok := contactIn(t, w, w.a, finance); ok {
		t.Fatalf("a refused form stored %+v", c)
	}

	r = post(t, w.as(t, finance), "/me/contact", form(finance, "address", " s@afesip.example.org ", "language", "lo"))
	wantRedirect(t, "saving", r, "/me")
	if flashOf(r) != "me.flash_contact_saved" {
		t.Errorf("flash = %q", flashOf(r))
	}
	if c, ok := contactIn(t, w, w.a, finance); !ok || c != (tenants.MemberContact{Address: "s@afesip.example.org", Language: "lo"}) {
		t.Errorf("stored: %+v %v", c, ok)
	}
	r = get(t, w.as(t, finance), "/me", "Cookie", "homeward_flash=me.flash_contact_saved")
	mustContain(t, r, `value="s@afesip.example.org"`, `<option value="lo" lang="lo" selected>`,
		`<p class="flash" role="status">Your contact address is saved`)
	mustNotContain(t, r, `id="contact-none"`)
	// Another member, in a or in b, has its own (none).
	mustContain(t, get(t, w.as(t, sw), "/me"), `id="contact-none"`)
	r = get(t, w.as(t, w.b.members[tenants.RoleFinanceOfficer]), "/me")
	mustContain(t, r, `id="contact-none"`)
	mustNotContain(t, r, "s@afesip.example.org")

	r = post(t, w.as(t, finance), "/me/contact", form(finance, "address", "", "language", "lo"))
	wantRedirect(t, "removing", r, "/me")
	if flashOf(r) != "me.flash_contact_removed" {
		t.Errorf("flash = %q", flashOf(r))
	}
	if c, ok := contactIn(t, w, w.a, finance); ok {
		t.Errorf("removed, still %+v", c)
	}
	mustContain(t, get(t, w.as(t, finance), "/me"), `id="contact-none"`)
}

// TestMePageInEveryLanguage: the page, its explanation and its
// confirmation in each of the five languages.
func TestMePageInEveryLanguage(t *testing.T) {
	w := newWorld(t)
	p := w.a.members[tenants.RoleCounsellor]
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		l := cat.Locale(lang)
		r := get(t, w.as(t, p), "/me", "Accept-Language", lang, "Cookie", "homeward_flash=me.flash_contact_saved")
		wantStatus(t, lang, r, 200)
		mustContain(t, r, `<html lang="`+lang+`">`, template.HTMLEscapeString(l.T("me.contact_title")),
			template.HTMLEscapeString(l.T("me.contact_help")), template.HTMLEscapeString(l.T("me.flash_contact_saved")),
			`<option value="`+lang+`" lang="`+lang+`" selected>`)
	}
}
