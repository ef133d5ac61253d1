package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	homeward "github.com/afesip/homeward"
)

// BodyLimit is the largest request body accepted, in bytes. Larger bodies are
// refused with 413 too_large before any handler runs.
const BodyLimit = 1 << 20

// DefaultRateLimit is the number of requests one client may make per minute
// when Deps.RateLimit is zero.
const DefaultRateLimit = 300

// Pinger reports whether a backing service answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// QueueStats reports the number of background tasks per queue and state
// (pending, active, scheduled, retry, archived, ...).
type QueueStats interface {
	QueueSizes(ctx context.Context) (map[string]map[string]int, error)
}

// OutboxStats reports how many outbox rows wait for the relay.
type OutboxStats interface {
	OutboxBacklog(ctx context.Context) (int64, error)
}

// Deps is everything the HTTP layer needs. Nothing is global: NewServer gets it
// all from here.
type Deps struct {
	// Logger receives the access log and internal errors. Nil discards them.
	Logger *slog.Logger
	// Config is required. Its mode decides HSTS and the demo-only routes.
	Config *homeward.Config

	// Database is required; /readyz fails only when its Ping fails.
	Database Pinger
	// Redis, when set, is pinged by /readyz, which reports "degraded" (still
	// 200) when it does not answer: the API keeps serving without it.
	Redis Pinger
	// RateLimitRedis, when set, holds the rate-limit counters so that every
	// replica counts against one budget. While it errors, and when it is nil,
	// each process counts on its own.
	RateLimitRedis redis.UniversalClient

	// Queues and Outbox feed /metrics at scrape time. Either may be nil.
	Queues QueueStats
	Outbox OutboxStats

	// QueueMonitor is the asynqmon handler, built with RootPath "/ops/queues"
	// and ReadOnly true (payload redaction is the builder's concern). It is
	// mounted, GET only, in demo mode only. May be nil.
	QueueMonitor http.Handler

	// DemoMailbox is demo mode's mailbox page (web/mailbox: the mail
	// Homeward would have sent). It is mounted at /demo/mailbox in demo
	// mode only. May be nil.
	DemoMailbox fiber.Handler

	// Registry receives the HTTP, queue and Go runtime metrics and is what
	// /metrics serves. Nil creates a new one.
	Registry *prometheus.Registry

	// RateLimit is the number of requests per minute one client may make to
	// everything except /healthz, /readyz and /metrics. Zero means
	// DefaultRateLimit.
	RateLimit int
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed
	// when telling clients apart for rate limiting. Empty: the connection's
	// address is the client, and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
}

// NewServer returns the fiber application serving every route in routes.go.
// It panics when Deps.Config or Deps.Database is missing: that is a wiring
// mistake to catch at startup, not a condition to serve through.
func NewServer(deps Deps) *fiber.App {
	return newServer(deps, nil)
}

// newServer is NewServer with a hook that lets tests add routes to /api/v1
// ahead of its not-found handler.
func newServer(deps Deps, testRoutes func(v1 fiber.Router)) *fiber.App {
	if deps.Config == nil || deps.Database == nil {
		panic("api.NewServer: Deps.Config and Deps.Database are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.RateLimit <= 0 {
		deps.RateLimit = DefaultRateLimit
	}
	production := !deps.Config.Demo()
	labels := &routeLabels{}

	app := fiber.New(fiber.Config{
		ErrorHandler: errorHandler(deps.Logger, production, labels),
		BodyLimit:    BodyLimit,
		// Generous enough for a slow mobile link in the field, short enough
		// that idle or trickling connections do not pile up.
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		AppName:               "",
		ServerHeader:          "",
		// No ProxyHeader: c.IP() is always the connection's address. Proxies
		// are trusted only by the rate limiter's key, from Deps.TrustedProxies.
		ProxyHeader: "",
	})
	routes(app, deps, production, labels, testRoutes)
	labels.load(app)
	return app
}
