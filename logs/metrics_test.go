package logs_test

import (
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/simulate"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counters gathers c and returns each counter's value by its labels' values
// joined with "/", per metric name.
func counters(t *testing.T, c prometheus.Collector) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		out[mf.GetName()] = map[string]float64{}
		for _, m := range mf.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += "/"
				}
				key += l.GetValue()
			}
			if mf.GetType() != dto.MetricType_COUNTER {
				t.Fatalf("%s is a %s", mf.GetName(), mf.GetType())
			}
			out[mf.GetName()][key] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestMetrics ingests simulated sshd and web logs with planted attacks and
// three lines no parser takes, and finds in the service's counters the
// lines by parser and result, the attacks stored by scenario and the
// decisions stored.
func TestMetrics(t *testing.T) {
	ctx := t.Context()
	store := newMemAttacks()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	svc, err := logs.New(logs.Config{Attacks: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cfg := simulate.DefaultAttackLogs()
	cfg.Start, cfg.Days, cfg.BackgroundPerDay = now.Add(-48*time.Hour), 2, 300
	seq, err := simulate.AttackLogs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	lines, rems := 0, 0
	ingest := func() {
		res, err := svc.Ingest(ctx, "mem_a", "web-1", batch)
		if err != nil {
			t.Fatal(err)
		}
		rems += len(res.Remediations)
		batch = nil
	}
	for l := range seq {
		batch = append(batch, []byte(l.Text))
		lines++
		if lines%400 == 0 {
			ingest()
		}
	}
	batch = append(batch, []byte("\x00\x01 not a log line"), []byte("{\"no\": \"parser\"}"), []byte("<13>Nov 27 11:00:00 host sshd[1]: gibberish"))
	lines += 3
	ingest()
	res, err := svc.Flush(ctx, "mem_a", svc.DetectorNow("mem_a").Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rems += len(res.Remediations)

	got := counters(t, svc.Collector())
	st := svc.Stats("mem_a")
	total, unparsed := 0.0, 0.0
	for key, v := range got["occsimore_log_lines_total"] {
		total += v
		var parser, result string
		for i := range key {
			if key[i] == '/' {
				parser, result = key[:i], key[i+1:]
			}
		}
		switch result {
		case "parsed":
			if int64(v) != st.ByParser[parser] {
				t.Errorf("%s parsed: %g, the service's stats %d", parser, v, st.ByParser[parser])
			}
		case "unparsed":
			unparsed += v
		}
	}
	if int(total) != lines {
		t.Errorf("%g lines counted, %d sent", total, lines)
	}
	if unparsed != 3 || int64(unparsed) != st.Unparsed {
		t.Errorf("%g unparsed lines, want the 3 bad ones (stats %d): %v", unparsed, st.Unparsed, got["occsimore_log_lines_total"])
	}
	if got["occsimore_log_lines_total"]["sshd/unparsed"] < 1 {
		t.Errorf("the sshd line no sshd pattern takes is not counted against sshd: %v", got["occsimore_log_lines_total"])
	}

	byScenario := map[string]float64{}
	for _, a := range store.attacks["mem_a"] {
		byScenario[a.Scenario]++
	}
	if len(byScenario) < 2 {
		t.Fatalf("the test needs attacks of several scenarios: %v", byScenario)
	}
	for sc, n := range byScenario {
		if got["occsimore_attacks_total"][sc] != n {
			t.Errorf("attacks of %s: %g, stored %g", sc, got["occsimore_attacks_total"][sc], n)
		}
	}
	if got["occsimore_attacks_total"]["other"] != 0 {
		t.Error("a built-in scenario counted as other")
	}
	decisions := 0.0
	for _, v := range got["occsimore_decisions_total"] {
		decisions += v
	}
	if rems == 0 || int(decisions) != rems {
		t.Errorf("%g decisions counted, %d stored", decisions, rems)
	}
}
