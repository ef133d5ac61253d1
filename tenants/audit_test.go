package tenants_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// auditRig is a store and a raw connection to the same database that sees
// what someone with write access to the database would: the owner on
// PostgreSQL (a superuser in the tests, so no row-level security), the file
// on SQLite.
type auditRig struct {
	store *tenants.Store
	raw   *sql.DB
	pg    bool
}

func auditRigs(t *testing.T) map[string]*auditRig {
	t.Helper()
	pg := tenanttest.Postgres(t)
	owner, err := sql.Open("pgx", pg.OwnerURL)
	must(t, err)
	t.Cleanup(func() { owner.Close() })
	file := filepath.Join(t.TempDir(), "h.db")
	tenanttest.MigrateSQLite(t, file)
	lite, err := sql.Open("sqlite", tenants.SQLiteDSN(file))
	must(t, err)
	t.Cleanup(func() { lite.Close() })
	return map[string]*auditRig{
		homeward.DriverPostgres: {store: tenanttest.OpenPostgres(t), raw: owner, pg: true},
		homeward.DriverSQLite:   {store: tenanttest.OpenSQLiteFile(t, file), raw: lite},
	}
}

// exec runs query (with ? placeholders) behind the store's back.
func (r *auditRig) exec(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	if r.pg {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	res, err := r.raw.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	n, err := res.RowsAffected()
	must(t, err)
	return n
}

// rowHash reads the stored hash of tenant's row seq.
func (r *auditRig) rowHash(t *testing.T, tenant uuid.UUID, seq int64) []byte {
	t.Helper()
	q := "SELECT hash FROM audit_log WHERE tenant_id = ? AND seq = ?"
	if r.pg {
		q = "SELECT hash FROM audit_log WHERE tenant_id = $1 AND seq = $2"
	}
	var h []byte
	must(t, r.raw.QueryRow(q, tenant.String(), seq).Scan(&h))
	return h
}

var auditMember = uuid.New()

// auditCtx is a request of a signed-in member.
func auditCtx() context.Context {
	ctx := tenants.WithActor(context.Background(), tenants.Actor{
		Kind: tenants.ActorMember, Issuer: "https://id.example.org/realms/afesip", Subject: "3f9c2a", MemberID: &auditMember})
	return tenants.WithRequestID(ctx, "req-"+uuid.NewString()[:8])
}

func caseRead(id uuid.UUID) tenants.AuditEntry {
	return tenants.AuditEntry{Action: "case.read", RecordType: "case", RecordID: id, FieldGroups: []string{"identity", "core"}, Purpose: "services"}
}

// writeAudit appends n entries for tenant, each in its own transaction.
func writeAudit(t *testing.T, s *tenants.Store, tenant uuid.UUID, n int) {
	t.Helper()
	for range n {
		must(t, s.InTenant(auditCtx(), tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(uuid.New())) }))
	}
}

func verifyAudit(t *testing.T, s *tenants.Store, tenant uuid.UUID, cp *tenants.Checkpoint) tenants.VerifyReport {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background(), tenant, cp)
	must(t, err)
	return rep
}

func wantIntact(t *testing.T, rep tenants.VerifyReport, rows int) {
	t.Helper()
	if !rep.OK() || rep.Rows != rows {
		t.Fatalf("want an intact chain of %d rows, got:\n%s", rows, rep.String())
	}
}

type finding struct {
	kind string
	seq  int64
}

// wantFindings fails unless the report holds exactly these problems.
func wantFindings(t *testing.T, rep tenants.VerifyReport, want ...finding) {
	t.Helper()
	var got []finding
	for _, p := range rep.Problems {
		got = append(got, finding{p.Kind, p.Seq})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems = %v, want %v; report:\n%s", got, want, rep.String())
	}
}

func auditHead(t *testing.T, s *tenants.Store, tenant uuid.UUID) tenants.Checkpoint {
	t.Helper()
	cp, err := s.AuditCheckpoint(context.Background(), tenant)
	must(t, err)
	return cp
}

