package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
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
	b.Do(
		chromedp.SendKeys(chromedp.ID("case-q"), "malivanh"),
		chromedp.Click(chromedp.ID("case-search")),
	)
	b.Await("#case-list")
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
