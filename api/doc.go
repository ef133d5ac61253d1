// Package api is Homeward's HTTP layer: the fiber application, every route
// (listed in routes.go), the middleware that wraps them, and the one place
// where errors become HTTP responses (errors.go).
//
// Handlers here decode and validate input, call a service in tenants/..., and
// respond; they never build tenant filters and never log personal data.
package api
