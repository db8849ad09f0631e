package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/occsimore/occsimore/simulate"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func (m *Main) simulateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Generate labelled synthetic traffic: card transactions, logins or attack logs",
		Long: `Generate labelled synthetic traffic from a seed, as CSV or as NDJSON events.

The data goes to --out or to standard output; a summary of what was generated
goes to standard output when --out is a file, to standard error otherwise.`,
	}
	cmd.AddCommand(m.simulateCardsCommand(), m.simulateLoginsCommand(), m.simulateLogsCommand())
	return cmd
}

func (m *Main) simulateCardsCommand() *cobra.Command {
	cfg := simulate.DefaultCards()
	var start, scenarios, format, out string
	var labels, neverUsed bool
	cmd := &cobra.Command{
		Use:   "cards",
		Short: "Card transactions after the Fraud Detection Handbook's simulator",
		Long: `Generate card transactions with the Fraud Detection Handbook's simulator
(customers and terminals on a 100×100 square, fraud scenarios 1 to 3) and our
scenarios 4 (card testing), 5 (merchant breach) and 6 (a compromised card used
for 2 to 7 days at terminals it has never used, with its holder's ordinary
amounts; --scenario-never-used-terminals adds it). The defaults are the book's
run: 1.75M transactions, 0.8 % fraud. CSV has the handbook's raw columns; NDJSON
has occsimore events of kind card.tx.`,
		Example: `  occsimore simulate cards --out transactions.csv
  occsimore simulate cards --days 30 --scenarios 1,2,3,4,5 --format ndjson | head
  occsimore simulate cards --seed 11 --scenario-never-used-terminals --out cards6.csv`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Start, err = time.Parse(time.DateOnly, start); err != nil {
				return usageError{fmt.Errorf("--start %q must be a date such as 2018-04-01", start)}
			}
			if cfg.Scenarios, err = simulate.ParseScenarios(scenarios); err != nil {
				return usageError{fmt.Errorf("--scenarios: %w", err)}
			}
			if neverUsed {
				cfg.Scenarios = cfg.Scenarios.With(simulate.ScenarioNeverUsed)
			}
			if format != "csv" && format != "ndjson" {
				return usageError{fmt.Errorf("--format %q must be csv or ndjson", format)}
			}
			w, err := simulate.NewCardWorld(cfg)
			if err != nil {
				return usageError{err}
			}
			var sum simulate.CardsSummary
			err = m.simulateTo(cmd.Context(), out, "cards", cfg.Days, func(dst io.Writer, day func(int) error) error {
				var write func(*simulate.Tx) error
				var flush func() error
				if format == "csv" {
					cw := simulate.NewCardsCSVWriter(dst)
					write, flush = cw.Write, cw.Flush
				} else {
					nw := w.NewNDJSONWriter(dst, labels)
					write, flush = nw.Write, nw.Flush
				}
				last := -1
				for tx := range w.Transactions() {
					if tx.Day != last {
						if err := day(tx.Day); err != nil {
							return err
						}
						last = tx.Day
					}
					sum.Add(tx)
					if err := write(tx); err != nil {
						return err
					}
				}
				return flush()
			})
			if err != nil {
				return err
			}
			return m.printSummary(out, cardsSummaryOf(&sum, cfg, out), func(w io.Writer) error {
				return writeCardsSummary(w, &sum, cfg.Scenarios)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Customers, "customers", cfg.Customers, "customers, one card each")
	f.IntVar(&cfg.Terminals, "terminals", cfg.Terminals, "terminals")
	f.IntVar(&cfg.Days, "days", cfg.Days, "days to simulate")
	f.StringVar(&start, "start", cfg.Start.Format(time.DateOnly), "first day (UTC)")
	f.Float64Var(&cfg.Radius, "radius", cfg.Radius, "a customer uses the terminals closer than this (the square is 100 wide)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same data")
	f.StringVar(&scenarios, "scenarios", cfg.Scenarios.String(), "fraud scenarios: 1 amount>220, 2 terminals, 3 customers ×5, 4 card testing, 5 merchant breach, 6 never-used terminals")
	f.Float64Var(&cfg.CardTestingPerDay, "card-testing-per-day", cfg.CardTestingPerDay, "mean card-testing bursts a day (scenario 4)")
	f.Float64Var(&cfg.BreachesPerDay, "breaches-per-day", cfg.BreachesPerDay, "mean terminals breached a day (scenario 5)")
	f.BoolVar(&neverUsed, "scenario-never-used-terminals", false, "add scenario 6: compromised cards used for days at terminals they never used, ordinary amounts")
	f.Float64Var(&cfg.NeverUsedPerDay, "never-used-per-day", cfg.NeverUsedPerDay, "mean cards compromised a day (scenario 6)")
	f.StringVar(&format, "format", "csv", "csv (the handbook's columns) or ndjson (occsimore events)")
	f.BoolVar(&labels, "labels", false, "ndjson: add attrs fraud and fraud_scenario (keep them out of events you score)")
	f.StringVar(&out, "out", "", "output file (default: standard output)")
	return cmd
}

func (m *Main) simulateLoginsCommand() *cobra.Command {
	cfg := simulate.DefaultLogins()
	var start, format, out string
	var labels bool
	cmd := &cobra.Command{
		Use:   "logins",
		Short: "Logins shaped like the RBA dataset, with account-takeover attacks",
		Long: `Generate login attempts of users with habitual countries, providers, devices and
hours, mixed with labelled attacks: credential stuffing from hosting providers,
logins from a far country minutes after the owner's, and unknown devices at
night. CSV has the RBA dataset's columns plus Device ID and Attack Scenario;
NDJSON has occsimore events of kind auth.login.`,
		Example: `  occsimore simulate logins --users 5000 --days 60 --out logins.csv`,
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Start, err = time.Parse(time.DateOnly, start); err != nil {
				return usageError{fmt.Errorf("--start %q must be a date such as 2024-01-01", start)}
			}
			if format != "csv" && format != "ndjson" {
				return usageError{fmt.Errorf("--format %q must be csv or ndjson", format)}
			}
			w, err := simulate.NewLoginWorld(cfg)
			if err != nil {
				return usageError{err}
			}
			var sum simulate.LoginsSummary
			err = m.simulateTo(cmd.Context(), out, "logins", cfg.Days, func(dst io.Writer, day func(int) error) error {
				var write func(*simulate.Login) error
				var flush func() error
				if format == "csv" {
					cw := simulate.NewLoginsCSVWriter(dst)
					write, flush = cw.Write, cw.Flush
				} else {
					nw := simulate.NewLoginsNDJSONWriter(dst, labels)
					write, flush = nw.Write, nw.Flush
				}
				start, last := w.Start(), -1
				for l := range w.Logins() {
					if d := int(l.Time.Sub(start) / (24 * time.Hour)); d != last {
						if err := day(d); err != nil {
							return err
						}
						last = d
					}
					sum.Add(l)
					if err := write(l); err != nil {
						return err
					}
				}
				return flush()
			})
			if err != nil {
				return err
			}
			return m.printSummary(out, loginsSummaryOf(&sum, cfg, out), func(w io.Writer) error {
				return writeLoginsSummary(w, &sum)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Users, "users", cfg.Users, "accounts")
	f.IntVar(&cfg.Days, "days", cfg.Days, "days to simulate")
	f.StringVar(&start, "start", cfg.Start.Format(time.DateOnly), "first day (UTC)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same data")
	f.Float64Var(&cfg.LoginsPerDay, "logins-per-day", cfg.LoginsPerDay, "mean sessions a user opens on a weekday")
	f.Float64Var(&cfg.StuffingPerDay, "stuffing-per-day", cfg.StuffingPerDay, "mean credential-stuffing campaigns a day")
	f.Float64Var(&cfg.StuffingTargets, "stuffing-targets", cfg.StuffingTargets, "mean accounts a campaign tries")
	f.Float64Var(&cfg.StuffingSuccess, "stuffing-success", cfg.StuffingSuccess, "probability an attempt on an existing account succeeds")
	f.Float64Var(&cfg.ImpossibleTravelPerDay, "impossible-travel-per-day", cfg.ImpossibleTravelPerDay, "mean takeovers a day from a far country minutes after the owner")
	f.Float64Var(&cfg.NewDevicePerDay, "new-device-per-day", cfg.NewDevicePerDay, "mean takeovers a day from an unknown device at night")
	f.StringVar(&format, "format", "csv", "csv (the RBA dataset's columns) or ndjson (occsimore events)")
	f.BoolVar(&labels, "labels", false, "ndjson: add attrs attack_ip, ato and scenario (keep them out of events you score)")
	f.StringVar(&out, "out", "", "output file (default: standard output)")
	return cmd
}

// simulateTo runs gen with the output it writes to: path, or standard
// output when path is empty. gen calls day with each new day; with a file,
// that moves a progress bar on standard error. A run that fails or is
// interrupted removes its partial file.
func (m *Main) simulateTo(ctx context.Context, path, what string, days int, gen func(io.Writer, func(int) error) error) (err error) {
	if path == "" {
		return gen(m.Stdout, func(int) error { return ctx.Err() })
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	bar := progressbar.NewOptions(days,
		progressbar.OptionSetVisibility(!m.NoProgress),
		progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetItsString("days"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	err = gen(f, func(d int) error {
		_ = bar.Set(d) // the bar is cosmetic: its errors are not the run's
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	_ = bar.Finish()
	if !m.NoProgress {
		fmt.Fprintln(m.Stderr) // end the bar's line
	}
	return nil
}

// printSummary prints v (JSON with --output json) where it does not mix
// with the data: standard output when the data went to a file, standard
// error otherwise.
func (m *Main) printSummary(out string, v any, text func(io.Writer) error) error {
	if out != "" {
		return m.print(v, text)
	}
	if m.Output == "json" {
		enc := json.NewEncoder(m.Stderr)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(m.Stderr)
}

type cardsSummaryJSON struct {
	Transactions int64            `json:"transactions"`
	Frauds       int64            `json:"frauds"`
	FraudRate    float64          `json:"fraud_rate"`
	ByScenario   map[string]int64 `json:"by_scenario"`
	Days         int              `json:"days"`
	Seed         uint64           `json:"seed"`
	Scenarios    string           `json:"scenarios"`
	Out          string           `json:"out,omitempty"`
}

func cardsSummaryOf(s *simulate.CardsSummary, cfg simulate.CardsConfig, out string) cardsSummaryJSON {
	by := map[string]int64{}
	for i := 1; i < len(s.ByScenario); i++ {
		if cfg.Scenarios.Has(simulate.Scenario(i)) {
			by[strconv.Itoa(i)] = s.ByScenario[i]
		}
	}
	return cardsSummaryJSON{
		Transactions: s.Transactions, Frauds: s.Frauds, FraudRate: s.FraudRate(), ByScenario: by,
		Days: cfg.Days, Seed: cfg.Seed, Scenarios: cfg.Scenarios.String(), Out: out,
	}
}

func writeCardsSummary(w io.Writer, s *simulate.CardsSummary, set simulate.ScenarioSet) error {
	var err error
	pr := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	pr("transactions  %d\n", s.Transactions)
	pr("frauds        %d (%.3f %%)\n", s.Frauds, 100*s.FraudRate())
	for i := 1; i < len(s.ByScenario); i++ {
		if set.Has(simulate.Scenario(i)) {
			pr("  scenario %d  %-13s %d\n", i, simulate.Scenario(i), s.ByScenario[i])
		}
	}
	return err
}

type loginsSummaryJSON struct {
	Logins     int64            `json:"logins"`
	Failed     int64            `json:"failed"`
	AttackIP   int64            `json:"attack_ip"`
	ATO        int64            `json:"account_takeover"`
	ByScenario map[string]int64 `json:"by_scenario"`
	Users      int              `json:"users_seen"`
	Days       int              `json:"days"`
	Seed       uint64           `json:"seed"`
	Out        string           `json:"out,omitempty"`
}

func loginsSummaryOf(s *simulate.LoginsSummary, cfg simulate.LoginsConfig, out string) loginsSummaryJSON {
	by := map[string]int64{}
	for i, n := range s.ByScenario {
		by[simulate.LoginScenario(i).String()] = n
	}
	return loginsSummaryJSON{
		Logins: s.Logins, Failed: s.Failed, AttackIP: s.AttackIP, ATO: s.ATO, ByScenario: by,
		Users: s.Users, Days: cfg.Days, Seed: cfg.Seed, Out: out,
	}
}

func writeLoginsSummary(w io.Writer, s *simulate.LoginsSummary) error {
	var err error
	pr := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	pr("logins            %d (%d failed)\n", s.Logins, s.Failed)
	pr("from attackers    %d\n", s.AttackIP)
	pr("account takeover  %d\n", s.ATO)
	for i, n := range s.ByScenario {
		pr("  %-20s %d\n", simulate.LoginScenario(i), n)
	}
	return err
}
