package tenants

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// The list helpers for feature packages (tenants/cases, ...): the same
// page sizes, cursors and reasons as every list here.

// BadCursor is the reason given for a cursor that is not a list's own.
const BadCursor = badCursor

// PageLimit is a query's limit, DefaultPage when 0; out of range is
// reported on f as "limit".
func PageLimit(limit int, f homeward.FieldErrors) int { return pageLimit(limit, f) }

// EncodeListCursor is the opaque cursor of list after last, for the
// request described by scope (a search, a filter).
func EncodeListCursor(list string, last uuid.UUID, scope string) string {
	return encodeListCursor(list, last, scope)
}

// DecodeListCursor reads back what EncodeListCursor wrote for the same list
// and scope; false for anything else.
func DecodeListCursor(list, cursor, scope string) (uuid.UUID, bool) {
	return decodeListCursor(list, cursor, scope)
}

// EncodeKeysetCursor is a cursor for a list ordered by a time then id
// (newest first): the list, the last row's time and id, and the scope.
func EncodeKeysetCursor(list string, at time.Time, last uuid.UUID, scope string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(at.UnixMicro(), 10) + ":" +
		last.String() + ":" + scopeDigest(scope)))
}

// DecodeKeysetCursor reads back EncodeKeysetCursor; false for anything else.
func DecodeKeysetCursor(list, cursor, scope string) (time.Time, uuid.UUID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 4 || parts[0] != list || parts[3] != scopeDigest(scope) {
		return time.Time{}, uuid.Nil, false
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	id, err := uuid.Parse(parts[2])
	return time.UnixMicro(micros).UTC(), id, err == nil
}
