package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/ingest"
)

// Batch limits. A batch body is streamed, so its limit is far above the
// server's default; it is submitted in chunks so that each chunk is durable
// and acknowledged in the response before the next is read.
const (
	maxBatchBodyBytes = 256 << 20
	maxEventLineBytes = 64 << 10
)

// handlePostEvent scores one JSON event and returns its score, decision and
// reasons.
func (s *Server) handlePostEvent(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	// The body, the event and the result come from a pool: Submit keeps
	// none of them once it returns (the journal encodes the event before it
	// answers, and the decoder copies every string out of the body).
	one, _ := s.singles.Get().(*single)
	if one == nil {
		one = new(single)
	}
	defer s.putSingle(one)
	one.ev, one.out = [1]occsimore.Event{}, [1]occsimore.Scored{}
	one.body.Reset()
	if _, err := one.body.ReadFrom(r.Body); err != nil {
		return bodyError(err)
	}
	if err := ingest.DecodeJSON(one.body.Bytes(), &one.ev[0]); err != nil {
		return err
	}
	if err := s.Events.Submit(r.Context(), p.Member.ID, one.ev[:], one.out[:]); err != nil {
		return fmt.Errorf("submit event: %w", err)
	}
	if one.out[0].Err != nil {
		return one.out[0].Err
	}
	sc := &one.out[0]
	if !plainScored(sc) {
		s.writeJSON(w, r, http.StatusOK, sc)
		return nil
	}
	// The common answer (allow, no reasons) by hand, as the batch path
	// writes its lines, into the body's buffer, which is no longer needed.
	one.body.Reset()
	b := append(one.body.AvailableBuffer(), '{')
	b = appendPlainScored(b, sc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// single is the body, the event and the result of one POST /v1/events.
type single struct {
	body bytes.Buffer
	ev   [1]occsimore.Event
	out  [1]occsimore.Scored
}

// putSingle returns one to the pool, unless an unusually large body would
// keep its buffer alive there.
func (s *Server) putSingle(one *single) {
	if one.body.Cap() > 64<<10 {
		return
	}
	s.singles.Put(one)
}

// batchLine is one line of a batch response: a scored event, or the error of
// a line that was refused.
type batchLine struct {
	Line int `json:"line"`
	*occsimore.Scored
	Error *lineProblem `json:"error,omitempty"`
}

type lineProblem struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// batchSummary is the last line of a batch response.
type batchSummary struct {
	Summary struct {
		Lines    int `json:"lines"`
		Accepted int `json:"accepted"`
		Rejected int `json:"rejected"`
		Alerts   int `json:"alerts"`
		// Stopped says why the batch ended before its last line (the body
		// was over the limit, the connection was cut); absent when every
		// line was read. Lines reported above it stay as reported.
		Stopped string `json:"stopped,omitempty"`
	} `json:"summary"`
}

// handlePostBatch reads a stream of events (NDJSON, or CSV with a mapping)
// and writes one NDJSON line per input line back, in order, then a summary
// line. Bad lines are reported and skipped; good lines are scored. Each chunk
// is journaled before its lines are written, so every line reported as
// scored is durable.
//
// Decoding and scoring overlap: a reader goroutine fills the next chunk while
// the previous one is submitted (pprof showed them as 12% and 59% of the
// batch path, run one after the other), and chunks are answered in order.
func (s *Server) handlePostBatch(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	dec, err := batchReader(r)
	if err != nil {
		return err // before full duplex, so the server still drains the body
	}
	// Writing results while the body is still being read needs full duplex
	// on HTTP/1.1; without it the client must finish sending first, which
	// also works, only with more buffering.
	_ = http.NewResponseController(w).EnableFullDuplex()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	chunks := make(chan *batchChunk, 1)
	free := make(chan *batchChunk, 2)
	free <- newBatchChunk()
	free <- newBatchChunk()
	go readChunks(ctx, dec, free, chunks)

	out := make([]occsimore.Scored, batchChunkEvents)
	bw := bufio.NewWriterSize(w, 64<<10)
	var sum batchSummary
	started := false
	var buf []byte
	for c := range chunks {
		if len(c.evs) > 0 {
			if err := s.Events.Submit(ctx, p.Member.ID, c.evs, out[:len(c.evs)]); err != nil {
				cancel()
				for range chunks { // let the reader finish
				}
				bw.Flush()
				return s.batchFailed(w, r, started, &sum, fmt.Errorf("submit batch: %w", err))
			}
		}
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		for _, it := range c.items {
			buf = buf[:0]
			if it.err != nil {
				sum.Summary.Rejected++
				buf = appendJSONLine(buf, batchLine{Line: it.line, Error: it.err})
			} else {
				sc := &out[it.ev]
				if sc.Err != nil {
					sum.Summary.Rejected++
				} else {
					sum.Summary.Accepted++
					if sc.AlertID != "" {
						sum.Summary.Alerts++
					}
				}
				buf = appendScoredLine(buf, it.line, sc)
			}
			if _, err := bw.Write(buf); err != nil {
				cancel()
				for range chunks {
				}
				return fmt.Errorf("write batch response: %w", err)
			}
		}
		if c.fatal != nil {
			// The body itself failed (too large, connection cut): what was
			// submitted so far stays accepted, and the client is told why
			// the rest was not read.
			bw.Flush()
			sum.Summary.Lines = c.lines
			return s.batchFailed(w, r, started, &sum, bodyError(c.fatal))
		}
		sum.Summary.Lines = c.lines
		free <- c.reset()
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	if _, err := bw.Write(appendJSONLine(buf[:0], sum)); err != nil {
		return fmt.Errorf("write batch response: %w", err)
	}
	return bw.Flush()
}

// batchChunkEvents is how many events are journaled and scored together.
const batchChunkEvents = 2000

// batchChunk is a run of input lines: the events to submit, and every line
// in input order, pointing at its event or carrying its error.
type batchChunk struct {
	evs   []occsimore.Event
	items []batchItem
	lines int   // input lines read up to the end of this chunk
	fatal error // the body failed after this chunk
}

type batchItem struct {
	line int
	ev   int // index in evs, when err is nil
	err  *lineProblem
}

func newBatchChunk() *batchChunk {
	return &batchChunk{evs: make([]occsimore.Event, 0, batchChunkEvents), items: make([]batchItem, 0, batchChunkEvents)}
}

func (c *batchChunk) reset() *batchChunk {
	c.evs, c.items, c.fatal = c.evs[:0], c.items[:0], nil
	return c
}

// readChunks decodes dec into chunks taken from free and sends them in
// order, closing chunks at the end of the input or when ctx is done.
func readChunks(ctx context.Context, dec eventReader, free <-chan *batchChunk, chunks chan<- *batchChunk) {
	defer close(chunks)
	for {
		var c *batchChunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return
		}
		for len(c.evs) < batchChunkEvents && len(c.items) < 2*batchChunkEvents {
			c.evs = append(c.evs, occsimore.Event{})
			err := dec.Next(&c.evs[len(c.evs)-1])
			if err == nil {
				c.items = append(c.items, batchItem{line: dec.Line(), ev: len(c.evs) - 1})
				continue
			}
			c.evs = c.evs[:len(c.evs)-1]
			if le, ok := errors.AsType[*ingest.LineError](err); ok {
				c.items = append(c.items, batchItem{line: le.Line, err: problemOf(le)})
				continue
			}
			if err != io.EOF {
				c.fatal = err
			}
			c.lines = dec.Line()
			select {
			case chunks <- c:
			case <-ctx.Done():
			}
			return
		}
		c.lines = dec.Line()
		select {
		case chunks <- c:
		case <-ctx.Done():
			return
		}
	}
}

// appendScoredLine writes the response line of a scored event. The common
// line, without reasons or error, is written by hand: through encoding/json's
// reflection it cost 11% of the batch path.
func appendScoredLine(b []byte, line int, sc *occsimore.Scored) []byte {
	if sc.Err != nil || !plainScored(sc) {
		l := batchLine{Line: line, Scored: sc}
		if sc.Err != nil {
			l.Error = problemOf(sc.Err)
		}
		return appendJSONLine(b, l)
	}
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, ',')
	return appendPlainScored(b, sc)
}

// plainScored reports whether appendPlainScored can write sc: no reasons,
// and nothing that JSON would have to escape or cannot hold.
func plainScored(sc *occsimore.Scored) bool {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	return len(sc.Reasons) == 0 && plainJSON(sc.EventID) && plainJSON(sc.AlertID) && plainJSON(string(sc.Decision)) &&
		finite(sc.Score) && finite(sc.ModelScore) && finite(sc.ShadowScore) && finite(sc.AnomalyScore)
}

// appendPlainScored appends sc's fields, as encoding/json writes them, and
// closes the object with a newline. The caller has written "{" and any
// field before.
func appendPlainScored(b []byte, sc *occsimore.Scored) []byte {
	b = append(b, `"event_id":"`...)
	b = append(b, sc.EventID...)
	b = append(b, `","score":`...)
	b = appendJSONFloat(b, sc.Score)
	if sc.Decision != "" {
		b = append(b, `,"decision":"`...)
		b = append(b, sc.Decision...)
		b = append(b, '"')
	}
	if sc.AlertID != "" {
		b = append(b, `,"alert_id":"`...)
		b = append(b, sc.AlertID...)
		b = append(b, '"')
	}
	if sc.ModelScore != 0 {
		b = append(b, `,"model_score":`...)
		b = appendJSONFloat(b, sc.ModelScore)
	}
	if sc.ModelVersion != 0 {
		b = append(b, `,"model_version":`...)
		b = strconv.AppendInt(b, int64(sc.ModelVersion), 10)
	}
	if sc.ShadowScore != 0 {
		b = append(b, `,"shadow_score":`...)
		b = appendJSONFloat(b, sc.ShadowScore)
	}
	if sc.ShadowVersion != 0 {
		b = append(b, `,"shadow_version":`...)
		b = strconv.AppendInt(b, int64(sc.ShadowVersion), 10)
	}
	if sc.AnomalyScore != 0 {
		b = append(b, `,"anomaly_score":`...)
		b = appendJSONFloat(b, sc.AnomalyScore)
	}
	return append(b, "}\n"...)
}

// appendJSONFloat writes f as encoding/json does: the shortest form, with
// an exponent only for very small or very large magnitudes.
func appendJSONFloat(b []byte, f float64) []byte {
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// plainJSON reports whether s can be written between JSON quotes as is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendJSONLine appends v as one line of JSON.
func appendJSONLine(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil { // only unencodable values: report them in place
		j, _ = json.Marshal(map[string]any{"error": &lineProblem{Code: occsimore.EINTERNAL, Message: "unencodable result"}})
	}
	b = append(b, j...)
	return append(b, '\n')
}

// eventReader is what a batch is read through: NDJSON or CSV.
type eventReader interface {
	Next(ev *occsimore.Event) error
	Line() int
}

// batchReader picks the decoder by Content-Type: NDJSON by default, or CSV
// with a column mapping given as ?mapping=handbook or as a JSON
// ingest.CSVMapping in the mapping parameter.
func batchReader(r *http.Request) (eventReader, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "", "application/x-ndjson", "application/jsonl", "application/json":
		return ingest.NewNDJSON(r.Body, maxEventLineBytes), nil
	case "text/csv":
		m, err := csvMapping(r.URL.Query().Get("mapping"))
		if err != nil {
			return nil, err
		}
		return ingest.NewCSV(r.Body, m)
	}
	return nil, occsimore.FieldErrorf("Content-Type", "Content-Type %q is not application/x-ndjson or text/csv", ct)
}

func csvMapping(s string) (ingest.CSVMapping, error) {
	switch {
	case s == "":
		return ingest.CSVMapping{}, occsimore.FieldErrorf("mapping", "a CSV batch needs ?mapping=handbook or a JSON column mapping")
	case s == "handbook":
		return ingest.HandbookMapping(), nil
	case strings.HasPrefix(s, "{"):
		var m ingest.CSVMapping
		d := json.NewDecoder(strings.NewReader(s))
		d.DisallowUnknownFields()
		if err := d.Decode(&m); err != nil {
			return m, occsimore.FieldErrorf("mapping", "mapping is not a valid JSON column mapping: %v", err)
		}
		return m, m.Validate()
	}
	return ingest.CSVMapping{}, occsimore.FieldErrorf("mapping", "mapping %q is not handbook or a JSON column mapping", s)
}

// batchFailed reports an error that stops a batch. Before the response has
// started it is an ordinary problem; after, since the status is already sent,
// it is an error line followed by the summary, which says the batch stopped.
func (s *Server) batchFailed(w http.ResponseWriter, r *http.Request, started bool, sum *batchSummary, err error) error {
	if !started {
		return err
	}
	s.logger.WarnContext(r.Context(), "batch stopped", "err", err)
	b, _ := json.Marshal(map[string]any{"error": problemOf(err)})
	w.Write(append(b, '\n'))
	// The summary says the batch stopped and why, so that a client reading
	// only the last line does not take a cut batch for a whole one.
	sum.Summary.Stopped = occsimore.ErrorMessage(err)
	b, _ = json.Marshal(sum)
	w.Write(append(b, '\n'))
	return nil
}

func problemOf(err error) *lineProblem {
	field := occsimore.ErrorField(err)
	if le, ok := errors.AsType[*ingest.LineError](err); ok && le.Field != "" {
		field = le.Field
	}
	return &lineProblem{Code: occsimore.ErrorCode(err), Field: field, Message: occsimore.ErrorMessage(err)}
}

// bodyError turns a failure to read a request body into a caller-facing error.
func bodyError(err error) error {
	if e, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return occsimore.Errorf(occsimore.ETOOLARGE, "request body is over the limit of %d bytes; nothing after it was read", e.Limit)
	}
	return occsimore.Errorf(occsimore.EINVALID, "read request body: %v", err)
}

// handleGetEntity returns an entity's habits in readable form.
func (s *Server) handleGetEntity(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	role, id := r.PathValue("role"), r.PathValue("id")
	v, ok := s.Events.Entity(p.Member.ID, role, id)
	if !ok {
		return occsimore.Errorf(occsimore.ENOTFOUND, "entity not found")
	}
	s.writeJSON(w, r, http.StatusOK, v)
	return nil
}
