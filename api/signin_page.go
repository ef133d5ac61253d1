package api

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/tenants"
)

// chooserOf is the chooser of the organisations orgs.
func chooserOf(orgs []tenants.Tenant, next, email, notice string, operator bool) Chooser {
	ch := Chooser{Next: next, Email: email, Notice: notice, Operator: operator}
	for _, o := range orgs {
		ch.Organisations = append(ch.Organisations, ChooserOrganisation{Slug: o.Slug, Name: o.Name, Href: loginURL(o.Slug, next, "")})
	}
	return ch
}

// chooserNotices are the plain page's words for Chooser.Notice.
var chooserNotices = map[string]string{
	ChooserNoMatch: "No organisation signs in people with this e-mail address here: choose yours below.",
}

// renderChooser draws GET /login without an organisation: pages' page in
// the web shell (translated, with "Leave quickly") when the pages are
// mounted, else a plain English page: server-rendered HTML, no script, its
// one style element carrying the response's CSP nonce.
func renderChooser(c *fiber.Ctx, pages Pages, ch Chooser) error {
	if pages != nil {
		return pages.SignInChooser(c, ch)
	}
	var out strings.Builder
	if err := chooser.Execute(&out, struct {
		Chooser
		NoticeText string
		Nonce      string
	}{ch, chooserNotices[ch.Notice], CSPNonce(c)}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(out.String())
}

var chooser = template.Must(template.New("chooser").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Homeward</title>
<style nonce="{{.Nonce}}">
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
ul { list-style: none; padding: 0; }
li { margin: .5rem 0; }
a { display: block; padding: .75rem 1rem; border: 1px solid #bbb; border-radius: .5rem; text-decoration: none; color: inherit; }
a:hover, a:focus { border-color: #333; }
.notice { padding: .75rem 1rem; background: #fff4d6; border-radius: .5rem; }
form { margin-top: 2rem; }
input { padding: .5rem; width: 100%; box-sizing: border-box; margin: .25rem 0 .5rem; }
.operator { margin-top: 2rem; font-size: .9rem; }
.operator a { display: inline; padding: 0; border: 0; text-decoration: underline; }
</style>
</head>
<body>
<main>
<h1>Sign in to Homeward</h1>
{{if .NoticeText}}<p class="notice" role="status">{{.NoticeText}}</p>{{end}}
{{if .Organisations}}
<p>Choose your organisation: you sign in with its own account system.</p>
<ul>
{{range .Organisations}}<li><a href="{{.Href}}">{{.Name}}</a></li>
{{end}}</ul>
{{else}}
<p>No organisation can sign in yet.</p>
{{end}}
<form method="get" action="/login">
<label for="email">Or find your organisation from your work e-mail address</label>
<input id="email" name="email" type="email" autocomplete="email" value="{{.Email}}" required>
{{if ne .Next "/"}}<input type="hidden" name="next" value="{{.Next}}">{{end}}
<button type="submit">Continue</button>
</form>
{{if .Operator}}<p class="operator">Platform operators belong to no organisation: <a href="/login?operator=1">sign in as a platform operator</a>.</p>{{end}}
</main>
</body>
</html>
`))
