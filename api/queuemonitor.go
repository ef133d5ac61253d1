package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// mountQueueMonitor serves the asynqmon UI under root, GET only: whatever the
// handler's own ReadOnly option says, nothing changes the queues through here.
func mountQueueMonitor(app *fiber.App, root string, monitor http.Handler, logger *slog.Logger) {
	csp := queueMonitorCSP(root, monitor, logger)
	serve := adaptor.HTTPHandler(monitor)
	handle := func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, csp)
		return serve(c)
	}
	app.Get(root, handle)
	app.Get(root+"/*", handle)
}

// inlineScript matches a <script> without attributes, that is with its code
// inline (asynqmon's page has no other kind of inline script).
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// queueMonitorCSP is the policy for asynqmon's pages, no broader than they
// need. The default policy breaks them in two ways:
//
//   - the page carries two inline scripts (its settings and webpack's chunk
//     loader) that cannot take our nonce. They are allowed by their SHA-256
//     hashes, taken once here from the page the handler renders, so no other
//     inline script can run.
//   - Material-UI inserts <style> elements at run time, without a nonce:
//     hence style-src 'unsafe-inline'. Styles cannot run code.
//
// The page's Google Fonts stylesheets stay refused on purpose: an operator's
// browser should not call Google from here. The UI falls back to system fonts
// (its icons are SVG, not the icon font). Its scripts do not need eval.
func queueMonitorCSP(root string, monitor http.Handler, logger *slog.Logger) string {
	page := &pageRecorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, root+"/", nil) // root is a constant path
	monitor.ServeHTTP(page, req)
	var hashes []string
	if page.code == 0 || page.code == http.StatusOK {
		for _, m := range inlineScript.FindAllSubmatch(page.body.Bytes(), -1) {
			sum := sha256.Sum256(m[1])
			hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
	}
	if len(hashes) == 0 {
		logger.Warn("queue monitor: its page has no inline scripts to allow; the UI may not load (is its RootPath " + root + "?)")
	}
	return "default-src 'self'; script-src 'self' " + strings.Join(hashes, " ") + "; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// pageRecorder captures one response in memory (net/http/httptest would
// register its test flags in the production binary).
type pageRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (p *pageRecorder) Header() http.Header { return p.header }
func (p *pageRecorder) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *pageRecorder) Write(b []byte) (int, error) { return p.body.Write(b) }
