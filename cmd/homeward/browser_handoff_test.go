package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"

	"github.com/afesip/homeward/web/browsertest"
	"github.com/afesip/homeward/web/i18n"
)

// TestBrowserHandoff carries one repatriation handoff from the demo
// partner in Thailand to AFESIP Laos through the pages only, with two
// people signed in at the same time, each in a browser of their own (its
// own cookies): the partner's case manager, in Thai, and AFESIP Laos's, in
// Lao, under the demo's active partnership demo-partner-th → afesip-laos.
//
// The Thai side records a case whose second name is a canary, records the
// sharing consent, and starts a handoff of her first name, birth date and
// gender (not the second name); it records stages 2 and 3a. The Lao side
// finds it in its inbox, sees the chosen fields and accepts it, which
// makes its case; it records 3b. The Thai side records 4 and 5, the Lao
// side confirms 5; the Thai side marks 6 handed over, the Lao side
// confirms receiving her and records 7 and 8 (admission). The Thai case is
// then "referred" and the Lao case at intake; a message of each side's
// reaches the other; each side sees the whole timeline, the other's notes
// included. The canary is on the Thai case's page (the control) and on no
// page the Lao member loads. The handoff pages pass axe-core.
func TestBrowserHandoff(t *testing.T) {
	const (
		thaiAccount = "demo-partner-th.case_manager"
		laoAccount  = "afesip-laos.case_manager"
		firstName   = "Bouakham"
		canary      = "Kanaryvongsa"
	)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	th, lo := cat.Locale("th"), cat.Locale("lo")

	thai := browsertest.New(t)
	lao := browsertest.New(t)
	env := demoEnv(t)
	env["HOMEWARD_ADDR"] = "127.0.0.1:0"
	base := startServe(t, env, "").url

	thai.SignInDemo(base, thaiAccount)
	inLanguage(thai, "th")
	lao.SignInDemo(base, laoAccount)
	inLanguage(lao, "lo")

	// Every page the Lao member loads: no canary in its HTML.
	laoPages := 0
	laoSees := func() {
		t.Helper()
		laoPages++
		if html := browsertest.Eval[string](lao, `document.documentElement.outerHTML`); strings.Contains(html, canary) {
			lao.Screenshot("canary")
			t.Fatalf("the Lao member's page %s holds the canary %q", lao.Location(), canary)
		}
	}
	laoSees()

	// state is the handoff's state badge, stage its current stage's line.
	state := func(b *browsertest.Browser) string { return strings.TrimSpace(b.Text("#handoff-state")) }
	stageLine := func(b *browsertest.Browser) string { return strings.TrimSpace(b.Text("#handoff-stage")) }
	numbered := func(l *i18n.Locale, number, stage string) string {
		return l.T("handoffs.stage_numbered", "Number", number, "Stage", l.T("handoffs.stage."+stage))
	}

	// step records one step of the side in b (done:STAGE, confirm:STAGE)
	// with the handoff page's step form, with a note when one is given,
	// and waits for the page that follows (the handoff, its stage moved).
	step := func(b *browsertest.Browser, l *i18n.Locale, value, note, number string) {
		t.Helper()
		radio := fmt.Sprintf(`#step-form input[name="step"][value=%q]`, value)
		if !browsertest.Eval[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, radio)) {
			b.Screenshot("step")
			t.Fatalf("the step form offers no %s; it offers %v", value,
				browsertest.Eval[[]string](b, `[...document.querySelectorAll('#step-form input[name="step"]')].map(i => i.value)`))
		}
		b.Do(chromedp.Click(chromedp.CSS(radio)))
		if note != "" {
			b.Do(chromedp.SendKeys(chromedp.ID("step-note"), note))
		}
		b.Submit(`p.flash`, chromedp.Click(chromedp.ID("step-save")))
		_, stage, _ := strings.Cut(value, ":")
		if got, want := stageLine(b), numbered(l, number, stage); got != want {
			t.Fatalf("after %s the stage is %q, want %q", value, got, want)
		}
	}

	// The Thai side: a case, with the canary as her second name.
	thai.Visit(base + "/cases/new")
	thai.Do(
		chromedp.SendKeys(chromedp.ID("f-prs_FirstName"), firstName),
		chromedp.SendKeys(chromedp.ID("f-prs_SecondName"), canary),
		chromedp.SetValue(chromedp.ID("f-prs_Birthdate"), "2008-02-17"),
		chromedp.SetValue(chromedp.ID("f-prs_Gender"), "Feminine"),
	)
	thai.Submit("#case-stage", chromedp.Click(chromedp.ID("create-case")))
	m := pageCase.FindStringSubmatch(thai.Location())
	if m == nil {
		t.Fatalf("the Thai intake ended at %s", thai.Location())
	}
	thaiCase := base + "/cases/" + m[1]

	// Control: the canary is recorded, and the Thai side sees it.
	thai.Visit(thaiCase + "?tab=identity")
	if got := browsertest.Eval[string](thai, `document.getElementById("f-prs_SecondName").value`); got != canary {
		t.Fatalf("control: the Thai case's second name is %q, want the canary", got)
	}

	// The sharing consent, on the case's consent tab.
	thai.Visit(thaiCase + "?tab=consent")
	thai.Do(
		chromedp.SetValue(chromedp.ID("consent-purpose"), "sharing"),
		chromedp.SetValue(chromedp.ID("consent-new-given-by"), "girl"),
		chromedp.SetValue(chromedp.ID("consent-new-given-on"), time.Now().Format(time.DateOnly)),
		chromedp.SetValue(chromedp.ID("consent-new-basis"), "signed_form"),
	)
	thai.Submit(`#consent-sharing .badge:not(.off)`, chromedp.Click(chromedp.ID("record-consent")))

	// The start form, from the case: the fields she chooses, not the
	// second name.
	thai.Submit("#handoff-start", chromedp.Click(chromedp.ID("hand-over")))
	thai.Check()
	if h1 := thai.Text("h1"); !hasScript(h1, unicode.Thai) {
		t.Errorf("the start form's h1 = %q", h1)
	}
	if !browsertest.Eval[bool](thai, `document.getElementById("handoff-consent") !== null && document.getElementById("handoff-override") === null`) {
		t.Error("the start form does not see the sharing consent just recorded")
	}
	for _, f := range []string{"prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender"} {
		if !browsertest.Eval[bool](thai, fmt.Sprintf(`(e => e !== null && !e.disabled && !e.checked)(document.getElementById("field-%s"))`, f)) {
			t.Fatalf("the start form has no free, unticked box for %s", f)
		}
	}
	thai.Do(
		chromedp.Click(chromedp.ID("field-prs_FirstName")),
		chromedp.Click(chromedp.ID("field-prs_Birthdate")),
		chromedp.Click(chromedp.ID("field-prs_Gender")),
		chromedp.SendKeys(chromedp.ID("handoff-note"), "Found at a karaoke bar in Nong Khai; she wants to go home."),
	)

	// The Lao inbox before the handoff is sent.
	lao.Visit(base + "/handoffs")
	laoSees()
	inbox := func() []string {
		return browsertest.Eval[[]string](lao, `[...document.querySelectorAll("#handoff-list h2 a .ident")].map(e => e.textContent)`)
	}
	before := inbox()

	thai.Submit("#step-form", chromedp.Click(chromedp.ID("handoff-send")))
	thai.Check()
	handoffURL := thai.Location()
	if i := strings.IndexAny(handoffURL, "?#"); i >= 0 {
		handoffURL = handoffURL[:i]
	}
	if !strings.HasPrefix(handoffURL, base+"/handoffs/") {
		t.Fatalf("sending ended at %s", handoffURL)
	}
	reference := strings.TrimSpace(thai.Text("h1 .ident"))
	if got, want := state(thai), th.T("handoffs.state.sent"); got != want {
		t.Errorf("the Thai side's state = %q, want %q", got, want)
	}
	if got, want := stageLine(thai), numbered(th, "1", "identification"); got != want {
		t.Errorf("the new handoff's stage = %q, want %q", got, want)
	}
	if listed(before, reference) {
		t.Fatalf("control: the Lao inbox listed %s before it was sent", reference)
	}

	// Stages 2 and 3a, by the Thai side.
	step(thai, th, "done:interview", "Interviewed with a Lao-speaking social worker.", "2")
	step(thai, th, "done:tracing_request", "", "3a")

	// The Lao side: the inbox, reloaded, lists it.
	lao.Do(chromedp.Reload())
	lao.Await("#handoff-list")
	laoSees()
	lao.Check()
	if !listed(inbox(), reference) {
		t.Fatalf("the Lao inbox does not list %s after reloading: %v", reference, inbox())
	}
	lao.Submit("#decide", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#handoff-list a[href=%q]`, strings.TrimPrefix(handoffURL, base)))))
	laoSees()
	lao.Check()
	if loc := lao.Location(); loc != handoffURL {
		t.Errorf("the Lao side opened %s, the Thai side's handoff is %s", loc, handoffURL)
	}
	if got, want := state(lao), lo.T("handoffs.state.sent"); got != want {
		t.Errorf("the Lao side's state = %q, want %q", got, want)
	}
	shared := lao.Text("#shared")
	if !strings.Contains(shared, firstName) || !browsertest.Eval[bool](lao, `document.querySelector('#shared time[datetime="2008-02-17"]') !== null`) {
		t.Errorf("the Lao side's shared fields lack the first name or the birth date: %q", shared)
	}
	if strings.Contains(shared, canary) {
		t.Errorf("the shared fields show the unchosen second name: %q", shared)
	}
	if !strings.Contains(lao.Text("#timeline"), "Lao-speaking social worker") {
		t.Error("the Lao side's timeline lacks the Thai side's note on the interview")
	}

	// Accepted: the Lao case is made.
	lao.Do(chromedp.Click(chromedp.ID("decide-confirm")))
	lao.Submit("#handoff-case", chromedp.Click(chromedp.ID("handoff-accept")))
	laoSees()
	lao.Check()
	if got, want := state(lao), lo.T("handoffs.state.accepted"); got != want {
		t.Errorf("after accepting, the Lao side's state = %q, want %q", got, want)
	}
	laoCase := browsertest.Eval[string](lao, `document.getElementById("handoff-case").href`)
	step(lao, lo, "done:tracing_result", "Her mother and aunt in Ban Nongbua want her back.", "3b")
	laoSees()

	// The Thai side: 4 and 5; a message in the thread.
	thai.Visit(handoffURL)
	if got, want := state(thai), th.T("handoffs.state.accepted"); got != want {
		t.Errorf("the Thai side's state after the acceptance = %q, want %q", got, want)
	}
	if !strings.Contains(thai.Text("#timeline"), "Ban Nongbua") {
		t.Error("the Thai side's timeline lacks the Lao side's note on the family tracing")
	}
	step(thai, th, "done:travel_documents", "", "4")
	step(thai, th, "done:return_plan", "", "5")
	thaiMessage := "The travel document is ready; crossing at the Friendship Bridge."
	thai.Do(chromedp.SendKeys(chromedp.ID("message-text"), thaiMessage))
	thai.Submit(`#messages`, chromedp.Click(chromedp.ID("message-send")))
	if !strings.Contains(thai.Text("#messages"), thaiMessage) {
		t.Errorf("the Thai side's thread lacks its own message: %q", thai.Text("#messages"))
	}

	// The Lao side confirms the return plan, sees the message, answers.
	lao.Visit(handoffURL)
	laoSees()
	if !strings.Contains(lao.Text("#messages"), thaiMessage) {
		t.Errorf("the Lao side's thread lacks the Thai side's message: %q", lao.Text("#messages"))
	}
	step(lao, lo, "confirm:return_plan", "", "5")
	laoSees()
	laoMessage := "We will meet her at the bridge with her aunt."
	lao.Do(chromedp.SendKeys(chromedp.ID("message-text"), laoMessage))
	lao.Submit(`#messages`, chromedp.Click(chromedp.ID("message-send")))
	laoSees()

	// The Thai side hands her over; the Lao side confirms receiving her,
	// then records the transit centre and the admission.
	thai.Visit(handoffURL)
	if !strings.Contains(thai.Text("#messages"), laoMessage) {
		t.Errorf("the Thai side's thread lacks the Lao side's message: %q", thai.Text("#messages"))
	}
	step(thai, th, "done:handover", "", "6")
	lao.Visit(handoffURL)
	laoSees()
	step(lao, lo, "confirm:handover", "", "6")
	laoSees()
	step(lao, lo, "done:transit_centre", "", "7")
	laoSees()
	step(lao, lo, "done:admission", "", "8")
	laoSees()
	lao.Check()

	// Each side sees the whole timeline: stages 1 to 8 recorded, with
	// both sides' entries (1, 2, 3a, 3b, 4, 5 and its confirmation, 6 and
	// its confirmation, 7, 8), and nothing for 9.
	thai.Visit(handoffURL)
	for _, side := range []struct {
		name string
		b    *browsertest.Browser
	}{{"Thai", thai}, {"Lao", lao}} {
		per := browsertest.Eval[[]int](side.b, `[...document.querySelectorAll("#timeline ol.records > li.record")].map(li => li.querySelectorAll("ul li").length)`)
		want := []int{1, 1, 1, 1, 1, 2, 2, 1, 1, 0}
		if fmt.Sprint(per) != fmt.Sprint(want) {
			t.Errorf("the %s side's timeline has %v entries per stage, want %v", side.name, per, want)
		}
	}

	// The Thai case is referred; the Lao side has a case of its own, at
	// intake, with her first name and without the canary.
	thai.Visit(thaiCase)
	if got, want := strings.TrimSpace(thai.Text("#case-stage")), th.T("case.stage.referred"); got != want {
		t.Errorf("the Thai case's stage = %q, want %q", got, want)
	}
	if !strings.HasPrefix(laoCase, base+"/cases/") || strings.HasPrefix(laoCase, thaiCase) {
		t.Fatalf("the Lao side's case link: %q", laoCase)
	}
	lao.Visit(laoCase)
	laoSees()
	if got, want := strings.TrimSpace(lao.Text("#case-stage")), lo.T("case.stage.intake"); got != want {
		t.Errorf("the Lao case's stage = %q, want %q", got, want)
	}
	lao.Visit(laoCase + "?tab=identity")
	laoSees()
	if got := browsertest.Eval[string](lao, `document.getElementById("f-prs_FirstName").value`); got != firstName {
		t.Errorf("the Lao case's first name = %q, want %q", got, firstName)
	}
	if got := browsertest.Eval[string](lao, `document.getElementById("f-prs_SecondName").value`); got != "" {
		t.Errorf("the Lao case's second name = %q, want none", got)
	}
	t.Logf("the Lao member loaded %d pages, none with the canary", laoPages)
}

func listed(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
