package tenants

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Checkpoint is the head of an organisation's audit chain at a moment,
// written outside the database (the log stream and a file in the data
// directory) so that a tail cut off the chain together with its head is
// still noticed: the chain must reach Seq, and its row Seq must have hash
// Head.
type Checkpoint struct {
	Tenant uuid.UUID `json:"tenant"`
	Slug   string    `json:"slug,omitempty"`
	Seq    int64     `json:"seq"`
	Head   string    `json:"head"` // hex of the hash of row Seq
	At     time.Time `json:"at"`
}

func (c Checkpoint) headBytes() ([]byte, error) {
	b, err := hex.DecodeString(c.Head)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("tenants: checkpoint head %q is not a 64-digit hex hash", c.Head)
	}
	return b, nil
}

// AuditHead returns the head of the transaction's tenant's chain (Seq 0 for
// a chain with no row yet).
func AuditHead(tx *gorm.DB) (Checkpoint, error) {
	tenant, ok := txTenantFrom(tx.Statement.Context)
	if !ok {
		return Checkpoint{}, ErrNoTenant
	}
	db := tx.Session(&gorm.Session{NewDB: true})
	cp := Checkpoint{Tenant: tenant, Head: hex.EncodeToString(genesis), At: time.Now().UTC()}
	var head auditHead
	err := db.Take(&head).Error
	switch {
	case err == nil:
		cp.Seq, cp.Head = head.Seq, hex.EncodeToString(head.Hash)
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return Checkpoint{}, err
	}
	var t Tenant
	if err := db.Where("id = ?", tenant).Take(&t).Error; err != nil {
		return Checkpoint{}, err
	}
	cp.Slug = t.Slug
	return cp, nil
}

// AuditCheckpoint returns the current head of tenantID's chain.
func (s *Store) AuditCheckpoint(ctx context.Context, tenantID uuid.UUID) (cp Checkpoint, err error) {
	err = s.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		cp, err = AuditHead(tx)
		return err
	})
	return cp, err
}

// CheckpointFile is where checkpoints of the organisation slug are kept in
// the data directory, one JSON object a line.
func CheckpointFile(dataDir, slug string) string {
	return filepath.Join(dataDir, "audit-checkpoints", slug+".jsonl")
}

// AppendCheckpoint appends cp to its organisation's checkpoint file in
// dataDir, unless the file's last checkpoint has the same head already. It
// reports whether it wrote.
func AppendCheckpoint(dataDir string, cp Checkpoint) (bool, error) {
	if cp.Slug == "" || !slugPattern.MatchString(cp.Slug) {
		return false, fmt.Errorf("tenants: checkpoint without a valid organisation slug")
	}
	path := CheckpointFile(dataDir, cp.Slug)
	if last, err := ReadCheckpoint(path, cp.Tenant); err == nil && last.Seq == cp.Seq && last.Head == cp.Head {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("tenants: create the checkpoint folder: %w", err)
	}
	line, err := json.Marshal(cp)
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("tenants: open the checkpoint file: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return false, fmt.Errorf("tenants: write the checkpoint file: %w", err)
	}
	return true, nil
}

// ReadCheckpoint reads tenant's checkpoint from path: a checkpoint file
// (the last line for tenant wins; a torn line left by a crash is skipped) or
// a file holding a single checkpoint as JSON (homeward audit checkpoint).
func ReadCheckpoint(path string, tenant uuid.UUID) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, homeward.Errorf(homeward.ENOTFOUND, "no checkpoint file %s", path)
	}
	if err != nil {
		return nil, err
	}
	var all []Checkpoint
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var cp Checkpoint
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 && json.Unmarshal(line, &cp) == nil {
			all = append(all, cp)
		}
	}
	if len(all) == 0 {
		var cp Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return nil, homeward.Errorf(homeward.EINVALID, "%s holds no checkpoint: expected JSON lines such as {\"tenant\":...,\"seq\":...,\"head\":...}", path)
		}
		all = append(all, cp)
	}
	var others []string
	for i := len(all) - 1; i >= 0; i-- {
		cp := all[i]
		if cp.Tenant != tenant {
			others = append(others, cp.Tenant.String())
			continue
		}
		if _, err := cp.headBytes(); err != nil || cp.Seq < 0 {
			return nil, homeward.Errorf(homeward.EINVALID, "%s: the last checkpoint of this organisation is damaged (seq %d, head %q)", path, cp.Seq, cp.Head)
		}
		return &cp, nil
	}
	return nil, homeward.Errorf(homeward.EINVALID, "%s holds no checkpoint of organisation %s (it holds checkpoints of another organisation)", path, tenant)
}

