package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/detectbench"
	"github.com/spf13/cobra"
)

// detectHalf is one half (cards or logins) scored by both scorers.
type detectHalf struct {
	Engine   detectbench.Measures `json:"engine"`
	Baseline detectbench.Measures `json:"baseline"`
	// Clairvoyant is detectbench.Clairvoyant's bound for the kinds it
	// covers: incidents found in the top N by one habit known in hindsight.
	Clairvoyant map[detectbench.Kind]int `json:"clairvoyant,omitempty"`
	// AmountAdmits is the number of normal rows the clairvoyant amount
	// ranking puts at or above the amount spike it must reach to find 97 %
	// of them (detectbench.Clairvoyant).
	AmountAdmits int `json:"amount_admits,omitempty"`
	// Joint measures detectbench.ClairvoyantJoint's scores as the engine's
	// are: every kind in one top N, each habit known in hindsight.
	Joint *detectbench.Measures `json:"joint,omitempty"`
}

type detectSeed struct {
	Seed    uint64      `json:"seed"`
	Cards   *detectHalf `json:"cards,omitempty"`
	Logins  *detectHalf `json:"logins,omitempty"`
	Seconds float64     `json:"seconds"`
}

// detectReport is what `occsimore bench detect` prints.
type detectReport struct {
	Cards        int                    `json:"cards"`
	Users        int                    `json:"users"`
	Days         int                    `json:"days"`
	Seeds        []detectSeed           `json:"seeds"`
	Mean         map[string]*detectHalf `json:"mean"`
	BaselineWins []string               `json:"baseline_wins"`
	GoMaxProcs   int                    `json:"gomaxprocs"`
	Arch         string                 `json:"arch"`
}

// parseSeeds reads "101-105" or "1,7,9".
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, usageError{fmt.Errorf("--seeds %q: %q is not a seed", s, lo)}
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a || b-a > 1000 {
				return nil, usageError{fmt.Errorf("--seeds %q: %q is not a range of at most 1000 seeds", s, part)}
			}
		}
		for x := a; x <= b; x++ {
			out = append(out, x)
		}
	}
	return out, nil
}

