package stix

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The STIX patterning language (STIX 2.1 §9), after the OASIS grammar
// STIXPattern.g4: a hand-written lexer and recursive-descent parser with the
// grammar's precedences (FOLLOWEDBY < OR < AND between observation
// expressions; OR < AND inside brackets), plus the semantic rules the grammar
// leaves out: one qualifier of each kind per observation expression, START
// before STOP, positive WITHIN and REPEATS, CIDR operands of ISSUBSET and
// ISSUPERSET, valid timestamps, base64 and hex literals.

// Pattern is a parsed STIX pattern.
type Pattern struct {
	Root ObsExpr
}

// ObsExpr is an observation expression: *ObsBinary, *ObsBracket or *ObsQualified.
type ObsExpr interface{ writeTo(*strings.Builder) }

// ObsBinary joins two observation expressions with AND, OR or FOLLOWEDBY.
type ObsBinary struct {
	Op          string
	Left, Right ObsExpr
}

// ObsBracket is [comparison expression].
type ObsBracket struct{ Expr CmpExpr }

// ObsParen is a parenthesised observation expression.
type ObsParen struct{ Expr ObsExpr }

// ObsQualified is an observation expression with one qualifier.
type ObsQualified struct {
	Expr      ObsExpr
	Qualifier Qualifier
}

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind        string // "WITHIN", "REPEATS" or "START"
	Seconds     float64
	SecondsText string
	Times       int64
	Start, Stop Literal
}

// CmpExpr is a comparison expression: *CmpBinary, *CmpParen, *PropTest or *ExistsTest.
type CmpExpr interface{ writeTo(*strings.Builder) }

// CmpBinary joins two comparison expressions with AND or OR.
type CmpBinary struct {
	Op          string
	Left, Right CmpExpr
}

// CmpParen is a parenthesised comparison expression.
type CmpParen struct{ Expr CmpExpr }

// PropTest compares an object path with a literal or a set of literals.
type PropTest struct {
	Path ObjectPath
	Not  bool
	Op   string // = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET
	// Value is the operand, or for IN the first element of Set.
	Value Literal
	Set   []Literal
}

// ExistsTest is [NOT] EXISTS path.
type ExistsTest struct {
	Not  bool
	Path ObjectPath
}

// ObjectPath is object-type:property[.step|[index]]...
type ObjectPath struct {
	ObjectType string
	Steps      []PathStep
}

// PathStep is one step of an object path: a key (Key set) or an index
// (Index, or Any for [*]).
type PathStep struct {
	Key    string
	Quoted bool
	Index  int64
	IsIdx  bool
	Any    bool
}

// LiteralKind is the type of a literal.
type LiteralKind uint8

const (
	LitString LiteralKind = iota + 1
	LitInt
	LitFloat
	LitBool
	LitBinary
	LitHex
	LitTimestamp
)

// Literal is a constant of a pattern. Text is the literal as written.
type Literal struct {
	Kind  LiteralKind
	Text  string
	Str   string // decoded string, base64 or hex payload
	Int   int64
	Float float64
	Bool  bool
	Time  time.Time
}

// PatternError is a syntax or semantic error at a byte offset of the pattern.
type PatternError struct {
	Offset int
	Reason string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("pattern: at offset %d: %s", e.Offset, e.Reason)
}

// ParsePattern parses and checks a STIX pattern.
func ParsePattern(s string) (*Pattern, error) {
	p := parser{lx: lexer{src: s}}
	if err := p.next(); err != nil {
		return nil, err
	}
	root, err := p.observationExpressions()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errf("unexpected %s after the pattern", p.tok)
	}
	return &Pattern{Root: root}, nil
}

// String prints the pattern in a canonical spacing that parses back to the
// same tree.
func (p *Pattern) String() string {
	var b strings.Builder
	p.Root.writeTo(&b)
	return b.String()
}

func (x *ObsBinary) writeTo(b *strings.Builder) {
	x.Left.writeTo(b)
	b.WriteString(" " + x.Op + " ")
	x.Right.writeTo(b)
}

func (x *ObsBracket) writeTo(b *strings.Builder) {
	b.WriteByte('[')
	x.Expr.writeTo(b)
	b.WriteByte(']')
}