func auditPage(t *testing.T, s *tenants.Store, tenant uuid.UUID, q tenants.AuditQuery) tenants.AuditPage {
	t.Helper()
	var page tenants.AuditPage
	must(t, s.InTenant(context.Background(), tenant, func(tx *gorm.DB) (err error) {
		page, err = tenants.ListAudit(tx, q)
		return err
	}))
	return page
}

func TestAuditRecordsWhoDidWhat(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			record := uuid.New()
			ctx := tenants.WithRequestID(tenants.WithActor(context.Background(), tenants.Actor{
				Kind: tenants.ActorMember, Issuer: "https://login.example.org", Subject: "a1b2", MemberID: &auditMember}), "req-42")
			must(t, s.InTenant(ctx, a, func(tx *gorm.DB) error {
				return tenants.Audit(tx, tenants.AuditEntry{Action: "case.update", RecordType: "case", RecordID: record,
					FieldGroups: []string{"medical", "identity", "medical"}, Purpose: "services"})
			}))
			page := auditPage(t, s, a, tenants.AuditQuery{})
			if len(page.Entries) != 1 {
				t.Fatalf("entries = %+v", page.Entries)
			}
			e := page.Entries[0]
			if e.Seq != 1 || e.Action != "case.update" || e.RecordType != "case" || e.RecordID == nil || *e.RecordID != record ||
				!slices.Equal(e.FieldGroups, []string{"identity", "medical"}) || e.Purpose != "services" || e.RequestID != "req-42" ||
				e.Actor.Kind != tenants.ActorMember || e.Actor.Issuer != "https://login.example.org" || e.Actor.Subject != "a1b2" ||
				e.Actor.MemberID == nil || *e.Actor.MemberID != auditMember || e.Organisation == nil || *e.Organisation != a ||
				time.Since(e.OccurredAt) > time.Minute {
				t.Fatalf("entry = %+v", e)
			}

			// Cross-organisation work: the receiver's chain records that the
			// actor acted for the sender.
			must(t, s.AcrossTenants(tenants.WithTenant(ctx, a),
				tenants.TenantStep{Tenant: a, Fn: func(tx *gorm.DB) error {
					return tenants.Audit(tx, tenants.AuditEntry{Action: "handoff.send", RecordType: "handoff", RecordID: record, Purpose: "repatriation"})
				}},
				tenants.TenantStep{Tenant: b, Fn: func(tx *gorm.DB) error {
					return tenants.Audit(tx, tenants.AuditEntry{Action: "handoff.receive", RecordType: "handoff", RecordID: record, Purpose: "repatriation"})
				}}))
			got := auditPage(t, s, b, tenants.AuditQuery{}).Entries
			if len(got) != 1 || got[0].Action != "handoff.receive" || got[0].Organisation == nil || *got[0].Organisation != a {
				t.Fatalf("receiver's entries = %+v, want one by the sender's member", got)
			}
			// background work without a request: the system, for the tenant
			must(t, s.InTenant(context.Background(), b, func(tx *gorm.DB) error {
				return tenants.Audit(tx, tenants.AuditEntry{Action: "case.reminder", RecordType: "case", RecordID: record})
			}))
			sys := auditPage(t, s, b, tenants.AuditQuery{Limit: 1}).Entries[0]
			if sys.Actor.Kind != tenants.ActorSystem || sys.Organisation == nil || *sys.Organisation != b || sys.RequestID != "" {
				t.Fatalf("system entry = %+v", sys)
			}
			wantIntact(t, verifyAudit(t, s, a, nil), 2)
			wantIntact(t, verifyAudit(t, s, b, nil), 2)
		})
	}
}

