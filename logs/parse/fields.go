package parse

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"time"
)

// Named lists the entry's set fields by name in snake case ("source_ip"),
// a map field's entries as name.key, for `occsimore logs explain`. It reads
// the struct by reflection, so that a field added to Entry is shown without
// another change; it is not on the ingest path.
func (e *Entry) Named() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(e).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f, name := v.Field(i), snake(t.Field(i).Name)
		if !t.Field(i).IsExported() || f.IsZero() {
			continue
		}
		switch x := f.Interface().(type) {
		case time.Time:
			out[name] = x.Format(time.RFC3339)
		case netip.Addr:
			out[name] = x.String()
		case map[string]string:
			for k, val := range x {
				out[name+"."+k] = val
			}
		default:
			out[name] = fmt.Sprint(x)
		}
	}
	return out
}

// snake writes a Go field name in snake case: SourceIP → source_ip.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if 'A' <= r && r <= 'Z' {
			if i > 0 && !('A' <= rune(s[i-1]) && rune(s[i-1]) <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
