package handoffs

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// TestWholeHandoff carries a survivor from the Thai partner to AFESIP
// Laos through every stage, each side recording its own, with the wrong
// side and the wrong order refused on the way and both sides consistent
// after each refusal.
func TestWholeHandoff(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			w := newHandoffWorld(t, s)
			ctx := context.Background()
			if _, err := s.SetMemberContact(w.laosMgr, tenants.MemberContact{Address: "inbox@laos.example.org", Language: "lo"}); err != nil {
				t.Fatal(err)
			}

			// What the start form offers: the psychological note never, the
			// chosen fields yes; the sharing consent stands.
			offer, basis, err := w.h.SharableFields(w.starter, w.pship, w.caseID)
			must(t, err)
			if basis != BasisConsent {
				t.Fatalf("basis = %q, want consent", basis)
			}
			allowed := map[string]bool{}
			for _, f := range offer {
				allowed[f.Field] = f.Allowed
			}
			if !allowed["prs_FirstName"] || !allowed["family_home_village"] || allowed["psychological_notes"] {
				t.Fatalf("offer = %+v", offer)
			}

			// Denied: the psychological group, an unknown field (named);
			// allowed control below.
			_, err = w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID,
				Fields: []string{"prs_FirstName", "psychological_notes"}})
			wantCode(t, "psychological field", err, homeward.EINVALID, "fields")
			if !strings.Contains(err.Error(), "psychological_notes") && !strings.Contains(fieldsOf(err), "psychological_notes") {
				t.Fatalf("the refusal does not name the field: %v", err)
			}
			_, err = w.h.Start(w.starter, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID, Fields: []string{"no_such"}})
			wantCode(t, "unknown field", err, homeward.EINVALID, "fields")
			// Denied: the receiver sends nothing back this way.
			_, err = w.h.Start(w.laosMgr, NewHandoff{PartnershipID: w.pship, CaseID: w.caseID, Fields: chosen})
			wantCode(t, "receiver starts", err, homeward.ECONFLICT, "partnership_id")

			h := w.start(t, w.caseID, "")
			if h.State != StateSent || h.Side != SideSender || h.Reference != "H-00001" || h.Basis != BasisConsent ||
				h.Stage != StageIdentification || h.Partner.ID != w.laos {
				t.Fatalf("started: %+v", h)
			}
			mirrored(t, s, w.th, w.laos, h.ID, StateSent)

			// The inbox.
			page, err := w.h.List(w.laosMgr, Query{Box: "incoming"})
			must(t, err)
			if len(page.Handoffs) != 1 || page.Handoffs[0].ID != h.ID || page.Handoffs[0].Side != SideReceiver {
				t.Fatalf("inbox = %+v", page.Handoffs)
			}
			got, err := w.h.Get(w.laosMgr, h.ID)
			must(t, err)
			if got.Shared == nil || len(got.Shared.Values) != 3 || got.Shared.Values["prs_FirstName"] != "Noy" ||
				got.Shared.Values["family_home_village"] != "Ban Nong Bua" || len(got.Shared.Documents) != 1 ||
				got.Shared.Documents[0].FileName != "passport.pdf" || got.StartedBy != nil || got.CaseID != nil {
				t.Fatalf("receiver's view = %+v (shared %+v)", got, got.Shared)
			}
			if len(got.Timeline) != 1 || got.Timeline[0].Note != "found at the Nong Khai shelter" || got.Timeline[0].RecordedBy != nil {
				t.Fatalf("receiver's timeline = %+v", got.Timeline)
			}
			// The Malaysian partner sees nothing of it.
			_, err = w.h.Get(w.myMgr, h.ID)
			wantCode(t, "a third organisation reads it", err, homeward.ENOTFOUND, "")
			mine, err := w.h.List(w.myMgr, Query{})
			must(t, err)
			if len(mine.Handoffs) != 0 {
				t.Fatalf("the third organisation lists %d handoffs", len(mine.Handoffs))
			}
			// Denied: a social worker of Laos reaches no handoff without a case of hers.
			_, err = w.h.Get(w.laosSocial, h.ID)
			wantCode(t, "a social worker without the case", err, homeward.ENOTFOUND, "")

			// Stages, in order, each by its owner; refusals leave both sides alike.
			_, err = w.h.Advance(w.laosMgr, h.ID, StageChange{Stage: StageInterview, Action: ActionDone})
			wantCode(t, "the receiver records the sender's stage", err, homeward.EFORBIDDEN, "")
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageTracingRequest, Action: ActionDone})
			wantCode(t, "a stage skipped", err, homeward.ECONFLICT, "stage")
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageInterview, Action: ActionDone, On: "2999-01-01"})
			wantCode(t, "a date in the future", err, homeward.EINVALID, "on")
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageInterview, Action: ActionDone, On: "01/02/2025"})
			wantCode(t, "a bad date", err, homeward.EINVALID, "on")
			mirrored(t, s, w.th, w.laos, h.ID, StateSent)

			w.advance(t, w.starter, h.ID, StageInterview, ActionDone)
			w.advance(t, w.starter, h.ID, StageTracingRequest, ActionDone)
			w.advance(t, w.laosMgr, h.ID, StageTracingResult, ActionDone)
			w.advance(t, w.starter, h.ID, StageTravelDocuments, ActionDone)
			// Reopen needs a reason, and is the owner's.
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageTravelDocuments, Action: ActionReopen})
			wantCode(t, "reopen without a reason", err, homeward.EINVALID, "reason")
			_, err = w.h.Advance(w.laosMgr, h.ID, StageChange{Stage: StageTravelDocuments, Action: ActionReopen, Reason: "x"})
			wantCode(t, "the receiver reopens the sender's stage", err, homeward.EFORBIDDEN, "")
			back, err := w.h.Advance(w.starter, h.ID, StageChange{Stage: StageTravelDocuments, Action: ActionReopen,
				Reason: "the laissez-passer was issued with a wrong date"})
			must(t, err)
			if back.Stage != StageTracingResult {
				t.Fatalf("after reopening travel documents the stage is %s", back.Stage)
			}
			w.advance(t, w.starter, h.ID, StageTravelDocuments, ActionDone)
			w.advance(t, w.starter, h.ID, StageReturnPlan, ActionDone)
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageHandover, Action: ActionDone})
			wantCode(t, "handover before the return plan is confirmed", err, homeward.ECONFLICT, "stage")
			_, err = w.h.Advance(w.starter, h.ID, StageChange{Stage: StageReturnPlan, Action: ActionConfirm})
			wantCode(t, "the sender confirms its own stage", err, homeward.EFORBIDDEN, "")
			mirrored(t, s, w.th, w.laos, h.ID, StateSent)
			w.advance(t, w.laosMgr, h.ID, StageReturnPlan, ActionConfirm)
			w.advance(t, w.starter, h.ID, StageHandover, ActionDone)
			w.advance(t, w.laosMgr, h.ID, StageHandover, ActionConfirm)
			w.advance(t, w.laosMgr, h.ID, StageTransitCentre, ActionDone)
			_, err = w.h.Advance(w.laosMgr, h.ID, StageChange{Stage: StageAdmission, Action: ActionDone})
			wantCode(t, "admission before acceptance", err, homeward.ECONFLICT, "stage")

			// Acceptance: the receiver's case, from the shared copy only.
			_, err = w.h.Accept(w.starter, h.ID)
			wantCode(t, "the sender accepts", err, homeward.EFORBIDDEN, "")
			_, err = w.h.Accept(w.laosSocial, h.ID)
			wantCode(t, "a social worker accepts", err, homeward.ENOTFOUND, "")
			acc, err := w.h.Accept(w.laosMgr, h.ID)
			must(t, err)
			if acc.State != StateAccepted || acc.CaseID == nil {
				t.Fatalf("accepted: %+v", acc)
			}
			_, err = w.h.Accept(w.laosMgr, h.ID)
			wantCode(t, "accepted twice", err, homeward.ECONFLICT, "state")
			mirrored(t, s, w.th, w.laos, h.ID, StateAccepted)
			theirCase, err := cases.New(s).Get(w.laosMgr, *acc.CaseID)
			must(t, err)
			thOrg, _ := s.TenantByID(ctx, w.th)
			if theirCase.Stage != cases.StageIntake || theirCase.Values["prs_FirstName"] != "Noy" ||
				theirCase.Values["family_home_village"] != "Ban Nong Bua" || theirCase.Values["family_notes"] != nil ||
				theirCase.Values["cas_ReferringOrganisation"] != thOrg.Name || theirCase.Values["cas_IncomingReferralDate"] == nil {
				t.Fatalf("the receiver's case = %+v", theirCase.Values)
			}
			// Her referral source is recorded for the admission form.
			adm, err := shelters.New(s).Admission(w.laosMgr, *acc.CaseID)
			must(t, err)
			if adm.ReferralSource != shelters.SourcePartnerHandoff || adm.Stage != cases.StageIntake {
				t.Fatalf("the receiver's admission file: source %q, stage %s", adm.ReferralSource, adm.Stage)
			}
			// The sender sees the acceptance, never the receiver's case.
			senderView, err := w.h.Get(w.starter, h.ID)
			must(t, err)
			raw, _ := json.Marshal(senderView)
			if senderView.State != StateAccepted || *senderView.CaseID != w.caseID || strings.Contains(string(raw), acc.CaseID.String()) {
				t.Fatalf("the sender's view names the receiver's case: %s", raw)
			}

			w.advance(t, w.laosMgr, h.ID, StageAdmission, ActionDone)
			ref := caseRef(t, s, w.th, w.caseID)
			if ref.Stage != cases.StageReferred {
				t.Fatalf("the sender's case is at %s after the admission, want referred", ref.Stage)
			}
			referred, err := cases.New(s).Get(w.starter, w.caseID)
			must(t, err)
			laosOrg, _ := s.TenantByID(ctx, w.laos)
			if referred.Values["cas_ReferredOrganisation"] != laosOrg.Name || referred.Values["cas_OutgoingReferralDate"] == nil {
				t.Fatalf("the sender's case after the admission: %+v", referred.Values)
			}
			_, err = w.h.Advance(w.laosMgr, h.ID, StageChange{Stage: StageTransitCentre, Action: ActionReopen, Reason: "x"})
			wantCode(t, "reopening before the admission once it is done", err, homeward.ECONFLICT, "stage")

			// The thread, both ways.
			_, err = w.h.Post(w.starter, h.ID, "her mother is waiting at the bridge", nil)
			must(t, err)
			_, err = w.h.Post(w.laosMgr, h.ID, "received, thank you", nil)
			must(t, err)
			_, err = w.h.Post(w.laosMgr, h.ID, "  ", nil)
			wantCode(t, "an empty message", err, homeward.EINVALID, "text")
			for _, c := range []context.Context{w.starter, w.laosMgr} {
				th, err := w.h.Thread(c, h.ID, 0, "")
				must(t, err)
				if len(th.Messages) != 2 || th.Messages[0].Text != "her mother is waiting at the bridge" ||
					th.Messages[1].FromSide != SideReceiver {
					t.Fatalf("thread = %+v", th.Messages)
				}
			}
			// Documents both ways, each side holding its own copy.
			_, err = w.h.Post(w.starter, h.ID, "the laissez-passer", &w.passport)
			must(t, err)
			escort, err := casedocs.New(s, w.bucket, tenants.DocumentLimits{}).Add(w.laosMgr, *acc.CaseID,
				casedocs.NewDocument{Part: tenants.FieldGroupFamily, Filename: "escort.pdf", Content: strings.NewReader(referralPDF)})
			must(t, err)
			_, err = w.h.Post(w.laosMgr, h.ID, "the escort record", &escort.ID)
			must(t, err)
			_, err = w.h.Post(w.starter, h.ID, "not the case's", &escort.ID)
			wantCode(t, "a document of another case", err, homeward.EINVALID, "documents")
			for _, c := range []struct {
				ctx        context.Context
				own, other uuid.UUID
			}{{w.starter, w.passport, escort.ID}, {w.laosMgr, escort.ID, w.passport}} {
				th, err := w.h.Thread(c.ctx, h.ID, 0, "")
				must(t, err)
				var names []string
				for _, m := range th.Messages {
					if m.Document != nil {
						names = append(names, m.Document.FileName)
						if m.Document.ID == c.other {
							t.Fatalf("a side reads the other side's document id %s", c.other)
						}
					}
				}
				if strings.Join(names, ",") != "passport.pdf,escort.pdf" {
					t.Fatalf("thread documents = %v", names)
				}
			}

			// Feedback, then the last stage.
			_, err = w.h.SendFeedback(w.starter, h.ID, Feedback{Status: FeedbackInShelter})
			wantCode(t, "the sender sends feedback", err, homeward.EFORBIDDEN, "")
			_, err = w.h.SendFeedback(w.laosMgr, h.ID, Feedback{Status: "married"})
			wantCode(t, "a bad status", err, homeward.EINVALID, "status")
			_, err = w.h.SendFeedback(w.laosMgr, h.ID, Feedback{Status: FeedbackInShelter, FollowUpContinues: true})
			must(t, err)
			fb, err := w.h.FeedbackOf(w.starter, h.ID)
			must(t, err)
			if len(fb) != 1 || fb[0].Status != FeedbackInShelter || fb[0].Automatic {
				t.Fatalf("the sender's feedback = %+v", fb)
			}
			done := w.advance(t, w.laosMgr, h.ID, StageFeedback, ActionDone)
			if done.State != StateCompleted {
				t.Fatalf("after the last stage: %s", done.State)
			}
			mirrored(t, s, w.th, w.laos, h.ID, StateCompleted)

			// The whole timeline on both sides; members named on their own side only.
			for _, c := range []struct {
				ctx  context.Context
				side string
			}{{w.starter, SideSender}, {w.laosMgr, SideReceiver}} {
				v, err := w.h.Get(c.ctx, h.ID)
				must(t, err)
				if len(v.Timeline) != 14 {
					t.Fatalf("%s's timeline has %d entries, want 14", c.side, len(v.Timeline))
				}
				for _, e := range v.Timeline {
					if (e.RecordedBy != nil) != (e.BySide == c.side) {
						t.Fatalf("%s's timeline entry %+v names a member of the other side (or none of its own)", c.side, e)
					}
				}
			}

			// Notices: the inbox was told by in-app notification and mail,
			// the sender of the acceptance.
			if n := outboxCount(t, s, w.laos, tenants.KindNotifyCreate, h.ID); n == 0 {
				t.Fatal("no notification in Laos")
			}
			if n := outboxCount(t, s, w.th, tenants.KindNotifyCreate, h.ID); n == 0 {
				t.Fatal("no notification in Thailand")
			}
			if n := mailsTo(t, s, w.laos, "handoff:received"); n != 1 {
				t.Fatalf("%d handoff:received mails in Laos, want 1", n)
			}

			// Audited on both sides, the receiver's rows naming the partner
			// organisation, never a member of it.
			for _, org := range []uuid.UUID{w.th, w.laos} {
				entries := handoffAudit(t, s, org, h.ID)
				if len(entries) < 10 {
					t.Fatalf("%d audit entries in %s", len(entries), org)
				}
				for _, e := range entries {
					if e.Actor.Kind == tenants.ActorPartner && (e.Actor.MemberID != nil || e.Organisation == nil || *e.Organisation == org) {
						t.Fatalf("partner entry %+v", e)
					}
					if e.Actor.Kind == tenants.ActorMember && e.Actor.MemberID != nil && !memberOf(t, s, org, *e.Actor.MemberID) {
						t.Fatalf("%s's audit names a member of another organisation: %+v", org, e)
					}
				}
			}
		})
	}
}

