package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/afesip/homeward/web/browsertest"
)

// The browser tests of the whole program: `homeward serve` in demo mode
// (run(), in process, as TestDemoServe starts it: a fresh data folder, port
// 0) driven by chromium (web/browsertest). People sign in as they would:
// through the demo identity provider's login form. Every page reached
// passes axe-core and writes no console error (Browser.Visit, Check).

// servedDemo starts a browser (skipping the test without chromium, or
// failing it under CI=true), then homeward serve in demo mode, and returns
// both.
func servedDemo(t *testing.T) (*browsertest.Browser, string) {
	t.Helper()
	b := browsertest.New(t)
	env := demoEnv(t)
	env["HOMEWARD_ADDR"] = "127.0.0.1:0"
	return b, startServe(t, env, "").url
}

func hasScript(s string, table *unicode.RangeTable) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(table, r) })
}

// atPhoneWidth makes the tab a 360-pixel-wide phone.
func atPhoneWidth(b *browsertest.Browser) {
	b.Do(chromedp.EmulateViewport(browsertest.PhoneWidth, browsertest.PhoneHeight, chromedp.EmulateMobile))
}

// noSidewaysScroll fails the test when the page scrolls sideways at 360 px.
func noSidewaysScroll(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	if got := browsertest.Eval[int](b, `document.documentElement.clientWidth`); got != browsertest.PhoneWidth {
		t.Fatalf("the window is %d pixels wide, want %d", got, browsertest.PhoneWidth)
	}
	if px := b.HorizontalOverflow(browsertest.PhoneWidth); px != 0 {
		b.Screenshot("overflow")
		t.Errorf("%s scrolls sideways by %d pixels at %d wide", b.Location(), px, browsertest.PhoneWidth)
	}
}

// sessionCookies are the names the session cookie may have (the __Host-
// one on https and on loopback).
var sessionCookies = []string{"__Host-homeward", "homeward"}