func (x *ObsParen) writeTo(b *strings.Builder) {
	b.WriteByte('(')
	x.Expr.writeTo(b)
	b.WriteByte(')')
}

func (x *ObsQualified) writeTo(b *strings.Builder) {
	x.Expr.writeTo(b)
	q := x.Qualifier
	switch q.Kind {
	case "WITHIN":
		b.WriteString(" WITHIN " + q.SecondsText + " SECONDS")
	case "REPEATS":
		b.WriteString(" REPEATS " + strconv.FormatInt(q.Times, 10) + " TIMES")
	case "START":
		b.WriteString(" START " + q.Start.Text + " STOP " + q.Stop.Text)
	}
}

func (x *CmpBinary) writeTo(b *strings.Builder) {
	x.Left.writeTo(b)
	b.WriteString(" " + x.Op + " ")
	x.Right.writeTo(b)
}

func (x *CmpParen) writeTo(b *strings.Builder) {
	b.WriteByte('(')
	x.Expr.writeTo(b)
	b.WriteByte(')')
}

func (x *PropTest) writeTo(b *strings.Builder) {
	x.Path.writeTo(b)
	if x.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" " + x.Op + " ")
	if x.Op == "IN" {
		b.WriteByte('(')
		for i, l := range x.Set {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(l.Text)
		}
		b.WriteByte(')')
		return
	}
	b.WriteString(x.Value.Text)
}

func (x *ExistsTest) writeTo(b *strings.Builder) {
	if x.Not {
		b.WriteString("NOT ")
	}
	b.WriteString("EXISTS ")
	x.Path.writeTo(b)
}

func (p *ObjectPath) writeTo(b *strings.Builder) {
	b.WriteString(p.ObjectType)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch {
		case s.Any:
			b.WriteString("[*]")
		case s.IsIdx:
			b.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if s.Quoted {
				b.WriteString(QuoteString(s.Key))
			} else {
				b.WriteString(s.Key)
			}
		}
	}
}

// String returns the path as written in a pattern, such as
// file:hashes.'SHA-256'.
func (p ObjectPath) String() string {
	var b strings.Builder
	p.writeTo(&b)
	return b.String()
}

// QuoteString returns s as a pattern string literal: quoted, with ' and \
// escaped (the only escapes the grammar has).
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// Lexer.

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tInt
	tFloat
	tBool
	tBinary
	tHex
	tTimestamp
	tKeyword
	tOp // = == != <> < <= > >=
	tLBrack
	tRBrack
	tLParen
	tRParen
	tColon
	tDot
	tComma
	tStar
)

type token struct {
	kind tokKind
	text string // as written
	pos  int
	str  string // decoded string literal
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of pattern"
	}
	return strconv.Quote(t.text)
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true, "MATCHES": true,
	"ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true, "LAST": true, "IN": true, "START": true,
	"STOP": true, "SECONDS": true, "WITHIN": true, "REPEATS": true, "TIMES": true,
}

type lexer struct {
	src string
	pos int
}

func (l *lexer) errf(pos int, format string, args ...any) error {
	return &PatternError{Offset: pos, Reason: fmt.Sprintf(format, args...)}
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func (l *lexer) skip() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' {
				l.pos++
				continue
			}
			if c == '/' && l.pos+1 < len(l.src) {
				switch l.src[l.pos+1] {
				case '*':
					end := strings.Index(l.src[l.pos+2:], "*/")
					if end < 0 {
						return l.errf(l.pos, "unterminated comment")
					}
					l.pos += end + 4
					continue
				case '/':
					end := strings.IndexAny(l.src[l.pos:], "\r\n")
					if end < 0 {
						l.pos = len(l.src)
					} else {
						l.pos += end
					}
					continue
				}
			}
			return nil
		}
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isSpace(r) {
			return nil
		}
		l.pos += n
	}
	return nil
}