func TestAuditEntryValidation(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	tenant := tenanttest.NewTenant(t, s)
	ctx := auditCtx()
	for name, e := range map[string]tenants.AuditEntry{
		"no action":               {RecordType: "case"},
		"action without area":     {Action: "read", RecordType: "case"},
		"no record type":          {Action: "case.read"},
		"free-text purpose":       {Action: "case.read", RecordType: "case", Purpose: "visit to Noy's family"},
		"field group not a code":  {Action: "case.read", RecordType: "case", FieldGroups: []string{"Home address"}},
		"record type with spaces": {Action: "case.read", RecordType: "case file"},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, e) })
			if err == nil {
				t.Fatal("an invalid entry was written")
			}
		})
	}
	noSubject := tenants.WithActor(ctx, tenants.Actor{Kind: tenants.ActorMember, Issuer: "https://id.example.org"})
	if err := s.InTenant(noSubject, tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(uuid.New())) }); err == nil {
		t.Fatal("an actor without a subject was accepted")
	}
	err := s.Global(ctx, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(uuid.New())) })
	if !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("Audit outside InTenant: err = %v, want ErrNoTenant", err)
	}
	if n := len(auditPage(t, s, tenant, tenants.AuditQuery{}).Entries); n != 0 {
		t.Fatalf("%d rows written by invalid entries", n)
	}
	// allowed control
	writeAudit(t, s, tenant, 1)
	if n := len(auditPage(t, s, tenant, tenants.AuditQuery{}).Entries); n != 1 {
		t.Fatalf("a valid entry: %d rows", n)
	}
}

