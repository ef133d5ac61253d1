package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/web/demoidp"
)

const seedAbout = `--demo adds the demo organisations (afesip-laos, afesip-france, demo-partner-th,
demo-partner-my) when missing, and their partnerships (demo-partner-th and
demo-partner-my send repatriation handoffs to afesip-laos, afesip-laos shares
its anonymised statistics with afesip-france), points them at the demo
identity provider (BASE_URL/demo-idp), and gives afesip-laos a dozen readable
demo cases when it has none: one with a starter kit requested, approved and
disbursed, two reintegrated with their follow-up visits (one recorded, one
overdue).
Demo mode only.

--synthetic-cases N adds N fake case files for load tests, spread over the
organisations synthetic-01 ... synthetic-T (--tenants T, added when missing and
shown as demo data), in batches, reporting progress on stderr and the rate at
the end. Running it again adds N more. The same --seed gives the same cases.
Allowed in demo mode; in production only with --production-load-test, for an
installation that holds no real case.`

func seedCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "seed", "--demo | --synthetic-cases N [--tenants T] [--seed S] [--production-load-test]", seedAbout)
	demo := fs.Bool("demo", false, "add the demo data")
	synthetic := fs.Int("synthetic-cases", 0, "add this many synthetic case files (load tests)")
	orgs := fs.Int("tenants", 1, "spread the synthetic cases over this many organisations synthetic-01 ...")
	seed := fs.Uint64("seed", 1, "the synthetic cases' random seed")
	loadTest := fs.Bool("production-load-test", false, "confirm that this production installation is for load tests: allow synthetic cases")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *demo == set["synthetic-cases"] {
		fs.Usage()
		return errUsage
	}
	if *demo {
		if len(set) > 1 {
			fs.Usage()
			return errUsage
		}
		return seedDemo(ctx, e)
	}
	bad := map[string]string{}
	if *synthetic < 1 || *synthetic > maxSyntheticCases {
		bad["synthetic-cases"] = fmt.Sprintf("a number of cases from 1 to %d", maxSyntheticCases)
	}
	if *orgs < 1 || *orgs > maxSyntheticTenants {
		bad["tenants"] = fmt.Sprintf("a number of organisations from 1 to %d", maxSyntheticTenants)
	}
	if len(bad) > 0 {
		return homeward.Invalid(bad)
	}
	return seedSynthetic(ctx, e, syntheticSeed{cases: *synthetic, tenants: *orgs, seed: *seed, production: *loadTest})
}

func seedDemo(ctx context.Context, e env) error {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	if err := refuseInProduction(cfg, "seed --demo"); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	added, err := s.SeedDemo(ctx)
	if err != nil {
		return err
	}
	if len(added) == 0 {
		fmt.Fprintln(e.stdout, "demo data already present")
	}
	for _, slug := range added {
		fmt.Fprintln(e.stdout, "added", slug)
	}
	partnerships, err := handoffs.New(s).SeedDemoPartnerships(ctx)
	if err != nil {
		return err
	}
	if partnerships > 0 {
		fmt.Fprintf(e.stdout, "added %d demo partnerships\n", partnerships)
	}
	idp, err := configureDemoIdentityProvider(ctx, cfg, log, s)
	if err != nil {
		return err
	}
	n, err := seedDemoCases(ctx, s, idp)
	if n > 0 {
		fmt.Fprintf(e.stdout, "added %d demo cases to %s\n", n, demoCaseOrganisation)
	}
	return err
}

// demoCaseOrganisation is the demo organisation that has demo cases.
const demoCaseOrganisation = "afesip-laos"

// seedDemoCases gives the demo organisation its demo cases when it has none
// (cases.Service.SeedDemo), then carries some further along the path
// (followup and kits SeedDemo), its staff signed in through the demo identity
// provider as they would sign in. An organisation pointed at another
// provider (someone trying a real one in a demo) gets none.
func seedDemoCases(ctx context.Context, s *tenants.Store, idp *demoidp.Provider) (int, error) {
	t, err := s.TenantBySlug(ctx, demoCaseOrganisation)
	if err != nil {
		return 0, err
	}
	have, err := demoidp.TenantStore(s).IdentityProviderOf(ctx, t.Slug)
	if err != nil || have == nil || have.Issuer != idp.Issuer() {
		return 0, err
	}
	staff := func(ctx context.Context, role tenants.Role) (*tenants.Principal, error) {
		for _, a := range demoidp.AccountsOf(t.Slug) {
			if a.Role == role {
				p, _, err := s.SignIn(ctx, t.ID, idp.Issuer(), a.Subject, []string{a.Group})
				return p, err
			}
		}
		return nil, fmt.Errorf("no demo account of %s has the role %s", t.Slug, role)
	}
	seeded, err := cases.New(s).SeedDemo(ctx, t.ID, staff)
	n := 0
	if seeded != nil {
		n = seeded.Cases
	}
	if err != nil {
		return n, err
	}
	// Further along the path, as the same staff (nothing when no case was
	// added): two cases reintegrated with their visits, before the
	// shelters place the cases at the shelter stage; a starter kit.
	if err := followup.New(s).SeedDemo(ctx, seeded); err != nil {
		return n, err
	}
	if err := shelters.SeedDemo(ctx, s, t.ID); err != nil {
		return n, err
	}
	return n, kits.New(s).SeedDemo(ctx, seeded)
}

