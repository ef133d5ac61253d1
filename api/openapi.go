package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument describes every route in routes.go; openapi_test.go keeps
// the two in step both ways. Served as it is at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// openAPIETag is a strong validator of the embedded document.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}()

// serveOpenAPI answers with the embedded document. Unlike the API's other
// answers it holds nothing private, so caches may keep it for a while and
// revalidate it with its ETag.
func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderETag, openAPIETag)
	if matchesETag(c.Get(fiber.HeaderIfNoneMatch), openAPIETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, "application/yaml")
	return c.Send(openAPIDocument)
}

// matchesETag reports whether an If-None-Match header names etag, by the weak
// comparison RFC 9110 prescribes for it. (fiber's Ctx.Fresh is not used: it
// also answers 304 to a bare If-Modified-Since, which would keep a document
// from an older release fresh.)
func matchesETag(ifNoneMatch, etag string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