// TestAuditVerifyDetectsTampering: each kind of tampering, done behind the
// store's back as someone with write access to the database could, is
// reported; beside each, an organisation with the same activity that nobody
// touched verifies.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	for name, r := range auditRigs(t) {
		t.Run(name, func(t *testing.T) {
			s := r.store
			// pair returns a tampered organisation and its control, each
			// with five audit rows.
			pair := func(t *testing.T) (tampered, control uuid.UUID) {
				tampered, control = tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
				writeAudit(t, s, tampered, 5)
				writeAudit(t, s, control, 5)
				return tampered, control
			}

			t.Run("clean chain", func(t *testing.T) {
				_, control := pair(t)
				rep := verifyAudit(t, s, control, nil)
				wantIntact(t, rep, 5)
				if rep.First != 1 || rep.Last != 5 || rep.Head != 5 {
					t.Fatalf("report: %+v", rep)
				}
			})

			t.Run("altered row", func(t *testing.T) {
				tampered, control := pair(t)
				r.exec(t, "UPDATE audit_log SET action = 'case.export' WHERE tenant_id = ? AND seq = 3", tampered.String())
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditAltered, 3})
				wantIntact(t, verifyAudit(t, s, control, nil), 5)
			})

			t.Run("altered row with a new hash", func(t *testing.T) {
				tampered, control := pair(t)
				r.exec(t, "UPDATE audit_log SET record_id = ?, hash = ? WHERE tenant_id = ? AND seq = 2",
					uuid.NewString(), randomBytes(32), tampered.String())
				rep := verifyAudit(t, s, tampered, nil)
				wantFindings(t, rep, finding{tenants.AuditAltered, 2})
				if !strings.Contains(rep.Problems[0].Message, "no later row vouches for it") {
					t.Fatalf("message: %s", rep.Problems[0].Message)
				}
				wantIntact(t, verifyAudit(t, s, control, nil), 5)
			})

			t.Run("deleted row", func(t *testing.T) {
				tampered, control := pair(t)
				if n := r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 3", tampered.String()); n != 1 {
					t.Fatalf("deleted %d rows", n)
				}
				rep := verifyAudit(t, s, tampered, nil)
				wantFindings(t, rep, finding{tenants.AuditRemoved, 3})
				if !strings.Contains(rep.String(), "REMOVED: seq 3: removed") {
					t.Fatalf("report:\n%s", rep.String())
				}
				wantIntact(t, verifyAudit(t, s, control, nil), 5)
			})

			t.Run("inserted row", func(t *testing.T) {
				tampered, control := pair(t)
				r.exec(t, `INSERT INTO audit_log (tenant_id, id, seq, occurred_at, actor_kind, actor_issuer, actor_subject,
					organisation, action, record_type, record_id, field_groups, purpose, request_id, prev_hash, hash)
					VALUES (?, ?, 6, ?, 'member', 'https://id.example.org/realms/afesip', '3f9c2a', ?, 'case.read', 'case', ?, 'core', 'services', '', ?, ?)`,
					tampered.String(), uuid.NewString(), time.Now().UTC(), tampered.String(), uuid.NewString(),
					r.rowHash(t, tampered, 5), randomBytes(32))
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditInserted, 6})
				wantIntact(t, verifyAudit(t, s, control, nil), 5)

				// the careful forger moves the head onto the row: still caught
				r.exec(t, "UPDATE audit_heads SET seq = 6, hash = ? WHERE tenant_id = ?", r.rowHash(t, tampered, 6), tampered.String())
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditAltered, 6})
			})

			t.Run("truncated tail", func(t *testing.T) {
				tampered, control := pair(t)
				dir := t.TempDir()
				for _, id := range []uuid.UUID{tampered, control} {
					cp := auditHead(t, s, id)
					if cp.Seq != 5 {
						t.Fatalf("checkpoint at seq %d, want 5", cp.Seq)
					}
					written, err := tenants.AppendCheckpoint(dir, cp)
					must(t, err)
					if !written {
						t.Fatal("the first checkpoint was not written")
					}
				}
				read := func(id uuid.UUID) *tenants.Checkpoint {
					cp, err := tenants.ReadCheckpoint(tenants.CheckpointFile(dir, auditHead(t, s, id).Slug), id)
					must(t, err)
					return cp
				}

				// cut rows 4 and 5 off and move the head back onto row 3:
				// the database alone now looks whole ...
				r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ? AND seq > 3", tampered.String())
				r.exec(t, "UPDATE audit_heads SET seq = 3, hash = ? WHERE tenant_id = ?", r.rowHash(t, tampered, 3), tampered.String())
				wantIntact(t, verifyAudit(t, s, tampered, nil), 3)
				// ... the checkpoint kept outside it is not
				rep := verifyAudit(t, s, tampered, read(tampered))
				wantFindings(t, rep, finding{tenants.AuditTruncated, 4})
				if !strings.Contains(rep.String(), "seq 4 to 5 (2 rows): cut off the end") {
					t.Fatalf("report:\n%s", rep.String())
				}
				// control: the untouched organisation verifies against its own checkpoint
				wantIntact(t, verifyAudit(t, s, control, read(control)), 5)
				// and a checkpoint of another organisation is refused
				if _, err := s.VerifyAudit(context.Background(), tampered, read(control)); homeward.ErrorCode(err) != homeward.EINVALID {
					t.Fatalf("another organisation's checkpoint: err = %v", err)
				}
			})

			t.Run("truncated tail, head left behind", func(t *testing.T) {
				tampered, control := pair(t)
				r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ? AND seq > 3", tampered.String())
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditTruncated, 4})
				wantIntact(t, verifyAudit(t, s, control, nil), 5)
			})

			t.Run("rows moved from another organisation", func(t *testing.T) {
				tampered, donor := pair(t)
				// the tampered organisation's rows are replaced by another's
				// genuine ones: the hash binds each row to its organisation
				r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ?", tampered.String())
				r.exec(t, "UPDATE audit_log SET tenant_id = ? WHERE tenant_id = ?", tampered.String(), donor.String())
				wantFindings(t, verifyAudit(t, s, tampered, nil),
					finding{tenants.AuditAltered, 1}, finding{tenants.AuditAltered, 2}, finding{tenants.AuditAltered, 3},
					finding{tenants.AuditAltered, 4}, finding{tenants.AuditAltered, 5}, finding{tenants.AuditHeadBad, 5})
			})
		})
	}
}