// Kinds of audit problem.
const (
	AuditAltered   = "altered"   // a row's content no longer matches its hash
	AuditInserted  = "inserted"  // a row Homeward did not write
	AuditRemoved   = "removed"   // rows missing from the chain
	AuditTruncated = "truncated" // rows missing from the end
	AuditBroken    = "broken"    // a row does not follow the one before it
	AuditHeadBad   = "head"      // the chain head disagrees with the rows
	AuditAnchorBad = "anchor"    // the retention anchor was not made by Homeward
)

// AuditProblem is one finding of VerifyAudit.
type AuditProblem struct {
	Kind    string
	Seq     int64     // the row, or the first row of a range
	ID      uuid.UUID // the row's id when there is one
	Message string    // for people
}

// VerifyReport is what VerifyAudit found.
type VerifyReport struct {
	Tenant     uuid.UUID
	Rows       int   // rows read
	First      int64 // first and last seq read (0 when none)
	Last       int64
	Anchor     int64 // rows up to Anchor were pruned by retention
	Head       int64 // the seq the chain head records
	Checkpoint *Checkpoint
	Problems   []AuditProblem
	Notes      []string // things worth knowing that are not problems
}

// OK reports whether the chain is intact.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

func (r *VerifyReport) problem(kind string, seq int64, id uuid.UUID, format string, args ...any) {
	r.Problems = append(r.Problems, AuditProblem{Kind: kind, Seq: seq, ID: id, Message: fmt.Sprintf(format, args...)})
}

// verifyBatch is how many rows VerifyAudit reads at a time.
const verifyBatch = 1000

// verifyBatchKey lets tests make batches small, to cross their boundaries.
type verifyBatchKey struct{}

func batchSize(ctx context.Context) int {
	if n, ok := ctx.Value(verifyBatchKey{}).(int); ok && n > 0 {
		return n
	}
	return verifyBatch
}

// VerifyAudit walks tenantID's audit chain in order, recomputing every hash
// with the chain key, and reports every row altered, inserted or removed,
// a chain head that disagrees with the rows, a retention anchor Homeward did
// not sign, and, given a checkpoint, rows cut off the end after it or a
// history rewritten before it. It reads one consistent snapshot (PostgreSQL:
// a read-only repeatable-read transaction) and writes nothing.
func (s *Store) VerifyAudit(ctx context.Context, tenantID uuid.UUID, cp *Checkpoint) (VerifyReport, error) {
	rep := VerifyReport{Tenant: tenantID, Checkpoint: cp}
	var cpHead []byte
	if cp != nil {
		if cp.Tenant != tenantID {
			return rep, homeward.Errorf(homeward.EINVALID, "the checkpoint is of organisation %s, not %s", cp.Tenant, tenantID)
		}
		var err error
		if cpHead, err = cp.headBytes(); err != nil {
			return rep, homeward.Errorf(homeward.EINVALID, "%s", err.Error())
		}
	}
	err := s.inTenantSnapshot(ctx, tenantID, func(tx *gorm.DB) error {
		db := tx.Session(&gorm.Session{NewDB: true})
		var head auditHead
		err := db.Take(&head).Error
		headFound := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var probe []auditRow
		if err := db.Select("seq").Limit(1).Find(&probe).Error; err != nil {
			return err
		}
		if !headFound && len(probe) == 0 {
			rep.Notes = append(rep.Notes, "the organisation has no audit rows yet")
			if cp != nil && cp.Seq > 0 {
				rep.problem(AuditTruncated, 1, uuid.Nil, "the checkpoint of %s records seq %d, but the audit log is empty: every row was removed", cp.At.Format(time.RFC3339), cp.Seq)
			}
			return nil
		}
		if !headFound {
			rep.problem(AuditHeadBad, 0, uuid.Nil, "the chain head is missing: it was deleted outside Homeward")
			head = auditHead{Hash: genesis, AnchorHash: genesis}
		}
		key, err := DeriveKey(tx, auditChainPurpose)
		if err != nil {
			return err
		}
		rep.Anchor, rep.Head = head.AnchorSeq, head.Seq
		v, err := walkChain(db, key, tenantID, head, cp, &rep, 0)
		if err != nil {
			return err
		}
		v.finish(cpHead)
		return nil
	})
	return rep, err
}

