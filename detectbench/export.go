package detectbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteEvents writes the events of sets as NDJSON, one set after the other,
// in the wire form `occsimore score` reads. Labels are not in it: see
// WriteLabels.
func WriteEvents(w io.Writer, sets ...*Set) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for _, s := range sets {
		for i := range s.Events {
			b, err := json.Marshal(s.Events[i])
			if err != nil {
				return fmt.Errorf("event %s: %w", s.Events[i].ID, err)
			}
			bw.Write(b)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteLabels writes a CSV of every event's label: event_id, set, incident
// (an index, empty for a normal row) and kind.
func WriteLabels(w io.Writer, sets ...*Set) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("event_id,set,incident,kind\n")
	for _, s := range sets {
		for i := range s.Events {
			if k := s.Incident[i]; k >= 0 {
				fmt.Fprintf(bw, "%s,%s,%d,%s\n", s.Events[i].ID, s.Name, k, s.Incidents[k].Kind)
			} else {
				fmt.Fprintf(bw, "%s,%s,,\n", s.Events[i].ID, s.Name)
			}
		}
	}
	return bw.Flush()
}
