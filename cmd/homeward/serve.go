package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/dashboard"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/web/demoidp"
	"github.com/afesip/homeward/web/mailbox"
	"github.com/afesip/homeward/web/pages"
	"github.com/afesip/homeward/workers"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gocloud.dev/blob"
)

// shutdownTimeout bounds how long serve waits for requests in flight.
const shutdownTimeout = 15 * time.Second

// platform is what serve, worker and scheduler share: the store as the app
// role, the queue's Redis, and the handlers of background work. close
// releases everything in reverse order.
type platform struct {
	cfg      *homeward.Config
	log      *slog.Logger
	store    *tenants.Store
	redis    asynq.RedisConnOpt
	registry *workers.Registry
	// documents is the document storage (HOMEWARD_BLOB_URL).
	documents *blob.Bucket
	mailbox   *mailbox.Mailbox  // demo mode without SMTP: the mail kept, shown at /demo/mailbox
	demoIDP   *demoidp.Provider // demo serve: the built-in OpenID provider the demo organisations use
	closers   []func()
}

func (p *platform) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// openPlatform loads the configuration and connects (openStore migrates a
// demo SQLite database); serve in demo mode seeds the demo organisations and
// their demo cases once and points them at the demo identity provider.
func openPlatform(ctx context.Context, e env, role string, prepare func(*homeward.Config) error) (*platform, error) {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		if err := prepare(cfg); err != nil {
			return nil, err
		}
	}
	log = log.With("role", role)
	redis.SetLogger(redisLogger{log.With("component", "go-redis")})
	p := &platform{cfg: cfg, log: log, registry: workers.NewRegistry()}
	workers.RegisterPlatformJobs(p.registry)
	workers.RegisterAuditJobs(p.registry, cfg.DataDir, log.With("component", "audit"))
	if err := p.registerMail(); err != nil {
		return nil, err
	}
	if p.store, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { p.store.Close() })
	bucket, err := tenants.OpenDocumentBucket(ctx, cfg.BlobURL)
	if err != nil {
		p.close()
		return nil, homeward.Invalid(map[string]string{"HOMEWARD_BLOB_URL": "cannot open the document storage: " + err.Error()})
	}
	p.documents = bucket
	p.closers = append(p.closers, func() { bucket.Close() })
	workers.RegisterDocumentJobs(p.registry, bucket, log.With("component", "documents"))
	workers.RegisterCaseJobs(p.registry, log.With("component", "cases"))
	workers.RegisterFollowUpJobs(p.registry, log.With("component", "followup"))
	workers.RegisterHandoffJobs(p.registry, handoffs.New(p.store), log.With("component", "handoffs"))
	if cfg.Demo() && role == "serve" {
		added, err := p.store.SeedDemo(ctx)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("seed the demo organisations: %w", err)
		}
		if len(added) > 0 {
			log.Info("demo organisations added", "slugs", added)
		}
		if n, err := handoffs.New(p.store).SeedDemoPartnerships(ctx); err != nil {
			p.close()
			return nil, fmt.Errorf("seed the demo partnerships: %w", err)
		} else if n > 0 {
			log.Info("demo partnerships added", "partnerships", n)
		}
		if p.demoIDP, err = configureDemoIdentityProvider(ctx, cfg, log, p.store); err != nil {
			p.close()
			return nil, err
		}
		n, err := seedDemoCases(ctx, p.store, p.demoIDP)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("seed the demo cases: %w", err)
		}
		if n > 0 {
			log.Info("demo cases added", "slug", demoCaseOrganisation, "cases", n)
		}
		// Platform operators sign in at the demo provider's operator
		// client unless HOMEWARD_OPERATOR_* names a provider of their own.
		if cfg.OperatorSignIn == nil {
			cfg.OperatorSignIn = p.demoIDP.OperatorSignIn()
		}
	}
	opt, stop, err := workers.OpenRedis(ctx, cfg)
	if err != nil {
		p.close()
		return nil, err
	}
	p.redis = opt
	p.closers = append(p.closers, stop)
	return p, nil
}