// walkChain checks the rows of the chain in order, up to seq upTo (0: all),
// recording problems in rep; finish adds what only the end can tell.
func walkChain(db *gorm.DB, key []byte, tenant uuid.UUID, head auditHead, cp *Checkpoint, rep *VerifyReport, upTo int64) (*chainWalk, error) {
	v := &chainWalk{key: key, tenant: tenant, rep: rep, head: head, cp: cp, prevSeq: head.AnchorSeq, prevHash: head.AnchorHash, prevGood: true}
	v.checkAnchor()
	var lastSeq int64
	var lastID uuid.UUID
	var group []auditRow
	batch := batchSize(db.Statement.Context)
	for first := true; ; first = false {
		q := db.Order("seq, id").Limit(batch)
		if !first {
			q = q.Where("(seq > ? OR (seq = ? AND id > ?))", lastSeq, lastSeq, lastID)
		}
		if upTo > 0 {
			q = q.Where("seq <= ?", upTo)
		}
		var rows []auditRow
		if err := q.Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			if len(group) > 0 && r.Seq != group[0].Seq {
				v.group(group)
				group = group[:0]
			}
			group = append(group, r)
		}
		if len(rows) < batch {
			break
		}
		lastSeq, lastID = rows[len(rows)-1].Seq, rows[len(rows)-1].ID
	}
	if len(group) > 0 {
		v.group(group)
	}
	return v, nil
}

// inTenantSnapshot is InTenant for reading a consistent snapshot.
func (s *Store) inTenantSnapshot(ctx context.Context, tenantID uuid.UUID, fn func(tx *gorm.DB) error) error {
	var opts []*sql.TxOptions
	if s.driver == homeward.DriverPostgres {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tx, err := s.enterTenant(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		return fn(tx)
	}, opts...)
}

// chainWalk is the state of VerifyAudit between rows.
type chainWalk struct {
	key      []byte
	tenant   uuid.UUID
	rep      *VerifyReport
	head     auditHead
	cp       *Checkpoint
	cpHash   []byte // the hash of the row at the checkpoint's seq, once read
	prevSeq  int64
	prevHash []byte
	prevAt   time.Time
	prevGood bool      // the previous row's hash verified
	pending  *auditRow // a failing row waiting for the next to judge it
	// validBeyondHead: a row past the head carries a good hash, so the head
	// itself was moved back.
	validBeyondHead bool
}

func (v *chainWalk) checkAnchor() {
	h := v.head
	switch {
	case h.AnchorSeq == 0 && !bytes.Equal(h.AnchorHash, genesis):
		v.prevGood = false
		v.rep.problem(AuditAnchorBad, 0, uuid.Nil, "the retention anchor was changed outside Homeward")
	case h.AnchorSeq > 0 && (h.AnchorAt == nil || !hmac.Equal(h.AnchorMAC, anchorMAC(v.key, v.tenant, h.AnchorSeq, h.AnchorHash, *h.AnchorAt))):
		v.prevGood = false // the first row's link to it says nothing more
		v.rep.problem(AuditAnchorBad, h.AnchorSeq, uuid.Nil,
			"the retention anchor claims rows up to seq %d were pruned, but Homeward did not sign it: rows were removed from the start outside retention", h.AnchorSeq)
	}
}

