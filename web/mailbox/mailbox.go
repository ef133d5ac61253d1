// Package mailbox is demo mode's mail server: instead of sending, Homeward
// keeps each message as a file in the data folder (HOMEWARD_DATA_DIR/mailbox)
// and shows them on a built-in page, GET /demo/mailbox. It refuses to exist
// outside demo mode, where mail goes through SMTP.
//
// A message is kept under a name derived from its Message-ID, and a message
// already kept is not written again: a job delivered twice shows once.
package mailbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/web/emails"
	"github.com/gofiber/fiber/v2"
)

// Path is where the page is served.
const Path = "/demo/mailbox"

// PageSize is how many of the newest messages the page shows.
const PageSize = 100

// Mailbox is a folder of kept messages.
type Mailbox struct {
	dir string
}

// New opens the mailbox of cfg's data folder, creating it. It refuses
// production, and a demo configured with HOMEWARD_SMTP_URL (whose mail
// really goes out).
func New(cfg *homeward.Config) (*Mailbox, error) {
	switch {
	case !cfg.Demo():
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "the demo mailbox is part of demo mode and refused in production (HOMEWARD_MODE=%s): mail goes through HOMEWARD_SMTP_URL", cfg.Mode)
	case cfg.SMTPURL != nil:
		return nil, homeward.Errorf(homeward.EFORBIDDEN, "the demo mailbox is not used when HOMEWARD_SMTP_URL is set")
	}
	dir := filepath.Join(cfg.DataDir, "mailbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	return &Mailbox{dir: dir}, nil
}

// Kept is a message as the mailbox keeps it.
type Kept struct {
	MessageID  string    `json:"message_id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Language   string    `json:"language"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	Date       time.Time `json:"date"`
	ReceivedAt time.Time `json:"received_at"`
}

// Send keeps m (workers.Sender). A message with the same Message-ID already
// kept is left as it is.
func (b *Mailbox) Send(ctx context.Context, m *emails.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(m.MessageID))
	name := filepath.Join(b.dir, hex.EncodeToString(sum[:16])+".json")
	body, err := json.Marshal(Kept{
		MessageID: m.MessageID, From: m.From, To: m.To, Language: m.Language,
		Subject: m.Subject, Text: m.Text, Date: m.Date, ReceivedAt: time.Now().UTC(),
	})
	if err != nil {
		return err
	}
	// Written aside, then linked into place: a reader never sees half a
	// message, and the link fails when the message is already there.
	tmp, err := os.CreateTemp(b.dir, ".incoming-*")
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(body)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	if err := os.Link(tmp.Name(), name); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("mailbox: %w", err)
	}
	return nil
}

// Messages returns the kept messages, newest first, at most limit.
func (b *Mailbox) Messages(limit int) ([]Kept, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	var out []Kept
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(b.dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("mailbox: %w", err)
		}
		var k Kept
		if err := json.Unmarshal(data, &k); err != nil {
			continue // not one of ours
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ReceivedAt.Equal(out[j].ReceivedAt) {
			return out[i].ReceivedAt.After(out[j].ReceivedAt)
		}
		return out[i].MessageID > out[j].MessageID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Page is the mailbox page handler, for api.Deps.DemoMailbox: the newest
// messages, each with its subject, addresses, time and text. Plain HTML:
// no script, one style element carrying the response's CSP nonce.
func (b *Mailbox) Page(c *fiber.Ctx) error {
	msgs, err := b.Messages(PageSize)
	if err != nil {
		return err
	}
	var out strings.Builder
	if err := page.Execute(&out, struct {
		Nonce    string
		Messages []Kept
		Limit    int
	}{api.CSPNonce(c), msgs, PageSize}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(out.String())
}

var page = template.Must(template.New("mailbox").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo mailbox · Homeward</title>
<style nonce="{{.Nonce}}">
body { font-family: system-ui, "Noto Sans Lao", "Noto Sans Thai", sans-serif; margin: 2rem auto; max-width: 50rem; padding: 0 1rem; color: #1b1b1b; }
.note { background: #fff6d6; border: 1px solid #e0c55b; padding: .75rem 1rem; }
article { border: 1px solid #ccc; border-radius: 4px; margin: 1rem 0; padding: .75rem 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0 0 .5rem; font-size: .9rem; }
dt { color: #555; }
dd { margin: 0; }
pre { white-space: pre-wrap; font-family: inherit; margin: 0; }
</style>
</head>
<body>
<h1>Demo mailbox</h1>
<p class="note">Demo mode: Homeward keeps the mail it would send here instead of sending it. Newest first; the {{.Limit}} most recent are shown. <a href="">Refresh</a></p>
{{range .Messages}}<article>
<h2 lang="{{.Language}}">{{.Subject}}</h2>
<dl>
<dt>To</dt><dd>{{.To}}</dd>
<dt>From</dt><dd>{{.From}}</dd>
<dt>Received</dt><dd><time datetime="{{.ReceivedAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}">{{when .ReceivedAt}}</time></dd>
<dt>Message-ID</dt><dd>{{.MessageID}}</dd>
</dl>
<pre lang="{{.Language}}">{{.Text}}</pre>
</article>
{{else}}<p>No mail yet.</p>
{{end}}</body>
</html>
`))
