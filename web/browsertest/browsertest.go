// Package browsertest drives a real browser for the page tests: Debian's
// chromium, headless, through github.com/chromedp/chromedp. Each test gets
// a fresh browser (its own user-data-dir: no cookie or cache from another
// test), a screenshot in test-artifacts/ when it fails, the console's errors
// (a Content-Security-Policy violation is one) and an accessibility check
// with axe-core, which is injected by the tests only (testdata/axe.min.js;
// it never enters the binary).
//
// Without chromium the tests are skipped and say why; with CI=true they
// fail instead. `make test` installs chromium (deploy/dev/ensure-services.sh).
// HOMEWARD_CHROMIUM names another binary.
//
// This package's own tests drive the pages on an HTTP server alone; the
// tests that sign in (SignInDemo) need the whole program and are in
// cmd/homeward (browser_test.go: homeward serve in demo mode, in process).
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Timeout bounds each test's whole use of the browser.
const Timeout = 90 * time.Second

// Phone is the narrowest screen the pages must fit without scrolling
// sideways: a cheap Android phone, in CSS pixels.
const (
	PhoneWidth  = 360
	PhoneHeight = 740
)

// Chromium returns the browser binary: HOMEWARD_CHROMIUM, else Debian's
// chromium (or another Chromium or Chrome on the PATH).
func Chromium() (string, error) {
	if p := os.Getenv("HOMEWARD_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	// Debian's /usr/bin/chromium is a shell wrapper around this binary;
	// the binary itself starts faster and takes the flags as given.
	candidates := []string{"/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium found (tried " + strings.Join(candidates, ", ") + ")")
}

// Browser is one headless chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	console []string // errors and exceptions the pages wrote
}

// New starts chromium for t, or skips t (fails it under CI=true) when
// chromium is missing. Everything stops when t ends; a failed t leaves a
// screenshot of the tab in test-artifacts/.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := Chromium()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need chromium under CI: %v (make test installs it: deploy/dev/ensure-services.sh)", err)
		}
		t.Skipf("browser test skipped: %v; install Debian's chromium (apt-get install chromium) or set HOMEWARD_CHROMIUM", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("lang", "en-GB"), // Accept-Language en: the tests choose other languages themselves
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	b := &Browser{t: t, ctx: ctx}
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	// Start the browser and the tab now, and listen to the console.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", path, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	// Registered last, so it runs first: the tab is still there.
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failed")
		}
	})
	return b
}

// Context is the tab's context, for chromedp calls the helpers lack.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in the tab; an error fails the test (with a screenshot).
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// SignOut presses the shell's sign-out button and waits for the signed-out
// page.
func (b *Browser) SignOut() {
	b.t.Helper()
	b.Do(chromedp.Click(chromedp.ID("sign-out")))
	b.AwaitJS(`document.getElementById("sign-in") !== null && document.getElementById("sign-out") === null`)
}

// Await waits until the loaded page has an element matching the CSS
// selector. After a click that navigates, use it rather than
// chromedp.WaitVisible: a node chromedp found may belong to the document
// being replaced, which fails with "Could not find node with given id".
func (b *Browser) Await(selector string) {
	b.t.Helper()
	b.AwaitJS(fmt.Sprintf("document.querySelector(%q) !== null", selector))
}

// AwaitJS waits until the loaded page makes the expression true.
func (b *Browser) AwaitJS(expression string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+expression+`)`))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("await")
			b.t.Fatalf("browser: waited 30 s for %s (last error: %v)", expression, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Submit runs actions that load another page (pressing a form's button,
// following a link) and waits until the new page has an element matching
// the CSS selector. The page in the tab is marked first, so an element
// the old page has already (a list a search form replaces) does not end
// the wait before the browser has left it; an action that loads nothing
// (a form the browser refused, a click that missed) times out.
func (b *Browser) Submit(selector string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.homewardLeft = "yes"`))
	b.Do(actions...)
	b.AwaitJS(fmt.Sprintf(`document.documentElement.dataset.homewardLeft === undefined && document.querySelector(%q) !== null`, selector))
}

// Eval evaluates a JavaScript expression in the page and decodes its value.
func Eval[T any](b *Browser, expression string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		b.t.Fatalf("browser: evaluating %s: %v", expression, err)
	}
	return v
}

// Visit opens url, waits for the page, and checks it (Check).
func (b *Browser) Visit(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	b.Check()
}

// Check runs the checks every page reached must pass: axe-core finds no
// accessibility violation, and the console holds no error (such as a
// script or style the Content-Security-Policy refused).
func (b *Browser) Check() {
	b.t.Helper()
	b.CheckAccessibility()
	b.CheckConsole()
}

// VisitErrorPage opens url, whose answer is an error page (a 403, a 404),
// and checks it as Visit does, except for the one console error a browser
// writes for a document with an error status.
func (b *Browser) VisitErrorPage(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	b.CheckAccessibility()
	b.checkConsole(func(m string) bool {
		return strings.Contains(m, "Failed to load resource: the server responded with a status of") && strings.Contains(m, "("+url+":")
	})
}

// CheckConsole fails the test when a page wrote an error to the console.
// Errors are reported once.
func (b *Browser) CheckConsole() {
	b.t.Helper()
	b.checkConsole(func(string) bool { return false })
}

func (b *Browser) checkConsole(expected func(string) bool) {
	b.t.Helper()
	// Console messages arrive asynchronously: give them a moment.
	time.Sleep(100 * time.Millisecond)
	b.mu.Lock()
	msgs := b.console
	b.console = nil
	b.mu.Unlock()
	for _, m := range msgs {
		if !expected(m) {
			b.t.Errorf("console error on %s: %s", b.Location(), m)
		}
	}
}

// Location is the tab's address.
func (b *Browser) Location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return loc
}

// Text is the text of the first element matching the CSS selector.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", selector, err)
	}
	return s
}

// Cookie is the value of the browser's cookie name for url ("" when it
// has none), HttpOnly ones too (read through the DevTools protocol, as a
// page's script cannot).
func (b *Browser) Cookie(url, name string) string {
	b.t.Helper()
	var value string
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		for _, c := range res.Cookies {
			if c.Name == name {
				value = c.Value
			}
		}
		return err
	}))
	return value
}

// DeleteCookie removes the browser's cookie name for url.
func (b *Browser) DeleteCookie(url, name string) {
	b.t.Helper()
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: url})
		return err
	}))
}

var axeSource = sync.OnceValues(func() ([]byte, error) {
	_, file, _, _ := runtime.Caller(0)
	return os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", "axe.min.js"))
})

// axeViolation is the part of axe-core's result a failure message needs.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target         []any  `json:"target"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

// CheckAccessibility runs axe-core (WCAG 2.x A and AA rules and its best
// practices) on the page as it is now, and fails the test for each
// violation, naming the rule, the elements and what to fix. axe is
// evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern; the page itself stays as served.
func (b *Browser) CheckAccessibility() {
	b.t.Helper()
	for _, v := range b.Axe() {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.FailureSummary, "\n", " ")))
		}
		b.t.Errorf("accessibility (%s, %s) on %s: %s\n  %s", v.ID, v.Impact, b.Location(), v.Help, strings.Join(where, "\n  "))
	}
}

