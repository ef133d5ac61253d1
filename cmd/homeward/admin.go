package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"text/tabwriter"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func versionCmd(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "version", "", "Prints the version of this binary.")
	if err := parse(fs, args); err != nil {
		return err
	}
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	fmt.Fprintln(e.stdout, "homeward", v)
	return nil
}

func migrateCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate", "", `Applies the embedded database migrations; running it twice changes nothing.
On PostgreSQL it connects as the owner (HOMEWARD_DATABASE_OWNER_URL), creates the
app role named in HOMEWARD_DATABASE_URL when missing (LOGIN, NOBYPASSRLS, owning
nothing), grants it what it needs, and fails when a table escapes tenant isolation.`)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	if err := tenants.Migrate(ctx, cfg.DatabaseDriver, cfg.DatabaseURL, cfg.DatabaseOwnerURL, log); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

// openStore opens the store as the app role. In demo mode on SQLite it
// migrates first (there is nothing to set up); elsewhere it refuses a
// database whose migrations have not all been applied.
func openStore(ctx context.Context, cfg *homeward.Config, log *slog.Logger) (*tenants.Store, error) {
	if cfg.Demo() && cfg.DatabaseDriver == homeward.DriverSQLite {
		if err := tenants.Migrate(ctx, cfg.DatabaseDriver, cfg.DatabaseURL, "", log); err != nil {
			return nil, err
		}
	}
	s, err := tenants.Open(ctx, cfg.DatabaseDriver, cfg.DatabaseURL, log, tenants.WithMasterKeys(cfg.MasterKey, cfg.MasterKeyPrevious))
	if err != nil {
		return nil, err
	}
	pending, err := s.PendingMigrations(ctx)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("read the schema version: %w (has homeward migrate run?)", err)
	}
	if pending {
		s.Close()
		return nil, homeward.Errorf(homeward.EUNAVAILABLE, "the database schema is behind this binary: run homeward migrate first")
	}
	return s, nil
}

func tenantsCmd(ctx context.Context, e env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "add":
		return tenantsAdd(ctx, e, args[1:])
	case "list":
		return tenantsList(ctx, e, args[1:])
	case "suspend":
		return tenantsStatus(ctx, e, "suspend", tenants.StatusSuspended, args[1:])
	case "resume":
		return tenantsStatus(ctx, e, "resume", tenants.StatusActive, args[1:])
	case "set-idp":
		return tenantsSetIDP(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, tenantsUsage)
		return nil
	}
	fmt.Fprintln(e.stderr, tenantsUsage)
	return errUsage
}

const tenantsUsage = `Usage: homeward tenants add --slug SLUG --name NAME --country CC [--city CITY]
       homeward tenants list
       homeward tenants suspend SLUG
       homeward tenants resume SLUG
       homeward tenants set-idp SLUG --issuer URL --client-id ID [--client-secret-file FILE]
                                --groups-claim NAME --map GROUP=ROLE ... [--scopes S,...] [--email-domain D ...]

Operator commands for organisations. A suspended organisation keeps its data;
none of its people can sign in or be served until it is resumed.`

func tenantsAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tenants add", "--slug SLUG --name NAME --country CC [--city CITY]", "Adds an organisation.")
	var n tenants.NewTenant
	fs.StringVar(&n.Slug, "slug", "", "short name used in addresses: 3-40 lowercase letters, digits, hyphens")
	fs.StringVar(&n.Name, "name", "", "the organisation's name")
	fs.StringVar(&n.Country, "country", "", "ISO 3166 two-letter country code, e.g. LA, TH, MY, FR")
	fs.StringVar(&n.City, "city", "", "city (optional)")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := storeFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := s.AddTenant(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (%s), id %s\n", t.Slug, t.Name, t.ID)
	return nil
}

func tenantsList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tenants list", "", "Lists the organisations.")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := storeFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	ts, err := s.Tenants(ctx)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		fmt.Fprintln(e.stdout, "no organisations yet: add one with homeward tenants add (or homeward seed --demo)")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tNAME\tCOUNTRY\tSTATUS\tID")
	for _, t := range ts {
		name := t.Name
		if t.Demo {
			name += " [demo]"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Slug, name, t.Country, t.Status, t.ID)
	}
	return w.Flush()
}

func tenantsStatus(ctx context.Context, e env, verb, status string, args []string) error {
	fs := newFlags(e, "tenants "+verb, "SLUG", "Sets the organisation's status to "+status+".")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	s, err := storeFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := s.SetTenantStatus(ctx, fs.Arg(0), status)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is now %s\n", t.Slug, t.Status)
	return nil
}

// storeForTenant loads the configuration, opens the store and finds the
// organisation by its slug; the caller closes the store.
func storeForTenant(ctx context.Context, e env, slug string) (*homeward.Config, *tenants.Store, *tenants.Tenant, error) {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := s.TenantBySlug(ctx, slug)
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	return cfg, s, t, nil
}

// storeFromEnv loads the configuration and opens the store.
func storeFromEnv(ctx context.Context, e env) (*tenants.Store, error) {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg, log)
}

func keysCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, keysUsage)
			return nil
		}
		fmt.Fprintln(e.stderr, keysUsage)
		return errUsage
	}
	fs := newFlags(e, "keys rotate", "", keysUsage)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	if cfg.MasterKeyPrevious == nil {
		return homeward.Invalid(map[string]string{"HOMEWARD_MASTER_KEY_PREVIOUS": "required by keys rotate: the master key being retired (HOMEWARD_MASTER_KEY is the new one)"})
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.RotateMasterKey(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-wrapped %d organisation keys with the new master key (%d already used it); the data was not touched.\n", rep.Rewrapped, rep.Current)
	fmt.Fprintln(e.stdout, "Every organisation key now uses HOMEWARD_MASTER_KEY: remove HOMEWARD_MASTER_KEY_PREVIOUS and destroy the old key.")
	return nil
}

const keysUsage = `Usage: homeward keys rotate

Master-key rotation. Set HOMEWARD_MASTER_KEY to the new key and
HOMEWARD_MASTER_KEY_PREVIOUS to the old one (the running services keep
working with both), then run this: it re-wraps every organisation's key with
the new master key without touching the data. Afterwards remove
HOMEWARD_MASTER_KEY_PREVIOUS everywhere.`