// getWithCookie is GET path with only the cookie, as a browser that kept a
// copy of it would send it.
func getWithCookie(t *testing.T, url, name, value string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.AddCookie(&http.Cookie{Name: name, Value: value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestBrowserCaseManagerSignsInAndOut: AFESIP Laos's case manager signs in
// through the demo identity provider's form and lands on the dashboard, in
// the browser's English (the organisation's default, Lao, comes after the
// browser's language); switches to Lao with the picker and sees Lao script,
// kept with the membership (it stays without the device's cookie); at 360
// pixels nothing scrolls sideways; a page the role does not open is an
// error page in Lao; signing out ends the session: the old cookie no
// longer signs anyone in.
func TestBrowserCaseManagerSignsInAndOut(t *testing.T) {
	b, base := servedDemo(t)
	// The organisation chooser is a page of the shell, passing axe-core,
	// that lists the demo organisations.
	b.Visit(base + "/login")
	if b.Text("#leave-quickly") == "" || !strings.Contains(b.Text("main"), "AFESIP Laos") {
		t.Errorf("the chooser is not the shell's or lacks AFESIP Laos: %s", b.Text("main"))
	}
	b.SignInDemo(base, "afesip-laos.case_manager")

	// The dashboard.
	b.Check()
	if loc := b.Location(); loc != base+"/" {
		t.Errorf("signed in at %s, want the dashboard", loc)
	}
	if h1 := b.Text("h1"); h1 != "Dashboard" {
		t.Errorf("h1 = %q", h1)
	}
	main := b.Text("main")
	for _, want := range []string{"You are signed in to AFESIP Laos.", "Case manager", "Cases", "Repatriation handoffs"} {
		if !strings.Contains(main, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, main)
		}
	}
	if hasScript(main, unicode.Lao) {
		t.Fatal("control: the English dashboard already shows Lao script")
	}
	var session, name string
	for _, n := range sessionCookies {
		if v := b.Cookie(base, n); v != "" {
			session, name = v, n
		}
	}
	if session == "" {
		t.Fatal("no session cookie after signing in")
	}

	// Lao, with the picker; the choice is the member's now.
	b.Do(
		chromedp.SetValue(chromedp.ID("language"), "lo"),
		chromedp.Click(chromedp.ID("change-language")),
	)
	b.Await(`html[lang="lo"]`)
	b.Check()
	if h1 := b.Text("h1"); !hasScript(h1, unicode.Lao) {
		t.Errorf("after choosing Lao, h1 = %q", h1)
	}
	if got := b.Text("#leave-quickly"); got != "ອອກດ່ວນ" {
		t.Errorf("Leave quickly in Lao = %q", got)
	}
	b.DeleteCookie(base, "homeward_lang") // the device forgets; the membership remembers
	b.Visit(base + "/")
	if lang := browsertest.Eval[string](b, `document.documentElement.lang`); lang != "lo" {
		t.Errorf("without the device's cookie the page is in %q: the choice was not kept with the membership", lang)
	}

	// A cheap phone: nothing scrolls sideways, on the dashboard or on the
	// error page of a page the case manager may not open.
	atPhoneWidth(b)
	b.Visit(base + "/")
	noSidewaysScroll(t, b)
	b.VisitErrorPage(base + "/settings/members")
	if h1 := b.Text("h1"); h1 != "ບໍ່ມີສິດເຂົ້າເຖິງ" {
		t.Errorf("the 403 page's h1 = %q", h1)
	}
	noSidewaysScroll(t, b)
	b.Visit(base + "/")

	// Sign out: home, signed out, and the session is gone.
	b.SignOut()
	b.Check()
	if loc := b.Location(); !strings.HasPrefix(loc, base+"/") || strings.Contains(loc, "/demo-idp") {
		t.Errorf("after signing out the browser is at %s", loc)
	}
	if v := b.Cookie(base, name); v != "" {
		t.Errorf("the session cookie is still there after signing out")
	}
	if code, _ := getWithCookie(t, base+"/api/v1/me", name, session); code != http.StatusUnauthorized {
		t.Errorf("the old session cookie on /api/v1/me: %d, want 401", code)
	}
	code, body := getWithCookie(t, base+"/", name, session)
	if code != http.StatusOK || !strings.Contains(body, `id="sign-in"`) || strings.Contains(body, `id="sign-out"`) {
		t.Errorf("the old session cookie on /: %d, want the welcome page:\n%.500s", code, body)
	}
	// Control: the check tells a live session from a dead one.
	b.SignInDemo(base, "afesip-laos.case_manager")
	if code, _ := getWithCookie(t, base+"/api/v1/me", name, b.Cookie(base, name)); code != http.StatusOK {
		t.Errorf("control: a live session on /api/v1/me: %d", code)
	}
}

// TestBrowserAdministratorSettings: AFESIP Laos's administrator goes
// through the settings pages with the keyboard's controls and no script of
// the page's own: members (a member's page, disabling them with the
// confirmation box), API tokens (one made and shown once), the identity
// provider; each page passes axe-core and fits 360 pixels.
func TestBrowserAdministratorSettings(t *testing.T) {
	b, base := servedDemo(t)
	// Members appear once they have signed in: the village volunteer first.
	b.SignInDemo(base, "afesip-laos.village_volunteer")
	b.SignOut()
	b.SignInDemo(base, "afesip-laos.tenant_admin")
	atPhoneWidth(b)
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: "Mozilla/5.0 (Linux; Android 10) Mobile", AcceptLanguage: "en"})
		return err
	}))

	b.Visit(base + "/settings/members")
	noSidewaysScroll(t, b)
	if !strings.Contains(b.Text("main"), "afesip-laos.tenant_admin") {
		t.Errorf("the members page lacks the administrator: %s", b.Text("main"))
	}

	// The volunteer's page: disable them, with the box ticked.
	b.Visit(base + "/settings/members?subject=afesip-laos.village")
	b.Do(
		chromedp.Click(chromedp.CSS(`.record h2 a`)),
	)
	b.Await("#disable-member")
	b.Check()
	noSidewaysScroll(t, b)
	b.Do(
		chromedp.Click(chromedp.ID("confirm-disable")),
		chromedp.Click(chromedp.ID("disable-member")),
	)
	b.Await("#enable-member")
	b.Check()
	if flash := b.Text(".flash"); !strings.Contains(flash, "disabled") {
		t.Errorf("flash = %q", flash)
	}
	b.Do(chromedp.Click(chromedp.ID("enable-member")))
	b.Await("#disable-member")

	// An API token, shown once.
	b.Visit(base + "/settings/api-tokens")
	noSidewaysScroll(t, b)
	b.Do(
		chromedp.SendKeys(chromedp.ID("token-name"), "monthly report"),
		chromedp.Click(chromedp.ID("token-role-auditor")),
		chromedp.Click(chromedp.ID("create-token")),
	)
	b.Await("#new-token")
	b.Check()
	noSidewaysScroll(t, b)
	token := strings.TrimSpace(browsertest.Eval[string](b, `document.getElementById("new-token").value`))
	if !regexp.MustCompile(`^hw_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Errorf("the token shown: %q", token)
	}
	if code, _ := getAs(t, base+"/api/v1/me", token); code != http.StatusOK {
		t.Errorf("the token shown does not work: %d", code)
	}
	b.Do(chromedp.Click(chromedp.ID("token-copied")))
	b.AwaitJS(`document.querySelector(".record") !== null && document.getElementById("new-token") === null`)
	if strings.Contains(b.Text("main"), token) {
		t.Error("the list shows the token again")
	}

	b.Visit(base + "/settings/identity-provider")
	noSidewaysScroll(t, b)
	if !strings.Contains(b.Text("main"), base+"/demo-idp") {
		t.Errorf("the identity provider page lacks the demo issuer: %s", b.Text("main"))
	}
}

// TestBrowserCaseIntakeInLao: AFESIP Laos's case manager, in Lao, records
// a case with the intake form on a phone-sized screen, finds it by first
// name in the search, and opens its identity tab; every page passes
// axe-core and nothing scrolls sideways at 360 pixels.
func TestBrowserCaseIntakeInLao(t *testing.T) {
	b, base := servedDemo(t)
	b.SignInDemo(base, "afesip-laos.case_manager")
	b.Do(
		chromedp.SetValue(chromedp.ID("language"), "lo"),
		chromedp.Click(chromedp.ID("change-language")),
	)
	b.Await(`html[lang="lo"]`)
	atPhoneWidth(b)

	b.Visit(base + "/cases/new")
	noSidewaysScroll(t, b)
	if h1 := b.Text("h1"); !hasScript(h1, unicode.Lao) {
		t.Errorf("the intake form's h1 = %q", h1)
	}
	b.Do(
		chromedp.SendKeys(chromedp.ID("f-prs_FirstName"), "Malivanh"),
		chromedp.SetValue(chromedp.ID("f-prs_Birthdate"), "2009-04-01"),
		chromedp.SetValue(chromedp.ID("f-prs_Gender"), "Feminine"),
		chromedp.Click(chromedp.ID("consent-services-given")),
		chromedp.SetValue(chromedp.ID("consent-services-given-by"), "girl"),
		chromedp.SetValue(chromedp.ID("consent-services-given-on"), "2025-11-03"),
		chromedp.SetValue(chromedp.ID("consent-services-basis"), "signed_form"),
		chromedp.Click(chromedp.ID("create-case")),
	)
	b.Await("#case-stage")
	b.Check()
	noSidewaysScroll(t, b)

	b.Visit(base + "/cases")
	// The list is there before the search too: wait for the page the
	// search loads (its address carries the query), not for the list.
	b.Do(chromedp.SendKeys(chromedp.ID("case-q"), "malivanh"))
	b.Submit(`#case-list`, chromedp.Click(chromedp.ID("case-search")))
	if loc := b.Location(); !strings.Contains(loc, "q=malivanh") {
		t.Fatalf("the search ended at %s", loc)
	}
	b.Check()
	noSidewaysScroll(t, b)
	if list := b.Text("#case-list"); !strings.Contains(list, "Malivanh") || strings.Count(list, "C-") != 1 {
		t.Fatalf("the search by first name lists: %q", list)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#case-list h2 a`)))
	b.Await("#case-stage")
	b.Do(chromedp.Click(chromedp.CSS(`.tabs a[href$="?tab=identity"]`)))
	b.Await(`#f-prs_FirstName`)
	b.Check()
	noSidewaysScroll(t, b)
	if got := browsertest.Eval[string](b, `document.getElementById("f-prs_FirstName").value`); got != "Malivanh" {
		t.Errorf("the identity tab's first name = %q", got)
	}
	if tab := b.Text(`.tabs a[aria-current="page"]`); !hasScript(tab, unicode.Lao) {
		t.Errorf("the identity tab's name = %q", tab)
	}
}

// inLanguage switches the signed-in member's pages to lang with the
// language picker, and waits for the page to come back in it (a new
// document: the old one is marked first, as it may be in lang already).
func inLanguage(b *browsertest.Browser, lang string) {
	b.Do(
		chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.left = "yes"`),
		chromedp.SetValue(chromedp.ID("language"), lang),
		chromedp.Click(chromedp.ID("change-language")),
	)
	b.Await(`html[lang="` + lang + `"]:not([data-left])`)
}

// pageCase is the case id in the browser's address (/cases/ID[...]).
var pageCase = regexp.MustCompile(`/cases/([0-9a-f-]{36})`)

// TestBrowserSurvivorsPath walks one girl's path through AFESIP Laos's
// pages, as its staff would, each step in another language: the case
// manager records the intake and assigns her social worker and counsellor
// with the case's assignment form (Lao); both acceptances and the admission to
// a shelter (Thai); the counsellor records the initial assessment and a
// psychological session (Malay); the social worker requests a starter kit
// (English) and adds the seller's quote to the case's documents; the case
// manager, a second person, approves the kit (French); the case manager
// records the reintegration (Lao), which schedules the follow-up visits in
// the background; the social worker records the first visit (Thai). The
// case manager's dashboard then counts her as reintegrated. Every page
// reached passes axe-core and writes no console error.
func TestBrowserSurvivorsPath(t *testing.T) {
	b, base := servedDemo(t)
	const (
		manager    = "afesip-laos.case_manager"
		social     = "afesip-laos.social_worker"
		counsellor = "afesip-laos.counsellor"
	)

	// How many cases the dashboard counts as reintegrated, before.
	b.SignInDemo(base, manager)
	inLanguage(b, "en")
	reintegrated := func() int {
		b.Visit(base + "/")
		n, err := strconv.Atoi(browsertest.Eval[string](b, `document.querySelectorAll("#chart-stages tbody td")[2].textContent`))
		if err != nil {
			t.Fatalf("the dashboard's reintegrated figure: %v", err)
		}
		return n
	}
	before := reintegrated()

	// Intake, in Lao.
	inLanguage(b, "lo")
	b.Visit(base + "/cases/new")
	b.Do(
		chromedp.SendKeys(chromedp.ID("f-prs_FirstName"), "Chanthaly"),
		chromedp.SetValue(chromedp.ID("f-prs_Birthdate"), "2008-09-14"),
		chromedp.SetValue(chromedp.ID("f-prs_Gender"), "Feminine"),
		chromedp.Click(chromedp.ID("consent-services-given")),
		chromedp.SetValue(chromedp.ID("consent-services-given-by"), "girl"),
		chromedp.SetValue(chromedp.ID("consent-services-given-on"), time.Now().Format(time.DateOnly)),
		chromedp.SetValue(chromedp.ID("consent-services-basis"), "signed_form"),
		chromedp.Click(chromedp.ID("create-case")),
	)
	b.Await("#case-stage")
	b.Check()
	m := pageCase.FindStringSubmatch(b.Location())
	if m == nil {
		t.Fatalf("the intake ended at %s", b.Location())
	}
	caseURL := base + "/cases/" + m[1]

	// Her staff, with the case's assignment form (still in Lao): the case
	// manager ticks the social worker and the counsellor, whom the form
	// shows by the names they sign in with, and saves.
	staffBox := func(subject string) string {
		id := browsertest.Eval[string](b, fmt.Sprintf(`([...document.querySelectorAll("#assignment label")]
			.find(l => l.querySelector(".ident")?.textContent === %q) || {}).htmlFor || ""`, subject))
		if id == "" {
			t.Fatalf("no %s in the case's assignment form", subject)
		}
		return id
	}
	socialBox, counsellorBox := staffBox(social), staffBox(counsellor)
	b.Do(
		chromedp.Click(chromedp.ID(socialBox)),
		chromedp.Click(chromedp.ID(counsellorBox)),
		chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.left = "yes"`),
		chromedp.Click(chromedp.ID("save-assignment")),
	)
	b.Await(`html:not([data-left]) p.flash`)
	b.Check()
	if !browsertest.Eval[bool](b, fmt.Sprintf(`document.getElementById(%q).checked && document.getElementById(%q).checked`, socialBox, counsellorBox)) {
		t.Fatal("the social worker and the counsellor are not assigned after saving the form")
	}

	// A shelter, both acceptances and the admission, in Thai.
	inLanguage(b, "th")
	b.Visit(base + "/shelters")
	b.Do(
		chromedp.SendKeys(chromedp.ID("shelter-new-name"), "Path shelter"),
		chromedp.SendKeys(chromedp.ID("shelter-new-province"), "Vientiane Capital"),
		chromedp.SetValue(chromedp.ID("shelter-new-capacity"), "12"),
		chromedp.Click(chromedp.ID("shelter-new-save")),
	)
	b.AwaitJS(`document.body.textContent.includes("Path shelter")`)
	b.Visit(caseURL + "/admission")
	if h1 := b.Text("h1"); !hasScript(h1, unicode.Thai) {
		t.Errorf("the admission page's h1 = %q", h1)
	}
	for _, by := range []string{"girl", "family"} {
		b.Do(
			chromedp.SetValue(chromedp.ID("acceptance-accepted_by"), by),
			chromedp.Click(chromedp.ID("record-acceptance")),
		)
		b.Await("#acceptance-" + by + " time")
	}
	b.Check()
	shelter := browsertest.Eval[string](b, `[...document.querySelectorAll("#admit-shelter_id option")].find(o => o.textContent.includes("Path shelter")).value`)
	b.Do(
		chromedp.SetValue(chromedp.ID("admit-shelter_id"), shelter),
		chromedp.SetValue(chromedp.ID("admit-referral_source"), "police"),
		chromedp.Click(chromedp.ID("admit-case")),
	)
	b.Await("#admission-shelter")
	b.Check()

	// The initial assessment and a session, by the counsellor, in Malay.
	b.SignInDemo(base, counsellor)
	inLanguage(b, "ms")
	b.Visit(caseURL + "/psychological")
	for i, kind := range []string{"assessment", "session"} {
		b.Do(chromedp.Click(chromedp.CSS(`details:has(#form-` + kind + `) > summary`)))
		b.Do(chromedp.SetValue(chromedp.ID("f-"+kind+"-date"), time.Now().Format(time.DateOnly)))
		if kind == "session" {
			b.Do(chromedp.SetValue(chromedp.ID("f-session-duration_minutes"), "45"))
		} else {
			b.Do(chromedp.SendKeys(chromedp.ID("f-assessment-notes"), "Sleeps badly; wants to learn sewing."))
		}
		b.Do(chromedp.Click(chromedp.ID("save-" + kind)))
		b.AwaitJS(`document.querySelectorAll("#section-psychological li.record").length >= ` + strconv.Itoa(i+1))
	}
	b.Check()
	if h1 := b.Text("h1"); hasScript(h1, unicode.Thai) || hasScript(h1, unicode.Lao) {
		t.Errorf("the psychological page's h1 is not in Malay: %q", h1)
	}

	// The starter kit, requested by the social worker, in English, with
	// its quote added to the case's documents.
	b.SignInDemo(base, social)
	inLanguage(b, "en")
	b.Visit(caseURL + "/kit")
	b.Do(
		chromedp.SendKeys(chromedp.ID("kit-plan"), "A sewing stall at the Thongkhankham market."),
		chromedp.SendKeys(chromedp.ID("item_0-description"), "Sewing machine"),
		chromedp.SetValue(chromedp.ID("item_0-quantity"), "1"),
		chromedp.SendKeys(chromedp.ID("item_0-cost"), "180"),
		chromedp.SetValue(chromedp.ID("item_0-currency"), "USD"),
		chromedp.Click(chromedp.ID("kit-request")),
	)
	b.Await(`#kits > li.record`)
	b.Check()
	kit := strings.TrimPrefix(browsertest.Eval[string](b, `document.querySelector("#kits > li.record").id`), "kit-")
	quote := filepath.Join(t.TempDir(), "quote.pdf")
	if err := os.WriteFile(quote, []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Visit(caseURL + "/documents?part=kit&entry_kind=kit&entry_id=" + kit)
	b.Do(
		chromedp.SetUploadFiles(chromedp.ID("document-file"), []string{quote}),
		chromedp.Click(chromedp.ID("upload-document")),
	)
	b.Await(`#documents-kit a[download]`)
	b.Check()
	if got := b.Text("#documents-kit"); !strings.Contains(got, "quote.pdf") {
		t.Errorf("the kit's documents: %q", got)
	}

	// Approved by a second person, the case manager, in French.
	b.SignInDemo(base, manager)
	inLanguage(b, "fr")
	b.Visit(caseURL + "/kit")
	b.Do(
		chromedp.Click(chromedp.ID("kit-"+kit+"-confirm")),
		chromedp.Click(chromedp.ID("kit-"+kit+"-approve")),
	)
	b.AwaitJS(`document.getElementById("kit-` + kit + `-approve") === null && document.getElementById("kit-` + kit + `-state") !== null`)
	b.Check()

	// Reintegration into her home village, in Lao; the schedule of visits
	// is made in the background.
	inLanguage(b, "lo")
	b.Visit(caseURL + "/followup")
	b.Do(
		chromedp.SetValue(chromedp.ID("reintegration-destination"), "home_village"),
		chromedp.SetValue(chromedp.ID("reintegration-date"), time.Now().Format(time.DateOnly)),
		chromedp.SendKeys(chromedp.ID("reintegration-place"), "Ban Phonsavang, Savannakhet"),
		chromedp.Click(chromedp.ID("reintegrate")),
	)
	b.Await("#reintegration")
	b.Check()
	for deadline := time.Now().Add(30 * time.Second); ; {
		b.Do(chromedp.Reload())
		b.AwaitJS(`document.body !== null`)
		if browsertest.Eval[bool](b, `document.getElementById("visits") !== null`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no follow-up visits were scheduled within 30 s of the reintegration")
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The first visit, recorded by the social worker, in Thai.
	b.SignInDemo(base, social)
	inLanguage(b, "th")
	b.Visit(caseURL + "/followup")
	visit := strings.TrimPrefix(browsertest.Eval[string](b, `document.querySelector("#visits > li.record").id`), "visit-")
	b.Do(chromedp.Click(chromedp.CSS(`#visit-` + visit + ` details > summary`)))
	b.Do(
		chromedp.Click(chromedp.ID("visit-"+visit+"-outcome-done")),
		chromedp.SetValue(chromedp.ID("visit-"+visit+"-visited_on"), time.Now().Format(time.DateOnly)),
		chromedp.SendKeys(chromedp.ID("visit-"+visit+"-living_situation"), "Lives with her aunt; the stall opens next month."),
		chromedp.Click(chromedp.ID("save-visit-1")),
	)
	b.AwaitJS(`document.getElementById("visit-` + visit + `").textContent.includes("Lives with her aunt")`)
	b.Check()
	if h1 := b.Text("h1"); !hasScript(h1, unicode.Thai) {
		t.Errorf("the follow-up page's h1 = %q", h1)
	}

	// The case manager's dashboard counts her among the reintegrated.
	// (Its figures follow the path: intake, shelter, reintegrated, ...)
	b.SignInDemo(base, manager)
	inLanguage(b, "en")
	if after := reintegrated(); after != before+1 {
		t.Errorf("the dashboard counts %d reintegrated cases, %d before", after, before)
	}
}
