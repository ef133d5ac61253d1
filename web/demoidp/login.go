package demoidp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/i18n"
)

// The login page, under Path. The library sends the browser to
// loginPath?authRequestID=ID (client.LoginURL).
const (
	loginPath  = "/login"
	loginParam = "authRequestID"
	stylePath  = "/style.css"
)

// The login form's fields.
const (
	fieldRequest = "id"
	fieldAccount = "account"
)

// browserCookie names the browser that was shown a login page, so that only
// it can complete that sign-in: a form posted from elsewhere (cross-site,
// where SameSite=Lax withholds the cookie, or another browser) is refused.
const browserCookie = "homeward_demo_idp"

// languageCookie is Homeward's own language cookie (web/pages'
// LanguageCookie, Path=/): the picker's choice holds here too.
const languageCookie = "homeward_lang"

// OperatorLoginPath is Homeward's page that starts the platform operator's
// sign-in (with OperatorClientID); the organisations' login pages link to it.
const OperatorLoginPath = "/login?operator=1"

var (
	errSignInGone    = errors.New("this sign-in has expired or is already complete")
	errOtherBrowser  = errors.New("this sign-in was started in another browser, or the browser refused the sign-in cookie")
	errNoSuchAccount = errors.New("choose one of the accounts listed")
)

// maxFormBytes bounds the login form (two short fields).
const maxFormBytes = 4 << 10

// loginPage lists the accounts of the auth request's client: an
// organisation's, or the platform operator alone.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(loginParam)
	c := p.storage.showLogin(id, p.browser(w, r))
	if c == nil {
		p.problem(w, r, http.StatusBadRequest, "demoidp.problem_gone")
		return
	}
	p.renderLogin(w, r, http.StatusOK, id, c, "")
}

// login completes the auth request with the chosen account and sends the
// browser back to the library, which redirects to the client with a code.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.problem(w, r, http.StatusBadRequest, "demoidp.problem_form")
		return
	}
	id, subject := r.PostForm.Get(fieldRequest), r.PostForm.Get(fieldAccount)
	var browser string
	if ck, err := r.Cookie(browserCookie); err == nil {
		browser = ck.Value
	}
	switch err := p.storage.chooseAccount(id, browser, subject); {
	case errors.Is(err, errNoSuchAccount):
		c := p.storage.showLogin(id, browser)
		if c == nil {
			p.problem(w, r, http.StatusBadRequest, "demoidp.problem_expired")
			return
		}
		p.renderLogin(w, r, http.StatusUnprocessableEntity, id, c, "demoidp.choose_listed")
		return
	case errors.Is(err, errOtherBrowser):
		p.problem(w, r, http.StatusForbidden, "demoidp.problem_other_browser")
		return
	case err != nil:
		p.problem(w, r, http.StatusBadRequest, "demoidp.problem_expired")
		return
	}
	callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(r.Context(), p.issuer), id)
	http.Redirect(w, r, callback, http.StatusSeeOther)
}

// browser returns the browser's login cookie, setting a new one when it
// has none.
func (p *Provider) browser(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(browserCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: browserCookie, Value: v, Path: p.cookiePath(),
		HttpOnly: true, Secure: p.secureCookie, SameSite: http.SameSiteLaxMode,
	})
	return v
}

// cookiePath is the issuer's path: the cookie goes to the provider only.
func (p *Provider) cookiePath() string {
	if u, err := url.Parse(p.issuer); err == nil && u.Path != "" {
		return u.Path
	}
	return Path
}

// base is BASE_URL, where Homeward's own pages are.
func (p *Provider) base() string { return strings.TrimSuffix(p.issuer, Path) }

// locale is the reader's language: Homeward's language cookie, else the
// browser's Accept-Language, else English (the provider knows no member
// and no organisation before the sign-in).
func (p *Provider) locale(r *http.Request) *i18n.Locale {
	cookie := ""
	if ck, err := r.Cookie(languageCookie); err == nil {
		cookie = ck.Value
	}
	return p.catalogue.Locale(i18n.Choose("", cookie, r.Header.Get("Accept-Language"), ""))
}

type loginData struct {
	L            *i18n.Locale
	Issuer       string
	Base         string
	Action       string
	RequestID    string
	Organisation string // "" for the operator's client
	Accounts     []Account
	Operator     bool
	OperatorURL  string
	Error        string // a message key
}

func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, status int, id string, c *client, problem string) {
	p.render(w, status, "login", loginData{
		L:            p.locale(r),
		Issuer:       p.issuer,
		Base:         p.base(),
		Action:       p.issuer + loginPath,
		RequestID:    id,
		Organisation: c.name,
		Accounts:     AccountsOf(c.organisation),
		Operator:     c.organisation == "",
		OperatorURL:  p.base() + OperatorLoginPath,
		Error:        problem,
	})
}

// index is the provider's own page: what it is, and every account.
func (p *Provider) index(w http.ResponseWriter, r *http.Request) {
	type org struct {
		Name     string
		Accounts []Account
	}
	var orgs []org
	for _, o := range tenants.DemoOrganisations {
		orgs = append(orgs, org{o.Name, AccountsOf(o.Slug)})
	}
	orgs = append(orgs, org{"Platform operator (no organisation)", AccountsOf("")})
	p.render(w, http.StatusOK, "index", struct {
		L             *i18n.Locale
		Issuer        string
		Base          string
		Organisations []org
	}{p.catalogue.Locale("en"), p.issuer, p.base(), orgs})
}

