// Package pages is Homeward's server-rendered web interface: html/template
// pages (embedded), in the reader's language (web/i18n), with htmx and the
// stylesheet served from web/static. Every page works without script and
// on a 360-pixel-wide screen; every page carries "Leave quickly".
//
// Who is signed in comes from sign-in's middleware, which puts the
// principal into the request's context (tenants.PrincipalFrom); a page that
// needs a member sends anyone else to /login. Titles and addresses name no
// case detail: a title is always a message key, never data.
package pages

import (
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
	"github.com/afesip/homeward/web/static"
)

// LanguageCookie holds the language chosen with the picker on this device.
const LanguageCookie = "homeward_lang"

// FlashCookie carries the message a form's redirect shows once on the next
// page: a message key from flashMessages, never data.
const FlashCookie = "homeward_flash"

// Paths of the pages, and of sign-in's routes that the pages link or post to.
const (
	PathHome             = "/"
	PathLeave            = "/leave"
	PathLanguage         = "/language"
	PathMembers          = "/settings/members"
	PathAPITokens        = "/settings/api-tokens"
	PathIdentityProvider = "/settings/identity-provider"
	PathLogin            = "/login"       // sign-in (issue 4)
	PathLogout           = "/logout"      // POST, csrf_token
	PathSwitch           = "/auth/switch" // POST, csrf_token and tenant (a slug)
)

// Notifications counts a member's unread notifications (*tenants.Store).
type Notifications interface {
	UnreadNotifications(ctx context.Context, tenant, member uuid.UUID) (int64, error)
}

// Settings reads an organisation's settings (default_language, time_zone);
// TenantSettings adapts *tenants.Store.
type Settings interface {
	OrganisationSettings(ctx context.Context, tenant uuid.UUID) (map[string]string, error)
}

// Organisation is one organisation a member belongs to, for the switcher.
type Organisation struct {
	Slug, Name string
}

// Memberships lists the organisations the principal's identity belongs to,
// for the switcher (StoreMemberships adapts *tenants.Store).
type Memberships interface {
	Organisations(ctx context.Context, p *tenants.Principal) ([]Organisation, error)
}

// LocaleSaver stores the signed-in member's chosen language (the principal
// in ctx) with their membership, so it follows them to every device
// (*tenants.Store). Without it the choice stays in a cookie on this device.
type LocaleSaver interface {
	SetMemberLocale(ctx context.Context, lang string) error
}

// Deps is what the pages need. Config is required; every other field may be
// nil, and the pages do without it (no count, no switcher, ...).
type Deps struct {
	Config        *homeward.Config
	Logger        *slog.Logger
	Notifications Notifications
	Settings      Settings
	Memberships   Memberships
	LocaleSaver   LocaleSaver
	// Administration is sign-in's domain behind the settings pages
	// (*tenants.Store); nil: those pages answer 503.
	Administration Administration
	// Cases is the case files behind the case pages (*cases.Service);
	// nil: those pages answer 503.
	Cases CaseFiles
	// Shelters is the shelters and admissions behind their pages
	// (*shelters.Service); nil: those pages answer 503.
	Shelters ShelterAdmissions
	// Dashboard is the organisation's dashboard figures
	// (*dashboard.Service); nil: the home page shows no charts.
	Dashboard Dashboard
	// CaseDocuments is the documents of the cases (*casedocs.Service);
	// nil: the documents page answers 503.
	CaseDocuments CaseDocuments
	// Kits is the starter kits behind the kit page (*kits.Service); nil:
	// that page answers 503.
	Kits KitRequests
	// Care is a case's services and support plans behind the care pages
	// (*care.Service); nil: those pages answer 503.
	Care CareServices
	// FollowUp is the reintegration and follow-up behind their pages
	// (*followup.Service); nil: those pages answer 503.
	FollowUp FollowUps
	// Handoffs is the repatriation handoffs behind their pages
	// (*handoffs.Service); nil: those pages answer 503 and the home page
	// counts none.
	Handoffs HandoffService
	// Contacts is the members' contact addresses behind the member's own
	// page (*tenants.Store); nil: that page answers 503.
	Contacts Contacts
	// Partnerships is the partnerships with other organisations behind
	// their page (*handoffs.Service); nil: that page answers 503.
	Partnerships PartnershipService
	// QueueMonitor is where the queue monitor is mounted ("" when it is
	// not), for the platform operator's menu.
	QueueMonitor string
	// DemoMailbox is where demo mode's mailbox is ("" when absent).
	DemoMailbox string
	// Now is the clock (tests set it); nil is time.Now.
	Now func() time.Time
}

