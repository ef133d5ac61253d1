package pages

import (
	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/api"
)

// SignInChooser draws GET /login without an organisation (api's sign-in
// calls it): the organisations to sign in to and the e-mail form, in the
// reader's language, with "Leave quickly" and the language picker.
func (p *Pages) SignInChooser(c *fiber.Ctx, ch api.Chooser) error {
	r := p.begin(c)
	return p.render(c, fiber.StatusOK, "chooser", p.frame(c, r, "chooser.title", PathLogin, ch))
}