// Synthetic seeding's limits and batch: a batch is one transaction of
// cases.SeedCases, large enough to amortise its round trips, small enough
// to keep a transaction short.
const (
	maxSyntheticCases   = 10_000_000
	maxSyntheticTenants = 999
	syntheticBatch      = 500
)

type syntheticSeed struct {
	cases, tenants int
	seed           uint64
	production     bool // --production-load-test
}

// seedSynthetic adds the synthetic organisations that are missing and
// their share of the cases. Organisations are seeded side by side, as many
// at once as there are processors (each takes its case numbers in turn,
// so one organisation's batches run one after another).
func seedSynthetic(ctx context.Context, e env, o syntheticSeed) error {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	if !cfg.Demo() && !o.production {
		return homeward.Errorf(homeward.EFORBIDDEN, "seed --synthetic-cases writes fake case files: refused in production (HOMEWARD_MODE=%s) unless --production-load-test confirms that this installation is for load tests", cfg.Mode)
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()

	orgs := make([]*tenants.Tenant, o.tenants)
	for i := range orgs {
		slug := fmt.Sprintf("synthetic-%02d", i+1)
		t, err := s.TenantBySlug(ctx, slug)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			t, err = s.AddTenant(ctx, tenants.NewTenant{Slug: slug, Name: fmt.Sprintf("Synthetic organisation %02d (load test)", i+1),
				Country: "LA", City: "Vientiane", Demo: true})
			if err == nil {
				fmt.Fprintln(e.stdout, "added", slug)
			}
		}
		if err != nil {
			return err
		}
		orgs[i] = t
	}

	progress := newSeedProgress(e.stderr, o.cases)
	start, now := time.Now(), time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, t := range orgs {
		n := o.cases / o.tenants
		if i < o.cases%o.tenants {
			n++
		}
		g.Go(func() error {
			batch := make([]cases.NewCase, 0, syntheticBatch)
			flush := func() error {
				if err := cases.SeedCases(gctx, s, t.ID, batch); err != nil {
					return fmt.Errorf("%s: %w", t.Slug, err)
				}
				progress.add(len(batch))
				batch = batch[:0]
				return nil
			}
			for c := range cases.SyntheticCases(o.seed+uint64(i), n, now) {
				if batch = append(batch, c); len(batch) == syntheticBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return flush()
		})
	}
	err = g.Wait()
	progress.finish()
	if err != nil {
		return err
	}
	took := time.Since(start)
	into := orgs[0].Slug
	if len(orgs) > 1 {
		into += " … " + orgs[len(orgs)-1].Slug
	}
	fmt.Fprintf(e.stdout, "seeded %d synthetic cases into %s in %s (%.0f cases/s)\n",
		o.cases, into, took.Round(100*time.Millisecond), float64(o.cases)/took.Seconds())
	return nil
}

// seedProgress shows seeding's progress on w: a progress bar on a
// terminal, else (a log file, a CI job) a line at every tenth.
type seedProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar // nil when w is not a terminal
	w     io.Writer
	total int
	done  int
}

func newSeedProgress(w io.Writer, total int) *seedProgress {
	p := &seedProgress{w: w, total: total}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("synthetic cases"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("cases"),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionFullWidth())
	}
	return p
}

func (p *seedProgress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.done * 10 / p.total
	p.done += n
	if p.bar != nil {
		p.bar.Add(n)
		return
	}
	if after := p.done * 10 / p.total; after > before {
		fmt.Fprintf(p.w, "%d of %d synthetic cases (%d%%)\n", p.done, p.total, after*10)
	}
}

func (p *seedProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
