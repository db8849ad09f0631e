package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
	"golang.org/x/time/rate"
)

// The OPRF (RFC 9497, verifiable mode, suite P256-SHA256) lets a member turn
// an identifier into a token without the server learning the identifier and
// without the member being able to compute tokens offline: every token costs
// a round trip the server rate-limits. Verifiable mode makes the server prove
// it used its one published key, so it cannot tag a member's queries with a
// key of their own.
//
// Wire format (both directions are opaque bytes for the adapter to carry):
//
//	request:  version 1 | uint16 n | n blinded elements (33 bytes each, compressed)
//	response: version 1 | uint16 n | n evaluated elements (33 bytes each) | DLEQ proof (64 bytes)

var oprfSuite = oprf.SuiteP256

const (
	oprfWireVersion = 1
	oprfElementLen  = 33
	oprfProofLen    = 64
	// MaxOPRFBatch bounds one request, so that one request cannot spend a
	// member's whole budget unseen or tie up the server.
	MaxOPRFBatch = 1024
)

// oprfInput binds the kind to the normalised value, as the HMAC tokens do.
func oprfInput(kind Kind, clear string) ([]byte, error) {
	if !kind.CustomerLinked() {
		return nil, fmt.Errorf("oprf: %s values travel in clear, not as tokens", kind)
	}
	v, err := NormalizeValue(kind, clear)
	if err != nil {
		return nil, err
	}
	return []byte("occsimore/oprf/v1\x00" + string(kind) + "\x00" + v), nil
}

// OPRFServer evaluates blinded identifiers under the server's key.
type OPRFServer struct {
	keyID string
	s     oprf.VerifiableServer
}

// NewOPRFServer derives the server's key from a secret seed of at least 32
// bytes (RFC 9497 DeriveKeyPair, so the key survives restarts without storing
// a scalar), under the key id that its tokens carry.
func NewOPRFServer(keyID string, seed []byte) (*OPRFServer, error) {
	if !validKeyID(keyID) {
		return nil, fmt.Errorf("oprf: key id %q is invalid", keyID)
	}
	if len(seed) < MinSecret {
		return nil, fmt.Errorf("oprf: seed is %d bytes, want at least %d", len(seed), MinSecret)
	}
	k, err := oprf.DeriveKey(oprfSuite, oprf.VerifiableMode, seed, []byte("occsimore/oprf/key/"+keyID))
	if err != nil {
		return nil, fmt.Errorf("oprf: %w", err)
	}
	return &OPRFServer{keyID: keyID, s: oprf.NewVerifiableServer(oprfSuite, k)}, nil
}

// KeyID is the id of the server's key.
func (s *OPRFServer) KeyID() string { return s.keyID }

// PublicKey is the key clients verify evaluations against.
func (s *OPRFServer) PublicKey() []byte {
	b, _ := s.s.PublicKey().MarshalBinary()
	return b
}

// ErrOPRFRequest is a malformed OPRF request or response.
var ErrOPRFRequest = errors.New("malformed OPRF message")

// Count returns the number of elements in a request without evaluating it,
// for the rate limiter.
func OPRFRequestCount(req []byte) (int, error) {
	if len(req) < 3 || req[0] != oprfWireVersion {
		return 0, fmt.Errorf("%w: bad header", ErrOPRFRequest)
	}
	n := int(binary.BigEndian.Uint16(req[1:3]))
	if n == 0 || n > MaxOPRFBatch {
		return 0, fmt.Errorf("%w: %d elements, want 1 to %d", ErrOPRFRequest, n, MaxOPRFBatch)
	}
	if len(req) != 3+n*oprfElementLen {
		return 0, fmt.Errorf("%w: %d bytes for %d elements", ErrOPRFRequest, len(req), n)
	}
	return n, nil
}

// Evaluate answers a request. It learns nothing of the identifiers.
func (s *OPRFServer) Evaluate(req []byte) ([]byte, error) {
	n, err := OPRFRequestCount(req)
	if err != nil {
		return nil, err
	}
	g := oprfSuite.Group()
	er := &oprf.EvaluationRequest{Elements: make([]oprf.Blinded, n)}
	for i := range n {
		e := g.NewElement()
		if err := e.UnmarshalBinary(req[3+i*oprfElementLen : 3+(i+1)*oprfElementLen]); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", ErrOPRFRequest, i, err)
		}
		er.Elements[i] = e
	}
	ev, err := s.s.Evaluate(er)
	if err != nil {
		return nil, fmt.Errorf("oprf: %w", err)
	}
	out := make([]byte, 3, 3+n*oprfElementLen+oprfProofLen)
	out[0] = oprfWireVersion
	binary.BigEndian.PutUint16(out[1:3], uint16(n))
	for _, e := range ev.Elements {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	p, err := ev.Proof.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return append(out, p...), nil
}

// OPRFClient blinds identifiers and turns evaluations into tokens.
type OPRFClient struct {
	keyID string
	c     oprf.VerifiableClient
}

// NewOPRFClient makes a client for the server key (id and public key).
func NewOPRFClient(keyID string, publicKey []byte) (*OPRFClient, error) {
	pk := new(oprf.PublicKey)
	if err := pk.UnmarshalBinary(oprfSuite, publicKey); err != nil {
		return nil, fmt.Errorf("oprf: public key: %w", err)
	}
	return &OPRFClient{keyID: keyID, c: oprf.NewVerifiableClient(oprfSuite, pk)}, nil
}

