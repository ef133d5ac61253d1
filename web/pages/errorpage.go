package pages

import (
	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
)

// errorWords are each error code's title and text on an error page. The
// domain's own message is English and may name what the reader may not
// see, so a page says only what the code means, in the reader's language.
var errorWords = map[string][2]string{
	homeward.ENOTFOUND:        {"error.not_found_title", "error.not_found_body"},
	homeward.EFORBIDDEN:       {"forbidden.title", "forbidden.body"},
	homeward.EUNAUTHENTICATED: {"error.unauthenticated_title", "error.unauthenticated_body"},
	homeward.EINVALID:         {"error.invalid_title", "error.invalid_body"},
	homeward.ECONFLICT:        {"error.conflict_title", "error.conflict_body"},
	homeward.ETOOLARGE:        {"error.too_large_title", "error.too_large_body"},
	homeward.ERATELIMITED:     {"error.rate_limited_title", "error.rate_limited_body"},
	homeward.EUNAVAILABLE:     {"error.unavailable_title", "error.unavailable_body"},
	homeward.EINTERNAL:        {"error.internal_title", "error.internal_body"},
}

// errorPage is the error page's own part of the view.
type errorPage struct {
	TitleKey, BodyKey string
	FormHint          bool   // the request was a form: it may have expired
	SignIn            string // where to sign in and come back, for 401
	RequestID         string // internal errors: the reference to quote
}

// ErrorPage draws an error of any route outside the API as a page in the
// reader's language, with "Leave quickly" and the menu (api's error handler
// calls it for browsers; the API keeps its JSON). It reads nothing it does
// not need: the database may be what failed.
func (p *Pages) ErrorPage(c *fiber.Ctx, e api.PageError) error {
	words, ok := errorWords[e.Code]
	if !ok {
		words = errorWords[homeward.EINTERNAL]
	}
	r := p.begin(c)
	r.light = true
	page := &errorPage{TitleKey: words[0], BodyKey: words[1], FormHint: c.Method() == fiber.MethodPost && e.Code == homeward.EFORBIDDEN}
	switch e.Code {
	case homeward.EUNAUTHENTICATED:
		next := PathHome
		if c.Method() == fiber.MethodGet {
			next = c.Path()
		}
		page.SignIn = signInFirst(next)
	case homeward.EINTERNAL, homeward.EUNAVAILABLE:
		page.RequestID = e.RequestID
	}
	return p.render(c, e.Status, "error", p.frame(c, r, words[0], "", page))
}