func (l *lexer) next() (token, error) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	s := l.src
	c := s[l.pos]
	one := func(k tokKind) (token, error) {
		l.pos++
		return token{kind: k, text: s[start:l.pos], pos: start}, nil
	}
	switch c {
	case '[':
		return one(tLBrack)
	case ']':
		return one(tRBrack)
	case '(':
		return one(tLParen)
	case ')':
		return one(tRParen)
	case ':':
		return one(tColon)
	case ',':
		return one(tComma)
	case '*':
		return one(tStar)
	case '\'':
		return l.stringLit(start, start)
	case '=':
		l.pos++
		if l.pos < len(s) && s[l.pos] == '=' {
			l.pos++
		}
		return token{kind: tOp, text: "=", pos: start}, nil
	case '!':
		if l.pos+1 < len(s) && s[l.pos+1] == '=' {
			l.pos += 2
			return token{kind: tOp, text: "!=", pos: start}, nil
		}
		return token{}, l.errf(start, "unexpected '!'")
	case '<':
		l.pos++
		if l.pos < len(s) && s[l.pos] == '=' {
			l.pos++
			return token{kind: tOp, text: "<=", pos: start}, nil
		}
		if l.pos < len(s) && s[l.pos] == '>' {
			l.pos++
			return token{kind: tOp, text: "!=", pos: start}, nil
		}
		return token{kind: tOp, text: "<", pos: start}, nil
	case '>':
		l.pos++
		if l.pos < len(s) && s[l.pos] == '=' {
			l.pos++
			return token{kind: tOp, text: ">=", pos: start}, nil
		}
		return token{kind: tOp, text: ">", pos: start}, nil
	case '.':
		if l.pos+1 < len(s) && isDigit(s[l.pos+1]) {
			return l.number(start)
		}
		return one(tDot)
	case '+', '-':
		return l.number(start)
	}
	if isDigit(c) {
		return l.number(start)
	}
	if isIdentStart(c) {
		if l.pos+1 < len(s) && s[l.pos+1] == '\'' && (c == 'h' || c == 'b' || c == 't') {
			return l.prefixed(start, c)
		}
		for l.pos < len(s) && isIdentChar(s[l.pos]) {
			l.pos++
		}
		text := s[start:l.pos]
		switch {
		case keywords[text]:
			return token{kind: tKeyword, text: text, pos: start}, nil
		case text == "true" || text == "false":
			return token{kind: tBool, text: text, pos: start}, nil
		}
		return token{kind: tIdent, text: text, pos: start}, nil
	}
	r, _ := utf8.DecodeRuneInString(s[l.pos:])
	return token{}, l.errf(start, "unexpected character %q", r)
}

func (l *lexer) stringLit(start, quote int) (token, error) {
	s := l.src
	var b strings.Builder
	i := quote + 1
	for {
		if i >= len(s) {
			return token{}, l.errf(start, "unterminated string literal")
		}
		c := s[i]
		if c == '\'' {
			i++
			break
		}
		if c == '\\' {
			if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			return token{}, l.errf(i, `invalid escape in string literal: only \' and \\ are allowed`)
		}
		b.WriteByte(c)
		i++
	}
	l.pos = i
	return token{kind: tString, text: s[start:i], pos: start, str: b.String()}, nil
}

func (l *lexer) prefixed(start int, c byte) (token, error) {
	s := l.src
	end := strings.IndexByte(s[start+2:], '\'')
	if end < 0 {
		return token{}, l.errf(start, "unterminated %c'' literal", c)
	}
	body := s[start+2 : start+2+end]
	l.pos = start + 2 + end + 1
	text := s[start:l.pos]
	switch c {
	case 'h':
		if len(body)%2 != 0 {
			return token{}, l.errf(start, "hex literal has an odd number of digits")
		}
		if _, err := hex.DecodeString(body); err != nil {
			return token{}, l.errf(start, "hex literal: %v", err)
		}
		return token{kind: tHex, text: text, pos: start, str: body}, nil
	case 'b':
		if body == "" {
			return token{}, l.errf(start, "binary literal is empty")
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(body); err != nil {
			return token{}, l.errf(start, "binary literal is not padded base64: %v", err)
		}
		return token{kind: tBinary, text: text, pos: start, str: body}, nil
	default:
		if _, err := ParseTimestamp(body); err != nil && !leapSecond(body) {
			return token{}, l.errf(start, "%v", err)
		}
		return token{kind: tTimestamp, text: text, pos: start, str: body}, nil
	}
}

// leapSecond accepts the grammar's second 60, which time.Parse refuses.
func leapSecond(s string) bool {
	return timestampShape(s) && s[17:19] == "60" && s[11:13] == "23" && s[14:16] == "59"
}

func (l *lexer) number(start int) (token, error) {
	s := l.src
	i := start
	if s[i] == '+' || s[i] == '-' {
		i++
	}
	digits := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[digits:i]
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fs {
			return token{}, l.errf(start, "number %q has no digits after the point", s[start:i])
		}
		l.pos = i
		return token{kind: tFloat, text: s[start:i], pos: start}, nil
	}
	if intPart == "" {
		return token{}, l.errf(start, "expected a number after %q", s[start:i])
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return token{}, l.errf(start, "integer %q has a leading zero", s[start:i])
	}
	l.pos = i
	return token{kind: tInt, text: s[start:i], pos: start}, nil
}

