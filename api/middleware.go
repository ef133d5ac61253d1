package api

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"github.com/afesip/homeward/tenants"
	"log/slog"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/google/uuid"
)

const (
	requestIDKey = "requestid"
	cspNonceKey  = "csp_nonce"
	// unmatched labels requests no route claimed, so that scanners probing
	// random paths cannot grow the metrics or the log's route vocabulary.
	unmatched = "unmatched"
)

// recoverPanics turns a panic below it into an internal error. The stack goes
// to the log (through the error handler); the client sees "internal error".
func recoverPanics() fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return c.Next()
	}
}

// safeRequestID is what an incoming X-Request-Id must look like to be kept:
// anything else could forge log lines or smuggle data into them.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a well-formed incoming X-Request-Id (so a load balancer's id
// follows the request) or generates one, and echoes it in the response.
func requestID() fiber.Handler {
	generate := requestid.New(requestid.Config{
		Header:     fiber.HeaderXRequestID,
		Generator:  uuid.NewString,
		ContextKey: requestIDKey,
	})
	return func(c *fiber.Ctx) error {
		if id := c.Get(fiber.HeaderXRequestID); id != "" && !safeRequestID.MatchString(id) {
			c.Request().Header.Del(fiber.HeaderXRequestID)
		}
		return generate(c)
	}
}

// requestContext carries the request id into the context handlers pass to
// the domain (c.UserContext()), where the audit log records it.
func requestContext(c *fiber.Ctx) error {
	c.SetUserContext(tenants.WithRequestID(c.UserContext(), requestIDOf(c)))
	return c.Next()
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// routeLabels names a request by the pattern of the route that answered it,
// such as /api/v1/cases/:id, never by its path (which may carry ids).
type routeLabels struct {
	endpoints map[string]bool // "GET /api/v1/cases/:id"; filled before serving
}

// load records the endpoints (not middleware) once every route is registered.
func (l *routeLabels) load(app *fiber.App) {
	l.endpoints = map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		l.endpoints[r.Method+" "+r.Path] = true
	}
}

// of is the request's route pattern, or "unmatched" when it ended in
// middleware (not found, rate limited) or failed before routing.
func (l *routeLabels) of(c *fiber.Ctx) string {
	r := c.Route()
	if !l.endpoints[r.Method+" "+r.Path] {
		return unmatched
	}
	return r.Path
}

// probes are logged at debug level: an orchestrator polls them all day.
var probes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// observe writes the access log line and the HTTP metrics for every request.
// It renders errors itself, through the app's error handler, so that both see
// the final status. Deliberately absent: query string, raw path, headers,
// cookies, IP addresses: any of them can carry personal data.
func observe(logger *slog.Logger, metrics *httpMetrics, labels *routeLabels) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		record := func(status int) {
			route, elapsed := labels.of(c), time.Since(start)
			metrics.observe(c.Method(), route, status, elapsed)
			level := slog.LevelInfo
			if probes[route] {
				level = slog.LevelDebug
			}
			logger.LogAttrs(c.UserContext(), level, "request",
				slog.String("method", c.Method()),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Duration("duration", elapsed),
				slog.Int("bytes", len(c.Response().Body())),
				slog.String("request_id", requestIDOf(c)))
		}

		done := false
		defer func() {
			// A panic is on its way to recoverPanics, which answers 500.
			if !done {
				record(fiber.StatusInternalServerError)
			}
		}()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		done = true
		record(c.Response().StatusCode())
		return nil
	}
}

// securityHeaders sets the browser protections on every response. Handlers
// may loosen one for a reason (static assets will set their own
// Cache-Control; the queue monitor sets its own CSP).
func securityHeaders(production bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		setSecurityHeaders(c, production)
		return c.Next()
	}
}

func setSecurityHeaders(c *fiber.Ctx, production bool) {
	nonce := newNonce()
	c.Locals(cspNonceKey, nonce)
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; "+
		"script-src 'self' 'nonce-"+nonce+"'; style-src 'self' 'nonce-"+nonce+"'; "+
		"img-src 'self' data:; object-src 'none'; base-uri 'none'; "+
		"form-action 'self'; frame-ancestors 'none'")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// No Referer at all: page addresses name cases and people.
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderPermissionsPolicy, "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "+
		"magnetometer=(), microphone=(), payment=(), usb=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set(fiber.HeaderCrossOriginResourcePolicy, "same-origin")
	// Case files must not linger in browser or proxy caches.
	c.Set(fiber.HeaderCacheControl, "no-store")
	if production {
		// Only in production: demo mode runs on plain http://localhost,
		// where HSTS would stick to localhost for two years.
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=63072000; includeSubDomains")
	}
}

// CSPNonce is this response's Content-Security-Policy nonce, for templates'
// <script nonce="..."> and <style nonce="...">.
func CSPNonce(c *fiber.Ctx) string {
	nonce, _ := c.Locals(cspNonceKey).(string)
	return nonce
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.StdEncoding.EncodeToString(b)
}
