package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/afesip/homeward"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2 // bad arguments or configuration
)

// env is what every command receives: nothing reads the process
// environment or writes to os.Stdout directly, so tests drive run() whole.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the web server (in demo mode also the worker, the scheduler and demo services)", serveCmd},
		{"worker", "process background tasks", workerCmd},
		{"scheduler", "run periodic tasks and the outbox relay", schedulerCmd},
		{"migrate", "apply the database migrations (as the owner role on PostgreSQL)", migrateCmd},
		{"seed", "add demo data (seed --demo) or synthetic cases for load tests (seed --synthetic-cases N)", seedCmd},
		{"tenants", "manage organisations: tenants add|list|suspend|resume|set-idp", tenantsCmd},
		{"tokens", "API tokens: tokens create --tenant SLUG --role ROLE --name NAME | --platform; tokens revoke ID", tokensCmd},
		{"keys", "master-key rotation: keys rotate", keysCmd},
		{"audit", "the audit log: audit verify|checkpoint --tenant SLUG", auditCmd},
		{"version", "print the version", versionCmd},
	}
}

// run is the whole program. It returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		usage(stdout)
		if len(args) < 2 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[1] {
			continue
		}
		err := c.run(ctx, e, args[2:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		}
		var he *homeward.Error
		if errors.As(err, &he) && he.Code == homeward.EINVALID && len(he.Fields) > 0 {
			fmt.Fprintf(stderr, "homeward %s: %s\n", c.name, he.Message)
			keys := make([]string, 0, len(he.Fields))
			for k := range he.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(stderr, "  %s: %s\n", k, he.Fields[k])
			}
			return exitUsage
		}
		fmt.Fprintf(stderr, "homeward %s: %v\n", c.name, err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "homeward: unknown command %q\n\n", args[1])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Homeward: case files, repatriation handoffs, prevention and donations for anti-trafficking NGOs.")
	fmt.Fprintln(w, "\nUsage: homeward COMMAND [flags]   (homeward COMMAND --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nConfiguration comes from HOMEWARD_* environment variables; see README.md.")
	fmt.Fprintln(w, "With none set, homeward serve runs the demo: SQLite, in-process queue, demo data.")
}

// errUsage reports bad arguments already explained on stderr.
var errUsage = errors.New("usage")

// newFlags makes a command's flag set; its usage text names the command.
func newFlags(e env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: homeward %s %s\n\n%s\n", name, synopsis, about)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(e.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, mapping flag errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return errUsage
	}
	return nil
}

// loadConfig reads the configuration and builds the logger.
func loadConfig(e env) (*homeward.Config, *slog.Logger, error) {
	cfg, warnings, err := homeward.LoadConfig(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(e.stderr, opts)
	if cfg.Demo() {
		h = slog.NewTextHandler(e.stderr, opts)
	}
	log := slog.New(h)
	for _, w := range warnings {
		log.Warn(w)
	}
	return cfg, log, nil
}

// refuseInProduction stops a demo-only part in production mode.
func refuseInProduction(cfg *homeward.Config, what string) error {
	if cfg.Demo() {
		return nil
	}
	return homeward.Errorf(homeward.EFORBIDDEN, "%s is part of demo mode and refused in production (HOMEWARD_MODE=%s)", what, cfg.Mode)
}
