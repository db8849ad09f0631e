package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/occsimore/occsimore/simulate"
	"github.com/spf13/cobra"
)

// logsSummary is what `simulate logs` prints after generating.
type logsSummary struct {
	Out     string         `json:"out,omitzero"`
	Days    int            `json:"days"`
	Lines   int            `json:"lines"`
	Attacks map[string]int `json:"attacks"` // planted attacks by kind
}

func (m *Main) simulateLogsCommand() *cobra.Command {
	cfg := simulate.DefaultAttackLogs()
	var start, out, truth string
	var maxLines int
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "sshd and web access logs with planted attacks",
		Long: `Generate sshd syslog lines (RFC 3164) and combined access-log lines from a few
hosts, in time order: legitimate traffic mixed with planted attacks (ssh brute
force fast and slow, user enumeration, credential stuffing, http probing,
sensitive files, SQL injection, path traversal, scanners' user agents, admin
probing, login brute force). Attacks follow a weekly rhythm with a trend and a
wave on the last day. --truth writes one CSV row per planted attack.`,
		Example: `  occsimore simulate logs --days 56 --out attacks.log --truth planted.csv
  occsimore simulate logs --max-lines 1000000 --attacks-per-day 400 --out 1m.log`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Start, err = time.Parse(time.DateOnly, start); err != nil {
				return usageError{fmt.Errorf("--start %q must be a date such as 2026-10-01", start)}
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			if maxLines < 0 {
				return usageError{fmt.Errorf("--max-lines %d must not be negative", maxLines)}
			}
			sum := logsSummary{Out: out, Attacks: map[string]int{}}
			type planted struct{ day, kind, source string }
			seen := map[planted]time.Time{}
			err = m.simulateTo(cmd.Context(), out, "logs", cfg.Days, func(dst io.Writer, day func(int) error) error {
				bw := bufio.NewWriterSize(dst, 1<<16)
				for d := range cfg.Days {
					if err := day(d); err != nil {
						return err
					}
					sum.Days = d + 1
					for _, l := range cfg.Day(d) {
						if maxLines > 0 && sum.Lines >= maxLines {
							return bw.Flush()
						}
						sum.Lines++
						if l.Attack != "" {
							k := planted{l.Time.Format(time.DateOnly), l.Attack, l.Source}
							if _, ok := seen[k]; !ok {
								seen[k] = l.Time
								sum.Attacks[l.Attack]++
							}
						}
						bw.WriteString(l.Text)
						if err := bw.WriteByte('\n'); err != nil {
							return err
						}
					}
				}
				return bw.Flush()
			})
			if err != nil {
				return err
			}
			if truth != "" {
				rows := make([][]string, 0, len(seen)+1)
				for k, t := range seen {
					rows = append(rows, []string{t.Format(time.RFC3339), k.kind, k.source})
				}
				slices.SortFunc(rows, func(a, b []string) int { return compareRows(a, b) })
				rows = slices.Insert(rows, 0, []string{"first_seen", "attack", "source"})
				if err := writeCSVFile(truth, rows); err != nil {
					return err
				}
			}
			return m.printSummary(out, sum, func(w io.Writer) error {
				fmt.Fprintf(w, "%d lines over %d days\n", sum.Lines, sum.Days)
				for _, k := range simulate.AttackKinds() {
					fmt.Fprintf(w, "  %-22s %s attacks\n", k, strconv.Itoa(sum.Attacks[k]))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Days, "days", cfg.Days, "days to simulate")
	f.StringVar(&start, "start", cfg.Start.Format(time.DateOnly), "first day (UTC)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same logs")
	f.StringSliceVar(&cfg.Hosts, "hosts", cfg.Hosts, "hosts writing the logs")
	f.Float64Var(&cfg.AttacksPerDay, "attacks-per-day", cfg.AttacksPerDay, "mean attacks on a weekday at the start")
	f.Float64Var(&cfg.WeekendFactor, "weekend-factor", cfg.WeekendFactor, "weekend attacks as a share of a weekday's")
	f.Float64Var(&cfg.Trend, "trend", cfg.Trend, "daily growth of the attack rate (0.01 is 1 % a day)")
	f.Float64Var(&cfg.Surge, "surge", cfg.Surge, "multiplier of the last day's attack rate")
	f.Float64Var(&cfg.BackgroundPerDay, "background-per-day", cfg.BackgroundPerDay, "mean legitimate lines a day")
	f.IntVar(&maxLines, "max-lines", 0, "stop after this many lines (0: no limit)")
	f.StringVar(&out, "out", "", "output file (default: standard output)")
	f.StringVar(&truth, "truth", "", "write the planted attacks (first_seen, attack, source) to this CSV file")
	return cmd
}

func compareRows(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// writeCSVFile writes rows to path.
func writeCSVFile(path string, rows [][]string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
