package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
)

// Decode reads exactly one JSON value from r's body into v, rejecting unknown
// fields. The body is bounded by the route's limit (see Route.MaxBodyBytes);
// a larger body is ETOOLARGE. Malformed input is EINVALID, naming the field
// where decoding failed whenever it can be told.
func Decode(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return occsimore.Errorf(occsimore.ETOOLARGE, "request body must be at most %d bytes", mbe.Limit)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	return decodeJSON(data, v)
}

// decodeJSON is Decode on a body already read.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return occsimore.Errorf(occsimore.EINVALID, "request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(data, err)
	}
	// encoding/json replaces invalid UTF-8 in strings with U+FFFD, which
	// would store "\xff@x.example" as "\ufffd@x.example" without a word.
	// Checked after decoding, so that a syntax error is reported as such.
	if !utf8.Valid(data) {
		return invalidUTF8(data)
	}
	if _, err := dec.Token(); err != io.EOF {
		return occsimore.Errorf(occsimore.EINVALID, "request body must hold a single JSON value")
	}
	return nil
}

// decodeError turns an encoding/json error into an EINVALID naming the field.
func decodeError(data []byte, err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			return occsimore.Errorf(occsimore.EINVALID, "request body must be %s, not %s", kindName(te.Type), te.Value)
		}
		return occsimore.FieldErrorf(field, "field %s must be %s, not %s", field, kindName(te.Type), te.Value)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return syntaxError(data, fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error()))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return syntaxError(data, "malformed JSON: the body ends before the value does")
	}
	if _, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
		return fmt.Errorf("decode json: %w", err) // a bug: v is not a pointer
	}
	// DisallowUnknownFields reports an unknown field only in this message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return occsimore.FieldErrorf(name, "unknown field %q", name)
	}
	// Errors from UnmarshalJSON methods, such as a malformed time.
	return occsimore.Errorf(occsimore.EINVALID, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// invalidUTF8 is an EINVALID naming the field whose string holds the first
// invalid UTF-8 sequence of data.
func invalidUTF8(data []byte) error {
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	field := fieldAt(data, int64(off))
	if field == "" {
		return occsimore.Errorf(occsimore.EINVALID, "request body is not valid UTF-8 at byte %d", off)
	}
	return occsimore.FieldErrorf(field, "field %s is not valid UTF-8 (byte %d)", field, off)
}

// syntaxError is an EINVALID about the field being read where data stops
// being valid JSON.
func syntaxError(data []byte, msg string) error {
	field := fieldAtError(data)
	if field == "" {
		return occsimore.Errorf(occsimore.EINVALID, "%s", msg)
	}
	return occsimore.FieldErrorf(field, "%s (in field %s)", msg, field)
}

// fieldAtError walks data token by token up to its first syntax error and
// returns the dotted path of the value being read there, in the form
// json.UnmarshalTypeError.Field uses ("sub.items.2.name").
func fieldAtError(data []byte) string { return fieldAt(data, -1) }

// fieldAt walks data token by token and returns the dotted path of the value
// whose token holds byte offset stop, or, with stop < 0, of the value being
// read where data stops being valid JSON. A key holding stop names its own
// path.
func fieldAt(data []byte, stop int64) string {
	type frame struct {
		object  bool
		wantKey bool // in an object, the next string is a key
		key     string
		index   int // in an array, how many elements have begun
	}
	var stack []frame
	path := func() string {
		parts := make([]string, 0, len(stack))
		for i, f := range stack {
			switch {
			case f.object && f.key != "":
				parts = append(parts, f.key)
			case !f.object && i == len(stack)-1:
				// The error is in the innermost array, reading the
				// element after those already complete.
				parts = append(parts, strconv.Itoa(f.index))
			case !f.object:
				parts = append(parts, strconv.Itoa(f.index-1))
			}
		}
		return strings.Join(parts, ".")
	}
	// valueDone records that a complete value was read in the innermost frame.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		n := len(stack)
		if stop >= 0 && dec.InputOffset() > stop {
			if t, ok := tok.(string); ok && n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key = t
			}
			return path()
		}
		if n > 0 && !stack[n-1].object {
			if d, ok := tok.(json.Delim); !ok || d != ']' {
				stack[n-1].index++ // a new array element begins
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:n-1]
				valueDone()
			}
		case string:
			if n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key = t
				stack[n-1].wantKey = false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// kindName describes a Go type the way a JSON client thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// WriteJSON writes v as a JSON response with the given status. It returns an
// error, having written nothing, only if v cannot be encoded; a failed write
// means the client went away and is not reported.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	// A pooled buffer and encoder: json.Marshal would allocate the
	// response's bytes on every call.
	je, _ := jsonEncoders.Get().(*jsonEncoder)
	if je == nil {
		je = &jsonEncoder{}
		je.enc = json.NewEncoder(&je.buf)
	}
	defer func() {
		if je.buf.Cap() <= 64<<10 {
			jsonEncoders.Put(je)
		}
	}()
	je.buf.Reset()
	if err := je.enc.Encode(v); err != nil { // as json.Marshal, plus a newline
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(je.buf.Bytes())
	return nil
}

type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// jsonEncoders holds *jsonEncoder; a package-level pool is a cache, not
// state: any encoder serves any response.
var jsonEncoders sync.Pool

// maxListLimit is the most items one page of a list holds.
const maxListLimit = 500

// parseLimit reads a page size. An explicit 0 is refused like any other value
// out of range: leaving limit out is how a caller asks for the default.
func parseLimit(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, fmt.Errorf("limit must be an integer from 1 to %d", maxListLimit)
	}
	return n, nil
}
