package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/ingest"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// scoreSummary is what `occsimore score` reports at the end.
type scoreSummary struct {
	File       string         `json:"file"`
	Lines      int            `json:"lines"`
	Scored     int            `json:"scored"`
	Rejected   int            `json:"rejected"`
	Decisions  map[string]int `json:"decisions"`
	Reasons    map[string]int `json:"top_reasons"` // first reason of reviewed and blocked events
	Errors     []string       `json:"first_errors,omitempty"`
	Seconds    float64        `json:"seconds"`
	EventsPerS float64        `json:"events_per_second"`
}

// scoredLine is one line of `occsimore score` output.
type scoredLine struct {
	Line     int                `json:"line"`
	EventID  string             `json:"event_id,omitempty"`
	Score    float64            `json:"score"`
	Decision string             `json:"decision"`
	Reasons  []occsimore.Reason `json:"reasons,omitempty"`
}

func (m *Main) scoreCommand() *cobra.Command {
	var format, out, mapping, member string
	var all bool
	cmd := &cobra.Command{
		Use:   "score FILE",
		Short: "Replay a file of events through a fresh behaviour engine and print the scores",
		Long: `Replay events, in file order, through an in-memory behaviour engine (nothing is
stored) and write one scored NDJSON line per event that reaches review or block
(every event with --all), then a summary. The engine takes the configuration
(--config, OCCSIMORE_* variables) and its profile specs from engine.specs_file,
as the server does.

FILE is NDJSON or CSV: --format says which, else the extension (.csv, .ndjson,
.jsonl, .json), else the content (a line starting with '{' is NDJSON). A CSV
file's columns are mapped by --mapping: auto (the default) maps columns by
header name when the header names event fields ("time", "card", "amount",
"attrs.NAME", "label"...) and falls back to the handbook's columns otherwise;
handbook; or a JSON mapping file of ingest.CSVMapping.

Bad lines are reported with their line and field and skipped. If every line is
rejected, the command exits 6 and names the first bad line and field.`,
		Example: "  occsimore score transactions.csv --out scored.ndjson\n" +
			"  occsimore score --format csv --mapping mapping.json export.txt --all",
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fileError(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return fmt.Errorf("stat %s: %w", args[0], err)
			}
			w := m.Stdout
			if out != "" {
				of, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("create %s: %w", out, err)
				}
				defer of.Close()
				w = of
			}
			bw := bufio.NewWriterSize(w, 1<<16)
			bar := progressbar.NewOptions64(st.Size(),
				progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription("scoring"),
				progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200*time.Millisecond),
				// Scored lines on standard output would interleave with a bar.
				progressbar.OptionSetVisibility(out != "" && !m.NoProgress))
			bc, memberID, err := m.scoreEngine(cmd.Context(), member)
			if err != nil {
				return err
			}
			counted := bufio.NewReaderSize(&countingReader{r: f, bar: bar}, 1<<16)
			if format == "" {
				format = sniffFormat(args[0], counted)
			}
			next, err := eventReader(format, mapping, counted)
			if err != nil {
				return err
			}
			sum, err := scoreStream(bc, memberID, next, bw, all, args[0])
			bar.Exit()
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write scores: %w", err)
			}
			if out == "" {
				// The scores went to standard output; the summary goes to
				// standard error so the two never mix.
				err = printScoreSummary(m.Stderr, sum)
			} else {
				err = m.print(sum, func(w io.Writer) error { return printScoreSummary(w, sum) })
			}
			if err == nil && sum.Scored == 0 && sum.Rejected > 0 {
				return occsimore.Errorf(occsimore.EINVALID, "every line of %s was rejected; the first: %s", args[0], sum.Errors[0])
			}
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "input format: ndjson or csv (default: by extension, else by content)")
	cmd.Flags().StringVar(&mapping, "mapping", "auto", "CSV column mapping: auto (by header name, else handbook), handbook, or a JSON file of ingest.CSVMapping")
	cmd.Flags().StringVar(&out, "out", "", "write scored lines to this file (default standard output) and show a progress bar")
	cmd.Flags().BoolVar(&all, "all", false, "write every event's score, not only review and block")
	cmd.Flags().StringVar(&member, "member", "", "score as this member of the store (its thresholds from the specs file apply), not as an anonymous tenant")
	return cmd
}

// countingReader advances a progress bar as the input is read.
type countingReader struct {
	r   io.Reader
	bar *progressbar.ProgressBar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bar.Add(n)
	return n, err
}

// sniffFormat tells NDJSON from CSV by the file's extension, else by its
// first non-blank byte: '{' opens an NDJSON event, anything else a CSV header.
func sniffFormat(name string, r *bufio.Reader) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".ndjson", ".jsonl", ".json":
		return "ndjson"
	}
	b, _ := r.Peek(4096) // a short file gives what it has
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(b) > 0 && b[0] == '{' {
		return "ndjson"
	}
	return "csv"
}

// eventFields are the wire names of occsimore.Event (event.go) that a CSV
// header may use as is, with "label" for a fraud label.
var eventFields = []string{"id", "kind", "time", "card", "customer", "terminal", "merchant", "user", "ip",
	"amount", "currency", "country", "lat", "lon", "mcc", "channel", "device", "user_agent", "asn", "success", "label"}

