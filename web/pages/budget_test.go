package pages_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"

	"github.com/afesip/homeward/web/pages"
)

// FirstPageBudget is the most the first page may cost to load, compressed:
// the page and every file it loads, headers included. A cheap phone on a
// slow link in Vientiane should get it in a few seconds.
const FirstPageBudget = 100 * 1024

// TestFirstPageSizeBudget fetches the welcome page and each stylesheet and
// script it names, as a browser would (Accept-Encoding br or gzip), over a
// real connection, and sums the bytes transferred.
func TestFirstPageSizeBudget(t *testing.T) {
	app := newServer(t, pages.Deps{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	base := "http://" + ln.Addr().String()
	// DisableCompression: count the bytes as sent, not as decoded.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	fetch := func(path, acceptEncoding string) (transferred, body int, encoding string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		headers := len(resp.Proto) + len(resp.Status) + 4
		for k, vs := range resp.Header {
			for _, v := range vs {
				headers += len(k) + len(v) + 4
			}
		}
		return headers + len(b), len(b), resp.Header.Get("Content-Encoding")
	}
	assets := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

	for _, enc := range []struct{ accept, want string }{{"br, gzip", "br"}, {"gzip", "gzip"}} {
		t.Run(enc.want, func(t *testing.T) {
			total, page, encoding := fetch("/", enc.accept)
			if encoding != enc.want {
				t.Fatalf("the page came with Content-Encoding %q, want %q", encoding, enc.want)
			}
			resp, err := http.Get(base + "/") // decoded, to read the addresses
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if page >= len(html) {
				t.Errorf("the page is not smaller compressed: %d >= %d", page, len(html))
			}
			report := fmt.Sprintf("/ %d", page)
			found := assets.FindAllStringSubmatch(string(html), -1)
			if len(found) < 3 {
				t.Fatalf("the page names %d assets: %s", len(found), html)
			}
			for _, m := range found {
				n, body, encoding := fetch(m[1], enc.accept)
				if encoding != enc.want {
					t.Errorf("%s came with Content-Encoding %q, want %q", m[1], encoding, enc.want)
				}
				total += n
				report += fmt.Sprintf(", %s %d", m[1], body)
			}
			t.Logf("first page, %s: %d bytes transferred (bodies: %s)", enc.want, total, report)
			if total > FirstPageBudget {
				t.Errorf("the first page costs %d bytes, over the budget of %d", total, FirstPageBudget)
			}
		})
	}
}