// Parser.

type parser struct {
	lx  lexer
	tok token
	// depth bounds nesting so that a hostile pattern cannot exhaust the stack.
	depth int
}

const maxDepth = 200

func (p *parser) next() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errf(format string, args ...any) error {
	return &PatternError{Offset: p.tok.pos, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) isKeyword(k string) bool { return p.tok.kind == tKeyword && p.tok.text == k }

func (p *parser) expect(k tokKind, what string) error {
	if p.tok.kind != k {
		return p.errf("expected %s, found %s", what, p.tok)
	}
	return p.next()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errf("pattern nests deeper than %d", maxDepth)
	}
	return nil
}

// observationExpressions: FOLLOWEDBY (lowest) over OR over AND, all left-associative.
func (p *parser) observationExpressions() (ObsExpr, error) {
	return p.obsBinary(0)
}

var obsOps = [...]string{"FOLLOWEDBY", "OR", "AND"}

func (p *parser) obsBinary(level int) (ObsExpr, error) {
	if level == len(obsOps) {
		return p.observationExpression()
	}
	left, err := p.obsBinary(level + 1)
	if err != nil {
		return nil, err
	}
	for p.isKeyword(obsOps[level]) {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.obsBinary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: obsOps[level], Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) observationExpression() (ObsExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	var e ObsExpr
	switch p.tok.kind {
	case tLBrack:
		if err := p.next(); err != nil {
			return nil, err
		}
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRBrack, "']' closing the observation expression"); err != nil {
			return nil, err
		}
		e = &ObsBracket{Expr: c}
	case tLParen:
		if err := p.next(); err != nil {
			return nil, err
		}
		inner, err := p.observationExpressions()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRParen, "')'"); err != nil {
			return nil, err
		}
		e = &ObsParen{Expr: inner}
	default:
		return nil, p.errf("expected '[' or '(' starting an observation expression, found %s", p.tok)
	}
	seen := map[string]bool{}
	for p.tok.kind == tKeyword {
		var q Qualifier
		pos := p.tok.pos
		switch p.tok.text {
		case "WITHIN":
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tInt && p.tok.kind != tFloat {
				return nil, p.errf("WITHIN needs a positive number of seconds, found %s", p.tok)
			}
			v, err := strconv.ParseFloat(p.tok.text, 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) || strings.HasPrefix(p.tok.text, "-") {
				return nil, p.errf("WITHIN needs a positive number of seconds, found %s", p.tok)
			}
			q = Qualifier{Kind: "WITHIN", Seconds: v, SecondsText: strings.TrimPrefix(p.tok.text, "+")}
			if err := p.next(); err != nil {
				return nil, err
			}
			if !p.isKeyword("SECONDS") {
				return nil, p.errf("expected SECONDS, found %s", p.tok)
			}
		case "REPEATS":
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tInt {
				return nil, p.errf("REPEATS needs a positive integer, found %s", p.tok)
			}
			n, err := strconv.ParseInt(strings.TrimPrefix(p.tok.text, "+"), 10, 64)
			if err != nil || n <= 0 {
				return nil, p.errf("REPEATS needs a positive integer, found %s", p.tok)
			}
			q = Qualifier{Kind: "REPEATS", Times: n}
			if err := p.next(); err != nil {
				return nil, err
			}
			if !p.isKeyword("TIMES") {
				return nil, p.errf("expected TIMES, found %s", p.tok)
			}
		case "START":
			if err := p.next(); err != nil {
				return nil, err
			}
			start, err := p.timestamp("START")
			if err != nil {
				return nil, err
			}
			if !p.isKeyword("STOP") {
				return nil, p.errf("expected STOP, found %s", p.tok)
			}
			if err := p.next(); err != nil {
				return nil, err
			}
			stop, err := p.timestamp("STOP")
			if err != nil {
				return nil, err
			}
			if !stop.Time.After(start.Time) {
				return nil, &PatternError{Offset: pos, Reason: "STOP must be later than START"}
			}
			q = Qualifier{Kind: "START", Start: start, Stop: stop}
			e = &ObsQualified{Expr: e, Qualifier: q}
			if seen[q.Kind] {
				return nil, &PatternError{Offset: pos, Reason: "an observation expression must not have two START qualifiers (STIX 2.1 §9.3)"}
			}
			seen[q.Kind] = true
			continue
		default:
			return e, nil
		}
		if seen[q.Kind] {
			return nil, &PatternError{Offset: pos, Reason: "an observation expression must not have two " + q.Kind + " qualifiers (STIX 2.1 §9.3)"}
		}
		seen[q.Kind] = true
		e = &ObsQualified{Expr: e, Qualifier: q}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (p *parser) timestamp(what string) (Literal, error) {
	if p.tok.kind != tTimestamp {
		return Literal{}, p.errf("%s needs a timestamp literal t'...Z', found %s", what, p.tok)
	}
	l := p.literal()
	return l, p.next()
}

func (p *parser) cmpOr() (CmpExpr, error) {
	left, err := p.cmpAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.cmpAnd()
		if err != nil {
			return nil, err
		}
		left = &CmpBinary{Op: "OR", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) cmpAnd() (CmpExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = &CmpBinary{Op: "AND", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) propTest() (CmpExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.tok.kind == tLParen {
		if err := p.next(); err != nil {
			return nil, err
		}
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRParen, "')'"); err != nil {
			return nil, err
		}
		return &CmpParen{Expr: c}, nil
	}
	not := false
	if p.isKeyword("NOT") {
		not = true
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isKeyword("EXISTS") {
			return nil, p.errf("NOT before a comparison must be followed by EXISTS; write path NOT = value")
		}
	}
	if p.isKeyword("EXISTS") {
		if err := p.next(); err != nil {
			return nil, err
		}
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &ExistsTest{Not: not, Path: path}, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	t := &PropTest{Path: path}
	if p.isKeyword("NOT") {
		t.Not = true
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	opPos := p.tok.pos
	switch {
	case p.tok.kind == tOp:
		t.Op = p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isLiteral() {
			return nil, p.errf("expected a literal after %s, found %s", t.Op, p.tok)
		}
		if t.Op != "=" && t.Op != "!=" && (p.tok.kind == tBool) {
			return nil, p.errf("%s needs an orderable literal, not a boolean", t.Op)
		}
		t.Value = p.literal()
		return t, p.next()
	case p.isKeyword("IN"):
		t.Op = "IN"
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expect(tLParen, "'(' opening the set"); err != nil {
			return nil, err
		}
		for p.tok.kind != tRParen {
			if len(t.Set) > 0 {
				if err := p.expect(tComma, "',' or ')' in the set"); err != nil {
					return nil, err
				}
			}
			if !p.isLiteral() {
				return nil, p.errf("expected a literal in the set, found %s", p.tok)
			}
			t.Set = append(t.Set, p.literal())
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		if len(t.Set) > 0 {
			t.Value = t.Set[0]
		}
		return t, p.next()
	case p.isKeyword("LIKE"), p.isKeyword("MATCHES"), p.isKeyword("ISSUBSET"), p.isKeyword("ISSUPERSET"):
		t.Op = p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, p.errf("%s needs a string literal, found %s", t.Op, p.tok)
		}
		t.Value = p.literal()
		if t.Op == "ISSUBSET" || t.Op == "ISSUPERSET" {
			if !validNet(t.Value.Str) {
				return nil, &PatternError{Offset: opPos, Reason: fmt.Sprintf("%s needs an IP address or CIDR, found %s", t.Op, t.Value.Text)}
			}
		}
		return t, p.next()
	}
	return nil, p.errf("expected a comparison operator after %s, found %s", path, p.tok)
}

func validNet(s string) bool {
	if strings.Contains(s, "/") {
		_, err := netip.ParsePrefix(s)
		return err == nil
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func (p *parser) isLiteral() bool {
	switch p.tok.kind {
	case tString, tInt, tFloat, tBool, tBinary, tHex, tTimestamp:
		return true
	}
	return false
}

// literal converts the current token (a literal) to a Literal.
func (p *parser) literal() Literal {
	t := p.tok
	l := Literal{Text: t.text, Str: t.str}
	switch t.kind {
	case tString:
		l.Kind = LitString
	case tInt:
		l.Kind = LitInt
		v, err := strconv.ParseInt(strings.TrimPrefix(t.text, "+"), 10, 64)
		if err != nil {
			// Beyond int64: keep it as a float, which is how the grammar's
			// unbounded integers compare anyway.
			l.Kind = LitFloat
			l.Float, _ = strconv.ParseFloat(t.text, 64)
		}
		l.Int = v
		l.Text = strings.TrimPrefix(t.text, "+")
	case tFloat:
		l.Kind = LitFloat
		l.Float, _ = strconv.ParseFloat(t.text, 64)
		l.Text = strings.TrimPrefix(t.text, "+")
	case tBool:
		l.Kind = LitBool
		l.Bool = t.text == "true"
	case tBinary:
		l.Kind = LitBinary
	case tHex:
		l.Kind = LitHex
	case tTimestamp:
		l.Kind = LitTimestamp
		l.Time, _ = ParseTimestamp(t.str)
	}
	return l
}

// objectPath: objectType ':' firstComponent ( '.' key | '[' index ']' )*
func (p *parser) objectPath() (ObjectPath, error) {
	var path ObjectPath
	if p.tok.kind != tIdent {
		return path, p.errf("expected an object type such as ipv4-addr, found %s", p.tok)
	}
	path.ObjectType = p.tok.text
	if err := p.next(); err != nil {
		return path, err
	}
	if p.tok.kind != tColon {
		return path, p.errf("expected ':' after the object type %q, found %s", path.ObjectType, p.tok)
	}
	// The property follows the colon at once: "file: name" is not a path.
	if err := p.next(); err != nil {
		return path, err
	}
	first, err := p.key("property name")
	if err != nil {
		return path, err
	}
	path.Steps = append(path.Steps, first)
	for {
		switch p.tok.kind {
		case tDot:
			if err := p.next(); err != nil {
				return path, err
			}
			k, err := p.key("property name after '.'")
			if err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, k)
		case tLBrack:
			if err := p.next(); err != nil {
				return path, err
			}
			var st PathStep
			switch p.tok.kind {
			case tStar:
				st = PathStep{Any: true}
			case tInt:
				v, err := strconv.ParseInt(strings.TrimPrefix(p.tok.text, "+"), 10, 64)
				if err != nil {
					return path, p.errf("index %s out of range", p.tok)
				}
				st = PathStep{IsIdx: true, Index: v}
			default:
				return path, p.errf("expected an index or '*', found %s", p.tok)
			}
			if err := p.next(); err != nil {
				return path, err
			}
			if err := p.expect(tRBrack, "']' closing the index"); err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, st)
		default:
			return path, nil
		}
	}
}

func (p *parser) key(what string) (PathStep, error) {
	switch p.tok.kind {
	case tIdent:
		if strings.Contains(p.tok.text, "-") {
			return PathStep{}, p.errf("property name %s has a hyphen: quote it", p.tok)
		}
		st := PathStep{Key: p.tok.text}
		return st, p.next()
	case tString:
		st := PathStep{Key: p.tok.str, Quoted: true}
		return st, p.next()
	case tBool, tKeyword:
		// A keyword or boolean spelled as a property (e.g. "x:TIMES") is an
		// identifier to the grammar only when quoted.
		return PathStep{}, p.errf("expected a %s, found the keyword %s", what, p.tok)
	}
	return PathStep{}, p.errf("expected a %s, found %s", what, p.tok)
}
