package stix

import (
	"bytes"
	"encoding/json"
	"errors"
)

// A top-level JSON object scanner: one pass that yields each member's key and
// raw value without decoding them, so that an object can be checked for
// unknown and null properties and typed by its "type" before encoding/json
// decodes it once into its struct. Values are only skipped, not validated:
// encoding/json validates them on the decode that follows.

var errScan = errors.New("malformed JSON object")

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// and whether it contained escapes.
func skipString(b []byte, i int) (int, bool, error) {
	esc := false
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			esc = true
			i++
		case '"':
			return i + 1, esc, nil
		}
	}
	return 0, false, errScan
}

func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		j, _, err := skipString(b, i)
		return j, err
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j, _, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errScan
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errScan
		}
		return j, nil
	}
}

// scanObject calls fn for each member of the JSON object b, with the key
// (still quoted if it had escapes: such a key is never a known property)
// and the raw value.
func scanObject(b []byte, fn func(key string, escaped bool, val []byte) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errScan
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errScan
		}
		j, esc, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : j-1]
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return errScan
		}
		i = skipWS(b, i+1)
		k, err := skipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(string(key), esc, b[i:k]); err != nil {
			return err
		}
		i = skipWS(b, k)
		if i >= len(b) {
			return errScan
		}
		if b[i] == '}' {
			if skipWS(b, i+1) != len(b) {
				return errScan
			}
			return nil
		}
		if b[i] != ',' {
			return errScan
		}
		i = skipWS(b, i+1)
	}
}

// rawString returns a JSON string value without its quotes when it has no
// escapes (the form STIX ids, types and timestamps always have), else decodes it.
func rawString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}
