package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// JSONMapping declares how to read a generic JSON log line. Field names are
// paths into the object, dotted for nesting ("client.ip"); "" means absent.
type JSONMapping struct {
	Name string // parser name reported in Entry.Source; "json" when empty
	Kind string // Entry.Kind; KindJSON when empty

	Time       string // time field
	TimeLayout string // Go layout, or "unix", "unix_ms"; RFC 3339 when empty
	IP         string // client address; "IP:port" and "[IPv6]:port" are accepted
	User       string
	Message    string
	Host       string
	Program    string
	Method     string
	Path       string
	Status     string
	UserAgent  string
	// Extra fields copied into Entry.Fields, keyed by their path.
	Extra []string
	// Required fields: a line missing one of them is rejected, so a mapping
	// does not take lines of another format.
	Required []string
}

// EnvoyAccessJSON returns the mapping for Envoy's JSON access log with the
// field names of Envoy's default format keys (start_time, method,
// x-envoy-origin-path, response_code, user-agent, downstream_remote_address,
// :authority). Lines lacking response_code or downstream_remote_address are
// left to other parsers.
func EnvoyAccessJSON() *JSONMapping {
	return &JSONMapping{
		Name: "envoy", Kind: KindHTTPAccess,
		Time: "start_time", IP: "downstream_remote_address",
		Method: "method", Path: "x-envoy-origin-path", Status: "response_code",
		UserAgent: "user-agent", Host: ":authority",
		Required: []string{"response_code", "downstream_remote_address"},
	}
}

func (m *JSONMapping) name() string {
	if m.Name == "" {
		return ParserJSON
	}
	return m.Name
}

// Parse parses one JSON object line with the mapping.
func (m *JSONMapping) Parse(line []byte) (Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return Entry{}, fmt.Errorf("json line: %w", err)
	}
	if obj == nil {
		return Entry{}, errors.New("json line: not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("json line: data after the object")
	}
	for _, f := range m.Required {
		if _, ok := lookup(obj, f); !ok {
			return Entry{}, fmt.Errorf("json line: missing required field %q", f)
		}
	}
	e := Entry{Source: m.name(), Kind: m.Kind, Count: 1}
	if e.Kind == "" {
		e.Kind = KindJSON
	}
	if m.Time != "" {
		v, ok := lookup(obj, m.Time)
		if !ok {
			return Entry{}, fmt.Errorf("json line: missing time field %q", m.Time)
		}
		t, err := jsonTime(v, m.TimeLayout)
		if err != nil {
			return Entry{}, fmt.Errorf("json line: field %q: %w", m.Time, err)
		}
		e.Time = t
	}
	if m.IP != "" {
		if v, ok := lookupString(obj, m.IP); ok && v != "" && v != "-" {
			ip, ok := parseIP(v)
			if !ok {
				// "1.2.3.4:5678" or "[::1]:5678"
				if i := strings.LastIndexByte(v, ':'); i > 0 {
					if _, pok := atoi(v[i+1:]); pok {
						ip, ok = parseIP(v[:i])
					}
				}
			}
			if !ok {
				return Entry{}, fmt.Errorf("json line: field %q is not an IP address", m.IP)
			}
			e.SourceIP = ip
		}
	}
	str := func(path string) string {
		if path == "" {
			return ""
		}
		v, _ := lookupString(obj, path)
		return v
	}
	e.User = str(m.User)
	e.Message = str(m.Message)
	e.Host = str(m.Host)
	e.Program = str(m.Program)
	e.Method = str(m.Method)
	e.Path = str(m.Path)
	e.UserAgent = str(m.UserAgent)
	if s := str(m.Status); s != "" {
		n, ok := atoi(s)
		if !ok {
			return Entry{}, fmt.Errorf("json line: field %q is not a status code", m.Status)
		}
		e.Status = n
	}
	if len(m.Extra) > 0 {
		e.Fields = make(map[string]string, len(m.Extra))
		for _, f := range m.Extra {
			if v, ok := lookupString(obj, f); ok {
				e.Fields[f] = v
			}
		}
	}
	return e, nil
}

// ParseString is Parse for a string line.
func (m *JSONMapping) ParseString(line string) (Entry, error) { return m.Parse([]byte(line)) }

func lookup(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for part := range strings.SplitSeq(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// lookupString renders scalars as strings; objects and arrays as JSON.
func lookupString(obj map[string]any, path string) (string, bool) {
	v, ok := lookup(obj, path)
	if !ok || v == nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

func jsonTime(v any, layout string) (time.Time, error) {
	switch layout {
	case "unix", "unix_ms":
		n, ok := v.(json.Number)
		if !ok {
			return time.Time{}, errors.New("epoch time is not a number")
		}
		f, err := n.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return time.Time{}, errors.New("epoch time out of range")
		}
		// Whole and fractional parts apart: dividing milliseconds by 1000
		// first would leave 1700000000123 ms at .122999906 s.
		whole, frac := math.Modf(f)
		if layout == "unix_ms" {
			return time.UnixMilli(int64(whole)).Add(time.Duration(math.Round(frac * 1e6))).UTC(), nil
		}
		return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errors.New("time is not a string")
	}
	if layout == "" {
		layout = time.RFC3339Nano
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time: %w", err)
	}
	return t, nil
}
