package api

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// httpMetrics are the request metrics. Labels hold the method, the route
// pattern and the status only: bounded sets, and nothing personal.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry, queues QueueStats, outbox OutboxStats, logger *slog.Logger) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "homeward_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "homeward_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	register(reg, collectors.NewGoCollector())
	register(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	register(reg, &backlogCollector{queues: queues, outbox: outbox, logger: logger,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "homeward_collector_errors_total",
			Help: "Scrapes where a source of queue or outbox metrics failed, by source.",
		}, []string{"source"}),
	})
	return m
}

func (m *httpMetrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// register adds c to reg, or returns the collector already there when the
// registry is shared (another server, the Go collector registered by main).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
			return c
		}
		panic(err) // a clashing metric name: a programming mistake
	}
	return c
}

var (
	queueTasksDesc = prometheus.NewDesc("homeward_queue_tasks",
		"Background tasks by queue and state, read at scrape time.", []string{"queue", "state"}, nil)
	outboxBacklogDesc = prometheus.NewDesc("homeward_outbox_backlog",
		"Outbox rows waiting for the relay, read at scrape time.", nil, nil)
)

// backlogCollector reads queue sizes and the outbox backlog when Prometheus
// scrapes, so the numbers are never stale and nothing polls between scrapes.
// A source that is missing or failing is left out of that scrape; a failure
// is counted in failures, which this collector reports after the sources so
// the count includes this scrape's.
type backlogCollector struct {
	queues   QueueStats
	outbox   OutboxStats
	failures *prometheus.CounterVec
	logger   *slog.Logger
}

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueTasksDesc
	ch <- outboxBacklogDesc
	b.failures.Describe(ch)
}

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if b.queues != nil {
		sizes, err := b.queues.QueueSizes(ctx)
		if err != nil {
			b.failed("queues", err)
			sizes = nil
		}
		for queue, states := range sizes {
			for state, n := range states {
				ch <- prometheus.MustNewConstMetric(queueTasksDesc, prometheus.GaugeValue, float64(n), queue, state)
			}
		}
	}
	if b.outbox != nil {
		n, err := b.outbox.OutboxBacklog(ctx)
		if err != nil {
			b.failed("outbox", err)
		} else {
			ch <- prometheus.MustNewConstMetric(outboxBacklogDesc, prometheus.GaugeValue, float64(n))
		}
	}
	b.failures.Collect(ch)
}

func (b *backlogCollector) failed(source string, err error) {
	b.failures.WithLabelValues(source).Inc()
	b.logger.Debug("metrics source failed", "source", source, "error", err.Error())
}