// TestAuditVerifyReadsInBatches: the chain is read a batch at a time; rows
// on either side of a batch boundary are checked like any other.
func TestAuditVerifyReadsInBatches(t *testing.T) {
	for name, r := range auditRigs(t) {
		t.Run(name, func(t *testing.T) {
			s := r.store
			ctx := tenants.WithVerifyBatch(context.Background(), 3)
			tampered, control := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			writeAudit(t, s, tampered, 7)
			writeAudit(t, s, control, 7)
			r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 4", tampered.String())
			r.exec(t, "UPDATE audit_log SET action = 'case.export' WHERE tenant_id = ? AND seq = 6", tampered.String())
			rep, err := s.VerifyAudit(ctx, tampered, nil)
			must(t, err)
			wantFindings(t, rep, finding{tenants.AuditRemoved, 4}, finding{tenants.AuditAltered, 6})
			rep, err = s.VerifyAudit(ctx, control, nil)
			must(t, err)
			wantIntact(t, rep, 7)
		})
	}
}

// TestAuditAppendOnlyInPostgres: the app role can add audit rows and read
// them, but neither change nor delete them, nor move a chain's anchor.
func TestAuditAppendOnlyInPostgres(t *testing.T) {
	s := tenanttest.OpenPostgres(t)
	ctx := context.Background()
	tenant := tenanttest.NewTenant(t, s)
	writeAudit(t, s, tenant, 3) // allowed control: INSERT through Audit

	denied := func(stmt string) {
		t.Helper()
		err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Exec(stmt).Error })
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Fatalf("%s as the app role: err = %v, want permission denied", stmt, err)
		}
	}
	denied("UPDATE audit_log SET action = 'case.export' WHERE seq = 1")
	denied("DELETE FROM audit_log WHERE seq = 3")
	denied("TRUNCATE audit_log")
	denied("UPDATE audit_heads SET anchor_seq = 2")
	denied("DELETE FROM audit_heads")
	// audit_prune refuses rows within the organisation's retention
	denied("SELECT audit_prune(2, decode(repeat('00', 32), 'hex'))")

	// allowed control: the app role reads its rows and moves the head (Audit does)
	var n int64
	must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tx.Raw("SELECT count(*) FROM audit_log").Scan(&n).Error }))
	if n != 3 {
		t.Fatalf("the app role counts %d audit rows, want 3", n)
	}
	writeAudit(t, s, tenant, 1)
	wantIntact(t, verifyAudit(t, s, tenant, nil), 4)

	// CheckSchema catches a grant that would let the app role rewrite the trail.
	owner, err := sql.Open("pgx", tenanttest.Postgres(t).OwnerURL)
	must(t, err)
	defer owner.Close()
	problems, err := tenants.CheckSchema(ctx, owner, tenanttest.AppRole)
	must(t, err)
	if len(problems) > 0 {
		t.Fatalf("control: the migrated schema should pass: %v", problems)
	}
	for _, grant := range []string{
		"GRANT UPDATE ON audit_log TO " + tenanttest.AppRole,
		"GRANT UPDATE (action) ON audit_log TO " + tenanttest.AppRole,
		"GRANT DELETE ON audit_log TO " + tenanttest.AppRole,
		"GRANT UPDATE (anchor_seq) ON audit_heads TO " + tenanttest.AppRole,
	} {
		func() {
			tx, err := owner.BeginTx(ctx, nil)
			must(t, err)
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, grant)
			must(t, err)
			problems, err := tenants.CheckSchema(ctx, tx, tenanttest.AppRole)
			must(t, err)
			if !strings.Contains(strings.Join(problems, "\n"), "audit") {
				t.Fatalf("after %s: problems = %v", grant, problems)
			}
		}()
	}
}

// TestAuditConcurrentAppends: appends racing on one organisation take
// consecutive numbers and form one valid chain.
func TestAuditConcurrentAppends(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			tenant := tenanttest.NewTenant(t, s)
			const writers, each = 4, 10
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			start := make(chan struct{})
			for range writers {
				wg.Go(func() {
					<-start
					for range each {
						errs <- s.InTenant(auditCtx(), tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(uuid.New())) })
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				must(t, err)
			}
			rep := verifyAudit(t, s, tenant, nil)
			wantIntact(t, rep, writers*each)
			if rep.Last != writers*each || rep.Head != writers*each {
				t.Fatalf("report: %+v", rep)
			}
		})
	}
}

