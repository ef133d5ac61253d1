// Package homeward holds the few types every layer shares: the error type with
// its codes (mapped to HTTP in one place, api/errors.go) and the configuration
// read from the environment. Features live in the folders beside this file:
// tenants/ (data and domain), workers/ (background work), api/ (HTTP),
// web/ (pages), cmd/homeward (the binary).
package homeward