// Pages serves the pages; it implements api.Pages.
type Pages struct {
	deps      Deps
	catalogue *i18n.Catalogue
	templates map[string]*template.Template
	secure    bool // the language cookie is Secure (https)
}

var _ api.Pages = (*Pages)(nil)

//go:embed templates
var templateFiles embed.FS

// pageTemplates are the pages drawn in layout.html (with the parts the
// pages share: case_fields.html); neutral.html stands alone (it must look
// like nothing of Homeward).
var pageTemplates = []string{"chooser", "landing", "dashboard", "error", "members", "member", "api_tokens", "token_created", "identity_provider",
	"cases", "case_new", "case", "erasures", "case_audit", "retention", "case_documents", "shelters", "admission", "kits", "care", "followup", "followups", "me",
	"kit_limit", "followup_schedule", "partnerships", "handoffs", "handoff_new", "handoff", "handoffs_dashboard"}

// New loads the messages and templates.
func New(deps Deps) (*Pages, error) {
	if deps.Config == nil {
		return nil, fmt.Errorf("pages: Deps.Config is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	catalogue, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	p := &Pages{deps: deps, catalogue: catalogue, templates: map[string]*template.Template{}}
	p.secure = deps.Config.BaseURL != nil && deps.Config.BaseURL.Scheme == "https"
	funcs := template.FuncMap{"asset": static.Path, "fieldError": fieldError, "bind": bind}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/case_fields.html", "templates/charts.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	for _, name := range pageTemplates {
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
		p.templates[name] = t
	}
	if p.templates["neutral"], err = template.New("neutral.html").Funcs(funcs).ParseFS(templateFiles, "templates/neutral.html"); err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	return p, nil
}

// TenantSettings reads settings through the tenant store (an InTenant
// transaction), for Deps.Settings.
type TenantSettings struct{ Store *tenants.Store }

// OrganisationSettings returns the organisation's settings.
func (s TenantSettings) OrganisationSettings(ctx context.Context, tenant uuid.UUID) (map[string]string, error) {
	var m map[string]string
	err := s.Store.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
		m, err = tenants.Settings(tx)
		return err
	})
	return m, err
}

// StoreMemberships lists the organisations through the tenant store
// (OrganisationsOf: the identity's enabled memberships with a role, in
// active organisations), for Deps.Memberships. An API token or a platform
// operator belongs to none.
type StoreMemberships struct{ Store *tenants.Store }

// Organisations returns the organisations of p's identity, by name.
func (m StoreMemberships) Organisations(ctx context.Context, p *tenants.Principal) ([]Organisation, error) {
	if p == nil || p.ViaToken || p.TenantID == uuid.Nil {
		return nil, nil
	}
	choices, err := m.Store.OrganisationsOf(ctx, p.Actor.Issuer, p.Actor.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]Organisation, 0, len(choices))
	for _, o := range choices {
		out = append(out, Organisation{Slug: o.Slug, Name: o.Name})
	}
	return out, nil
}

// view is what layout.html draws; Page is the page's own part.
type view struct {
	L             *i18n.Locale
	TitleKey      string // a message key: titles never carry data
	Principal     *tenants.Principal
	OrgName       string
	Organisations []orgOption // two or more: the switcher
	Nav           []link
	Unread        string // the notifications line; "" when unknown
	Flash         string // a message key, shown once after a form's redirect
	CSRF          string
	Path          string // this page, for the language form's return
	Languages     []orgOption
	Demo          bool
	DemoMailbox   string
	Page          any
}

type link struct {
	Href, Key string
	Current   bool
}

// orgOption is one choice of a select (an organisation, a language).
type orgOption struct {
	Value, Name, Lang string
	Current           bool
}

// request is what every page works out first.
type request struct {
	principal *tenants.Principal
	settings  map[string]string
	locale    *i18n.Locale
	// now is the moment the page began, on the pages' clock (Deps.Now):
	// the one today() shows in the organisation's time zone.
	now time.Time
	// light: an error page, drawn without the parts that read the
	// database (switcher, notifications), which may be what failed.
	light bool
}