// TestAuditRollsBackWithItsAction: an audit row is part of the transaction
// of the action it records.
func TestAuditRollsBackWithItsAction(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			tenant := tenanttest.NewTenant(t, s)
			kept, lost := uuid.New(), uuid.New()
			must(t, s.InTenant(auditCtx(), tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(kept)) }))
			boom := errors.New("the action failed")
			err := s.InTenant(auditCtx(), tenant, func(tx *gorm.DB) error {
				if err := tenants.Audit(tx, caseRead(lost)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			entries := auditPage(t, s, tenant, tenants.AuditQuery{}).Entries
			if len(entries) != 1 || *entries[0].RecordID != kept {
				t.Fatalf("entries = %+v, want only the committed one", entries)
			}
			// the head rolled back too: the next row follows the committed one
			writeAudit(t, s, tenant, 1)
			wantIntact(t, verifyAudit(t, s, tenant, nil), 2)
		})
	}
}

func TestListAudit(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
			writeAudit(t, s, a, 5)
			record := uuid.New()
			must(t, s.InTenant(auditCtx(), a, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(record)) }))
			var seqs []int64
			q := tenants.AuditQuery{Limit: 4}
			for pages := 0; ; pages++ {
				page := auditPage(t, s, a, q)
				for _, e := range page.Entries {
					seqs = append(seqs, e.Seq)
				}
				if page.Next == "" || pages > 3 {
					break
				}
				q.Cursor = page.Next
			}
			if !slices.Equal(seqs, []int64{6, 5, 4, 3, 2, 1}) {
				t.Fatalf("pages gave seqs %v, want newest first, each once", seqs)
			}
			one := auditPage(t, s, a, tenants.AuditQuery{RecordType: "case", RecordID: record}).Entries
			if len(one) != 1 || *one[0].RecordID != record {
				t.Fatalf("entries of one record: %+v", one)
			}
			if n := len(auditPage(t, s, b, tenants.AuditQuery{}).Entries); n != 0 {
				t.Fatalf("another organisation sees %d of A's entries", n)
			}
			for _, bad := range []tenants.AuditQuery{{Limit: tenants.MaxPage + 1}, {Limit: -1}, {Cursor: "not-a-cursor"}, {RecordID: record}} {
				err := s.InTenant(context.Background(), a, func(tx *gorm.DB) error { _, err := tenants.ListAudit(tx, bad); return err })
				if homeward.ErrorCode(err) != homeward.EINVALID {
					t.Errorf("query %+v: err = %v, want invalid", bad, err)
				}
			}
			if n := len(auditPage(t, s, a, tenants.AuditQuery{Limit: tenants.MaxPage}).Entries); n != 6 {
				t.Fatalf("the largest page: %d entries", n)
			}
		})
	}
}

