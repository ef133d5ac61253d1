package static

import (
	"regexp"
	"slices"
	"testing"
)

// TestHashedNames: every embedded file has an address carrying a hash of
// its content, distinct from every other; the vendored htmx and its
// licence are there; an unknown name is a programming error.
func TestHashedNames(t *testing.T) {
	names := Names()
	for _, want := range []string{"app.css", "app.js", "htmx.min.js", "htmx.LICENSE.txt"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is not embedded (%v)", want, names)
		}
	}
	seen := map[string]bool{}
	hashed := regexp.MustCompile(`^/static/[A-Za-z0-9.]+\.[0-9a-f]{10}\.[a-z]+$`)
	for _, n := range names {
		p := Path(n)
		if !hashed.MatchString(p) || seen[p] {
			t.Errorf("%s: address %s", n, p)
		}
		seen[p] = true
	}
	defer func() {
		if recover() == nil {
			t.Error("Path of an unknown file did not panic")
		}
	}()
	Path("missing.css")
}
