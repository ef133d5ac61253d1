// Package static is the pages' stylesheet and scripts, embedded in the
// binary and served under addresses that carry a hash of their content
// (/static/app.3f2a9c1b0d.css). A changed file gets a new address, so each
// may be cached for a year and marked immutable: a phone on a slow link
// downloads it once per release, and never a stale one.
//
// Nothing is fetched from elsewhere at run time: htmx is vendored here from
// the npm registry (files/VERSIONS.txt says which version, under which
// licence).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

// Prefix is where the assets are served.
const Prefix = "/static/"

// CacheControl is the caching of a hashed asset: a year, never revalidated.
const CacheControl = "public, max-age=31536000, immutable"

//go:embed files
var embedded embed.FS

// asset is one embedded file.
type asset struct {
	name        string // app.css
	hashed      string // app.3f2a9c1b0d.css
	contentType string
	body        []byte
}

var (
	byName   = map[string]*asset{}
	byHashed = map[string]*asset{}
)

func init() {
	err := fs.WalkDir(embedded, "files", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		a := &asset{name: strings.TrimPrefix(p, "files/"), body: body}
		sum := sha256.Sum256(body)
		ext := path.Ext(a.name)
		a.hashed = strings.TrimSuffix(a.name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		a.contentType = mime.TypeByExtension(ext)
		if a.contentType == "" {
			a.contentType = fiber.MIMEOctetStream
		}
		if strings.HasPrefix(a.contentType, "text/") && !strings.Contains(a.contentType, "charset") {
			a.contentType += "; charset=utf-8"
		}
		byName[a.name] = a
		byHashed[a.hashed] = a
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("static: %v", err))
	}
}

// Path is the address of the asset name (app.css): Prefix and its hashed
// name. It panics for a name that is not embedded: a template naming a
// missing file fails its page's tests.
func Path(name string) string {
	a, ok := byName[name]
	if !ok {
		panic(fmt.Sprintf("static: no asset %q", name))
	}
	return Prefix + a.hashed
}

// Names lists the embedded assets by their plain names, sorted.
func Names() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Serve answers GET /static/:file with the asset whose hashed name is
// :file, cached for a year. A plain or outdated name is not found: only
// the current content's address is served, so a cached copy is never
// wrong.
func Serve(c *fiber.Ctx) error {
	a, ok := byHashed[c.Params("file")]
	if !ok {
		return homeward.Errorf(homeward.ENOTFOUND, "no such file")
	}
	// The security headers' default is no-store (pages hold case data);
	// these files hold none.
	c.Set(fiber.HeaderCacheControl, CacheControl)
	c.Set(fiber.HeaderContentType, a.contentType)
	return c.Send(a.body)
}