// problem is a page saying what went wrong (message, a message key), in
// the reader's language, with a way back to Homeward.
func (p *Provider) problem(w http.ResponseWriter, r *http.Request, status int, message string) {
	p.render(w, status, "problem", struct {
		L       *i18n.Locale
		Issuer  string
		Base    string
		Message string
	}{p.locale(r), p.issuer, p.base(), message})
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	var out strings.Builder
	if err := pages.ExecuteTemplate(&out, name, data); err != nil {
		p.logger.Error("demo identity provider: page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(out.String()))
}

func serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write([]byte(style))
}

// The pages are plain HTML: no script, one external stylesheet (so that
// Homeward's Content-Security-Policy, which allows 'self', applies as is).
// Every page but the index (the provider's own, for developers) is in the
// reader's language (.L); the index is drawn in English.
var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"roleKey": func(r tenants.Role) string { return "role." + string(r) },
	"head": func(l *i18n.Locale, title string) any {
		return struct {
			L     *i18n.Locale
			Title string
		}{l, title}
	},
}).Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="{{.L.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · {{.L.T "demoidp.title"}} · Homeward</title>
<link rel="icon" href="data:,">
{{end}}
{{define "banner"}}<link rel="stylesheet" href="{{.Issuer}}/style.css">
</head>
<body>
<main>
<p class="banner" role="note"><strong>{{.L.T "demoidp.banner_strong"}}</strong>
{{.L.T "demoidp.banner_text"}}</p>
{{end}}
{{define "login"}}{{template "head" (head .L (or .Organisation (.L.T "role.platform_operator")))}}{{template "banner" .}}
{{if .Operator}}<h1>{{.L.T "demoidp.heading_operator"}}</h1>{{else}}<h1>{{.L.T "demoidp.heading_organisation" "Organisation" .Organisation}}</h1>{{end}}
{{with .Error}}<p class="error" role="alert">{{$.L.T .}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.RequestID}}">
<fieldset>
<legend>{{.L.T "demoidp.choose_account"}}</legend>
<ul>
{{range $i, $a := .Accounts}}<li><input type="radio" name="account" id="account-{{$i}}" value="{{$a.Subject}}" required{{if eq $i 0}} autofocus{{end}}>
<label for="account-{{$i}}"><span class="name">{{$.L.T "demoidp.account_name" "Role" ($.L.T (roleKey $a.Role))}}</span> <span class="detail">{{$.L.T "demoidp.group"}} <code>{{$a.Group}}</code></span></label></li>
{{end}}</ul>
</fieldset>
<button type="submit">{{.L.T "demoidp.sign_in"}}</button>
</form>
{{if not .Operator}}<p class="aside">{{.L.T "demoidp.operator_aside"}} <a href="{{.OperatorURL}}">{{.L.T "demoidp.operator_link"}}</a>.</p>{{end}}
<p class="aside"><a href="{{.Base}}/">{{.L.T "demoidp.back"}}</a></p>
</main>
</body>
</html>
{{end}}
{{define "index"}}{{template "head" (head .L "Demo identity provider")}}{{template "banner" .}}
<h1>Demo identity provider</h1>
<p>Homeward's demo organisations sign in here the way a real organisation signs in with its own provider.
Start from <a href="{{.Base}}/login">Homeward's sign-in page</a>.
Issuer <code>{{.Issuer}}</code>, <a href="{{.Issuer}}/.well-known/openid-configuration">discovery document</a>.</p>
{{range .Organisations}}<h2>{{.Name}}</h2>
<ul>
{{range .Accounts}}<li><span class="name">{{.Name}}</span> <span class="detail">subject <code>{{.Subject}}</code> · group <code>{{.Group}}</code></span></li>
{{end}}</ul>
{{end}}</main>
</body>
</html>
{{end}}
{{define "problem"}}{{template "head" (head .L (.L.T "demoidp.problem_title"))}}{{template "banner" .}}
<h1>{{.L.T "demoidp.problem_title"}}</h1>
<p class="error" role="alert">{{.L.T .Message}}</p>
<p><a href="{{.Base}}/login">{{.L.T "demoidp.start_again"}}</a></p>
</main>
</body>
</html>
{{end}}`))

const style = `body { font-family: system-ui, "Noto Sans Lao", "Noto Sans Thai", sans-serif; margin: 0; color: #1b1b1b; background: #fff; line-height: 1.4; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
.banner { background: #fff6d6; border: 2px solid #b38f00; padding: .75rem 1rem; }
.error { background: #fde8e8; border: 2px solid #b3261e; padding: .5rem 1rem; }
h1 { font-size: 1.4rem; }
fieldset { border: 1px solid #888; border-radius: 4px; padding: .5rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
ul { list-style: none; margin: 0; padding: 0; }
li { display: flex; align-items: flex-start; gap: .5rem; padding: .5rem .25rem; border-bottom: 1px solid #e5e5e5; }
li:last-child { border-bottom: 0; }
input[type=radio] { width: 1.25rem; height: 1.25rem; margin: .1rem 0 0; flex: none; }
label { flex: 1; min-width: 0; cursor: pointer; }
.name { display: block; font-weight: 600; }
.detail { display: block; font-size: .85rem; color: #555; overflow-wrap: anywhere; }
button { font: inherit; font-weight: 600; padding: .75rem 1.5rem; min-height: 44px; width: 100%; max-width: 20rem; border: 0; border-radius: 4px; background: #1d4ed8; color: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #b38f00; outline-offset: 2px; }
code { overflow-wrap: anywhere; }
.aside { font-size: .9rem; }
`
