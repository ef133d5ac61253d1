package pages_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/web/i18n"
)

// The follow-up pages against the real follow-up service on the settings
// pages' world (SQLite).

// followUpWorld is the world with the follow-up pages, and a case of a's
// (owned by its case manager, assigned to its social worker, counsellor
// and medical officer) at shelter.
func followUpWorld(t *testing.T) (*world, uuid.UUID) {
	t.Helper()
	w := newWorld(t)
	w.deps.FollowUp = followup.New(w.s)
	id := w.newCase(t, "Noy")
	if err := w.s.InTenant(context.Background(), w.a.id, func(tx *gorm.DB) error {
		return cases.MoveStage(tx, id, cases.StageShelter, "", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	return w, id
}

var visitForm = regexp.MustCompile(`action="(/followups/visits/[0-9a-f-]{36})"`)

// TestFollowUpPagesFromReintegrationToClosing: the social worker
// reintegrates the case (a mistake first: 422, the reason beside its
// field, nothing stored), sees the schedule once the job has made it,
// records a visit, finds the overdue ones on /followups (and where to
// give an address for reminders by mail), and closes the follow-up; the
// counsellor reads without forms; the medical officer and anyone not
// signed in are kept out.
func TestFollowUpPagesFromReintegrationToClosing(t *testing.T) {
	w, id := followUpWorld(t)
	sw, cm := w.a.members[tenants.RoleSocialWorker], w.a.members[tenants.RoleCaseManager]
	counsellor, medic := w.a.members[tenants.RoleCounsellor], w.a.members[tenants.RoleMedicalOfficer]
	page := "/cases/" + id.String() + "/followup"

	wantRedirect(t, "anonymous", get(t, w.as(t, nil), page), "/login?next=%2Fcases%2F"+id.String()+"%2Ffollowup")
	wantStatus(t, "the assigned medical officer", get(t, w.as(t, medic), page), 403)
	wantStatus(t, "b's case manager", get(t, w.as(t, w.b.members[tenants.RoleCaseManager]), page), 404)
	r := get(t, w.as(t, sw), page)
	wantStatus(t, "the social worker", r, 200)
	mustContain(t, r, `id="reintegrate"`, `name="destination"`, "Her home village", "C-0000")
	r = get(t, w.as(t, counsellor), page)
	wantStatus(t, "the counsellor", r, 200)
	mustNotContain(t, r, `id="reintegrate"`)

	r = post(t, w.as(t, sw), page+"/reintegration", form(sw, "destination", "abroad", "date", "2025-01-10", "place", "Ban Xai"))
	wantStatus(t, "a bad destination", r, 422)
	mustContain(t, r, "Choose where she went.", `aria-invalid="true"`, `value="Ban Xai"`)
	wantStatus(t, "the counsellor reintegrates", post(t, w.as(t, counsellor), page+"/reintegration",
		form(counsellor, "destination", "family", "date", "2025-01-10", "place", "Ban Xai")), 403)
	r = post(t, w.as(t, sw), page+"/reintegration", form(sw, "destination", "home_village", "date", "2025-01-10",
		"place", "Ban Xai, Savannakhet", "note", "Her aunt takes her in."))
	wantRedirect(t, "reintegrate", r, page)
	if flashOf(r) != "followup.flash_reintegrated" {
		t.Errorf("flash = %q", flashOf(r))
	}
	r = get(t, w.as(t, sw), page)
	mustContain(t, r, `id="scheduling"`, "Ban Xai, Savannakhet", "Her aunt takes her in.", "Reintegrated")
	mustNotContain(t, r, `id="reintegrate"`)

	// The schedule, as the background job makes it.
	ov, err := followup.New(w.s).Overview(ctxOf(cm), id)
	if err != nil || ov.Reintegration == nil {
		t.Fatalf("overview: %v", err)
	}
	if err := w.s.InTenant(context.Background(), w.a.id, func(tx *gorm.DB) error {
		_, err := followup.GenerateSchedule(tx, ov.Reintegration.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r = get(t, w.as(t, sw), page)
	mustContain(t, r, `id="visits"`, "Visit 1", "Visit 16", "10 February 2025", "Overdue", `id="save-visit-1"`, `id="close-followup"`)
	mustNotContain(t, r, `id="scheduling"`)
	forms := visitForm.FindAllStringSubmatch(r.body, -1)
	if len(forms) != 16 {
		t.Fatalf("%d visit forms, want 16", len(forms))
	}
	mustNotContain(t, get(t, w.as(t, counsellor), page), `id="save-visit-1"`, `id="close-followup"`)

	first := forms[0][1]
	r = post(t, w.as(t, sw), first, form(sw, "outcome", "done", "visited_on", "2025-02-12", "risk_flags", "rumours"))
	wantStatus(t, "an unknown risk flag", r, 422)
	mustContain(t, r, "Choose among the risks listed.")
	f := form(sw, "outcome", "done", "visited_on", "2025-02-12", "living_situation", "With her mother and sisters",
		"business_income", "Sewing shop", "risk_flags", "", "notes", "A broker came by.")
	f.Add("risk_flags", "recruiter_contact")
	r = post(t, w.as(t, sw), first, f)
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), page+"#visit-") {
		t.Fatalf("record a visit: %d %q", r.status, r.header.Get("Location"))
	}
	r = get(t, w.as(t, counsellor), page)
	mustContain(t, r, "With her mother and sisters", "Contact with a recruiter or broker", "12 February 2025", "Done")

	// The due list: every visit from March 2025 to today is overdue.
	r = get(t, w.as(t, sw), "/followups")
	wantStatus(t, "the social worker's due list", r, 200)
	// Reminders by mail go to the contact address, set on the member's own page.
	mustContain(t, r, `id="overdue"`, ov.Reference, `href="`+page+`#visit-`, `id="mail-hint"`, `href="/me"`)
	mustNotContain(t, r, `action="/followups/mail-address"`)
	mustNotContain(t, r, `href="`+first)
	mine := get(t, w.as(t, cm), "/followups?mine=1")
	mustContain(t, mine, ov.Reference) // the case manager owns it
	wantStatus(t, "the medical officer's due list", get(t, w.as(t, medic), "/followups"), 403)
	mustContain(t, get(t, w.as(t, w.b.members[tenants.RoleCaseManager]), "/followups"), `id="overdue-empty"`)

	r = post(t, w.as(t, sw), page+"/close", form(sw, "reason", "Three years done."))
	wantStatus(t, "closing unconfirmed", r, 422)
	mustContain(t, r, "Tick the box to confirm.", "Three years done.")
	wantStatus(t, "the counsellor closes", post(t, w.as(t, counsellor), page+"/close", form(counsellor, "reason", "x", "confirm", "yes")), 403)
	wantRedirect(t, "closing", post(t, w.as(t, sw), page+"/close", form(sw, "reason", "Three years done.", "confirm", "yes")), page)
	r = get(t, w.as(t, sw), page)
	mustContain(t, r, `id="followup-closed"`, "Cancelled", "Closed")
	mustNotContain(t, r, `id="save-visit-2"`, `id="close-followup"`)
	r = post(t, w.as(t, sw), first, form(sw, "outcome", "missed"))
	wantStatus(t, "a visit of a closed follow-up", r, 409)
	mustContain(t, r, "This cannot be done in the case&#39;s present state.")
}

// TestFollowUpPagesInEveryLanguage: both pages, with a schedule, in the
// five languages: no missing message, no inline script or style, Lao and
// Thai in their scripts and their Buddhist-Era dates.
func TestFollowUpPagesInEveryLanguage(t *testing.T) {
	w, id := followUpWorld(t)
	sw := w.a.members[tenants.RoleSocialWorker]
	svc := followup.New(w.s)
	re, err := svc.Reintegrate(ctxOf(sw), id, followup.NewReintegration{Destination: followup.DestinationFamily,
		Date: "2025-01-10", Place: "Ban Xai"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.s.InTenant(context.Background(), w.a.id, func(tx *gorm.DB) error {
		_, err := followup.GenerateSchedule(tx, re.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|<style|\sstyle=|\son[a-z]+=`)
	script := map[string]string{"lo": "ການຢ້ຽມຢາມຕິດຕາມ", "th": "การเยี่ยมติดตามผล", "fr": "Visites de suivi", "ms": "Lawatan susulan", "en": "Follow-up visits"}
	era := map[string]string{"lo": "2568", "th": "2568", "fr": "2025", "ms": "2025", "en": "2025"}
	for _, lang := range i18n.Languages {
		for _, path := range []string{"/cases/" + id.String() + "/followup", "/followups"} {
			r := get(t, w.as(t, sw), path, "Cookie", "homeward_lang="+lang)
			wantStatus(t, lang+" "+path, r, 200)
			if strings.Contains(r.body, "⟦") {
				t.Errorf("%s %s: a missing message", lang, path)
			}
			if m := inline.FindString(r.body); m != "" {
				t.Errorf("%s %s: inline script or style %q", lang, path, m)
			}
			mustContain(t, r, `<html lang="`+lang+`"`, script[lang], era[lang])
		}
	}
}
