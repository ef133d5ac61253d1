package pages_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/web/pages"
)

// TestSignInChooserTranslated: the organisation chooser is a page of the
// shell ("Leave quickly", the language picker) in the reader's language:
// Lao script for the cookie's lo, still listing every organisation with
// its sign-in link; English (the control) without a choice.
func TestSignInChooserTranslated(t *testing.T) {
	pg, err := pages.New(pages.Deps{Config: &homeward.Config{Mode: homeward.ModeDemo, BaseURL: &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}}})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get("/login", func(c *fiber.Ctx) error {
		return pg.SignInChooser(c, api.Chooser{
			Organisations: []api.ChooserOrganisation{
				{Slug: "afesip-laos", Name: "AFESIP Laos", Href: "/login?tenant=afesip-laos"},
				{Slug: "demo-partner-th", Name: "Demo partner Thailand", Href: "/login?tenant=demo-partner-th"},
			},
			Next: "/", Notice: api.ChooserNoMatch, Operator: true,
		})
	})
	get := func(header ...string) response {
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return do(t, app, req)
	}

	lo := get("Cookie", "homeward_lang=lo", "Accept-Language", "fr")
	if lo.status != http.StatusOK {
		t.Fatalf("status %d", lo.status)
	}
	mustContain(t, lo, `<html lang="lo">`, "ເຂົ້າສູ່ລະບົບ Homeward", "ເລືອກອົງການຂອງທ່ານ", "ອອກດ່ວນ", `id="leave-quickly"`, `id="language"`,
		`href="/login?tenant=afesip-laos">AFESIP Laos</a>`, `href="/login?tenant=demo-partner-th">Demo partner Thailand</a>`,
		`href="/login?operator=1"`, `name="email"`)
	mustNotContain(t, lo, "Choose your organisation", "Sign in to Homeward", "⟦")
	main := lo.body[strings.Index(lo.body, "<main"):]
	if !strings.ContainsFunc(main, func(r rune) bool { return unicode.Is(unicode.Lao, r) }) {
		t.Error("the Lao chooser has no Lao script")
	}

	en := get()
	mustContain(t, en, `<html lang="en">`, "Sign in to Homeward", "No organisation signs in people with this e-mail address here", `href="/login?tenant=afesip-laos"`)
}