// OPRFQuery is the client's secret state between Blind and Finalize.
type OPRFQuery struct {
	fin *oprf.FinalizeData
	req *oprf.EvaluationRequest
}

// Blind prepares a request for identifiers of one kind.
func (c *OPRFClient) Blind(kind Kind, clears []string) (*OPRFQuery, []byte, error) {
	if len(clears) == 0 || len(clears) > MaxOPRFBatch {
		return nil, nil, fmt.Errorf("oprf: %d identifiers, want 1 to %d", len(clears), MaxOPRFBatch)
	}
	inputs := make([][]byte, len(clears))
	for i, v := range clears {
		in, err := oprfInput(kind, v)
		if err != nil {
			return nil, nil, err
		}
		inputs[i] = in
	}
	fin, er, err := c.c.Blind(inputs)
	if err != nil {
		return nil, nil, fmt.Errorf("oprf: %w", err)
	}
	out := make([]byte, 3, 3+len(inputs)*oprfElementLen)
	out[0] = oprfWireVersion
	binary.BigEndian.PutUint16(out[1:3], uint16(len(inputs)))
	for _, e := range er.Elements {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, b...)
	}
	return &OPRFQuery{fin: fin, req: er}, out, nil
}

// Finalize checks the server's proof and returns one token per identifier,
// in the order given to Blind.
func (c *OPRFClient) Finalize(q *OPRFQuery, resp []byte) ([]Token, error) {
	n := len(q.req.Elements)
	if len(resp) != 3+n*oprfElementLen+oprfProofLen || resp[0] != oprfWireVersion || int(binary.BigEndian.Uint16(resp[1:3])) != n {
		return nil, fmt.Errorf("%w: response does not fit a request of %d", ErrOPRFRequest, n)
	}
	g := oprfSuite.Group()
	ev := &oprf.Evaluation{Elements: make([]oprf.Evaluated, n), Proof: new(dleq.Proof)}
	for i := range n {
		e := g.NewElement()
		if err := e.UnmarshalBinary(resp[3+i*oprfElementLen : 3+(i+1)*oprfElementLen]); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", ErrOPRFRequest, i, err)
		}
		ev.Elements[i] = e
	}
	if err := ev.Proof.UnmarshalBinary(g, resp[3+n*oprfElementLen:]); err != nil {
		return nil, fmt.Errorf("%w: proof: %v", ErrOPRFRequest, err)
	}
	outs, err := c.c.Finalize(q.fin, ev)
	if err != nil {
		return nil, fmt.Errorf("oprf: the server's evaluation does not verify against its public key: %w", err)
	}
	toks := make([]Token, n)
	for i, o := range outs {
		if len(o) != TokenLen {
			return nil, fmt.Errorf("oprf: output is %d bytes", len(o))
		}
		toks[i] = Token{Scheme: SchemeOPRF, KeyID: c.keyID}
		copy(toks[i].MAC[:], o)
	}
	return toks, nil
}

// OPRFEvaluator carries a request to the OPRF server and brings back its
// response (an HTTP adapter, or an *OPRFServer in process).
type OPRFEvaluator interface {
	Evaluate(req []byte) ([]byte, error)
}

// OPRFTokenizer is a Tokenizer over the OPRF: one round trip per token.
type OPRFTokenizer struct {
	Client *OPRFClient
	Server OPRFEvaluator
}

// Token implements Tokenizer.
func (t OPRFTokenizer) Token(kind Kind, clear string, _ time.Time) (Token, error) {
	toks, err := t.Tokens(kind, []string{clear})
	if err != nil {
		return Token{}, err
	}
	return toks[0], nil
}

// Tokens tokenises a batch in one round trip.
func (t OPRFTokenizer) Tokens(kind Kind, clears []string) ([]Token, error) {
	q, req, err := t.Client.Blind(kind, clears)
	if err != nil {
		return nil, err
	}
	resp, err := t.Server.Evaluate(req)
	if err != nil {
		return nil, fmt.Errorf("oprf evaluate: %w", err)
	}
	return t.Client.Finalize(q, resp)
}

// OPRFLimiter bounds how many identifiers each member may evaluate: a token
// bucket per member (rate per second, burst). Enumerating 10^8 card numbers
// at 10 per second takes over 100 days, and shows in the server's counts.
type OPRFLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	members map[string]*rate.Limiter
}

// NewOPRFLimiter allows each member perSecond evaluations on average and
// burst at once.
func NewOPRFLimiter(perSecond float64, burst int) *OPRFLimiter {
	return &OPRFLimiter{limit: rate.Limit(perSecond), burst: burst, members: map[string]*rate.Limiter{}}
}

// Allow reports whether member may evaluate n more identifiers at now, and
// if so counts them; when not, it returns how long until it may.
func (l *OPRFLimiter) Allow(member string, n int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	lim := l.members[member]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.members[member] = lim
	}
	l.mu.Unlock()
	if n > l.burst {
		return false, 0
	}
	r := lim.ReserveN(now, n)
	if !r.OK() {
		return false, 0
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