// group checks the rows numbered seq (more than one only when someone
// dropped the unique constraint to insert a row).
func (v *chainWalk) group(rows []auditRow) {
	seq := rows[0].Seq
	v.rep.Rows += len(rows)
	if v.rep.First == 0 {
		v.rep.First = seq
	}
	v.rep.Last = seq
	if seq <= v.head.AnchorSeq {
		for _, r := range rows {
			v.rep.problem(AuditInserted, seq, r.ID, "seq %d (row %s): inserted: retention pruned every row up to seq %d", seq, r.ID, v.head.AnchorSeq)
		}
		return
	}
	linked := true
	switch {
	case seq == v.prevSeq+1:
	default:
		linked = false
		v.rep.problem(AuditRemoved, v.prevSeq+1, uuid.Nil, "%s: removed (the log goes from seq %d to seq %d)", seqRange(v.prevSeq+1, seq-1), v.prevSeq, seq)
	}
	var good *auditRow
	var bad []*auditRow
	for i := range rows {
		r := &rows[i]
		if good == nil && hmac.Equal(chainHash(v.key, r), r.Hash) {
			good = r
			continue
		}
		bad = append(bad, r)
	}
	// A failing row is judged once the next row is read: if a good row
	// chains to its stored hash, Homeward wrote it and it was altered since.
	if p := v.pending; p != nil {
		v.pending = nil
		if good != nil && linked && bytes.Equal(good.PrevHash, p.Hash) {
			v.rep.problem(AuditAltered, p.Seq, p.ID, "seq %d (row %s): altered: its content no longer matches its hash", p.Seq, p.ID)
		} else {
			v.unvouched(p)
		}
	}
	chosen := good
	for _, r := range bad {
		switch {
		case good != nil || chosen != nil:
			v.rep.problem(AuditInserted, seq, r.ID, "seq %d (row %s): inserted: a second row with this number, not part of the chain", seq, r.ID)
		case seq > v.head.Seq:
			chosen = r
			v.rep.problem(AuditInserted, seq, r.ID, "seq %d (row %s): inserted: its hash does not match and it lies beyond the chain head (seq %d)", seq, r.ID, v.head.Seq)
		default:
			chosen = r
			held := *r // rows is reused for the next group
			v.pending = &held
		}
	}
	if good != nil && linked && v.prevGood && !bytes.Equal(good.PrevHash, v.prevHash) {
		v.rep.problem(AuditBroken, seq, good.ID, "seq %d (row %s): does not follow seq %d: the row before it was replaced", seq, good.ID, v.prevSeq)
	}
	v.prevGood = good != nil
	if good != nil && seq > v.head.Seq {
		v.validBeyondHead = true
	}
	if v.cp != nil && seq == v.cp.Seq {
		v.cpHash = chosen.Hash
	}
	v.prevSeq, v.prevHash, v.prevAt = seq, chosen.Hash, chosen.OccurredAt
}

// unvouched reports a failing row no good row chains to.
func (v *chainWalk) unvouched(r *auditRow) {
	v.rep.problem(AuditAltered, r.Seq, r.ID, "seq %d (row %s): altered or inserted: its hash does not match and no later row vouches for it", r.Seq, r.ID)
}