// today is the organisation's calendar day (its time_zone setting; UTC
// without one) at the moment the page began, as a date input takes it: the
// default and the latest date of the forms' date fields, the day the domain
// takes a date-less step for and the latest it accepts (the server's UTC
// date is a day behind in Laos and Thailand every morning before 7).
func (r *request) today() string { return r.when(&r.now).ISO }

func (p *Pages) begin(c *fiber.Ctx) *request {
	r := &request{principal: tenants.PrincipalFrom(c.UserContext()), now: p.deps.Now()}
	member := ""
	if r.principal != nil {
		if r.principal.LocaleChosen {
			member = r.principal.Locale
		}
		if p.deps.Settings != nil && r.principal.TenantID != uuid.Nil {
			s, err := p.deps.Settings.OrganisationSettings(c.UserContext(), r.principal.TenantID)
			if err != nil {
				// Degrade: the page still works in the browser's language.
				p.deps.Logger.Warn("pages: organisation settings", "err", err)
			}
			r.settings = s
		}
	}
	lang := i18n.Choose(member, c.Cookies(LanguageCookie), c.Get(fiber.HeaderAcceptLanguage), r.settings["default_language"])
	r.locale = p.catalogue.Locale(lang)
	return r
}

// frame fills the layout's part of a view.
func (p *Pages) frame(c *fiber.Ctx, r *request, titleKey, current string, page any) *view {
	v := &view{
		L: r.locale, TitleKey: titleKey, Principal: r.principal, Path: c.Path(),
		Demo: p.deps.Config.Demo(), DemoMailbox: p.deps.DemoMailbox, Page: page,
	}
	for _, lang := range i18n.Languages {
		v.Languages = append(v.Languages, orgOption{Value: lang, Name: i18n.Endonyms[lang], Lang: lang, Current: lang == r.locale.Lang})
	}
	if !r.light {
		v.Flash = p.takeFlash(c)
	}
	pr := r.principal
	if pr == nil {
		return v
	}
	v.CSRF = pr.CSRFToken
	v.OrgName = pr.TenantName
	if v.OrgName == "" {
		v.OrgName = r.locale.T("organisation_platform")
	}
	v.Nav = navigation(pr, p.deps.QueueMonitor, current)
	if r.light {
		return v
	}
	if p.deps.Memberships != nil {
		orgs, err := p.deps.Memberships.Organisations(c.UserContext(), pr)
		if err != nil {
			p.deps.Logger.Warn("pages: memberships", "err", err)
		}
		if len(orgs) > 1 {
			for _, o := range orgs {
				v.Organisations = append(v.Organisations, orgOption{Value: o.Slug, Name: o.Name, Current: o.Slug == pr.TenantSlug})
			}
		}
	}
	if p.deps.Notifications != nil && pr.Actor.MemberID != nil && pr.TenantID != uuid.Nil {
		n, err := p.deps.Notifications.UnreadNotifications(c.UserContext(), pr.TenantID, *pr.Actor.MemberID)
		switch {
		case err != nil:
			p.deps.Logger.Warn("pages: unread notifications", "err", err)
		case n == 0:
			v.Unread = r.locale.T("notifications_none")
		default:
			v.Unread = r.locale.Plural("notifications_unread", n)
		}
	}
	return v
}

