# Homeward: the two commands that matter are in README.md:
#   go run ./cmd/homeward serve     (demo mode, nothing to set up)
#   make test                       (everything the CI runs)

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: test services vet build bench browser

## test: start or install PostgreSQL and Redis when needed, then vet and run every test with the race detector
test: services vet
	$(GO) test -race -count=1 ./...

services:
	./deploy/dev/ensure-services.sh

## browser: the browser tests alone (headless chromium; a failing test leaves a screenshot in test-artifacts/)
browser: services
	$(GO) test -race -count=1 ./web/browsertest/
	$(GO) test -race -count=1 -run '^TestBrowser' ./cmd/homeward/

vet:
	$(GO) vet ./...

## build: a static binary (no cgo: the SQLite driver is pure Go)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/homeward ./cmd/homeward

## bench: the benchmarks whose results docs/performance.md records (the case benchmarks first seed 100,000 cases: minutes)
bench: services
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./tenants/ ./tenants/cases/
