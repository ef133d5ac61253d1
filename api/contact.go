package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/afesip/homeward/tenants"
)

// The signed-in member's own contact address (routes.go:
// /api/v1/me/contact): where every mail to the member goes (follow-up
// reminders, repatriation-handoff notices), and in which language. The
// domain (tenants/contacts.go) authorizes: any signed-in member, its own;
// an API token or a platform operator has none (403).

// contactBody is GET and PUT /api/v1/me/contact.
type contactBody struct {
	Address  string `json:"address"`
	Language string `json:"language"`
}

func (a *administration) getContact(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	m, err := a.store.MemberContact(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(contactBody{Address: m.Address, Language: m.Language})
}

func (a *administration) putContact(c *fiber.Ctx) error {
	if err := a.ready(); err != nil {
		return err
	}
	var body contactBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	m, err := a.store.SetMemberContact(c.UserContext(), tenants.MemberContact{Address: body.Address, Language: body.Language})
	if err != nil {
		return err
	}
	return c.JSON(contactBody{Address: m.Address, Language: m.Language})
}
