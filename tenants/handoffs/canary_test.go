package handoffs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestCanariesNeverReachTheReceiver: values the sender did not choose,
// the psychological group, a document not chosen, the written reason of
// an override and the sender's own notes after it stopped sharing never
// appear in anything the receiver can read: its API answers (as JSON),
// its mail, notifications, outbox payloads, audit rows, the log, and its
// tenant's raw rows in PostgreSQL. The third organisation holds nothing.
func TestCanariesNeverReachTheReceiver(t *testing.T) {
	var logged bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	s := tenanttest.OpenPostgres(t)
	w := newHandoffWorld(t, s)
	canaryOverride, canaryStopped := canary("override"), canary("stopped")
	for _, c := range []context.Context{w.laosMgr, w.starter} {
		if _, err := s.SetMemberContact(c, tenants.MemberContact{Address: "someone@example.org", Language: "en"}); err != nil {
			t.Fatal(err)
		}
	}

	// One handoff on the sharing consent, accepted, talked about, then
	// sharing stopped and the sender writing notes of its own.
	h := w.start(t, w.caseID, "")
	_, err := w.h.Post(w.starter, h.ID, "she travels on Monday", &w.passport)
	must(t, err)
	w.advance(t, w.starter, h.ID, StageInterview, ActionDone)
	_, err = w.h.Accept(w.laosMgr, h.ID)
	must(t, err)
	_, err = w.h.Withdraw(w.starter, h.ID, "the family asked us to stop")
	must(t, err)
	_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageTracingRequest, Action: ActionDone, Note: canaryStopped})
	must(t, err)
	_, err = w.h.Post(w.starter, h.ID, canaryStopped, nil)
	wantCode(t, "a message after sharing stopped", err, homeward.ECONFLICT, "")
	_, err = w.h.Post(w.laosMgr, h.ID, "noted", nil)
	must(t, err)

	// One sent on an override with a written reason.
	noConsent := w.newCase(t, false)
	o, err := w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: noConsent, Fields: chosen,
		OverrideReason: canaryOverride})
	must(t, err)
	_, err = w.h.DecideOverride(w.approver, o.ID, true)
	must(t, err)

	// Allowed control: the sender reads its own note and reason.
	own := marshal(t, must1(w.h.Get(w.starter, h.ID)), must1(w.h.Get(w.starter, o.ID)))
	if !strings.Contains(own, canaryStopped) || !strings.Contains(own, canaryOverride) {
		t.Fatal("the sender's own view lacks its note or reason: the search below could not find them")
	}

	// What the receiver reads.
	var seen []string
	list := must1(w.h.List(w.laosMgr, Query{}))
	seen = append(seen, marshal(t, list))
	for _, id := range []uuid.UUID{h.ID, o.ID} {
		seen = append(seen, marshal(t, must1(w.h.Get(w.laosMgr, id)), must1(w.h.Thread(w.laosMgr, id, 0, "")),
			must1(w.h.FeedbackOf(w.laosMgr, id))))
	}
	readable := strings.Join(seen, "\n")
	if !strings.Contains(readable, "Ban Nong Bua") || !strings.Contains(readable, "passport.pdf") {
		t.Fatal("control: the receiver's view lacks what was shared")
	}
	var mails []tenants.MailMessage
	var notes []tenants.Notification
	var audit tenants.AuditPage
	must(t, s.InTenant(context.Background(), w.laos, func(tx *gorm.DB) (err error) {
		if err = tx.Find(&mails).Error; err != nil {
			return err
		}
		if err = tx.Find(&notes).Error; err != nil {
			return err
		}
		audit, err = tenants.ListAudit(tx, tenants.AuditQuery{Limit: 200})
		return err
	}))
	var outbox []tenants.OutboxMessage
	must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Where("tenant_id = ?", w.laos).Find(&outbox).Error
	}))
	if len(mails) == 0 || len(outbox) == 0 || len(audit.Entries) == 0 {
		t.Fatalf("control: %d mails, %d outbox rows, %d audit rows in Laos", len(mails), len(outbox), len(audit.Entries))
	}
	receiverSide := map[string]string{
		"responses": readable, "mail": marshal(t, mails), "notifications": marshal(t, notes),
		"outbox": marshal(t, outbox), "audit": marshal(t, audit), "log": logged.String(),
		"raw rows": rawRows(t, w.laos),
	}
	if !strings.Contains(receiverSide["raw rows"], h.ID.String()) {
		t.Fatal("control: the raw rows of Laos do not hold the handoff")
	}
	for where, text := range receiverSide {
		for _, c := range []string{w.canaryUnchosen, w.canaryPsych, w.canDoc, canaryOverride, canaryStopped} {
			if strings.Contains(text, c) {
				t.Errorf("the receiver's %s hold the canary %s", where, c[:14])
			}
		}
	}

	// The third organisation holds no row of either.
	if raw := rawRows(t, w.my); strings.Contains(raw, h.ID.String()) || strings.Contains(raw, o.ID.String()) {
		t.Error("the Malaysian partner's tenant holds a row of the handoffs")
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func marshal(t *testing.T, vs ...any) string {
	t.Helper()
	var b strings.Builder
	for _, v := range vs {
		raw, err := json.Marshal(v)
		must(t, err)
		b.Write(raw)
	}
	return b.String()
}

// rawRows is every row of organisation org in every tenant-owned table,
// read as the database owner (past row-level security), as text.
func rawRows(t *testing.T, org uuid.UUID) string {
	t.Helper()
	db, err := sql.Open("pgx", tenanttest.Postgres(t).OwnerURL)
	must(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM information_schema.columns
WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`)
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rs, err := db.Query(`SELECT t::text FROM "`+table+`" t WHERE tenant_id = $1`, org)
		must(t, err)
		for rs.Next() {
			var line string
			must(t, rs.Scan(&line))
			b.WriteString(line + "\n")
		}
		rs.Close()
	}
	return b.String()
}
