package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	homeward.EINVALID:         fiber.StatusUnprocessableEntity,
	homeward.EUNAUTHENTICATED: fiber.StatusUnauthorized,
	homeward.EFORBIDDEN:       fiber.StatusForbidden,
	homeward.ENOTFOUND:        fiber.StatusNotFound,
	homeward.ECONFLICT:        fiber.StatusConflict,
	homeward.ETOOLARGE:        fiber.StatusRequestEntityTooLarge,
	homeward.ERATELIMITED:     fiber.StatusTooManyRequests,
	homeward.EUNAVAILABLE:     fiber.StatusServiceUnavailable,
	homeward.EINTERNAL:        fiber.StatusInternalServerError,
}

// codeOfFiberStatus names the errors fiber itself raises (router, body limit,
// header limits). Other 4xx statuses are kept and coded invalid; other 5xx
// become internal.
var codeOfFiberStatus = map[int]string{
	fiber.StatusUnauthorized:                homeward.EUNAUTHENTICATED,
	fiber.StatusForbidden:                   homeward.EFORBIDDEN,
	fiber.StatusNotFound:                    homeward.ENOTFOUND,
	fiber.StatusConflict:                    homeward.ECONFLICT,
	fiber.StatusRequestEntityTooLarge:       homeward.ETOOLARGE,
	fiber.StatusRequestHeaderFieldsTooLarge: homeward.ETOOLARGE,
	fiber.StatusTooManyRequests:             homeward.ERATELIMITED,
	fiber.StatusServiceUnavailable:          homeward.EUNAVAILABLE,
	fiber.StatusBadGateway:                  homeward.EUNAVAILABLE,
	fiber.StatusGatewayTimeout:              homeward.EUNAVAILABLE,
}

// errorBody is the shape of every error response:
// {"error":{"code":"invalid","message":"...","fields":{"name":"reason"}}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// malformedBody marks an invalid error for a request body that does not parse
// at all, or names keys the resource does not take (with Fields): it answers
// 400 where other invalid input answers 422.
type malformedBody struct{ err *homeward.Error }

func (m malformedBody) Error() string { return m.err.Error() }
func (m malformedBody) Unwrap() error { return m.err }

// errorHandler turns any error returned by a handler or middleware into the
// JSON error response, or, for a browser outside the API (htmlErrors), an
// error page in the reader's language. Only internal errors are logged,
// with their detail; the client sees "internal error" and the request id to
// quote.
func errorHandler(logger *slog.Logger, production bool, labels *routeLabels, pages Pages) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, detail := describe(err)
		if detail.Code == homeward.EINTERNAL {
			logger.Error("internal error",
				"request_id", requestIDOf(c),
				"method", c.Method(),
				"route", labels.of(c),
				"error", err.Error())
		}
		// Errors raised by fasthttp before routing (body or headers too
		// large) never met the middleware: give them the headers here.
		if len(c.Response().Header.Peek(fiber.HeaderContentSecurityPolicy)) == 0 {
			setSecurityHeaders(c, production)
		}
		c.Response().ResetBody()
		if pages != nil && htmlErrors(c) {
			perr := pages.ErrorPage(c.Status(status), PageError{Status: status, Code: detail.Code, RequestID: requestIDOf(c)})
			if perr == nil {
				return nil
			}
			logger.Error("error page", "request_id", requestIDOf(c), "error", perr.Error())
			c.Response().ResetBody()
		}
		return c.Status(status).JSON(errorBody{Error: detail})
	}
}

// machinePrefixes are the paths whose errors are always the JSON body,
// whoever asks: the API, the probes, the metrics, the queue monitor's own
// JSON calls.
var machinePrefixes = []string{"/api/", "/healthz", "/readyz", "/metrics", "/ops/queues/api/"}

// htmlErrors reports whether an error is answered with a page: a request
// outside the machine paths from a client that takes HTML rather than JSON
// (a browser's Accept names text/html; no Accept at all counts as a
// browser too). A program that asks for application/json keeps the JSON
// body everywhere.
func htmlErrors(c *fiber.Ctx) bool {
	path := c.Path()
	for _, p := range machinePrefixes {
		if strings.HasPrefix(path, p) || path+"/" == p {
			return false
		}
	}
	return c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMETextHTML
}

// describe maps err to its HTTP status and the part a client may see.
func describe(err error) (int, errorDetail) {
	var (
		herr *homeward.Error
		ferr *fiber.Error
		bad  malformedBody
	)
	switch {
	case errors.As(err, &bad):
		return fiber.StatusBadRequest, errorDetail{Code: homeward.EINVALID, Message: bad.err.Message, Fields: bad.err.Fields}
	case errors.As(err, &herr):
		status, known := statusOf[herr.Code]
		if !known || herr.Code == homeward.EINTERNAL {
			break
		}
		return status, errorDetail{Code: herr.Code, Message: herr.Message, Fields: herr.Fields}
	case errors.As(err, &ferr):
		code, known := codeOfFiberStatus[ferr.Code]
		if !known && ferr.Code >= 500 {
			break
		}
		if !known {
			code = homeward.EINVALID
		}
		status := ferr.Code
		if code == homeward.EUNAVAILABLE {
			status = fiber.StatusServiceUnavailable
		}
		// The status text, not fiber's message: that can quote the request.
		return status, errorDetail{Code: code, Message: strings.ToLower(http.StatusText(ferr.Code))}
	}
	return fiber.StatusInternalServerError, errorDetail{Code: homeward.EINTERNAL, Message: "internal error"}
}
