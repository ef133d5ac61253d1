package api

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/tenants"
)

// chooserPage is GET /login without an organisation: the organisations to
// sign in to, and a form to find one's own from an e-mail address. Plain
// server-rendered HTML, no script; its one style element carries the
// response's CSP nonce. (The web shell restyles and translates it.)
type chooserPage struct {
	Organisations []tenants.Tenant
	Next          string // the local page to land on afterwards
	Email         string
	Notice        string
	Operator      bool // platform operators sign in here too (/login?operator=1)
}

func renderChooser(c *fiber.Ctx, p chooserPage) error {
	var out strings.Builder
	if err := chooser.Execute(&out, struct {
		chooserPage
		Nonce string
	}{p, CSPNonce(c)}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(out.String())
}

var chooser = template.Must(template.New("chooser").Funcs(template.FuncMap{
	"login": func(slug, next string) string { return loginURL(slug, next, "") },
}).Parse(`<!DOCTYPE html>
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
{{if .Notice}}<p class="notice" role="status">{{.Notice}}</p>{{end}}
{{if .Organisations}}
<p>Choose your organisation: you sign in with its own account system.</p>
<ul>
{{range .Organisations}}<li><a href="{{login .Slug $.Next}}">{{.Name}}</a></li>
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