// Axe returns axe-core's violations on the page as it is now.
func (b *Browser) Axe() []axeViolation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		b.t.Fatalf("injecting axe-core: %v", err)
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("running axe-core: %v", err)
	}
	var violations []axeViolation
	if err := json.Unmarshal(raw, &violations); err != nil {
		b.t.Fatalf("axe-core's result: %v", err)
	}
	return violations
}

// HorizontalOverflow is how many CSS pixels the page reaches beyond a
// screen width pixels wide (0: nothing scrolls sideways): the furthest
// right edge of any element, or the document's scroll width. It measures
// the elements because under mobile emulation Chromium reports the
// document's scroll width clamped to the screen although an element
// sticks out.
func (b *Browser) HorizontalOverflow(width int) int {
	b.t.Helper()
	return Eval[int](b, fmt.Sprintf(`(() => {
	let right = document.documentElement.scrollWidth;
	for (const e of document.querySelectorAll("body *")) {
		right = Math.max(right, Math.ceil(e.getBoundingClientRect().right + window.scrollX));
	}
	return Math.max(0, right - %d);
})()`, width))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// shots counts each test's screenshots, over all its browsers (a test
// with two people signed in side by side has two), so that none
// overwrites another's.
var shots = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// Screenshot saves the tab as test-artifacts/TEST-LABEL-N.png at the root
// of the repository, and logs where.
func (b *Browser) Screenshot(label string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	dir := filepath.Join(repositoryRoot(), "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	test := unsafeName.ReplaceAllString(b.t.Name(), "_")
	shots.Lock()
	shots.n[test]++
	n := shots.n[test]
	shots.Unlock()
	name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", test, label, n))
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", name)
}

// repositoryRoot is the folder holding go.mod, above this file.
func repositoryRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// SignInDemo starts a browser for t and signs the demo account in through
// the demo identity provider's login form, as a person would: it opens
// BASE_URL/login for the account's organisation, which sends the browser
// to BASE_URL/demo-idp; there it picks the account (a radio button whose
// value is the account's subject, such as "afesip-laos.case_manager", or
// the platform operator's "homeward.platform_operator") and submits; it
// returns once the browser is back on Homeward, signed in (the sign-out
// button is shown). The server must run in demo mode with sign-in mounted.
func SignInDemo(t *testing.T, baseURL, account string) *Browser {
	t.Helper()
	b := New(t)
	b.SignInDemo(baseURL, account)
	return b
}

// SignInDemo signs account in, in this browser (see the function
// SignInDemo).
func (b *Browser) SignInDemo(baseURL, account string) {
	b.t.Helper()
	login := baseURL + "/login?operator=1"
	if slug, _, ok := strings.Cut(account, "."); ok && slug != "homeward" {
		login = baseURL + "/login?tenant=" + slug
	}
	choice := fmt.Sprintf(`input[name="account"][value=%q]`, account)
	b.Do(
		chromedp.Navigate(login),
		chromedp.WaitVisible(chromedp.CSS(choice)),
	)
	b.Check() // the demo provider's login page is a page people reach too
	b.Do(
		chromedp.Click(chromedp.CSS(choice)),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
	)
	b.Await("#sign-out")
	if loc := b.Location(); !strings.HasPrefix(loc, baseURL+"/") || strings.HasPrefix(loc, baseURL+"/demo-idp") {
		b.t.Fatalf("signing %s in ended at %s", account, loc)
	}
}
