package handoffs

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// documentReads counts org's handoff.document_read entries of handoff id.
func documentReads(t *testing.T, s *tenants.Store, org, id uuid.UUID) int {
	t.Helper()
	n := 0
	for _, e := range handoffAudit(t, s, org, id) {
		if e.Action == ActionDocumentRead {
			if !slices.Equal(e.FieldGroups, []string{tenants.FieldGroupIdentity}) || e.Purpose != purpose {
				t.Errorf("audit entry %+v: want the identity group, purpose %s", e, purpose)
			}
			n++
		}
	}
	return n
}

// TestReceiverOpensTheSharedDocuments: the receiver's case manager
// downloads the copy of a document shared at the start, before the
// acceptance (the content as sent; audited handoff.document_read on its
// side). Denied, each beside that control: a third organisation (404), a
// role without any handoff permission (403), a social worker whose "own"
// does not reach an incoming handoff (404), a document that is not a copy
// of this handoff (the sender's original, the copy of another handoff:
// 404), the sender asking for the receiver's copy (404); after the
// withdrawal the copy is gone (404). After the acceptance the copies are
// documents of the receiver's case and still open here; a document the
// receiver shares back in the thread opens on the sender's side, its own
// originals do not.
func TestReceiverOpensTheSharedDocuments(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			h := w.start(t, w.caseID, "")
			other := w.start(t, w.caseID, "")
			got, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if got.Shared == nil || len(got.Shared.Documents) != 1 {
				t.Fatalf("the receiver's shared copy: %+v", got.Shared)
			}
			copyID := got.Shared.Documents[0].ID
			got, err = w.h.Get(w.laosMgr, other.ID)
			must(t, err)
			otherCopy := got.Shared.Documents[0].ID

			doc, content, err := w.h.Document(w.laosMgr, h.ID, copyID)
			must(t, err)
			if string(content) != referralPDF || doc.FileName != "passport.pdf" || doc.ID != copyID ||
				doc.Group != tenants.FieldGroupIdentity || doc.Size != int64(len(referralPDF)) {
				t.Fatalf("the receiver's download: %+v, %q", doc, content)
			}
			if n := documentReads(t, s, w.laos, h.ID); n != 1 {
				t.Fatalf("%d handoff.document_read entries on the receiver's side, want 1", n)
			}

			_, _, err = w.h.Document(w.myMgr, h.ID, copyID)
			wantCode(t, "a third organisation", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.laosAdmin, h.ID, copyID)
			wantCode(t, "the receiver's tenant admin", err, homeward.EFORBIDDEN, "")
			_, _, err = w.h.Document(w.laosSocial, h.ID, copyID)
			wantCode(t, "the receiver's social worker", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.laosMgr, h.ID, w.passport)
			wantCode(t, "the sender's original, asked of the receiver", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.laosMgr, h.ID, otherCopy)
			wantCode(t, "another handoff's copy", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.starter, h.ID, copyID)
			wantCode(t, "the sender asks for the receiver's copy", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.starter, h.ID, w.passport)
			wantCode(t, "the sender asks for its own original", err, homeward.ENOTFOUND, "")
			_, _, err = w.h.Document(w.counsel, h.ID, w.passport)
			wantCode(t, "the sender's counsellor", err, homeward.EFORBIDDEN, "")
			if n := documentReads(t, s, w.laos, h.ID); n != 1 {
				t.Fatalf("%d handoff.document_read entries after the refusals, want 1", n)
			}

			// Withdrawn: the copy is gone.
			_, err = w.h.Withdraw(w.starter, other.ID, "the family was found in Thailand")
			must(t, err)
			_, _, err = w.h.Document(w.laosMgr, other.ID, otherCopy)
			wantCode(t, "after the withdrawal", err, homeward.ENOTFOUND, "")

			// Accepted: the copies are the case's, and still open here.
			_, err = w.h.Accept(w.laosMgr, h.ID)
			must(t, err)
			got, err = w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			caseCopy := got.Shared.Documents[0].ID
			_, content, err = w.h.Document(w.laosMgr, h.ID, caseCopy)
			must(t, err)
			if string(content) != referralPDF {
				t.Fatal("the case's copy does not read back through the handoff")
			}
			_, _, err = w.h.Document(w.laosMgr, h.ID, copyID)
			wantCode(t, "the copy the acceptance replaced", err, homeward.ENOTFOUND, "")

			// The receiver shares a document of its case back: the sender
			// opens its copy.
			_, err = w.h.Post(w.laosMgr, h.ID, "her passport, stamped", &caseCopy)
			must(t, err)
			thread, err := w.h.Thread(w.starter, h.ID, 0, "")
			must(t, err)
			var back uuid.UUID
			for _, m := range thread.Messages {
				if m.FromSide == SideReceiver && m.Document != nil {
					back = m.Document.ID
				}
			}
			if back == uuid.Nil {
				t.Fatalf("the sender's thread has no document from the receiver: %+v", thread.Messages)
			}
			_, content, err = w.h.Document(w.starter, h.ID, back)
			must(t, err)
			if string(content) != referralPDF {
				t.Fatal("the sender's copy does not read back")
			}
			if n := documentReads(t, s, w.th, h.ID); n != 1 {
				t.Fatalf("%d handoff.document_read entries on the sender's side, want 1", n)
			}
			_, _, err = w.h.Document(w.laosMgr, h.ID, back)
			wantCode(t, "the receiver asks for the sender's copy", err, homeward.ENOTFOUND, "")
		})
	}
}