// TestAuditRetention: rows older than the organisation's retention are
// pruned from the front; the chain still verifies from the signed anchor,
// and only Homeward's prune can move that anchor.
func TestAuditRetention(t *testing.T) {
	for name, r := range auditRigs(t) {
		t.Run(name, func(t *testing.T) {
			s := r.store
			ctx := context.Background()
			now := time.Now()
			writeAt := func(tenant uuid.UUID, daysAgo, n int) {
				t.Helper()
				at := tenants.WithAuditClock(auditCtx(), func() time.Time { return now.Add(-time.Duration(daysAgo) * 24 * time.Hour) })
				for range n {
					must(t, s.InTenant(at, tenant, func(tx *gorm.DB) error { return tenants.Audit(tx, caseRead(uuid.New())) }))
				}
			}
			prune := func(tenant uuid.UUID) (tenants.AuditPruneReport, error) {
				var rep tenants.AuditPruneReport
				err := s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) {
					rep, err = tenants.PruneAudit(tx)
					return err
				})
				return rep, err
			}
			// history returns an organisation with 3 rows older than its
			// retention of 400 days and 3 within it.
			history := func() uuid.UUID {
				tenant := tenanttest.NewTenant(t, s)
				must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.SetAuditRetentionDays(tx, 400) }))
				writeAt(tenant, 800, 3)
				writeAt(tenant, 100, 2)
				writeAt(tenant, 0, 1)
				return tenant
			}

			t.Run("setting", func(t *testing.T) {
				tenant := tenanttest.NewTenant(t, s)
				err := s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.SetAuditRetentionDays(tx, 30) })
				if homeward.ErrorCode(err) != homeward.EINVALID {
					t.Fatalf("30 days: err = %v, want invalid", err)
				}
				var days int
				must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) { days, err = tenants.AuditRetentionDays(tx); return err }))
				if days != tenants.DefaultAuditRetentionDays {
					t.Fatalf("default retention = %d", days)
				}
				// a setting written around the validation is held to the minimum
				must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) error { return tenants.PutSetting(tx, tenants.SettingAuditRetentionDays, "1") }))
				must(t, s.InTenant(ctx, tenant, func(tx *gorm.DB) (err error) { days, err = tenants.AuditRetentionDays(tx); return err }))
				if days != tenants.MinAuditRetentionDays {
					t.Fatalf("retention from setting 1 = %d, want the minimum", days)
				}
			})

			t.Run("prune keeps the chain verifiable", func(t *testing.T) {
				tenant := history()
				before := auditHead(t, s, tenant)
				old := &tenants.Checkpoint{Tenant: tenant, Seq: 2, Head: hex.EncodeToString(r.rowHash(t, tenant, 2)), At: now}
				rep, err := prune(tenant)
				must(t, err)
				if rep.Pruned != 3 || rep.Anchor != 3 {
					t.Fatalf("prune: %+v, want 3 rows pruned up to seq 3", rep)
				}
				// rows 4 to 6 are left, and the prune's own entry, seq 7
				v := verifyAudit(t, s, tenant, &before)
				wantIntact(t, v, 4)
				if v.Anchor != 3 || v.First != 4 || v.Last != 7 {
					t.Fatalf("report: %+v", v)
				}
				if e := auditPage(t, s, tenant, tenants.AuditQuery{Limit: 1}).Entries[0]; e.Action != tenants.ActionAuditPrune {
					t.Fatalf("the newest entry is %+v, want the prune's", e)
				}
				// a checkpoint from before the anchor is a note, not a problem
				v = verifyAudit(t, s, tenant, old)
				wantIntact(t, v, 4)
				if len(v.Notes) == 0 {
					t.Fatal("no note about the checkpoint older than the anchor")
				}
				// nothing more is due; appends go on from the head
				if rep, err := prune(tenant); err != nil || rep.Pruned != 0 {
					t.Fatalf("second prune: %+v %v", rep, err)
				}
				writeAudit(t, s, tenant, 2)
				wantIntact(t, verifyAudit(t, s, tenant, nil), 6)
			})

			t.Run("a forged anchor is caught", func(t *testing.T) {
				tampered, control := history(), history()
				_, err := prune(control)
				must(t, err)
				wantIntact(t, verifyAudit(t, s, control, nil), 4)
				// remove rows 1 to 4 (4 is within retention) and move the
				// anchor as a prune would, without the chain key
				r.exec(t, "DELETE FROM audit_log WHERE tenant_id = ? AND seq <= 4", tampered.String())
				r.exec(t, "UPDATE audit_heads SET anchor_seq = 4, anchor_hash = ?, anchor_at = ?, anchor_mac = ? WHERE tenant_id = ?",
					randomBytes(32), now.UTC(), randomBytes(32), tampered.String())
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditAnchorBad, 4})
			})

			t.Run("rows that do not verify are not pruned", func(t *testing.T) {
				tampered, control := history(), history()
				r.exec(t, "UPDATE audit_log SET purpose = 'legal' WHERE tenant_id = ? AND seq = 2", tampered.String())
				if _, err := prune(tampered); !errors.Is(err, tenants.ErrAuditPruneRefused) {
					t.Fatalf("prune over an altered row: err = %v", err)
				}
				wantFindings(t, verifyAudit(t, s, tampered, nil), finding{tenants.AuditAltered, 2})
				rep, err := prune(control)
				must(t, err)
				if rep.Pruned != 3 {
					t.Fatalf("control prune: %+v", rep)
				}
			})
		})
	}
}

func TestCheckpointFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := uuid.New(), uuid.New()
	cp := func(tenant uuid.UUID, slug string, seq int64) tenants.Checkpoint {
		return tenants.Checkpoint{Tenant: tenant, Slug: slug, Seq: seq, Head: hex.EncodeToString(randomBytes(32)), At: time.Now().UTC()}
	}
	first := cp(a, "afesip-laos", 10)
	for i, want := range []bool{true, false} {
		written, err := tenants.AppendCheckpoint(dir, first)
		must(t, err)
		if written != want {
			t.Fatalf("append %d: written = %v, want %v (an unchanged head is written once)", i, written, want)
		}
	}
	second := cp(a, "afesip-laos", 12)
	_, err := tenants.AppendCheckpoint(dir, second)
	must(t, err)
	path := tenants.CheckpointFile(dir, "afesip-laos")
	got, err := tenants.ReadCheckpoint(path, a)
	must(t, err)
	if got.Seq != 12 || got.Head != second.Head {
		t.Fatalf("read %+v, want the last line", got)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint file mode: %v %v", info.Mode(), err)
	}
	// a torn last line (a crash mid-write) is skipped
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(`{"tenant":"` + a.String() + `","seq":13,"he`)
	must(t, err)
	f.Close()
	if got, err := tenants.ReadCheckpoint(path, a); err != nil || got.Seq != 12 {
		t.Fatalf("after a torn line: %+v %v", got, err)
	}
	// a file of another organisation
	if _, err := tenants.ReadCheckpoint(path, b); homeward.ErrorCode(err) != homeward.EINVALID {
		t.Fatalf("another organisation's file: err = %v", err)
	}
	// a single checkpoint, pretty-printed (homeward audit checkpoint | jq)
	single := filepath.Join(dir, "one.json")
	pretty, _ := json.MarshalIndent(cp(b, "demo-partner-th", 3), "", "  ")
	must(t, os.WriteFile(single, pretty, 0o600))
	if got, err := tenants.ReadCheckpoint(single, b); err != nil || got.Seq != 3 {
		t.Fatalf("single checkpoint: %+v %v", got, err)
	}
	if _, err := tenants.ReadCheckpoint(filepath.Join(dir, "missing.jsonl"), a); homeward.ErrorCode(err) != homeward.ENOTFOUND {
		t.Fatalf("missing file: err = %v", err)
	}
}

// TestEnqueueForEachTenant: one row per organisation, carrying it; the same
// fan-out again writes nothing.
func TestEnqueueForEachTenant(t *testing.T) {
	s := tenanttest.OpenSQLite(t)
	ctx := context.Background()
	a, b := tenanttest.NewTenant(t, s), tenanttest.NewTenant(t, s)
	job := tenants.Job{Kind: "test:each", Queue: "low", ID: uuid.New()}
	for i, want := range []int{2, 0} {
		var n int
		must(t, s.Global(ctx, func(tx *gorm.DB) (err error) { n, err = tenants.EnqueueForEachTenant(tx, job); return err }))
		if n != want {
			t.Fatalf("fan-out %d wrote %d rows, want %d", i, n, want)
		}
	}
	var rows []tenants.OutboxMessage
	must(t, s.Global(ctx, func(tx *gorm.DB) error { return tx.Where("kind = ?", "test:each").Find(&rows).Error }))
	seen := map[uuid.UUID]bool{}
	for _, m := range rows {
		if m.TenantID != nil {
			seen[*m.TenantID] = true
		}
	}
	if len(rows) != 2 || !seen[a] || !seen[b] {
		t.Fatalf("rows = %+v", rows)
	}
	err := s.InTenant(ctx, a, func(tx *gorm.DB) error { _, err := tenants.EnqueueForEachTenant(tx, job); return err })
	if err == nil {
		t.Fatal("a fan-out inside one tenant's transaction was accepted")
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
