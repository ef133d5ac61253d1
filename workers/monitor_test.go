package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
)

// TestQueueMonitor: asynqmon serves its pages and its read API, refuses
// changes, and shows payloads as their length only.
func TestQueueMonitor(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenSQLite(t)
	opt := sharedRedis(t)
	r := newRig(t, store, opt)
	tenant := tenanttest.NewTenant(t, store)
	c := uuid.New()
	id := r.job(tenant, "test:count", map[string]uuid.UUID{"case": c})
	_, err := r.relay.RunOnce(context.Background())
	must(t, err)
	row, _ := r.row(id)

	h := workers.QueueMonitor(opt, "/ops/queues")
	defer h.(io.Closer).Close()
	do := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}

	for _, p := range []string{"/ops/queues", "/ops/queues/"} {
		if code, body := do("GET", p); code != http.StatusOK || !strings.Contains(body, "<html") {
			t.Fatalf("GET %s: %d %.80q", p, code, body)
		}
	}

	code, body := do("GET", "/ops/queues/api/queues/"+r.queue+"/pending_tasks")
	if code != http.StatusOK {
		t.Fatalf("list pending tasks: %d %s", code, body)
	}
	var list struct {
		Tasks []struct {
			ID      string `json:"id"`
			Payload string `json:"payload"`
		} `json:"tasks"`
	}
	must(t, json.Unmarshal([]byte(body), &list))
	if len(list.Tasks) != 1 || list.Tasks[0].ID != id.String() {
		t.Fatalf("allowed control: the monitor lists %+v, want the task %s", list.Tasks, id)
	}
	if want := fmt.Sprintf("[redacted: %d bytes]", len(row.Payload)); list.Tasks[0].Payload != want {
		t.Fatalf("payload shown as %q, want %q", list.Tasks[0].Payload, want)
	}
	code, body = do("GET", "/ops/queues/api/queues/"+r.queue+"/tasks/"+id.String())
	if code != http.StatusOK || strings.Contains(body, c.String()) || !strings.Contains(body, "[redacted: ") {
		t.Fatalf("task detail: %d %s", code, body)
	}

	// read-only: changes are refused and change nothing
	if code, _ := do("POST", "/ops/queues/api/queues/"+r.queue+":pause"); code != http.StatusMethodNotAllowed {
		t.Fatalf("pause: %d, want 405", code)
	}
	if code, _ := do("DELETE", "/ops/queues/api/queues/"+r.queue+"/pending_tasks/"+id.String()); code != http.StatusMethodNotAllowed {
		t.Fatalf("delete task: %d, want 405", code)
	}
	q, err := r.insp.GetQueueInfo(r.queue)
	must(t, err)
	if q.Paused || q.Pending != 1 {
		t.Fatalf("after refused changes the queue is paused=%v with %d pending", q.Paused, q.Pending)
	}
}

// TestStats: the numbers /metrics reads, through a job's life.
func TestStats(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenSQLite(t) // a database of its own: the backlog is exact
	opt := sharedRedis(t)
	r := newRig(t, store, opt)
	r.reg.Register("test:count", r.countingHandler(nil))
	tenant := tenanttest.NewTenant(t, store)
	stats := workers.NewStats(store, opt)
	defer stats.Close()
	ctx := context.Background()
	backlog := func() int64 {
		n, err := stats.OutboxBacklog(ctx)
		must(t, err)
		return n
	}

	ids := []uuid.UUID{r.job(tenant, "test:count", nil), r.job(tenant, "test:count", nil)}
	if n := backlog(); n != 2 {
		t.Fatalf("backlog of 2 pending rows = %d", n)
	}
	_, err := r.relay.RunOnce(ctx)
	must(t, err)
	sizes, err := stats.QueueSizes(ctx)
	must(t, err)
	if got := sizes[r.queue]; got["pending"] != 2 || got["active"] != 0 {
		t.Fatalf("queue sizes = %v, want 2 pending", got)
	}
	if n := backlog(); n != 2 {
		t.Fatalf("backlog of 2 enqueued rows = %d", n)
	}
	r.startWorker()
	for _, id := range ids {
		r.waitStatus(id, tenants.OutboxDone)
	}
	if n := backlog(); n != 0 {
		t.Fatalf("backlog after the jobs ran = %d", n)
	}
}
