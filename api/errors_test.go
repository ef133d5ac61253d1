package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

func TestErrorCodesMapToStatuses(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/err/:code", func(c *fiber.Ctx) error {
			if c.Params("code") == homeward.EINVALID {
				return homeward.Invalid(map[string]string{"name": "required"})
			}
			return homeward.Errorf(c.Params("code"), "message for %s", c.Params("code"))
		})
		v1.Get("/ok", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	})

	// Allowed control: a handler that succeeds is untouched.
	if r := get(t, app, "/api/v1/ok"); r.status != 200 || r.body != `{"ok":true}` {
		t.Fatalf("control: got %d %s", r.status, r.body)
	}

	wantError(t, get(t, app, "/api/v1/err/invalid"), 422,
		`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"name":"required"}}}`)
	for code, status := range map[string]int{
		homeward.EUNAUTHENTICATED: 401,
		homeward.EFORBIDDEN:       403,
		homeward.ENOTFOUND:        404,
		homeward.ECONFLICT:        409,
		homeward.ETOOLARGE:        413,
		homeward.ERATELIMITED:     429,
		homeward.EUNAVAILABLE:     503,
	} {
		t.Run(code, func(t *testing.T) {
			wantError(t, get(t, app, "/api/v1/err/"+code), status,
				`{"error":{"code":"`+code+`","message":"message for `+code+`"}}`)
		})
	}
}

func TestInternalErrorsAreHiddenAndLogged(t *testing.T) {
	app, logs := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/plain", func(*fiber.Ctx) error { return fmt.Errorf("secret detail") })
		v1.Get("/coded", func(*fiber.Ctx) error {
			return homeward.Errorf(homeward.EINTERNAL, "secret coded detail")
		})
		v1.Get("/unknown-code", func(*fiber.Ctx) error {
			return homeward.Errorf("made_up", "secret made-up detail")
		})
		v1.Get("/fiber500", func(*fiber.Ctx) error { return fiber.NewError(500, "secret fiber detail") })
		v1.Get("/conflict", func(*fiber.Ctx) error {
			return homeward.Errorf(homeward.ECONFLICT, "shown conflict detail")
		})
	})

	for path, secret := range map[string]string{
		"/api/v1/plain":        "secret detail",
		"/api/v1/coded":        "secret coded detail",
		"/api/v1/unknown-code": "secret made-up detail",
		"/api/v1/fiber500":     "secret fiber detail",
	} {
		r := get(t, app, path)
		wantError(t, r, 500, `{"error":{"code":"internal","message":"internal error"}}`)
		if strings.Contains(r.body, secret) {
			t.Errorf("%s: body leaks %q", path, secret)
		}
		if !strings.Contains(logs.String(), secret) {
			t.Errorf("%s: log lacks the detail %q:\n%s", path, secret, logs)
		}
		if id := r.header.Get("X-Request-Id"); id == "" || !strings.Contains(logs.String(), "request_id="+id) {
			t.Errorf("%s: log lacks the request id %q", path, id)
		}
	}

	// Allowed control: a non-internal error shows its message and is not
	// logged as an error.
	r := get(t, app, "/api/v1/conflict")
	wantError(t, r, 409, `{"error":{"code":"conflict","message":"shown conflict detail"}}`)
	if strings.Contains(logs.String(), "shown conflict detail") {
		t.Errorf("a conflict was logged as an internal error:\n%s", logs)
	}
}

