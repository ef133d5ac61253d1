package tenants

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/afesip/homeward"
	"github.com/google/uuid"
)

// Page sizes of every list (members, API tokens, notifications, the audit
// log): the API's list convention, limit default 50, at most 200.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// badCursor is the reason given for a cursor that is not a list's own.
const badCursor = "not a cursor from a previous page of this list: pass next_cursor back unchanged"

// pageLimit is a query's limit, DefaultPage when 0; out of range is
// reported on f.
func pageLimit(limit int, f homeward.FieldErrors) int {
	if limit == 0 {
		return DefaultPage
	}
	if limit < 1 || limit > MaxPage {
		f.Add("limit", fmt.Sprintf("a whole number from 1 to %d", MaxPage))
	}
	return limit
}

// A list cursor is opaque to clients: the list's name, the last id of the
// previous page, and a digest of what the list was made for (a search, a
// member): a cursor of another list is refused rather than silently
// skipping rows.
func encodeListCursor(list string, last uuid.UUID, scope string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + last.String() + ":" + scopeDigest(scope)))
}

func decodeListCursor(list, cursor, scope string) (uuid.UUID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return uuid.Nil, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != list || parts[2] != scopeDigest(scope) {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(parts[1])
	return id, err == nil
}

func scopeDigest(scope string) string {
	sum := sha256.Sum256([]byte(scope))
	return hex.EncodeToString(sum[:6])
}
