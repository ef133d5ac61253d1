package workers_test

import (
	"context"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/afesip/homeward/workers"
	"github.com/google/uuid"
)

// TestCaseRetentionRunsInTheBackground: the daily retention job, through
// scheduler, relay and worker, anonymises a case closed eleven years ago
// (the default retention is ten) and keeps one closed last year; a second
// day's run anonymises nothing more.
func TestCaseRetentionRunsInTheBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := tenanttest.OpenPostgres(t)
	r := newRig(t, store, sharedRedis(t))
	var logs lockedBuffer
	workers.RegisterCaseJobs(r.reg, slog.New(slog.NewJSONHandler(&logs, nil)))

	tenant := tenanttest.NewTenant(t, store)
	manager := signInCaseManager(t, store, tenant)
	closedAgo := func(years int) uuid.UUID {
		t.Helper()
		then := time.Now().AddDate(-years, 0, 0)
		svc := cases.New(store).WithClock(func() time.Time { return then })
		c, err := svc.Create(manager, cases.NewCase{Values: map[string]any{
			"prs_FirstName": "Retention", "prs_Birthdate": then.AddDate(-15, 0, 0).Format(time.DateOnly), "prs_Gender": "Feminine",
		}})
		must(t, err)
		closed := cases.StageClosed
		_, err = svc.Update(manager, c.ID, cases.Patch{Stage: &closed,
			Values: map[string]any{"cas_ReasonForCaseClosure": "Follow-up completed."}})
		must(t, err)
		return c.ID
	}
	old, recent := closedAgo(11), closedAgo(1)

	period := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(mrand.IntN(100_000)) * 24 * time.Hour)
	r.runRelay(r.relay)
	r.startWorker()
	for day := range 2 {
		start := period.Add(time.Duration(day) * 24 * time.Hour)
		s := &workers.Scheduler{Store: store, Jobs: []workers.PeriodicJob{{Kind: workers.KindCasesAnonymiseAll, Queue: r.queue, Every: 24 * time.Hour}},
			Now: func() time.Time { return start.Add(time.Minute) }}
		must(t, s.RunOnce(ctx))
		all := workers.PeriodID(workers.KindCasesAnonymiseAll, start)
		r.waitStatus(all, tenants.OutboxDone)
		r.waitStatus(uuid.NewSHA1(all, tenant[:]), tenants.OutboxDone)
	}

	svc := cases.New(store)
	if _, err := svc.Get(manager, old); homeward.ErrorCode(err) != homeward.ENOTFOUND {
		t.Fatalf("the case closed 11 years ago: err = %v, want not found (anonymised)", err)
	}
	if c, err := svc.Get(manager, recent); err != nil || c.Values["prs_FirstName"] != "Retention" {
		t.Fatalf("control: the case closed last year: %v, %v", c, err)
	}
	// Two runs, one anonymisation: the second found nothing due.
	var runs int
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, tenant.String()) && strings.Contains(line, "closed cases anonymised") {
			runs++
			if !strings.Contains(line, `"cases":1`) {
				t.Errorf("log line %s, want one case", line)
			}
		}
	}
	if runs != 1 {
		t.Fatalf("%d runs anonymised cases of the organisation, want 1:\n%s", runs, logs.String())
	}
}

// signInCaseManager gives tenant an identity provider mapping the group
// "cm" to case_manager and signs a member of that group in.
func signInCaseManager(t *testing.T, store *tenants.Store, tenant uuid.UUID) context.Context {
	t.Helper()
	const issuer = "https://idp.workers.test"
	secret := "s3cret-" + tenant.String()
	op := tenants.WithPrincipal(context.Background(), tenants.OperatorPrincipal("test-operator"))
	_, err := store.PutIdentityProvider(op, tenant, tenants.IdentityProviderChange{
		Issuer: issuer, ClientID: "client-" + tenant.String(), ClientSecret: &secret,
		GroupsClaim: "groups", GroupRoles: map[string][]tenants.Role{"cm": {tenants.RoleCaseManager}},
	})
	must(t, err)
	p, _, err := store.SignIn(context.Background(), tenant, issuer, "case-manager", []string{"cm"})
	must(t, err)
	return tenants.WithPrincipal(context.Background(), p)
}