func TestFiberErrorsAreMapped(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/bad", func(*fiber.Ctx) error { return fiber.ErrBadRequest })
		v1.Get("/method", func(*fiber.Ctx) error { return fiber.ErrMethodNotAllowed })
		v1.Get("/gone", func(*fiber.Ctx) error { return fiber.NewError(404, "Cannot GET /secret/path") })
		v1.Get("/gateway", func(*fiber.Ctx) error { return fiber.ErrBadGateway })
		v1.Get("/headers", func(*fiber.Ctx) error { return fiber.ErrRequestHeaderFieldsTooLarge })
	})
	wantError(t, get(t, app, "/api/v1/bad"), 400, `{"error":{"code":"invalid","message":"bad request"}}`)
	wantError(t, get(t, app, "/api/v1/method"), 405, `{"error":{"code":"invalid","message":"method not allowed"}}`)
	wantError(t, get(t, app, "/api/v1/gone"), 404, `{"error":{"code":"not_found","message":"not found"}}`)
	wantError(t, get(t, app, "/api/v1/gateway"), 503, `{"error":{"code":"unavailable","message":"bad gateway"}}`)
	wantError(t, get(t, app, "/api/v1/headers"), 431,
		`{"error":{"code":"too_large","message":"request header fields too large"}}`)
}

func TestUnknownRoutesAnswerNotFoundJSON(t *testing.T) {
	app, _ := newTestServer(t, Deps{}, nil)
	const notFound = `{"error":{"code":"not_found","message":"no such resource"}}`
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/nope"},
		{http.MethodGet, "/api/v1/nope"},
		{http.MethodGet, "/api/v2"},
		{http.MethodPost, "/healthz"},
		{http.MethodDelete, "/api/v1"},
	} {
		wantError(t, do(t, app, tc.method, tc.path, nil), 404, notFound)
	}
	// Allowed control: a known route on its method.
	if r := get(t, app, "/healthz"); r.status != 200 || r.body != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s", r.status, r.body)
	}
}

func TestDecodeJSON(t *testing.T) {
	type person struct {
		Name    string `json:"name"`
		Age     int    `json:"age"`
		Address struct {
			City string `json:"city"`
		} `json:"address"`
	}
	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Post("/people", func(c *fiber.Ctx) error {
			var p person
			if err := decodeJSON(c, &p); err != nil {
				return err
			}
			return c.JSON(p)
		})
	})
	post := func(body, contentType string) response {
		return do(t, app, http.MethodPost, "/api/v1/people", strings.NewReader(body), "Content-Type", contentType)
	}
	const jsonType = "application/json; charset=utf-8"

	// Allowed control.
	if r := post(`{"name":"Ana","age":12,"address":{"city":"Chiang Rai"}}`, jsonType); r.status != 200 ||
		r.body != `{"name":"Ana","age":12,"address":{"city":"Chiang Rai"}}` {
		t.Fatalf("valid body: %d %s", r.status, r.body)
	}

	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		want                    string
	}{
		{"truncated", `{"name":"Ana"`, jsonType, 400,
			`{"error":{"code":"invalid","message":"the JSON body ends too soon"}}`},
		{"syntax", `{name}`, jsonType, 400,
			`{"error":{"code":"invalid","message":"the body is not valid JSON (at byte 2)"}}`},
		{"empty", ``, jsonType, 400,
			`{"error":{"code":"invalid","message":"expected a JSON body, got an empty one"}}`},
		{"two values", `{"name":"Ana"} {}`, jsonType, 400,
			`{"error":{"code":"invalid","message":"expected a single JSON value in the body"}}`},
		{"form", `name=Ana`, "application/x-www-form-urlencoded", 400,
			`{"error":{"code":"invalid","message":"expected a JSON body with Content-Type: application/json"}}`},
		{"unknown field", `{"name":"Ana","nickname":"A"}`, jsonType, 422,
			`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"nickname":"unknown field"}}}`},
		{"wrong type", `{"age":"twelve"}`, jsonType, 422,
			`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"age":"expected a whole number, got a string"}}}`},
		{"nested wrong type", `{"address":{"city":7}}`, jsonType, 422,
			`{"error":{"code":"invalid","message":"some fields are not valid","fields":{"address.city":"expected a string, got a number"}}}`},
		{"not an object", `[1,2]`, jsonType, 422,
			`{"error":{"code":"invalid","message":"expected an object as the body, got a list"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.body, tc.contentType)
			wantError(t, r, tc.status, tc.want)
			if strings.Contains(r.body, "twelve") {
				t.Errorf("the error echoes the client's value: %s", r.body)
			}
		})
	}
}
