package handoffs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestAcceptAdoptsTheSharedDocuments: on acceptance the documents the
// receiver got (at the start, in the thread) become documents of its new
// case, stored under the case's key in their group with the handoff as
// their entry, and a document shared after the acceptance joins the case
// at once; the copies under the handoff's key are gone; erasing the case
// makes them unreadable. Controls: before the acceptance the copy is no
// case's, and readable; before the erasure the case's copy is readable.
func TestAcceptAdoptsTheSharedDocuments(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			ctx := context.Background()
			h := w.start(t, w.caseID, "")
			// A second identity document, in the thread, before the acceptance.
			docs := casedocs.New(s, w.bucket, tenants.DocumentLimits{})
			idCard, err := docs.Add(w.starter, w.caseID, casedocs.NewDocument{Part: tenants.FieldGroupIdentity,
				Filename: "id-card.pdf", Content: strings.NewReader(referralPDF)})
			must(t, err)
			_, err = w.h.Post(w.starter, h.ID, "her identity card", &idCard.ID)
			must(t, err)

			before, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if before.Shared == nil || len(before.Shared.Documents) != 2 {
				t.Fatalf("before the acceptance the receiver holds %+v", before.Shared)
			}
			oldIDs := []uuid.UUID{before.Shared.Documents[0].ID, before.Shared.Documents[1].ID}
			// Control: before the acceptance the copies are the handoff's,
			// of no case, and readable.
			must(t, s.InTenant(ctx, w.laos, func(tx *gorm.DB) error {
				for _, id := range oldIDs {
					var d tenants.Document
					if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
						return err
					}
					if d.DataKeyID != h.ID {
						t.Errorf("copy %s before the acceptance: key %s, want the handoff's", id, d.DataKeyID)
					}
				}
				var n int64
				if err := tx.Table("case_documents").Where("document_id IN ?", oldIDs).Count(&n).Error; err != nil || n != 0 {
					t.Errorf("copies linked to a case before the acceptance: %d, %v", n, err)
				}
				_, _, err := tenants.OpenDocument(tx, w.bucket, oldIDs[0], "repatriation")
				return err
			}))

			acc, err := w.h.Accept(w.laosMgr, h.ID)
			must(t, err)
			caseID := *acc.CaseID
			// Shared after the acceptance: joins the case at once.
			for _, st := range []Stage{StageInterview, StageTracingRequest} {
				_, err := w.h.Advance(w.starter, h.ID, StageChange{Stage: st, Action: ActionDone, Documents: []uuid.UUID{w.passport}})
				must(t, err)
			}

			listing, err := docs.List(w.laosMgr, caseID)
			must(t, err)
			names := map[string]int{}
			for _, d := range listing.Documents {
				if d.Part != tenants.FieldGroupIdentity || d.Entry == nil || d.Entry.Kind != EntryKind || d.Entry.ID != h.ID {
					t.Errorf("case document %+v: want the identity part and the handoff as its entry", d)
				}
				names[d.Filename]++
			}
			if len(listing.Documents) != 4 || names["passport.pdf"] != 3 || names["id-card.pdf"] != 1 {
				t.Fatalf("the receiver's case documents: %v, want the passport (start, interview, tracing request) and the id card", names)
			}
			got, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if len(got.Shared.Documents) != 4 {
				t.Fatalf("the handoff lists %d documents after the acceptance, want 4", len(got.Shared.Documents))
			}
			inCase := map[uuid.UUID]bool{}
			for _, d := range listing.Documents {
				inCase[d.ID] = true
			}
			for _, d := range got.Shared.Documents {
				if !inCase[d.ID] || d.ID == oldIDs[0] || d.ID == oldIDs[1] {
					t.Errorf("the handoff lists %s, not one of the case's new copies", d.ID)
				}
			}
			thread, err := w.h.Thread(w.laosMgr, h.ID, 0, "")
			must(t, err)
			if len(thread.Messages) != 1 || thread.Messages[0].Document == nil || !inCase[thread.Messages[0].Document.ID] {
				t.Fatalf("the thread's document after the acceptance: %+v", thread.Messages)
			}
			_, content, err := docs.Open(w.laosMgr, listing.Documents[0].ID)
			must(t, err)
			if string(content) != referralPDF {
				t.Fatal("the case's copy does not read back")
			}
			must(t, s.InTenant(ctx, w.laos, func(tx *gorm.DB) error {
				for _, d := range listing.Documents {
					var row tenants.Document
					if err := tx.Where("id = ?", d.ID).Take(&row).Error; err != nil {
						return err
					}
					if row.DataKeyID != caseID {
						t.Errorf("case document %s is under key %s, want the case's", d.ID, row.DataKeyID)
					}
				}
				var live int64
				if err := tx.Model(&tenants.Document{}).Where("id IN ? AND deleted_at IS NULL", oldIDs).Count(&live).Error; err != nil || live != 0 {
					t.Errorf("%d copies under the handoff's key are still live (%v)", live, err)
				}
				return nil
			}))

			// Erasing the case shreds them.
			cs := cases.New(s)
			e, err := cs.RequestErasure(w.laosMgr, caseID, cases.ErasureDuplicate, "")
			must(t, err)
			_, err = cs.DecideErasure(w.laosAdmin, e.ID, true)
			must(t, err)
			must(t, s.InTenant(ctx, w.laos, func(tx *gorm.DB) error {
				for _, d := range listing.Documents {
					if _, _, err := tenants.OpenDocument(tx, w.bucket, d.ID, "repatriation"); !errors.Is(err, tenants.ErrShredded) {
						t.Errorf("document %s after the case's erasure: %v, want shredded", d.ID, err)
					}
				}
				return nil
			}))
		})
	}
}