func (m *Main) benchDetectCommand() *cobra.Command {
	var seeds, export string
	var cards, users, days int
	var failIfBaselineWins bool
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Independent planted-rupture benchmark: the engine beside a crude baseline",
		Long: `Generate the planted-rupture card payments and logins of package detectbench
(written from issue 10's description, not from the engine), score every event
online with a fresh behaviour engine and with a crude baseline in the same run,
and report per seed, per kind and on the mean: incidents found in the top
3 x incidents events, row AP, per-kind AUC, reasons right (the broken habit
among the best row's top two reasons) and incidents outscored by fewer than
0.03 % of normal rows.

Seeds 101-105 (the default) are held out: tune on seed 1 only. The engine
takes its profile specs from engine.specs_file, as the server does.

A "BASELINE WINS on ..." line names every mean measure on which the baseline
beats the engine; the exit code is 0 unless --fail-if-baseline-wins is given.

With --export FILE (a single seed), the events are written as NDJSON for
` + "`occsimore score`" + ` and their labels to FILE.labels.csv, and nothing is scored.`,
		Example: "  occsimore bench detect\n  occsimore bench detect --seeds 1 --cards 300 --users 200 -o json\n" +
			"  occsimore bench detect --seeds 1 --export rupture.ndjson && occsimore score --all rupture.ndjson",
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ss, err := parseSeeds(seeds)
			if err != nil {
				return err
			}
			if cards < 0 || users < 0 || cards+users == 0 || days < 20 {
				return usageError{fmt.Errorf("--cards and --users must be 0 or more and not both 0, --days at least 20")}
			}
			bc, err := m.loadEngineConfig(cmd.Context(), nil)
			if err != nil {
				return err
			}
			if export != "" {
				if len(ss) != 1 {
					return usageError{fmt.Errorf("--export takes exactly one seed, not %d", len(ss))}
				}
				return m.exportDetect(detectbench.Config{Seed: ss[0], Cards: cards, Users: users, Days: days}, export)
			}
			rep := detectReport{Cards: cards, Users: users, Days: days, Mean: map[string]*detectHalf{},
				GoMaxProcs: runtime.GOMAXPROCS(0), Arch: runtime.GOARCH}
			var ce, cb, le, lb []detectbench.Measures
			clair, admits := map[detectbench.Kind]int{}, 0
			var joint []detectbench.Measures
			for _, seed := range ss {
				start := time.Now()
				m.progressf("seed %d: generating\n", seed)
				cfg := detectbench.Config{Seed: seed, Cards: cards, Users: users, Days: days}
				ds := detectSeed{Seed: seed}
				if cards > 0 {
					h, err := m.detectHalf(bc, cfg, detectbench.Cards)
					if err != nil {
						return err
					}
					ds.Cards = h
					ce, cb = append(ce, h.Engine), append(cb, h.Baseline)
					for k, n := range h.Clairvoyant {
						clair[k] += n
					}
					joint = append(joint, *h.Joint)
					admits += h.AmountAdmits
				}
				if users > 0 {
					h, err := m.detectHalf(bc, cfg, detectbench.Logins)
					if err != nil {
						return err
					}
					ds.Logins = h
					le, lb = append(le, h.Engine), append(lb, h.Baseline)
				}
				ds.Seconds = time.Since(start).Seconds()
				rep.Seeds = append(rep.Seeds, ds)
			}
			if cards > 0 {
				rep.Mean["cards"] = &detectHalf{Engine: detectbench.Mean(ce), Baseline: detectbench.Mean(cb), Clairvoyant: clair, AmountAdmits: admits}
				if len(joint) > 0 {
					j := detectbench.Mean(joint)
					rep.Mean["cards"].Joint = &j
				}
				for _, w := range detectbench.BaselineWins(detectbench.CardKinds, rep.Mean["cards"].Engine, rep.Mean["cards"].Baseline) {
					rep.BaselineWins = append(rep.BaselineWins, "cards: "+w)
				}
			}
			if users > 0 {
				rep.Mean["logins"] = &detectHalf{Engine: detectbench.Mean(le), Baseline: detectbench.Mean(lb)}
				for _, w := range detectbench.BaselineWins(detectbench.LoginKinds, rep.Mean["logins"].Engine, rep.Mean["logins"].Baseline) {
					rep.BaselineWins = append(rep.BaselineWins, "logins: "+w)
				}
			}
			if rep.BaselineWins == nil {
				rep.BaselineWins = []string{}
			}
			if err := m.print(rep, func(w io.Writer) error { return printDetect(w, rep) }); err != nil {
				return err
			}
			if failIfBaselineWins && len(rep.BaselineWins) > 0 {
				return fmt.Errorf("the baseline wins on %d measures", len(rep.BaselineWins))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&seeds, "seeds", "101-105", "seeds: a range (101-105) or a list (1,7); 1 is for tuning, 101-105 are held out")
	cmd.Flags().IntVar(&cards, "cards", 3000, "cards (0: no card half)")
	cmd.Flags().IntVar(&users, "users", 2000, "login users (0: no login half)")
	cmd.Flags().IntVar(&days, "days", 90, "days of history; incidents fall in the last 10")
	cmd.Flags().StringVar(&export, "export", "", "write one seed's events to this NDJSON file and labels to FILE.labels.csv, then stop")
	cmd.Flags().BoolVar(&failIfBaselineWins, "fail-if-baseline-wins", false, "exit 1 if the baseline beats the engine on any mean measure")
	return cmd
}

// progressf writes a progress line on standard error unless --no-progress.
func (m *Main) progressf(format string, args ...any) {
	if !m.NoProgress {
		fmt.Fprintf(m.Stderr, format, args...)
	}
}

// detectHalf generates one half and scores it with a fresh engine and the
// baseline.
func (m *Main) detectHalf(bc behavior.Config, cfg detectbench.Config, gen func(detectbench.Config) (*detectbench.Set, error)) (*detectHalf, error) {
	s, err := gen(cfg)
	if err != nil {
		return nil, err
	}
	m.progressf("seed %d: scoring %d %s events\n", cfg.Seed, len(s.Events), s.Name)
	eng, err := behavior.NewEngine(bc)
	if err != nil {
		return nil, fmt.Errorf("behaviour engine: %w", err)
	}
	scores := make([]float64, len(s.Events))
	reasons := make([][2]string, len(s.Events))
	var res behavior.Result
	for i := range s.Events {
		ev := s.Events[i]
		ev.MemberID = "bench"
		if err := eng.Process(&ev, &res); err != nil {
			return nil, fmt.Errorf("%s event %s: %w", s.Name, ev.ID, err)
		}
		scores[i] = res.Score
		top := res.TopReasons()
		for k := range min(2, len(top)) {
			reasons[i][k] = top[k].Code + " " + top[k].Attr
		}
	}
	h := &detectHalf{Engine: detectbench.Measure(s, scores, reasons)}
	b := detectbench.NewBaseline()
	for i := range s.Events {
		scores[i], reasons[i] = b.Score(&s.Events[i])
	}
	h.Baseline = detectbench.Measure(s, scores, reasons)
	if s.Name == "cards" {
		h.Clairvoyant, h.AmountAdmits = detectbench.Clairvoyant(s)
		j := detectbench.Measure(s, detectbench.ClairvoyantJoint(s), make([][2]string, len(s.Events)))
		h.Joint = &j
	}
	return h, nil
}

