package http

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/ingest"
	"github.com/occsimore/occsimore/pipeline"
)

// EventService is what the event, alert-label and entity routes need from the
// event pipeline; *pipeline.Pipeline implements it.
type EventService interface {
	Submit(ctx context.Context, memberID string, evs []occsimore.Event, out []pipeline.Scored) error
	Label(ctx context.Context, memberID, alertID string, label occsimore.Label, by string) (*occsimore.Alert, error)
	Entity(memberID, role, id string) (behavior.ProfileView, bool)
}

var _ EventService = (*pipeline.Pipeline)(nil)

// Batch limits. A batch body is streamed, so its limit is far above the
// server's default; it is submitted in chunks so that each chunk is durable
// and acknowledged in the response before the next is read.
const (
	maxBatchBodyBytes = 256 << 20
	maxEventLineBytes = 64 << 10
	batchChunk        = 2000
)

// handlePostEvent scores one JSON event and returns its score, decision and
// reasons.
func (s *Server) handlePostEvent(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	evs := make([]occsimore.Event, 1)
	if err := ingest.DecodeJSON(body, &evs[0]); err != nil {
		return err
	}
	out := make([]pipeline.Scored, 1)
	if err := s.Events.Submit(r.Context(), p.Member.ID, evs, out); err != nil {
		return fmt.Errorf("submit event: %w", err)
	}
	if out[0].Err != nil {
		return out[0].Err
	}
	s.writeJSON(w, r, http.StatusOK, out[0])
	return nil
}

// batchLine is one line of a batch response: a scored event, or the error of
// a line that was refused.
type batchLine struct {
	Line int `json:"line"`
	*pipeline.Scored
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
	} `json:"summary"`
}

// handlePostBatch reads an NDJSON stream of events and writes one NDJSON line
// per input line back, in order, then a summary line. Bad lines are reported
// and skipped; good lines are scored. Each chunk is journaled before its lines
// are written, so every line reported as scored is durable.
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
	evs := make([]occsimore.Event, 0, batchChunk)
	lines := make([]int, 0, batchChunk)
	out := make([]pipeline.Scored, batchChunk)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	var sum batchSummary
	started := false
	start := func() {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
	}
	flush := func() error {
		if len(evs) == 0 {
			return nil
		}
		if err := s.Events.Submit(r.Context(), p.Member.ID, evs, out[:len(evs)]); err != nil {
			return fmt.Errorf("submit batch: %w", err)
		}
		start()
		for i := range evs {
			sc := &out[i]
			l := batchLine{Line: lines[i], Scored: sc}
			if sc.Err != nil {
				l.Error = problemOf(sc.Err)
				sum.Summary.Rejected++
			} else {
				sum.Summary.Accepted++
				if sc.AlertID != "" {
					sum.Summary.Alerts++
				}
			}
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("write batch response: %w", err)
			}
		}
		evs, lines = evs[:0], lines[:0]
		return nil
	}
	for {
		evs = append(evs, occsimore.Event{})
		err := dec.Next(&evs[len(evs)-1])
		if err == io.EOF {
			evs = evs[:len(evs)-1]
			break
		}
		if le, ok := errors.AsType[*ingest.LineError](err); ok {
			evs = evs[:len(evs)-1]
			// Report in order: flush the good lines read before this one.
			if err := flush(); err != nil {
				return s.batchFailed(w, r, started, err)
			}
			start()
			sum.Summary.Rejected++
			if err := enc.Encode(batchLine{Line: le.Line, Error: problemOf(le)}); err != nil {
				return fmt.Errorf("write batch response: %w", err)
			}
			continue
		}
		if err != nil {
			evs = evs[:len(evs)-1]
			// The body itself failed (too large, connection cut): what was
			// submitted so far stays accepted, and the client is told why
			// the rest was not read.
			if ferr := flush(); ferr != nil {
				return s.batchFailed(w, r, started, ferr)
			}
			return s.batchFailed(w, r, started, bodyError(err))
		}
		lines = append(lines, dec.Line())
		if len(evs) == batchChunk {
			if err := flush(); err != nil {
				return s.batchFailed(w, r, started, err)
			}
		}
	}
	if err := flush(); err != nil {
		return s.batchFailed(w, r, started, err)
	}
	start()
	sum.Summary.Lines = dec.Line()
	if err := enc.Encode(sum); err != nil {
		return fmt.Errorf("write batch response: %w", err)
	}
	return bw.Flush()
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
// started it is an ordinary problem; after, it is a final NDJSON line, since
// the status is already sent.
func (s *Server) batchFailed(w http.ResponseWriter, r *http.Request, started bool, err error) error {
	if !started {
		return err
	}
	s.logger.WarnContext(r.Context(), "batch stopped", "err", err)
	b, _ := json.Marshal(map[string]any{"error": problemOf(err)})
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
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return occsimore.Errorf(occsimore.ETOOLARGE, "request body is over the limit")
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