func (v *chainWalk) finish(cpHead []byte) {
	if v.pending != nil {
		v.unvouched(v.pending)
		v.pending = nil
	}
	defer slices.SortStableFunc(v.rep.Problems, func(a, b AuditProblem) int { return cmp.Compare(a.Seq, b.Seq) })
	last, h := v.prevSeq, v.head
	switch {
	case h.Seq > last:
		v.rep.problem(AuditTruncated, last+1, uuid.Nil, "%s: removed from the end (the chain head records seq %d, the log ends at seq %d)", seqRange(last+1, h.Seq), h.Seq, last)
	case h.Seq < last && v.validBeyondHead:
		v.rep.problem(AuditHeadBad, h.Seq, uuid.Nil, "the chain head (seq %d) is behind the last row (seq %d): it was moved back", h.Seq, last)
	case h.Seq == last && !bytes.Equal(h.Hash, v.prevHash):
		v.rep.problem(AuditHeadBad, h.Seq, uuid.Nil, "the chain head's hash is not the hash of its row (seq %d)", h.Seq)
	}
	cp := v.cp
	if cp == nil {
		return
	}
	at := cp.At.UTC().Format(time.RFC3339)
	switch {
	case cp.Seq == 0:
		v.rep.Notes = append(v.rep.Notes, "the checkpoint is of an empty chain: nothing to compare")
	case cp.Seq > last && cp.Seq > h.Seq:
		from := max(last, h.Seq) + 1 // rows up to the head are reported above
		v.rep.problem(AuditTruncated, from, uuid.Nil, "%s: cut off the end: the checkpoint of %s records seq %d, the log ends at seq %d", seqRange(from, cp.Seq), at, cp.Seq, last)
	case cp.Seq > last:
		// reported above against the head
	case cp.Seq < h.AnchorSeq:
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("the checkpoint of %s (seq %d) predates the retention anchor (seq %d): its hash can no longer be compared", at, cp.Seq, h.AnchorSeq))
	case cp.Seq == h.AnchorSeq:
		if !bytes.Equal(h.AnchorHash, cpHead) {
			v.rep.problem(AuditAltered, cp.Seq, uuid.Nil, "seq %d: the retention anchor's hash is not the one the checkpoint of %s recorded: the history up to it was rewritten", cp.Seq, at)
		}
	case v.cpHash == nil:
		// the row is missing: reported as removed
	case !bytes.Equal(v.cpHash, cpHead):
		v.rep.problem(AuditAltered, cp.Seq, uuid.Nil, "seq %d: its hash is not the one the checkpoint of %s recorded: the history up to it was rewritten", cp.Seq, at)
	}
}

// seqRange names one row or a range of rows.
func seqRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("seq %d", from)
	}
	return fmt.Sprintf("seq %d to %d (%d rows)", from, to, to-from+1)
}

// anchorMAC signs a retention anchor with the chain key, so that only
// Homeward's prune can move the start of the chain.
func anchorMAC(key []byte, tenant uuid.UUID, seq int64, hash []byte, at time.Time) []byte {
	m := hmac.New(sha256.New, key)
	c := canonical{m}
	c.str("homeward/audit/v1/anchor")
	c.id(&tenant)
	c.int(seq)
	c.bytes(hash)
	c.int(at.UnixMicro())
	return m.Sum(nil)
}

// String is the report for people, one finding a line.
func (r *VerifyReport) String() string {
	var b strings.Builder
	switch {
	case r.Rows == 0:
		fmt.Fprintf(&b, "read no rows")
	default:
		fmt.Fprintf(&b, "read %d rows, seq %d to %d", r.Rows, r.First, r.Last)
	}
	fmt.Fprintf(&b, "; chain head at seq %d", r.Head)
	if r.Anchor > 0 {
		fmt.Fprintf(&b, "; rows up to seq %d pruned by retention", r.Anchor)
	}
	b.WriteString("\n")
	if cp := r.Checkpoint; cp != nil {
		fmt.Fprintf(&b, "checked against the checkpoint of %s: seq %d, head %s\n", cp.At.UTC().Format(time.RFC3339), cp.Seq, cp.Head)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "%s: %s\n", strings.ToUpper(p.Kind), p.Message)
	}
	if r.OK() {
		b.WriteString("OK: the audit chain is intact\n")
	} else {
		fmt.Fprintf(&b, "FAILED: %d %s\n", len(r.Problems), map[bool]string{true: "problem", false: "problems"}[len(r.Problems) == 1])
	}
	return b.String()
}
