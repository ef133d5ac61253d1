package browsertest_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/web/browsertest"
	"github.com/afesip/homeward/web/pages"
)

type pinger struct{}

func (pinger) Ping(context.Context) error { return nil }

// serve runs Homeward's HTTP server with the pages on a local port, in
// demo mode, and returns its base URL.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := &homeward.Config{Mode: homeward.ModeDemo, BaseURL: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
	p, err := pages.New(pages.Deps{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	app := api.NewServer(api.Deps{Config: cfg, Database: pinger{}, Pages: p})
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return base
}

func hasScript(s string, table *unicode.RangeTable) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(table, r) })
}

// TestLandingPageAndLanguageSwitch: the welcome page renders with its
// "Sign in" button and "Leave quickly"; choosing Lao with the picker (by
// keyboard: focus, arrow keys, Enter) shows the page in Lao script, and
// the choice stays for the next page. axe-core passes on each page.
func TestLandingPageAndLanguageSwitch(t *testing.T) {
	base := serve(t)
	b := browsertest.New(t)
	b.Visit(base + "/")
	if h1 := b.Text("h1"); h1 != "Welcome to Homeward" {
		t.Errorf("h1 = %q", h1)
	}
	if got := b.Text("#sign-in"); got != "Sign in" {
		t.Errorf("sign-in button = %q", got)
	}
	if got := b.Text("#leave-quickly"); got != "Leave quickly" {
		t.Errorf("leave button = %q", got)
	}
	if hasScript(b.Text("main"), unicode.Lao) {
		t.Fatal("control: the English page already shows Lao script")
	}

	// The keyboard's way: Lao is the first language in the list.
	b.Do(
		chromedp.Focus(chromedp.ID("language")),
		chromedp.SetValue(chromedp.ID("language"), "lo"),
		chromedp.Focus(chromedp.ID("change-language")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitReady(chromedp.CSS(`html[lang="lo"]`)),
	)
	b.Check()
	h1 := b.Text("h1")
	if !hasScript(h1, unicode.Lao) {
		t.Errorf("after choosing Lao, h1 = %q", h1)
	}
	if got := b.Text("#leave-quickly"); got != "ອອກດ່ວນ" {
		t.Errorf("leave button in Lao = %q", got)
	}
	if u := b.Location(); u != base+"/" {
		t.Errorf("after the language form, the browser is at %s", u)
	}
	// The choice is kept on this device: the next page is in Lao too.
	b.Visit(base + "/leave")
	if got := b.Text("h1"); got != "ເຂົ້າໜຽວນຶ່ງ" {
		t.Errorf("the neutral page after choosing Lao: %q", got)
	}
}

// TestKeyboardFocusOrder: with the keyboard, "Leave quickly" comes first,
// then the skip link, which moves the focus to the main content.
func TestKeyboardFocusOrder(t *testing.T) {
	base := serve(t)
	b := browsertest.New(t)
	b.Visit(base + "/")
	active := func() string {
		return browsertest.Eval[string](b, `document.activeElement.id || document.activeElement.className || document.activeElement.tagName`)
	}
	b.Do(chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "leave-quickly" {
		t.Errorf("first Tab: %s", got)
	}
	b.Do(chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "skip" {
		t.Errorf("second Tab: %s", got)
	}
	b.Do(chromedp.KeyEvent(kb.Enter))
	if got := active(); got != "main" {
		t.Errorf("after the skip link: %s", got)
	}
}

// TestNarrowPhoneScreen: at 360 CSS pixels nothing scrolls sideways, in
// English and in Lao (whose words are longer), on the welcome and the
// neutral page; and the check sees a page that does overflow.
func TestNarrowPhoneScreen(t *testing.T) {
	base := serve(t)
	b := browsertest.New(t)
	b.Do(chromedp.EmulateViewport(browsertest.PhoneWidth, browsertest.PhoneHeight, chromedp.EmulateMobile))
	for _, lang := range []string{"en", "lo", "th"} {
		b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: "Mozilla/5.0 (Linux; Android 10) Mobile", AcceptLanguage: lang})
			return err
		}))
		for _, path := range []string{"/", "/leave"} {
			b.Visit(base + path)
			if got := browsertest.Eval[int](b, `document.documentElement.clientWidth`); got != browsertest.PhoneWidth {
				t.Fatalf("the window is %d pixels wide, want %d", got, browsertest.PhoneWidth)
			}
			if lang != "en" && browsertest.Eval[string](b, `document.documentElement.lang`) != lang {
				t.Errorf("%s: the page is not in %s", path, lang)
			}
			if px := b.HorizontalOverflow(browsertest.PhoneWidth); px != 0 {
				b.Screenshot("overflow-" + lang)
				t.Errorf("%s in %s scrolls sideways by %d pixels at %d wide", path, lang, px, browsertest.PhoneWidth)
			}
		}
	}
	// Control: a too-wide element is seen.
	b.Do(chromedp.Evaluate[chromedp.Void](`document.body.insertAdjacentHTML("beforeend", "<div id=wide></div>"); document.getElementById("wide").style.width = "600px"`))
	if px := b.HorizontalOverflow(browsertest.PhoneWidth); px <= 0 {
		t.Errorf("the check missed a 600-pixel element (overflow %d)", px)
	}
}

// TestLeaveQuickly: the button reaches the neutral page; with script it
// replaces the page in the history (Back does not return to it); without
// script the plain link still works; pressing Escape twice leaves too.
func TestLeaveQuickly(t *testing.T) {
	base := serve(t)
	b := browsertest.New(t)
	b.Visit(base + "/leave") // an earlier page in this tab's history
	b.Visit(base + "/")
	b.Do(
		chromedp.Click(chromedp.ID("leave-quickly")),
	)
	b.Await("body.neutral")
	b.Check()
	if u := b.Location(); u != base+"/leave" {
		t.Errorf("after Leave quickly: %s", u)
	}
	if got := b.Text("h1"); got != "Sticky rice" {
		t.Errorf("neutral page h1 = %q", got)
	}
	if title := browsertest.Eval[string](b, `document.title`); strings.Contains(title, "Homeward") {
		t.Errorf("the neutral page's title names Homeward: %q", title)
	}
	// Back goes to the page before the one left, not to the one left.
	entries, err := chromedp.Run(b.Context(), chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries.Entries {
		if e.URL == base+"/" {
			t.Errorf("the page that was left is still in the history: %v", entries.Entries)
		}
	}

	// Escape twice.
	b.Visit(base + "/")
	b.Do(
		chromedp.KeyEvent(kb.Escape),
		chromedp.KeyEvent(kb.Escape),
	)
	b.Await("body.neutral")

	// Without script: a plain link, so it still gets there.
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.Do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("leave-quickly")),
		chromedp.Click(chromedp.ID("leave-quickly")),
	)
	b.Await("body.neutral")
	if u := b.Location(); u != base+"/leave" {
		t.Errorf("without script, after Leave quickly: %s", u)
	}
}
