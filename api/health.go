package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// checkTimeout bounds each readiness check: a probe that hangs is a failure.
const checkTimeout = 2 * time.Second

// healthz says the process is alive. It checks nothing else on purpose: a
// restart would not fix the database.
func healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readiness is the body of /readyz. Status is "ok", "degraded" (Redis down:
// the API still serves, jobs wait in the outbox) or "unavailable" (the
// database is down: take this replica out of the load balancer).
type readiness struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Redis    string `json:"redis,omitempty"`
}

// readyz checks the database and Redis at once, each within checkTimeout.
// Only the database decides readiness; the failures' detail goes to the log,
// never into the body.
func readyz(database, rdb Pinger, logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		parent := c.UserContext()
		ping := func(name string, p Pinger) <-chan bool {
			ok := make(chan bool, 1)
			go func() {
				ctx, cancel := context.WithTimeout(parent, checkTimeout)
				defer cancel()
				err := p.Ping(ctx)
				if err != nil {
					logger.Warn("readiness check failed", "service", name, "error", err.Error())
				}
				ok <- err == nil
			}()
			return ok
		}
		dbOK := ping("database", database)
		var redisOK <-chan bool
		if rdb != nil {
			redisOK = ping("redis", rdb)
		}

		r := readiness{Status: "ok", Database: "ok"}
		if redisOK != nil {
			r.Redis = "ok"
			if !<-redisOK {
				r.Status, r.Redis = "degraded", "degraded"
			}
		}
		status := fiber.StatusOK
		if !<-dbOK {
			r.Status, r.Database = "unavailable", "unavailable"
			status = fiber.StatusServiceUnavailable
		}
		return c.Status(status).JSON(r)
	}
}
