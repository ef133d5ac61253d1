package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	homeward "github.com/afesip/homeward"
)

// routes lists every route and middleware. Fiber runs them in the order they
// are registered, so the order below is the order a request meets them.
func routes(app *fiber.App, deps Deps, production bool, labels *routeLabels, testRoutes func(fiber.Router)) {
	metrics := newHTTPMetrics(deps.Registry, deps.Queues, deps.Outbox, deps.Logger)

	// Outermost: turn a panic anywhere below into a 500, then give every
	// request an id, then observe it (access log and metrics see the final
	// status, including errors and panics), then set the security headers
	// that the error responses carry too.
	app.Use(recoverPanics())
	app.Use(requestID())
	app.Use(requestContext)
	app.Use(observe(deps.Logger, metrics, labels))
	app.Use(securityHeaders(production))

	// Probes and metrics come before the rate limiter: an orchestrator or
	// Prometheus polling them must never be throttled.
	app.Get("/healthz", healthz)
	app.Get("/readyz", readyz(deps.Database, deps.Redis, deps.Logger))
	// /metrics is unauthenticated: in production keep it off the public
	// ingress (the Helm chart scrapes it on the pod network). It holds counts
	// only, no personal data.
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})))

	app.Use(rateLimit(deps.RateLimit, deps.RateLimitRedis, deps.TrustedProxies, deps.Logger))

	// TODO: platform operators only once sign-in exists; until then the
	// queue monitor is a demo-mode convenience and absent in production.
	if deps.QueueMonitor != nil && deps.Config.Demo() {
		mountQueueMonitor(app, "/ops/queues", deps.QueueMonitor, deps.Logger)
	}
	// Demo mode keeps mail instead of sending it, and shows it here.
	if deps.DemoMailbox != nil && deps.Config.Demo() {
		app.Get("/demo/mailbox", deps.DemoMailbox)
	}

	v1 := app.Group("/api/v1")
	// The OpenAPI document describes every route here: add each new route
	// to api/openapi.yaml too (openapi_test.go checks both ways).
	v1.Get("/openapi.yaml", serveOpenAPI)
	if testRoutes != nil {
		testRoutes(v1)
	}
	v1.Use(notFound)

	app.Use(notFound)
}

// notFound answers every path no route claimed.
func notFound(*fiber.Ctx) error {
	return homeward.Errorf(homeward.ENOTFOUND, "no such resource")
}
