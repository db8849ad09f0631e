package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode"

	"github.com/occsimore/occsimore"
)

// LogIngester takes raw log lines of one member and host: it parses them,
// feeds the scenarios and stores what they detect. The log detector
// implements it.
type LogIngester interface {
	// IngestLines handles lines (without their line endings) in order. The
	// slices are only valid during the call.
	IngestLines(ctx context.Context, memberID, host string, lines [][]byte) (LogIngestResult, error)
	// LogStats returns what the member's lines did since the server started,
	// with samples of lines no parser took.
	LogStats(ctx context.Context, memberID string) (occsimore.LogStats, error)
}

// LogIngestResult counts what became of the lines of one call.
type LogIngestResult struct {
	Accepted int `json:"accepted"` // a parser took the line
	Unparsed int `json:"unparsed"` // no parser took it; counted and sampled, never fatal
}

// Limits of POST /v1/logs.
const (
	maxLogBodyBytes = 32 << 20
	maxLogLineBytes = 64 << 10
	maxHostLen      = 253
	// logChunk is how many lines one IngestLines call gets.
	logChunk = 4096
)

type logPushResponse struct {
	Lines int `json:"lines"` // non-empty lines received
	LogIngestResult
	TooLong int `json:"too_long"` // lines over the limit, not handed on
}

// handlePushLogs takes raw log lines, one per line of the body. The body is
// read as lines whatever its Content-Type (text/plain is the right one), as
// shippers and `curl --data-binary` send various. Empty lines are skipped; a
// line over 64 KiB is counted and dropped.
func (s *Server) handlePushLogs(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var host string
	err := eachParam(r.URL.Query(), "host", func(key, v string) error {
		if key != "host" {
			return errUnknownParam
		}
		host = v
		return validHost(v)
	})
	if err != nil {
		return err
	}
	// Read whole before ingesting, so that a body over the limit is refused
	// without any of it ingested.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return occsimore.Errorf(occsimore.ETOOLARGE, "request body must be at most %d bytes", mbe.Limit)
		}
		return fmt.Errorf("read log lines: %w", err)
	}
	lines, tooLong := splitLines(body, maxLogLineBytes)
	resp := logPushResponse{Lines: len(lines) + tooLong, TooLong: tooLong}
	for start := 0; start < len(lines); start += logChunk {
		res, err := s.Logs.IngestLines(r.Context(), p.Member.ID, host, lines[start:min(start+logChunk, len(lines))])
		if err != nil {
			return fmt.Errorf("ingest log lines: %w", err)
		}
		resp.Accepted += res.Accepted
		resp.Unparsed += res.Unparsed
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// validHost checks a ?host= value: printable, without spaces, bounded.
func validHost(v string) error {
	if v == "" || len(v) > maxHostLen {
		return occsimore.FieldErrorf("host", "host is 1 to %d characters", maxHostLen)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return occsimore.FieldErrorf("host", "host %q has a space or control character", v)
		}
	}
	return nil
}

// splitLines splits body at \n, dropping a \r before it and empty lines.
// Lines longer than max are left out and counted. The lines share body's
// memory.
func splitLines(body []byte, max int) (lines [][]byte, tooLong int) {
	lines = make([][]byte, 0, bytes.Count(body, []byte{'\n'})+1)
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(line) == 0:
		case len(line) > max:
			tooLong++
		default:
			lines = append(lines, line)
		}
	}
	return lines, tooLong
}

// handleLogStats reports what the member's log lines did: counts by parser,
// unparsed lines with samples, and each scenario's activity.
func (s *Server) handleLogStats(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	if err := eachParam(r.URL.Query(), "", func(string, string) error { return errUnknownParam }); err != nil {
		return err
	}
	st, err := s.Logs.LogStats(r.Context(), p.Member.ID)
	if err != nil {
		return fmt.Errorf("log stats: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, st)
	return nil
}
