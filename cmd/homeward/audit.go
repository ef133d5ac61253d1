package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/afesip/homeward/tenants"
)

const auditUsage = `Usage: homeward audit verify --tenant SLUG [--checkpoint FILE]
       homeward audit checkpoint --tenant SLUG [--write]

The audit log: one chain per organisation, each row bound to the one before
it by a keyed hash whose key derives from the master key.

verify      recomputes the chain and reports every altered, inserted or
            removed row; with a checkpoint, also rows cut off the end after
            it. Exits 1 when anything is wrong.
checkpoint  prints the chain's current head (seq and hash) as JSON, to keep
            outside the database; the scheduler writes one every hour to the
            log and to HOMEWARD_DATA_DIR/audit-checkpoints/SLUG.jsonl.`

func auditCmd(ctx context.Context, e env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "verify":
		return auditVerify(ctx, e, args[1:])
	case "checkpoint":
		return auditCheckpoint(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, auditUsage)
		return nil
	}
	fmt.Fprintln(e.stderr, auditUsage)
	return errUsage
}

// errAuditFailed: the report on stdout says what is wrong.
var errAuditFailed = errors.New("the audit log failed verification")

func auditVerify(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "audit verify", "--tenant SLUG [--checkpoint FILE]", `Recomputes the organisation's audit chain with its key and reports every row
altered, inserted or removed, a chain head that disagrees with the rows, and a
retention anchor Homeward did not sign. Given a checkpoint (a file written by
the scheduler, whose last line for the organisation is used, or the output of
homeward audit checkpoint), it also reports rows cut off the end after it.
Exits 0 when the chain is intact, 1 when anything is wrong.`)
	slug := fs.String("tenant", "", "the organisation's slug (required)")
	cpFile := fs.String("checkpoint", "", "a checkpoint file to check the chain against")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, s, t, err := storeForTenant(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer s.Close()
	var cp *tenants.Checkpoint
	if *cpFile != "" {
		if cp, err = tenants.ReadCheckpoint(*cpFile, t.ID); err != nil {
			return err
		}
	}
	rep, err := s.VerifyAudit(ctx, t.ID, cp)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "audit log of %s (%s)\n%s", t.Slug, t.ID, rep.String())
	if cp == nil {
		if f := tenants.CheckpointFile(cfg.DataDir, t.Slug); fileExists(f) {
			fmt.Fprintf(e.stdout, "hint: checkpoints of %s are kept in %s; pass --checkpoint %s to catch rows cut off the end\n", t.Slug, f, f)
		}
	}
	if !rep.OK() {
		return errAuditFailed
	}
	return nil
}

func auditCheckpoint(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "audit checkpoint", "--tenant SLUG [--write]", `Prints the head of the organisation's audit chain (seq and hash) as JSON: keep
it outside the database and give it to homeward audit verify --checkpoint.`)
	slug := fs.String("tenant", "", "the organisation's slug (required)")
	write := fs.Bool("write", false, "also append it to HOMEWARD_DATA_DIR/audit-checkpoints/SLUG.jsonl")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, s, t, err := storeForTenant(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer s.Close()
	cp, err := s.AuditCheckpoint(ctx, t.ID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, string(b))
	if *write {
		if _, err := tenants.AppendCheckpoint(cfg.DataDir, cp); err != nil {
			return err
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