func (m *Main) exportDetect(cfg detectbench.Config, name string) error {
	var sets []*detectbench.Set
	if cfg.Cards > 0 {
		s, err := detectbench.Cards(cfg)
		if err != nil {
			return err
		}
		sets = append(sets, s)
	}
	if cfg.Users > 0 {
		s, err := detectbench.Logins(cfg)
		if err != nil {
			return err
		}
		sets = append(sets, s)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, ...*detectbench.Set) error
	}{{name, detectbench.WriteEvents}, {name + ".labels.csv", detectbench.WriteLabels}} {
		out, err := os.Create(f.name)
		if err != nil {
			return fmt.Errorf("create %s: %w", f.name, err)
		}
		if err := f.write(out, sets...); err != nil {
			out.Close()
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	n := 0
	for _, s := range sets {
		n += len(s.Events)
	}
	fmt.Fprintf(m.Stdout, "wrote %d events to %s and their labels to %s.labels.csv\n", n, name, name)
	return nil
}

func printDetect(w io.Writer, r detectReport) error {
	half := func(title string, kinds []detectbench.Kind, h *detectHalf) {
		e, b := h.Engine, h.Baseline
		fmt.Fprintf(w, "  %s: %d rows, %d incidents, top N %d\n", title, e.Rows, e.Incidents, e.TopN)
		fmt.Fprintf(w, "    %-22s %17s %17s %17s %17s %17s\n", "", "in top N", "row AUC", "incident AUC", "reasons right", "few outscore")
		fmt.Fprintf(w, "    %-22s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "kind", "engine", "base", "engine", "base", "engine", "base", "engine", "base", "engine", "base")
		frac := func(n, d int) string { return fmt.Sprintf("%d/%d", n, d) }
		for _, k := range kinds {
			ek, bk := e.Kinds[k], b.Kinds[k]
			fmt.Fprintf(w, "    %-22s %8s %8s %8.4f %8.4f %8.4f %8.4f %8s %8s %8s %8s\n", k,
				frac(ek.FoundTopN, ek.Incidents), frac(bk.FoundTopN, bk.Incidents), ek.AUC, bk.AUC, ek.IncidentAUC, bk.IncidentAUC,
				frac(ek.ReasonsRight, ek.Incidents), frac(bk.ReasonsRight, bk.Incidents),
				frac(ek.FewOutscore, ek.Incidents), frac(bk.FewOutscore, bk.Incidents))
		}
		fmt.Fprintf(w, "    %-22s %8.3f %8.3f %35s %8.3f %8.3f %8.3f %8.3f\n", "all (share)",
			e.FoundTopN, b.FoundTopN, "", e.ReasonsRight, b.ReasonsRight, e.FewOutscore, b.FewOutscore)
		fmt.Fprintf(w, "    row AP: engine %.3f, baseline %.3f\n", e.RowAP, b.RowAP)
		for _, k := range kinds {
			if n, ok := h.Clairvoyant[k]; ok {
				fmt.Fprintf(w, "    clairvoyant bound, %s in top N: %d/%d (one habit, known from every normal row, future ones too)\n",
					k, n, e.Kinds[k].Incidents)
			}
		}
		if h.AmountAdmits > 0 {
			fmt.Fprintf(w, "    clairvoyant amount ranking: %d normal rows at or above the spike it needs for 97 %% of amount_spike (top N %d)\n",
				h.AmountAdmits, e.TopN)
		}
		if j := h.Joint; j != nil {
			var parts []string
			for _, k := range kinds {
				parts = append(parts, fmt.Sprintf("%s %d", k, j.Kinds[k].FoundTopN))
			}
			fmt.Fprintf(w, "    clairvoyant joint (every habit known in hindsight, one top N): in top N %.3f (%s), row AP %.3f\n",
				j.FoundTopN, strings.Join(parts, ", "), j.RowAP)
		}
	}
	for _, s := range r.Seeds {
		fmt.Fprintf(w, "seed %d (%.1fs)\n", s.Seed, s.Seconds)
		if s.Cards != nil {
			half("cards", detectbench.CardKinds, s.Cards)
		}
		if s.Logins != nil {
			half("logins", detectbench.LoginKinds, s.Logins)
		}
	}
	fmt.Fprintf(w, "mean over %d seeds (counts summed)\n", len(r.Seeds))
	if h := r.Mean["cards"]; h != nil {
		half("cards", detectbench.CardKinds, h)
	}
	if h := r.Mean["logins"]; h != nil {
		half("logins", detectbench.LoginKinds, h)
	}
	for _, bw := range r.BaselineWins {
		fmt.Fprintf(w, "BASELINE WINS on %s\n", bw)
	}
	if len(r.BaselineWins) == 0 {
		fmt.Fprintln(w, "the engine is at least as good as the baseline on every mean measure")
	}
	return nil
}
