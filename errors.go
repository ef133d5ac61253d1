package homeward

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. Each maps to one HTTP status in api/errors.go; the set is fixed
// by docs/architecture.md (rule 8).
const (
	EINVALID         = "invalid"
	EUNAUTHENTICATED = "unauthenticated"
	EFORBIDDEN       = "forbidden"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	ETOOLARGE        = "too_large"
	ERATELIMITED     = "rate_limited"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
)

// Error is the application's error: a code, a message safe to show to the
// caller, and for invalid input the reason per field. Anything that is not an
// *Error is internal and is never shown to a client.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("homeward %s: %s", e.Code, e.Message)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return fmt.Sprintf("homeward %s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming each bad field and why.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "some fields are not valid", Fields: fields}
}

// ErrorCode returns the code of err, EINTERNAL when err is not an *Error and
// "" when err is nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err that may be shown to a client.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}

// FieldErrors collects per-field reasons while validating input.
type FieldErrors map[string]string

// Add records reason for field unless the field already has one.
func (f FieldErrors) Add(field, reason string) {
	if _, ok := f[field]; !ok {
		f[field] = reason
	}
}

// Err returns nil when no field was reported, else an EINVALID *Error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}