func fieldsOf(err error) string {
	if he, ok := err.(*homeward.Error); ok {
		var b strings.Builder
		for k, v := range he.Fields {
			b.WriteString(k + "=" + v + ";")
		}
		return b.String()
	}
	return ""
}

// caseRef is org's case id as the system reads it.
func caseRef(t *testing.T, s *tenants.Store, org, id uuid.UUID) *cases.Ref {
	t.Helper()
	var ref *cases.Ref
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		ref, err = cases.RefOf(tx, id)
		return err
	}))
	return ref
}

// mailsTo counts org's queued mails of template.
func mailsTo(t *testing.T, s *tenants.Store, org uuid.UUID, template string) int {
	t.Helper()
	var n int64
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) error {
		return tx.Model(&tenants.MailMessage{}).Where("template = ?", template).Count(&n).Error
	}))
	return int(n)
}

// handoffAudit lists org's audit entries of handoff id.
func handoffAudit(t *testing.T, s *tenants.Store, org, id uuid.UUID) []tenants.AuditRecord {
	t.Helper()
	var page tenants.AuditPage
	must(t, s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		page, err = tenants.ListAudit(tx, tenants.AuditQuery{RecordType: RecordType, RecordID: id, Limit: 200})
		return err
	}))
	return page.Entries
}

// memberOf reports whether member is a membership of org.
func memberOf(t *testing.T, s *tenants.Store, org, member uuid.UUID) bool {
	t.Helper()
	var n int64
	must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
		return tx.Table("memberships").Where("tenant_id = ? AND id = ?", org, member).Count(&n).Error
	}))
	return n == 1
}
