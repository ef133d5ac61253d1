package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

// decodeJSON reads the request body, which must be one JSON value of dst's
// shape, into dst. Unknown fields are refused so that a misspelt field is an
// error rather than silently dropped data.
//
// A body that does not parse (or is not declared as JSON) answers 400 invalid;
// one that parses but does not fit answers 422 invalid naming the field.
// Requiring Content-Type: application/json also means a plain cross-site form
// can never reach a JSON handler.
func decodeJSON(c *fiber.Ctx, dst any) error {
	mediaType, _, _ := strings.Cut(c.Get(fiber.HeaderContentType), ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), fiber.MIMEApplicationJSON) {
		return malformed("expected a JSON body with Content-Type: application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return malformed("expected a single JSON value in the body")
		}
		return nil
	}
	return decodeError(err, "")
}

// decodeFields reads a body that must be one JSON object, key by key, for a
// resource whose keys are checked one at a time against an allow-list
// rather than by a struct's shape (cases.go); decodeField reads each value.
func decodeFields(c *fiber.Ctx) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := decodeJSON(c, &fields); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, malformed("expected a JSON object as the body, got null")
	}
	return fields, nil
}

// decodeField reads the value of the body's key name into dst, as
// decodeJSON reads a body: unknown fields of an object refused, a value of
// the wrong type 422 invalid naming it (name, or name.field inside it).
// Numbers held in an interface stay json.Number, exact.
func decodeField(name string, raw json.RawMessage, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, name)
	}
	return nil
}

// decodeError maps an error of encoding/json to the answer: 400 for what
// does not parse, 422 naming the field for what does not fit. Inside a
// body's key (field not ""), the names are that key's.
func decodeError(err error, field string) error {
	var (
		syntax   *json.SyntaxError
		mismatch *json.UnmarshalTypeError
		herr     *homeward.Error
	)
	within := func(name string) string {
		switch {
		case field == "":
			return name
		case name == "":
			return field
		}
		return field + "." + name
	}
	switch {
	case errors.Is(err, io.EOF):
		return malformed("expected a JSON body, got an empty one")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the JSON body ends too soon")
	case errors.As(err, &syntax):
		return malformed("the body is not valid JSON (at byte " + strconv.FormatInt(syntax.Offset, 10) + ")")
	case errors.As(err, &mismatch) && within(mismatch.Field) == "":
		return homeward.Errorf(homeward.EINVALID, "expected %s as the body, got %s", jsonKind(mismatch.Type), sentKind(mismatch.Value))
	case errors.As(err, &mismatch):
		return homeward.Invalid(map[string]string{
			within(mismatch.Field): fmt.Sprintf("expected %s, got %s", jsonKind(mismatch.Type), sentKind(mismatch.Value)),
		})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this one.
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return homeward.Invalid(map[string]string{within(name): "unknown field"})
	case errors.As(err, &herr):
		// A type's UnmarshalJSON said precisely what is wrong.
		return herr
	}
	var target *json.InvalidUnmarshalError
	if errors.As(err, &target) {
		return err // a programming mistake: internal
	}
	// Left: an UnmarshalJSON that failed without a homeward error. Its text
	// is ours, not the client's to see.
	return homeward.Errorf(homeward.EINVALID, "the body holds a value that is not valid")
}

func malformed(message string) error {
	return malformedBody{homeward.Errorf(homeward.EINVALID, "%s", message)}
}

// malformedFields is a body that parses but names keys the resource does
// not take at all: 400, each key with its reason.
func malformedFields(message string, fields map[string]string) error {
	return malformedBody{&homeward.Error{Code: homeward.EINVALID, Message: message, Fields: fields}}
}

// jsonKind names t the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}

// sentKind names what the client sent ("number" of "number 1.5") without
// echoing the value back.
func sentKind(value string) string {
	kind, _, _ := strings.Cut(value, " ")
	switch kind {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "bool":
		return "true or false"
	case "number", "string":
		return "a " + kind
	}
	return kind
}
