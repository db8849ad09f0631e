package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// promqlMetricNames returns the metric names a PromQL expression selects,
// in order of appearance, without repeats.
//
// It is a tokenizer rather than the real parser on purpose: the only
// maintained PromQL parser is github.com/prometheus/prometheus/promql/parser,
// whose module brings most of Prometheus (storage, scrape, discovery...)
// into go.sum for one test. The grammar it needs is small: skip string
// literals, label matchers ({...}), ranges and subqueries ([...]), numbers
// and durations, Grafana variables ($name) and keywords; an identifier
// followed by "(" is a function; the label lists after by, without, on,
// ignoring, group_left and group_right are skipped; any other identifier is
// a metric name. A selector by {__name__=...} is refused rather than
// missed. Names of aggregations and keywords are never metric names here
// (PromQL allows a metric called "sum" only as {__name__="sum"}).
func promqlMetricNames(expr string) ([]string, error) {
	var names []string
	i, n := 0, len(expr)
	skipSpace := func() {
		for i < n && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
	}
	// skipString skips the literal starting at i.
	skipString := func() error {
		q := expr[i]
		for i++; i < n; i++ {
			switch {
			case expr[i] == '\\' && q != '`':
				i++
			case expr[i] == q:
				i++
				return nil
			}
		}
		return fmt.Errorf("%q: unterminated string", expr)
	}
	// skipGroup skips from the opening bracket at i to its closing one.
	skipGroup := func(open, close byte) (string, error) {
		start, depth := i, 0
		for i < n {
			switch c := expr[i]; {
			case c == '"' || c == '\'' || c == '`':
				if err := skipString(); err != nil {
					return "", err
				}
				continue
			case c == open:
				depth++
			case c == close:
				depth--
				if depth == 0 {
					i++
					return expr[start:i], nil
				}
			}
			i++
		}
		return "", fmt.Errorf("%q: unbalanced %c", expr, open)
	}
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }
	labelLists := []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	keywords := []string{"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
		"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
		"quantile", "limitk", "limit_ratio"}
	for i < n {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return nil, err
			}
		case c == '{':
			m, err := skipGroup('{', '}')
			if err != nil {
				return nil, err
			}
			if strings.Contains(m, "__name__") {
				return nil, fmt.Errorf("%q: a selector by __name__ is not supported", expr)
			}
		case c == '[':
			if _, err := skipGroup('[', ']'); err != nil {
				return nil, err
			}
		case c == '$': // a Grafana variable
			for i++; i < n && isIdent(expr[i]); i++ {
			}
		case '0' <= c && c <= '9' || c == '.' && i+1 < n && '0' <= expr[i+1] && expr[i+1] <= '9':
			for i < n && (isIdent(expr[i]) || expr[i] == '.' || (expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < n && isIdent(expr[i]) {
				i++
			}
			word := expr[start:i]
			skipSpace()
			switch {
			case slices.Contains(labelLists, strings.ToLower(word)):
				if i < n && expr[i] == '(' {
					if _, err := skipGroup('(', ')'); err != nil {
						return nil, err
					}
				}
			case strings.ToLower(word) == "offset":
				if i < n && expr[i] == '-' {
					i++
				}
				for i < n && isIdent(expr[i]) {
					i++
				}
			case slices.Contains(keywords, strings.ToLower(word)):
			case i < n && expr[i] == '(':
				// a function: its arguments are scanned next
			default:
				if !slices.Contains(names, word) {
					names = append(names, word)
				}
			}
		default:
			i++
		}
	}
	return names, nil
}

func TestPromqlMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (kind, decision) (rate(occsimore_events_total{job=~"$job", decision!="re}fused"}[$__rate_interval]))`, []string{"occsimore_events_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))`, []string{"a_bucket"}},
		{`sum(rate(a{x="1"}[5m])) / ignoring(code) group_left(route) sum without (instance) (b offset -1h)`, []string{"a", "b"}},
		{`topk(5, max_over_time(c[1h:5m])) and on(job) d > bool 1e-3 or e @ start()`, []string{"c", "d", "e"}},
		{`count_values("by", f) unless g{l='it\'s}'}`, []string{"f", "g"}},
		{`x{a="b}`, nil}, // unterminated string
		{"h{path=`a\"b`} * 2 + Inf + NaN", []string{"h"}},
		{`sum by (le) (x:recorded:rate5m)`, []string{"x:recorded:rate5m"}},
	} {
		got, err := promqlMetricNames(tc.expr)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: %v, want an error", tc.expr, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
	if _, err := promqlMetricNames(`{__name__="x"}`); err == nil {
		t.Error("a selector by __name__ gave no error")
	}
	if _, err := promqlMetricNames(`sum(rate(x[5m])`); err != nil {
		// An unbalanced parenthesis is Prometheus's to refuse; names are still found.
		t.Errorf("unbalanced call: %v", err)
	}
}
