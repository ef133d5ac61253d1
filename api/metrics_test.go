package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type queueSizes struct {
	sizes map[string]map[string]int
	err   error
}

func (q queueSizes) QueueSizes(context.Context) (map[string]map[string]int, error) {
	return q.sizes, q.err
}

type backlog struct {
	n   int64
	err error
}

func (b backlog) OutboxBacklog(context.Context) (int64, error) { return b.n, b.err }

func TestMetricsReportQueuesAndOutbox(t *testing.T) {
	working, _ := newTestServer(t, Deps{
		Queues: queueSizes{sizes: map[string]map[string]int{"default": {"pending": 3, "retry": 1}}},
		Outbox: backlog{n: 7},
	}, nil)
	body := get(t, working, "/metrics").body
	for _, want := range []string{
		`homeward_queue_tasks{queue="default",state="pending"} 3`,
		`homeward_queue_tasks{queue="default",state="retry"} 1`,
		"homeward_outbox_backlog 7",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `homeward_collector_errors_total{`) {
		t.Errorf("collector errors reported while the sources work")
	}

	// Failing sources are left out and counted; the scrape still succeeds.
	failing, _ := newTestServer(t, Deps{
		Queues: queueSizes{err: errors.New("redis down")},
		Outbox: backlog{err: errors.New("database down")},
	}, nil)
	r := get(t, failing, "/metrics")
	if r.status != 200 {
		t.Fatalf("/metrics with failing sources = %d", r.status)
	}
	for _, absent := range []string{"homeward_queue_tasks{", "homeward_outbox_backlog "} {
		if strings.Contains(r.body, absent) {
			t.Errorf("/metrics reports %q from a failing source", absent)
		}
	}
	for _, want := range []string{
		`homeward_collector_errors_total{source="queues"} 1`,
		`homeward_collector_errors_total{source="outbox"} 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Missing sources are simply absent.
	none, _ := newTestServer(t, Deps{}, nil)
	if body := get(t, none, "/metrics").body; strings.Contains(body, "homeward_queue_tasks{") ||
		strings.Contains(body, "homeward_outbox_backlog ") {
		t.Errorf("/metrics reports queues without a source")
	}
}

// TestMetricsForOperatorsOnly: Prometheus scrapes with a platform
// operator's credential; nobody else reads /metrics.
func TestMetricsForOperatorsOnly(t *testing.T) {
	ops, _ := newTestServer(t, Deps{}, nil)
	if r := get(t, ops, "/metrics"); r.status != 200 || !strings.Contains(r.body, "go_goroutines") {
		t.Fatalf("control: operator: /metrics = %d", r.status)
	}
	nobody, _ := newTestServer(t, Deps{Sessions: anonymous}, nil)
	r := get(t, nobody, "/metrics")
	wantError(t, r, 401, `{"error":{"code":"unauthenticated","message":"sign in first"}}`)
	if r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("401 without WWW-Authenticate: Bearer: %v", r.header)
	}
	worker, _ := newTestServer(t, Deps{Sessions: sessionOf{caseWorker}}, nil)
	wantError(t, get(t, worker, "/metrics"), 403, `{"error":{"code":"forbidden","message":"your roles do not allow this"}}`)
	// A malformed credential is refused as such, before anything else.
	r = get(t, ops, "/metrics", "Authorization", "Basic b3BzOm9wcw==")
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("Basic credentials: %d %v", r.status, r.header)
	}
}

func TestSharedRegistry(t *testing.T) {
	// main may register the Go collector itself, or build two servers.
	reg := prometheus.NewRegistry()
	first, _ := newTestServer(t, Deps{Registry: reg}, nil)
	second, _ := newTestServer(t, Deps{Registry: reg}, nil)
	get(t, first, "/healthz")
	get(t, second, "/healthz")
	if body := get(t, first, "/metrics").body; !strings.Contains(body,
		`homeward_http_requests_total{method="GET",route="/healthz",status="200"} 2`) {
		t.Errorf("two servers on one registry do not share the counter")
	}
}