// TestSharingConsentWithdrawnStopsBothSides: the withdrawal writes its job;
// its work marks the case's handoffs sharing-stopped on both sides and
// tells the receiver, once however often it runs. Controls: while the
// consent stands nothing stops; another case's handoff keeps sharing; the
// manual stop then says sharing has stopped already.
func TestSharingConsentWithdrawnStopsBothSides(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			ctx := context.Background()
			h := w.start(t, w.caseID, "")
			_, err := w.h.Accept(w.laosMgr, h.ID)
			must(t, err)
			otherCase := w.newCase(t, true)
			other := w.start(t, otherCase, "")

			// Control: the consent stands, nothing to stop.
			n, err := w.h.SharingConsentWithdrawn(ctx, w.th, w.caseID)
			must(t, err)
			if n != 0 || rowIn(t, s, w.th, h.ID).SharingStoppedAt != nil {
				t.Fatalf("stopped %d while the consent stands", n)
			}

			jobs := outboxCount(t, s, w.th, cases.KindConsentWithdrawn, w.caseID)
			_, err = cases.New(s).WithdrawConsent(w.starter, w.caseID, cases.PurposeSharing, "she changed her mind")
			must(t, err)
			if got := outboxCount(t, s, w.th, cases.KindConsentWithdrawn, w.caseID) - jobs; got != 1 {
				t.Fatalf("the withdrawal wrote %d %s jobs, want 1", got, cases.KindConsentWithdrawn)
			}
			must(t, s.Global(ctx, func(tx *gorm.DB) error {
				var row tenants.OutboxMessage
				if err := tx.Where("tenant_id = ? AND kind = ?", w.th, cases.KindConsentWithdrawn).Take(&row).Error; err != nil {
					return err
				}
				if !strings.Contains(row.Payload, cases.PurposeID(cases.PurposeSharing).String()) {
					t.Errorf("the job's payload %s does not name the sharing purpose", row.Payload)
				}
				return nil
			}))

			notices := outboxCount(t, s, w.laos, tenants.KindNotifyCreate, h.ID)
			for i, want := range []int{1, 0} {
				n, err := w.h.SharingConsentWithdrawn(ctx, w.th, w.caseID)
				must(t, err)
				if n != want {
					t.Fatalf("run %d stopped %d handoffs, want %d", i+1, n, want)
				}
			}
			mirrored(t, s, w.th, w.laos, h.ID, StateAccepted)
			a, b := rowIn(t, s, w.th, h.ID), rowIn(t, s, w.laos, h.ID)
			if a.SharingStoppedAt == nil || b.SharingStoppedAt == nil || !a.SharingStoppedAt.Equal(*b.SharingStoppedAt) {
				t.Fatalf("sharing stopped at %v / %v, want the same time on both sides", a.SharingStoppedAt, b.SharingStoppedAt)
			}
			told := outboxCount(t, s, w.laos, tenants.KindNotifyCreate, h.ID) - notices
			if told == 0 {
				t.Fatal("the receiver was not told")
			}
			mine, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if !mine.SharingStopped {
				t.Fatal("the receiver's view does not say sharing stopped")
			}
			audited := 0
			must(t, s.InTenant(ctx, w.laos, func(tx *gorm.DB) error {
				page, err := tenants.ListAudit(tx, tenants.AuditQuery{RecordType: RecordType, RecordID: h.ID, Limit: 100})
				for _, e := range page.Entries {
					if e.Action == ActionStopSharing {
						audited++
						if e.Actor.Kind != tenants.ActorPartner || e.Actor.MemberID != nil {
							t.Errorf("the receiver's audit row names %+v, want the partner organisation", e.Actor)
						}
					}
				}
				return err
			}))
			if audited != 1 {
				t.Fatalf("%d stop_sharing audit rows on the receiver's side, want 1", audited)
			}

			// Control: the other case's handoff still shares.
			if rowIn(t, s, w.th, other.ID).SharingStoppedAt != nil || rowIn(t, s, w.laos, other.ID).SharingStoppedAt != nil {
				t.Fatal("another case's handoff was stopped")
			}
			_, err = w.h.Post(w.starter, other.ID, "still sharing", nil)
			must(t, err)
			_, err = w.h.Withdraw(w.starter, h.ID, "stop")
			wantCode(t, "a manual stop after the job", err, homeward.ECONFLICT, "state")
		})
	}
}
