package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// lockedBuffer collects log lines written by the worker's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAuditJobsRunInTheBackground runs the audit jobs the way production
// does (scheduler, relay, worker): the hourly fan-out writes one checkpoint
// job per organisation, which writes the chain head to the log and to the
// organisation's checkpoint file; the daily prune runs per organisation.
func TestAuditJobsRunInTheBackground(t *testing.T) {
	t.Parallel()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	dir := t.TempDir()
	var logs lockedBuffer
	workers.RegisterAuditJobs(r.reg, dir, slog.New(slog.NewJSONHandler(&logs, nil)))

	audited, quiet := tenanttest.NewTenant(t, store), tenanttest.NewTenant(t, store)
	for range 3 {
		must(t, store.InTenant(context.Background(), audited, func(tx *gorm.DB) error {
			return tenants.Audit(tx, tenants.AuditEntry{Action: "case.read", RecordType: "case", RecordID: uuid.New(), Purpose: "services"})
		}))
	}
	head, err := store.AuditCheckpoint(context.Background(), audited)
	must(t, err)

	// A period of its own (see TestPruneOutbox).
	period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(100_000)) * 24 * time.Hour)
	s := &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{
		{Kind: workers.KindAuditCheckpointAll, Queue: r.queue, Every: time.Hour},
		{Kind: workers.KindAuditPruneAll, Queue: r.queue, Every: 24 * time.Hour},
	}, Now: func() time.Time { return period.Add(17 * time.Minute) }}
	must(t, s.RunOnce(context.Background()))
	r.runRelay(r.relay)
	r.startWorker()

	checkpointAll := workers.PeriodID(workers.KindAuditCheckpointAll, period)
	pruneAll := workers.PeriodID(workers.KindAuditPruneAll, period)
	r.waitStatus(checkpointAll, tenants.OutboxDone)
	r.waitStatus(pruneAll, tenants.OutboxDone)
	for _, tenant := range []uuid.UUID{audited, quiet} {
		r.waitStatus(uuid.NewSHA1(checkpointAll, tenant[:]), tenants.OutboxDone)
		r.waitStatus(uuid.NewSHA1(pruneAll, tenant[:]), tenants.OutboxDone)
	}

	cp, err := tenants.ReadCheckpoint(tenants.CheckpointFile(dir, head.Slug), audited)
	must(t, err)
	if cp.Seq != 3 || cp.Head != head.Head {
		t.Fatalf("checkpoint file holds %+v, want seq 3 and head %s", cp, head.Head)
	}
	rep, err := store.VerifyAudit(context.Background(), audited, cp)
	must(t, err)
	if !rep.OK() {
		t.Fatalf("the chain does not verify against its own checkpoint:\n%s", rep.String())
	}

	var logged bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Msg    string `json:"msg"`
			Tenant string `json:"tenant"`
			Seq    int64  `json:"seq"`
			Head   string `json:"head"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "audit checkpoint" && rec.Tenant == audited.String() {
			logged = rec.Seq == 3 && rec.Head == head.Head
		}
		if strings.Contains(line, quiet.String()) {
			t.Fatalf("a checkpoint was logged for an organisation with no audit rows: %s", line)
		}
	}
	if !logged {
		t.Fatalf("no checkpoint line with tenant, seq and head in the log:\n%s", logs.String())
	}
	quietSlug := ""
	must(t, store.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Model(&tenants.Tenant{}).Where("id = ?", quiet).Pluck("slug", &quietSlug).Error
	}))
	if _, err := tenants.ReadCheckpoint(tenants.CheckpointFile(dir, quietSlug), quiet); err == nil {
		t.Fatal("a checkpoint file was written for an organisation with no audit rows")
	}
}