// navigation is the menu the principal's roles open.
func navigation(pr *tenants.Principal, queueMonitor, current string) []link {
	nav := []link{{Href: PathHome, Key: "nav_dashboard"}}
	if mayListCases(pr) || mayCreateCases(pr) {
		nav = append(nav, link{Href: PathCases, Key: "cases.nav"})
	}
	if pr.TenantID != uuid.Nil && mayHandleErasures(pr) {
		nav = append(nav, link{Href: PathErasures, Key: "cases.nav_erasures"})
	}
	if mayReadShelters(pr) {
		nav = append(nav, link{Href: PathShelters, Key: "shelters.nav"})
	}
	if mayFollowUp(pr) {
		nav = append(nav, link{Href: PathFollowUps, Key: "followup.nav"})
	}
	if mayReadPartnerships(pr) {
		nav = append(nav, link{Href: PathPartnerships, Key: "partnerships.nav"})
	}
	if mayUseHandoffs(pr) {
		nav = append(nav, link{Href: PathHandoffs, Key: "handoffs.nav"})
	}
	if pr.Can(tenants.PermMembersRead) {
		nav = append(nav, link{Href: PathMembers, Key: "nav_members"}, link{Href: PathAPITokens, Key: "nav_api_tokens"})
	}
	if pr.Can(tenants.PermSettingsRead) {
		nav = append(nav, link{Href: PathIdentityProvider, Key: "nav_identity_provider"}, link{Href: PathRetention, Key: "cases.nav_retention"},
			link{Href: PathKitLimit, Key: "pathsettings.nav_kit_limit"}, link{Href: PathFollowUpSchedule, Key: "pathsettings.nav_schedule"})
	}
	if pr.Can(tenants.PermOperations) && queueMonitor != "" {
		nav = append(nav, link{Href: queueMonitor, Key: "nav_queue_monitor"})
	}
	for i := range nav {
		nav[i].Current = nav[i].Href == current
	}
	return nav
}

// render draws the page name with v.
func (p *Pages) render(c *fiber.Ctx, status int, name string, v any) error {
	var out strings.Builder
	if err := p.execute(&out, name, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).SendString(out.String())
}

func (p *Pages) execute(w io.Writer, name string, v any) error {
	t := p.templates[name]
	entry := "layout"
	if name == "neutral" {
		entry = "neutral.html"
	}
	if err := t.ExecuteTemplate(w, entry, v); err != nil {
		return fmt.Errorf("pages: %s: %w", name, err)
	}
	return nil
}

// Home is GET /: the member's dashboard, or the welcome page with its
// "Sign in" button for anyone not signed in.
func (p *Pages) Home(c *fiber.Ctx) error {
	r := p.begin(c)
	if r.principal == nil {
		return p.render(c, fiber.StatusOK, "landing", p.frame(c, r, "landing.title", PathHome, nil))
	}
	d := p.dashboard(r)
	for i := range d.Cards {
		if d.Cards[i].Title == "card.handoffs" {
			d.Cards[i].Figure = p.handoffCard(c, r) // incoming handoffs waiting for a decision
		}
	}
	d.Charts = p.charts(c, r)
	return p.render(c, fiber.StatusOK, "dashboard", p.frame(c, r, "dashboard.title", PathHome, d))
}

// Leave is GET /leave, the neutral page "Leave quickly" opens: a recipe,
// in the reader's language, with nothing of Homeward on it (no menu, no
// name, no script).
func (p *Pages) Leave(c *fiber.Ctx) error {
	r := p.begin(c)
	return p.render(c, fiber.StatusOK, "neutral", struct{ L *i18n.Locale }{r.locale})
}

// SetLanguage is POST /language (form: lang, next, and csrf_token when
// signed in): it keeps the choice in a cookie on this device, and with the
// member's membership when signed in as a member, then returns to next (a
// path of this site).
func (p *Pages) SetLanguage(c *fiber.Ctx) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return homeward.Invalid(map[string]string{"lang": "one of " + strings.Join(i18n.Languages, ", ")})
	}
	if pr := tenants.PrincipalFrom(c.UserContext()); pr != nil {
		if err := checkForm(c, pr); err != nil {
			return err
		}
		// A platform operator or a program has no membership to keep it
		// in: the cookie alone remembers.
		if p.deps.LocaleSaver != nil && pr.Actor.MemberID != nil && !pr.ViaToken && pr.TenantID != uuid.Nil {
			if err := p.deps.LocaleSaver.SetMemberLocale(c.UserContext(), lang); err != nil {
				return err
			}
		}
	}
	c.Cookie(&fiber.Cookie{
		Name: LanguageCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: p.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
	return c.Redirect(localPath(c.FormValue("next")), fiber.StatusSeeOther)
}

// checkForm refuses a form post of a browser session without the
// session's CSRF token (the form field csrf_token, or the header
// X-CSRF-Token). Sign-in's middleware has checked it already; the
// pages check again so that no form of theirs depends on how they are
// mounted. A bearer credential (no session) is never sent by a browser on
// its own, so its requests cannot be forged this way.
func checkForm(c *fiber.Ctx, pr *tenants.Principal) error {
	if pr.SessionID == "" {
		return nil
	}
	token := c.Get("X-CSRF-Token") // as the API takes it (htmx sends it so)
	if token == "" {
		token = api.FormValue(c, "csrf_token") // a document upload's: the field before the file
	}
	if pr.CSRFToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(pr.CSRFToken)) != 1 {
		return homeward.Errorf(homeward.EFORBIDDEN, "the form has expired: reload the page and try again")
	}
	return nil
}