// headerMapping maps the columns of the CSV header at the start of r whose
// names are event fields. ok is false unless a column is named "time".
func headerMapping(r *bufio.Reader) (m ingest.CSVMapping, ok bool) {
	b, _ := r.Peek(64 << 10)
	line, _, _ := bytes.Cut(b, []byte("\n"))
	header, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(line, []byte("\ufeff")))).Read()
	if err != nil {
		return m, false
	}
	m.Columns = map[string]string{}
	for _, h := range header {
		f := strings.ToLower(strings.TrimSpace(h))
		if slices.Contains(eventFields, f) || strings.HasPrefix(f, "attrs.") || strings.HasPrefix(f, "entities.") {
			m.Columns[f] = h
		}
	}
	_, ok = m.Columns["time"]
	return m, ok
}

// eventReader returns a function reading the next event from r.
func eventReader(format, mapping string, r *bufio.Reader) (func(*occsimore.Event) (int, error), error) {
	switch format {
	case "ndjson":
		d := ingest.NewNDJSON(r, 0)
		return func(ev *occsimore.Event) (int, error) { err := d.Next(ev); return d.Line(), err }, nil
	case "csv":
		m := ingest.HandbookMapping()
		if mapping == "auto" {
			if hm, ok := headerMapping(r); ok {
				m = hm
			}
		} else if mapping != "handbook" {
			b, err := os.ReadFile(mapping)
			if err != nil {
				return nil, usageError{fmt.Errorf("--mapping: %w", err)}
			}
			m = ingest.CSVMapping{}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, occsimore.FieldErrorf("mapping", "%s: %v", mapping, err)
			}
		}
		if err := m.Validate(); err != nil {
			return nil, err
		}
		d, err := ingest.NewCSV(r, m)
		if err != nil {
			return nil, err
		}
		return func(ev *occsimore.Event) (int, error) { err := d.Next(ev); return d.Line(), err }, nil
	}
	return nil, usageError{fmt.Errorf("--format %q must be ndjson or csv", format)}
}

// scoreEngine builds the engine configuration score runs and the tenant its
// events belong to: without --member an anonymous one, "local", which no
// member's thresholds name; with it, the member of the store, whose
// thresholds apply as on the server.
func (m *Main) scoreEngine(ctx context.Context, slug string) (behavior.Config, string, error) {
	if slug == "" {
		bc, err := m.loadEngineConfig(ctx, nil)
		return bc, "local", err
	}
	var (
		bc behavior.Config
		id string
	)
	err := m.withStore(ctx, func(db *sqlstore.DB) error {
		mem, err := memberBySlug(ctx, db, slug)
		if err != nil {
			return err
		}
		id = mem.ID
		bc, err = m.loadEngineConfig(ctx, db)
		return err
	})
	return bc, id, err
}

// scoreStream scores every event from next and writes the scored lines.
func scoreStream(bc behavior.Config, memberID string, next func(*occsimore.Event) (int, error), w io.Writer, all bool, name string) (*scoreSummary, error) {
	eng, err := behavior.NewEngine(bc)
	if err != nil {
		return nil, fmt.Errorf("behaviour engine: %w", err)
	}
	sum := &scoreSummary{File: name, Decisions: map[string]int{}, Reasons: map[string]int{}}
	enc := json.NewEncoder(w)
	var ev occsimore.Event
	var res behavior.Result
	start := time.Now()
	for {
		line, err := next(&ev)
		if err == io.EOF {
			sum.Lines = line
			break
		}
		if err == nil {
			ev.MemberID = memberID // one tenant: the file's
			err = eng.Process(&ev, &res)
		}
		if err != nil {
			if _, ok := errors.AsType[*ingest.LineError](err); !ok && occsimore.ErrorCode(err) == occsimore.EINTERNAL {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			sum.Rejected++
			if len(sum.Errors) < 10 {
				msg := err.Error()
				if _, ok := errors.AsType[*ingest.LineError](err); !ok {
					msg = fmt.Sprintf("line %d: field %s: %s", line, occsimore.ErrorField(err), occsimore.ErrorMessage(err))
				}
				sum.Errors = append(sum.Errors, msg)
			}
			continue
		}
		sum.Scored++
		sum.Decisions[res.Decision.String()]++
		if res.Decision == behavior.Allow && !all {
			continue
		}
		sl := scoredLine{Line: line, EventID: ev.ID, Score: res.Score, Decision: res.Decision.String()}
		for _, r := range res.TopReasons() {
			sl.Reasons = append(sl.Reasons, occsimore.Reason{Code: r.Code, Role: r.Role, Text: r.String(), Score: r.Contribution})
		}
		if res.Decision != behavior.Allow && len(sl.Reasons) > 0 {
			sum.Reasons[sl.Reasons[0].Code]++
		}
		if err := enc.Encode(sl); err != nil {
			return nil, fmt.Errorf("write scores: %w", err)
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.EventsPerS = float64(sum.Scored) / sum.Seconds
	}
	return sum, nil
}

func printScoreSummary(w io.Writer, s *scoreSummary) error {
	fmt.Fprintf(w, "%s: %d lines, %d scored, %d rejected in %.1fs (%.0f events/s)\n", s.File, s.Lines, s.Scored, s.Rejected, s.Seconds, s.EventsPerS)
	for _, d := range []string{"allow", "review", "block"} {
		fmt.Fprintf(w, "  %-7s %d\n", d, s.Decisions[d])
	}
	if len(s.Reasons) > 0 {
		codes := slices.SortedFunc(maps.Keys(s.Reasons), func(a, b string) int { return cmp.Compare(s.Reasons[b], s.Reasons[a]) })
		var parts []string
		for _, c := range codes[:min(8, len(codes))] {
			parts = append(parts, fmt.Sprintf("%s %d", c, s.Reasons[c]))
		}
		fmt.Fprintf(w, "  top reasons: %s\n", strings.Join(parts, ", "))
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  rejected %s\n", e)
	}
	return nil
}
