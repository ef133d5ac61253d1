package pages

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
)

// The member's own page: what a member sets for itself in the
// organisation, so far its contact address, where every mail to it goes
// (follow-up reminders, repatriation-handoff notices). The domain
// (Deps.Contacts, *tenants.Store) authorizes: any signed-in member, its
// own; a platform operator or an API token has none (403).

// Contacts is the members' contact addresses (*tenants.Store).
type Contacts interface {
	MemberContact(ctx context.Context) (tenants.MemberContact, error)
	SetMemberContact(ctx context.Context, c tenants.MemberContact) (tenants.MemberContact, error)
}

var _ Contacts = (*tenants.Store)(nil)

// PathMe is the member's own page; PathMeContact its contact form.
const (
	PathMe        = "/me"
	PathMeContact = "/me/contact"
)

var errNoContacts = homeward.Errorf(homeward.EUNAVAILABLE, "contact addresses are not available on this server")

// hasOwnPage: a member signed in as itself (not an API token, not a
// platform operator, who belong to no membership).
func hasOwnPage(pr *tenants.Principal) bool {
	return pr != nil && pr.TenantID != uuid.Nil && pr.Actor.MemberID != nil && !pr.ViaToken
}

// contactErrors are the words of each contact field's mistake.
var contactErrors = map[string]string{"address": "me.error_address", "language": "me.error_language"}

type contactForm struct {
	Address       string
	Languages     []option
	AddressError  string
	LanguageError string
	Saved         bool // an address is kept
}

type mePage struct {
	Contact *contactForm
}

// meSignedIn begins the page or its form: sign in first, then members
// only.
func (p *Pages) meSignedIn(c *fiber.Ctx) (*request, error) {
	if p.deps.Contacts == nil {
		return nil, errNoContacts
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(PathMe), fiber.StatusSeeOther)
	}
	if !hasOwnPage(r.principal) {
		return nil, errNotYours
	}
	return r, nil
}

// Me is GET /me: the member's own page with its contact address form.
func (p *Pages) Me(c *fiber.Ctx) error {
	r, err := p.meSignedIn(c)
	if r == nil {
		return err
	}
	return p.mePage(c, r, fiber.StatusOK, nil, nil)
}

// mePage draws the page with status; typed is the contact form as sent
// (nil: as stored) and errs its mistakes.
func (p *Pages) mePage(c *fiber.Ctx, r *request, status int, typed map[string]string, errs fieldErrors) error {
	m, err := p.deps.Contacts.MemberContact(c.UserContext())
	if err != nil {
		return err
	}
	form := &contactForm{Address: m.Address, Saved: m.Address != ""}
	lang := m.Language
	if typed != nil {
		form.Address, lang = typed["address"], typed["language"]
		form.AddressError, form.LanguageError = errs["address"], errs["language"]
	}
	if !i18n.Supported(lang) {
		lang = r.locale.Lang
	}
	for _, l := range i18n.Languages {
		form.Languages = append(form.Languages, option{Value: l, Label: i18n.Endonyms[l], Selected: l == lang})
	}
	return p.render(c, status, "me", p.frame(c, r, "me.title", PathMe, &mePage{Contact: form}))
}

// SaveContact is POST /me/contact (form: address, language; an empty
// address removes it: no mail): back to /me, which confirms it. A mistake
// draws the page again (422) with the reason beside its field and what was
// typed; nothing is stored.
func (p *Pages) SaveContact(c *fiber.Ctx) error {
	r, err := p.meSignedIn(c)
	if r == nil {
		return err
	}
	if err := checkForm(c, r.principal); err != nil {
		return err
	}
	typed := map[string]string{"address": strings.TrimSpace(c.FormValue("address")), "language": c.FormValue("language")}
	saved, err := p.deps.Contacts.SetMemberContact(c.UserContext(), tenants.MemberContact{Address: typed["address"], Language: typed["language"]})
	if codeOf(err, homeward.EINVALID) != "" {
		errs := fieldErrors{}
		for name := range fieldsOf(err) {
			if key, ok := contactErrors[name]; ok {
				errs[name] = key
			} else {
				errs["address"] = "me.error_address"
			}
		}
		return p.mePage(c, r, fiber.StatusUnprocessableEntity, typed, errs)
	}
	if err != nil {
		return err
	}
	if saved.Address == "" {
		p.flash(c, "me.flash_contact_removed")
	} else {
		p.flash(c, "me.flash_contact_saved")
	}
	return c.Redirect(PathMe, fiber.StatusSeeOther)
}