// background runs the relay and the scheduler until ctx ends; wait blocks
// until both have returned.
func (p *platform) background(ctx context.Context, client *asynq.Client, inspector *asynq.Inspector) (wait func()) {
	relay := &workers.Relay{Store: p.store, Client: client, Inspector: inspector, Logger: p.log.With("component", "relay")}
	sched := &workers.Scheduler{Store: p.store, Jobs: workers.DefaultPeriodicJobs(), Logger: p.log.With("component", "scheduler")}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); relay.Run(ctx) }()
	go func() { defer wg.Done(); sched.Run(ctx) }()
	return wg.Wait
}

func serveCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "", `Runs the HTTP server: the API under /api/v1, /healthz, /readyz, /metrics.
In demo mode (no HOMEWARD_DATABASE_URL) it also migrates the SQLite database,
seeds the demo organisations once, and runs the worker, the scheduler and an
in-process Redis-compatible queue; it starts listening when all that is done.`)
	if err := parse(fs, args); err != nil {
		return err
	}
	// With port 0 (tests) the port is only known once bound, and the base
	// URL (the demo provider's issuer, sign-in redirects) needs it: bind
	// first in that case. Otherwise listening starts when all is ready.
	var early net.Listener
	reservePort := func(cfg *homeward.Config) error {
		if _, port, _ := net.SplitHostPort(cfg.Addr); port != "0" {
			return nil
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return homeward.Invalid(map[string]string{"HOMEWARD_ADDR": fmt.Sprintf("cannot listen on %s: %v", cfg.Addr, err)})
		}
		early = ln
		if cfg.BaseURL.Port() == "0" {
			cfg.BaseURL.Host = net.JoinHostPort(cfg.BaseURL.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		}
		return nil
	}
	p, err := openPlatform(ctx, e, "serve", reservePort)
	if early != nil {
		defer early.Close()
	}
	if err != nil {
		return err
	}
	defer p.close()
	cfg, log := p.cfg, p.log

	rdb, err := workers.NewRedisClient(p.redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	stats := workers.NewStats(p.store, p.redis)
	defer stats.Close()
	deps := api.Deps{
		Logger:         log,
		Config:         cfg,
		Database:       p.store,
		Redis:          workers.RedisPinger{Client: rdb},
		RateLimitRedis: rdb,
		Queues:         stats,
		Outbox:         stats,
		TrustedProxies: cfg.TrustedProxies,
		Store:          p.store,
		Documents:      p.documents,
	}
	// The read-only queue monitor, for platform operators (both modes).
	monitor := workers.QueueMonitor(p.redis, "/ops/queues")
	if c, ok := monitor.(io.Closer); ok {
		defer c.Close()
	}
	deps.QueueMonitor = monitor

	// Demo mode runs the whole platform in this process.
	stopBackground := func() {}
	if cfg.Demo() {
		if p.mailbox != nil {
			deps.DemoMailbox = p.mailbox.Page
		}
		if p.demoIDP != nil {
			deps.DemoIdentityProvider = p.demoIDP
		}
		client := asynq.NewClient(p.redis)
		defer client.Close()
		inspector := asynq.NewInspector(p.redis)
		defer inspector.Close()
		worker, err := workers.NewWorker(workers.WorkerConfig{Store: p.store, Redis: p.redis, Registry: p.registry, Logger: log.With("component", "worker")})
		if err != nil {
			return err
		}
		if err := worker.Start(); err != nil {
			return fmt.Errorf("start the worker: %w", err)
		}
		bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		wait := p.background(bgCtx, client, inspector)
		stopBackground = func() { cancel(); wait(); worker.Shutdown() }
	}
	defer func() { stopBackground() }()

	// Sign-in with each organisation's own provider, and the browser
	// sessions it opens.
	if deps.SignIn, err = api.NewSignIn(p.store, cfg, log.With("component", "sign-in"), api.SignInOptions{}); err != nil {
		return err
	}
	deps.Sessions = deps.SignIn

	// The web pages; the queue monitor and the mailbox are in their menus
	// when mounted (demo mode).
	pageDeps := pages.Deps{Config: cfg, Logger: log.With("component", "pages"),
		Notifications: p.store, Settings: pages.TenantSettings{Store: p.store},
		Memberships: pages.StoreMemberships{Store: p.store}, LocaleSaver: p.store, Contacts: p.store, Administration: p.store,
		Cases: cases.New(p.store), Shelters: shelters.New(p.store), FollowUp: followup.New(p.store), CaseDocuments: casedocs.New(p.store, p.documents, tenants.DocumentLimits{}),
		Dashboard: dashboard.New(p.store), Kits: kits.New(p.store), Care: care.New(p.store),
		Partnerships: handoffs.New(p.store), Handoffs: handoffs.New(p.store).WithDocuments(p.documents, tenants.DocumentLimits{})}
	if deps.QueueMonitor != nil {
		pageDeps.QueueMonitor = "/ops/queues"
	}
	if deps.DemoMailbox != nil {
		pageDeps.DemoMailbox = mailbox.Path
	}
	if deps.Pages, err = pages.New(pageDeps); err != nil {
		return err
	}
	app := api.NewServer(deps)
	ln := early
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return homeward.Invalid(map[string]string{"HOMEWARD_ADDR": fmt.Sprintf("cannot listen on %s: %v", cfg.Addr, err)})
		}
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	mode := "production"
	if cfg.Demo() {
		mode = "demo mode: demo data, in-process queue; not for real cases"
	}
	fmt.Fprintf(e.stdout, "Homeward is running at %s (%s)\n", cfg.BaseURL, mode)
	log.Info("listening", "addr", ln.Addr().String(), "mode", cfg.Mode)

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Shut down in order: stop taking requests and drain them, then the
	// background work, then (deferred) Redis and the database.
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopBackground()
	stopBackground = func() {}
	return nil
}

func workerCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "worker", "", `Processes background tasks from Redis until stopped (SIGTERM: running tasks
get up to 25 s to finish, then go back to the queue). In demo mode serve runs
the worker itself.`)
	if err := parse(fs, args); err != nil {
		return err
	}
	p, err := openSeparateRole(ctx, e, "worker")
	if err != nil {
		return err
	}
	defer p.close()
	w, err := workers.NewWorker(workers.WorkerConfig{Store: p.store, Redis: p.redis, Registry: p.registry, Logger: p.log})
	if err != nil {
		return err
	}
	p.log.Info("worker started", "kinds", p.registry.Kinds())
	return w.Run(ctx)
}

func schedulerCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "scheduler", "", `Runs the outbox relay (queues background work written by the application)
and the periodic jobs until stopped. Two schedulers at once are safe, e.g.
during a rollout. In demo mode serve runs the scheduler itself.`)
	if err := parse(fs, args); err != nil {
		return err
	}
	p, err := openSeparateRole(ctx, e, "scheduler")
	if err != nil {
		return err
	}
	defer p.close()
	client := asynq.NewClient(p.redis)
	defer client.Close()
	inspector := asynq.NewInspector(p.redis)
	defer inspector.Close()
	p.log.Info("scheduler started")
	p.background(ctx, client, inspector)()
	return nil
}

// openSeparateRole opens the platform for worker or scheduler, which share
// Redis with serve: the demo's in-process Redis lives inside serve, so they
// need HOMEWARD_REDIS_URL.
func openSeparateRole(ctx context.Context, e env, role string) (*platform, error) {
	if e.getenv("HOMEWARD_REDIS_URL") == "" && e.getenv("HOMEWARD_REDIS_URL_FILE") == "" {
		cfg, _, err := loadConfig(e)
		if err != nil {
			return nil, err
		}
		if cfg.Demo() {
			return nil, errors.New("in demo mode serve runs the " + role + " itself (its queue lives in the serve process); set HOMEWARD_REDIS_URL to run it apart")
		}
	}
	return openPlatform(ctx, e, role, nil)
}

// configureDemoIdentityProvider builds demo mode's OpenID provider (its
// signing key kept in the data folder) and points each demo organisation
// at it through the organisations' identity-provider settings, as an
// operator would with tenants set-idp.
func configureDemoIdentityProvider(ctx context.Context, cfg *homeward.Config, log *slog.Logger, store *tenants.Store) (*demoidp.Provider, error) {
	idp, err := demoidp.New(cfg, log.With("component", "demo-idp"))
	if err != nil {
		return nil, err
	}
	changed, err := idp.ConfigureOrganisations(ctx, demoidp.TenantStore(store))
	if err != nil {
		return nil, fmt.Errorf("point the demo organisations at the demo identity provider: %w", err)
	}
	if len(changed) > 0 {
		log.Info("demo organisations use the demo identity provider", "issuer", idp.Issuer(), "slugs", changed)
	}
	return idp, nil
}

// redisLogger sends go-redis's own messages (reconnection attempts) to slog
// at debug level: an outage is reported once by the relay and /readyz.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}