// flashMessages are the messages a form may leave for the next page.
var flashMessages = map[string]bool{
	"flash.member_disabled": true,
	"flash.member_enabled":  true,
	"flash.member_roles":    true,
	"flash.token_revoked":   true,
	"flash.idp_saved":       true,

	"pathsettings.flash_kit_limit_saved": true,
	"pathsettings.flash_schedule_saved":  true,

	"cases.flash_created":           true,
	"cases.flash_created_handed_on": true,
	"cases.flash_saved":             true,
	"cases.flash_stage":             true,
	"cases.flash_comment":           true,
	"cases.flash_consent_recorded":  true,
	"cases.flash_consent_withdrawn": true,
	"cases.flash_erasure_requested": true,
	"cases.flash_erasure_approved":  true,
	"cases.flash_erasure_cancelled": true,
	"cases.flash_retention_saved":   true,
	"cases.flash_assigned":          true,

	"care.flash_saved":      true,
	"care.flash_progress":   true,
	"care.flash_attendance": true,

	"shelters.flash_created":           true,
	"shelters.flash_saved":             true,
	"shelters.flash_acceptance":        true,
	"shelters.flash_admitted":          true,
	"shelters.flash_waiting":           true,
	"shelters.flash_waiting_cancelled": true,
	"shelters.flash_transferred":       true,
	"shelters.flash_discharged":        true,

	"documents.flash_added": true,

	"me.flash_contact_saved":   true,
	"me.flash_contact_removed": true,

	"kits.flash_requested":   true,
	"kits.flash_approved":    true,
	"kits.flash_rejected":    true,
	"kits.flash_disbursed":   true,
	"kits.flash_handed_over": true,

	"handoffs.flash_sent":              true,
	"handoffs.flash_awaiting_override": true,
	"handoffs.flash_override_approved": true,
	"handoffs.flash_override_refused":  true,
	"handoffs.flash_accepted":          true,
	"handoffs.flash_declined":          true,
	"handoffs.flash_withdrawn":         true,
	"handoffs.flash_sharing_stopped":   true,
	"handoffs.flash_stage":             true,
	"handoffs.flash_message":           true,
	"handoffs.flash_feedback":          true,

	"followup.flash_reintegrated": true,
	"followup.flash_visit":        true,
	"followup.flash_closed":       true,

	"partnerships.flash_proposed":  true,
	"partnerships.flash_accepted":  true,
	"partnerships.flash_declined":  true,
	"partnerships.flash_suspended": true,
	"partnerships.flash_resumed":   true,
	"partnerships.flash_ended":     true,
}

// flash leaves the message key for the page the redirect opens.
func (p *Pages) flash(c *fiber.Ctx, key string) {
	c.Cookie(&fiber.Cookie{
		Name: FlashCookie, Value: key, Path: "/", MaxAge: 60,
		Secure: p.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// takeFlash is the message a form left (one of flashMessages; "" for none
// or anything else), cleared so that it shows once.
func (p *Pages) takeFlash(c *fiber.Ctx) string {
	key := c.Cookies(FlashCookie)
	if key == "" {
		return ""
	}
	c.Cookie(&fiber.Cookie{
		Name: FlashCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		Secure: p.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
	if !flashMessages[key] {
		return ""
	}
	return key
}

// localPath is next when it is a path of this site, else /: a form field
// must not send anyone elsewhere. The query is dropped.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return PathHome
	}
	return u.EscapedPath()
}

// signInFirst is the address that signs in and comes back to path.
func signInFirst(path string) string {
	return PathLogin + "?" + url.Values{"next": {path}}.Encode()
}

// Asset is GET /static/:file (web/static).
func (p *Pages) Asset(c *fiber.Ctx) error { return static.Serve(c) }
