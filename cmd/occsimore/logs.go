package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/config"
	"github.com/occsimore/occsimore/geoip"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/logs/parse"
	"github.com/occsimore/occsimore/logs/scenario"
	"github.com/occsimore/occsimore/logs/ship"
	"github.com/occsimore/occsimore/logs/source"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func (m *Main) logsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Detect attacks in sshd, web access, auth and CloudTrail logs",
		Long: `Replay log files through the attack scenarios, explain how one line is read,
follow files and ship them to a server, or print the built-in scenarios.

A running server also takes logs over syslog (logs.syslog_udp, logs.syslog_tcp)
and over HTTP (POST /v1/logs).`,
	}
	cmd.AddCommand(m.logsReplayCommand(), m.logsExplainCommand(), m.logsFollowCommand(), m.logsScenariosCommand())
	return cmd
}

// loadScenarios returns the scenarios of dir, or the built-in set.
func loadScenarios(dir string) ([]*scenario.Scenario, error) {
	if dir == "" {
		return scenario.BuiltinScenarios()
	}
	s, err := scenario.LoadScenarios(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("scenarios in %s: %w", dir, err)
	}
	if len(s) == 0 {
		return nil, usageError{fmt.Errorf("no *.yaml scenario in %s", dir)}
	}
	return s, nil
}

// logsSetup loads the configuration and the scenarios of a logs command;
// without --geoip, the GeoIP directory is the configuration's.
func (m *Main) logsSetup(cmd *cobra.Command, geoDir *string, scenariosDir string) (config.Config, []*scenario.Scenario, error) {
	c, err := m.loadConfig()
	if err != nil {
		return c, nil, err
	}
	if !cmd.Flags().Changed("geoip") {
		*geoDir = c.Logs.GeoIPDir
	}
	scenarios, err := loadScenarios(scenariosDir)
	return c, scenarios, err
}

// openGeoIP opens the GeoIP databases when they are there; attacks simply
// get no country without them.
func openGeoIP(dir string, logger *slog.Logger) *geoip.DB {
	if dir == "" {
		return nil
	}
	db, err := geoip.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			logger.Info("no GeoIP database; attacks get no country or ASN (scripts/geoip.sh fetches it)", "dir", dir)
		} else {
			logger.Warn("GeoIP database unusable", "dir", dir, "err", err)
		}
		return nil
	}
	return db
}

// replaySummary is what `logs replay` reports.
type replaySummary struct {
	Files       []string                 `json:"files"`
	Lines       int64                    `json:"lines"`
	Parsed      int64                    `json:"parsed"`
	Unparsed    int64                    `json:"unparsed"`
	Seconds     float64                  `json:"seconds"`
	LinesPerSec float64                  `json:"lines_per_second"`
	Attacks     int                      `json:"attacks"`
	Stored      bool                     `json:"stored"` // in the member's store
	Scenarios   []logs.ScenarioSummary   `json:"scenarios"`
	Sources     []logs.SourceSummary     `json:"sources"`
	Samples     []occsimore.UnparsedLine `json:"unparsed_samples,omitzero"`
	// Decisions are the bans, captchas and alerts the attacks called for,
	// with the time each was (or is) in force; only those in force now
	// are stored with --member and reach bouncers.
	Decisions []replayDecision `json:"decisions"`
	InForce   int              `json:"decisions_in_force"`
}

// replayDecision is one decision a replay's attacks called for.
type replayDecision struct {
	Action   occsimore.Action `json:"action"`
	Scope    occsimore.Scope  `json:"scope"`
	Value    string           `json:"value"`
	Scenario string           `json:"scenario"`
	From     time.Time        `json:"from"`
	Until    time.Time        `json:"until"`
	Attacks  int              `json:"attacks"`  // attacks that made or extended it
	InForce  bool             `json:"in_force"` // still in force now
}

func (m *Main) logsReplayCommand() *cobra.Command {
	var member, host, scenariosDir, geoDir string
	var skipPrivate bool
	var top, year int
	cmd := &cobra.Command{
		Use:   "replay FILE...",
		Short: "Replay log files through the attack scenarios and summarise the attacks",
		Long: `Replay log files (plain or gzip; sshd, auth, web access, nginx error, CloudTrail
and JSON lines, detected line by line) through the scenarios, in the logs'
own time, and print the attacks by scenario and by source, and the decisions
they called for with when each was in force. A FILE of - is standard input.

Syslog lines without a year (Dec 31 23:59:59) are dated so that none is later
than the file's modification time (standard input: now); --year gives the
year of each file's first line instead, moving to the next year when the
months go back (December, then January).

With --member the attacks, and the decisions still in force now, are stored
for that member as if the lines had arrived live; decisions that had already
ended are never sent to bouncers. Without --member nothing is stored.

A file none of whose first lines is in a supported format stops the replay
with exit code 6 and the list of supported formats.`,
		Example: `  occsimore logs replay /var/log/auth.log /var/log/nginx/access.log.1.gz
  journalctl -u ssh -o short | occsimore logs replay -
  occsimore logs replay --member banque-alpes --host web-1 access.log -o json
  occsimore logs replay --year 2024 old-auth.log`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			ctx := cmd.Context()
			c, scenarios, err := m.logsSetup(cmd, &geoDir, scenariosDir)
			if err != nil {
				return err
			}
			var size int64
			for _, f := range files {
				if f == "-" {
					size = -1 // unknown: the bar spins
					continue
				}
				st, err := os.Stat(f)
				if err != nil {
					return &occsimore.Error{Code: occsimore.ENOTFOUND, Message: fmt.Sprintf("log file: %v", err)} // err names the path
				}
				if size >= 0 {
					size += st.Size()
				}
			}
			logger := m.logger(c)
			geo := openGeoIP(geoDir, logger)
			if geo != nil {
				defer geo.Close()
			}
			cfg := logs.Config{Scenarios: scenarios, Detector: scenario.Options{SkipPrivate: skipPrivate}, Logger: logger}
			if geo != nil {
				cfg.GeoIP = geo
			}
			memberID := "offline"
			run := func(db *sqlstore.DB) error {
				if db != nil {
					mem, err := memberBySlug(ctx, db, member)
					if err != nil {
						return err
					}
					memberID, cfg.Attacks = mem.ID, db
				}
				svc, err := logs.New(cfg)
				if err != nil {
					return err
				}
				sum, err := m.replay(ctx, svc, memberID, host, files, size, year)
				if err != nil {
					return err
				}
				sum.Stored = db != nil
				if top > 0 && len(sum.Sources) > top {
					sum.Sources = sum.Sources[:top]
				}
				if top > 0 && len(sum.Decisions) > top {
					sum.Decisions = sum.Decisions[:top]
				}
				return m.print(sum, func(w io.Writer) error { return writeReplaySummary(w, sum) })
			}
			if cmd.Flags().Changed("year") && (year < 1970 || year > 9999) {
				return usageError{fmt.Errorf("--year %d: want a year between 1970 and 9999", year)}
			}
			if member == "" {
				return run(nil)
			}
			return m.withStore(ctx, run)
		},
	}
	f := cmd.Flags()
	f.StringVar(&member, "member", "", "store the attacks and decisions for this member (slug)")
	f.StringVar(&host, "host", "", "host of lines whose format names none (access logs)")
	f.StringVar(&scenariosDir, "scenarios", "", "directory of YAML scenarios replacing the built-in set")
	f.StringVar(&geoDir, "geoip", "", "GeoIP database directory (default: logs.geoip_dir)")
	f.BoolVar(&skipPrivate, "skip-private", false, "ignore private and loopback sources, as CrowdSec's whitelist does")
	f.IntVar(&top, "top", 20, "sources and decisions to list (0: all)")
	f.IntVar(&year, "year", 0, "year of each file's first year-less syslog line (default: from the file's modification time)")
	return cmd
}

// replay feeds files through svc and summarises.
func (m *Main) replay(ctx context.Context, svc *logs.Service, memberID, host string, files []string, size int64, year int) (*replaySummary, error) {
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetVisibility(!m.NoProgress),
		progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription("replay"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	sum := &replaySummary{Files: files}
	var attacks []*occsimore.Attack
	var decisions []*occsimore.Remediation
	start := time.Now()
	var years *parse.Years
	ingest := logs.NewBatcher(4096, 1<<20, func(batch [][]byte) error {
		res, err := svc.IngestYears(ctx, memberID, host, years, batch)
		if err != nil {
			return err
		}
		attacks = append(attacks, res.Attacks...)
		decisions = append(append(decisions, res.Remediations...), res.Ended...)
		return nil
	})
	for _, path := range files {
		var run func(context.Context, source.Handler) error
		years = &parse.Years{Year: year}
		if path == "-" {
			run = (&source.Reader{R: m.Stdin, Member: memberID, Host: host}).Run
			if year == 0 {
				years.NotAfter = time.Now()
			}
		} else {
			run = (&source.File{Path: path, Member: memberID, Host: host}).Run
			if year == 0 {
				st, err := os.Stat(path)
				if err != nil {
					return nil, &occsimore.Error{Code: occsimore.ENOTFOUND, Message: fmt.Sprintf("log file: %v", err)} // err names the path
				}
				years.NotAfter = st.ModTime()
			}
		}
		probe := logs.FormatProbe{Path: path, Hint: parse.Hint{Years: &parse.Years{Year: year, NotAfter: years.NotAfter}}}
		err := run(ctx, func(ctx context.Context, l source.Line) error {
			if err := probe.Check(l.Text); err != nil {
				return err
			}
			_ = bar.Add(len(l.Text) + 1) // cosmetic
			return ingest.Add(l.Text)
		})
		if err == nil {
			err = probe.End()
		}
		if err != nil {
			return nil, fmt.Errorf("replay %s: %w", path, err)
		}
		// The file's lines are dated by its own years.
		if err := ingest.Done(); err != nil {
			return nil, err
		}
	}
	// Close what only time closes (counter windows), as if a day went by.
	res, err := svc.Flush(ctx, memberID, svc.DetectorNow(memberID).Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	attacks = append(attacks, res.Attacks...)
	decisions = append(append(decisions, res.Remediations...), res.Ended...)
	_ = bar.Finish()
	if !m.NoProgress {
		fmt.Fprintln(m.Stderr) // end the bar's line
	}

	st := svc.Stats(memberID)
	sum.Lines, sum.Parsed, sum.Unparsed, sum.Samples = st.Lines, st.Parsed, st.Unparsed, st.Samples
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.LinesPerSec = float64(sum.Lines) / sum.Seconds
	}
	sum.Attacks = len(attacks)
	sum.Scenarios, sum.Sources = logs.Summarize(attacks)
	from := make(map[string]time.Time, len(attacks))
	for _, a := range attacks {
		from[a.ID] = a.End
	}
	now := time.Now()
	sum.Decisions = mergeDecisions(decisions, from)
	for i := range sum.Decisions {
		d := &sum.Decisions[i]
		d.InForce = now.Before(d.Until)
		if d.InForce {
			sum.InForce++
		}
	}
	// Latest first: those still in force lead.
	slices.SortStableFunc(sum.Decisions, func(a, b replayDecision) int { return b.Until.Compare(a.Until) })
	return sum, nil
}

// mergeDecisions folds the decisions of a replay as the store does with
// ExtendRemediations: while one is in force on a scope and value, a later
// one extends it and is counted. from gives each attack's time.
func mergeDecisions(rs []*occsimore.Remediation, from map[string]time.Time) []replayDecision {
	ds := make([]replayDecision, 0, len(rs))
	for _, r := range rs {
		ds = append(ds, replayDecision{Action: r.Action, Scope: r.Scope, Value: r.Value, Scenario: r.Scenario,
			From: from[r.AttackID], Until: r.Until, Attacks: max(r.Attacks, 1)})
	}
	slices.SortStableFunc(ds, func(a, b replayDecision) int { return a.From.Compare(b.From) })
	rank := map[occsimore.Action]int{occsimore.ActionAlert: 0, occsimore.ActionCaptcha: 1, occsimore.ActionBan: 2}
	type key struct {
		scope occsimore.Scope
		value string
	}
	open := map[key]int{} // index in out of the decision in force
	out := ds[:0]
	for _, d := range ds {
		k := key{d.Scope, d.Value}
		if i, ok := open[k]; ok && d.From.Before(out[i].Until) {
			cur := &out[i]
			if d.Until.After(cur.Until) {
				cur.Until = d.Until
			}
			if rank[d.Action] > rank[cur.Action] {
				cur.Action = d.Action
			}
			cur.Attacks += d.Attacks
			continue
		}
		open[k] = len(out)
		out = append(out, d)
	}
	return out
}

func writeReplaySummary(w io.Writer, s *replaySummary) error {
	fmt.Fprintf(w, "%d lines (%d parsed, %d unparsed) in %.2fs: %.0f lines/s\n", s.Lines, s.Parsed, s.Unparsed, s.Seconds, s.LinesPerSec)
	where := "not stored (no --member)"
	if s.Stored {
		where = "stored with their decisions"
	}
	fmt.Fprintf(w, "%d attacks, %s\n", s.Attacks, where)
	if len(s.Scenarios) > 0 {
		fmt.Fprintf(w, "\n%-34s %8s %8s\n", "SCENARIO", "ATTACKS", "SOURCES")
		for _, sc := range s.Scenarios {
			fmt.Fprintf(w, "%-34s %8d %8d\n", sc.Scenario, sc.Attacks, sc.Sources)
		}
	}
	if len(s.Sources) > 0 {
		fmt.Fprintf(w, "\n%-40s %-7s %8s  %s\n", "SOURCE", "COUNTRY", "ATTACKS", "SCENARIOS")
		for _, src := range s.Sources {
			fmt.Fprintf(w, "%-40s %-7s %8d  %s\n", src.Source, dashIfEmpty(src.Country), src.Attacks, strings.Join(src.Scenarios, ", "))
		}
	}
	if len(s.Decisions) > 0 {
		sent := "not stored: no --member"
		if s.Stored {
			sent = "stored and sent to bouncers; ended ones are not"
		}
		fmt.Fprintf(w, "\n%d decisions in force now (%s); %d listed, latest first\n", s.InForce, sent, len(s.Decisions))
		fmt.Fprintf(w, "%-8s %-40s %-28s %7s %-20s %-20s %s\n", "ACTION", "VALUE", "SCENARIO", "ATTACKS", "FROM", "UNTIL", "NOW")
		for _, d := range s.Decisions {
			state := "ended"
			if d.InForce {
				state = "in force"
			}
			fmt.Fprintf(w, "%-8s %-40s %-28s %7d %-20s %-20s %s\n", d.Action, d.Value, d.Scenario, d.Attacks,
				d.From.UTC().Format(time.DateTime), d.Until.UTC().Format(time.DateTime), state)
		}
	}
	if len(s.Samples) > 0 {
		fmt.Fprintf(w, "\nunparsed lines (newest %d):\n", len(s.Samples))
		for _, u := range s.Samples {
			fmt.Fprintf(w, "  %q: %s\n", u.Line, u.Reason)
		}
	}
	return nil
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// explanation is what `logs explain` reports about one line.
type explanation struct {
	Line      string            `json:"line"`
	Parser    string            `json:"parser"`
	Kind      string            `json:"kind"`
	Fields    map[string]string `json:"fields"`
	Scenarios []string          `json:"scenarios"`
	Country   string            `json:"country,omitzero"`
	ASN       uint32            `json:"asn,omitzero"`
	ASOrg     string            `json:"as_org,omitzero"`
}

func (m *Main) logsExplainCommand() *cobra.Command {
	var scenariosDir, geoDir string
	cmd := &cobra.Command{
		Use:   "explain LINE",
		Short: "Say which parser takes a line, the fields it reads, and the scenarios it feeds",
		Long: `Parse one log line as the server would and print the parser that took it, the
fields it produced, the GeoIP facts of its source, and the scenarios whose
filter it passes. A line no parser takes exits with code 6 and each parser's
reason.`,
		Example: `  occsimore logs explain 'Nov 27 04:43:53 web-1 sshd[812]: Invalid user admin from 203.0.113.5 port 52344'`,
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, scenarios, err := m.logsSetup(cmd, &geoDir, scenariosDir)
			if err != nil {
				return err
			}
			e, err := parse.ParseString(args[0], parse.Hint{Years: &parse.Years{NotAfter: time.Now()}})
			if err != nil {
				return fmt.Errorf("line not parsed: %w", err)
			}
			ex := explanation{Line: args[0], Parser: e.Source, Kind: e.Kind, Fields: e.Named()}
			ex.Scenarios = scenario.NewDetector(scenarios, scenario.Options{}).Explain(&e)
			if e.SourceIP.IsValid() {
				if geo := openGeoIP(geoDir, m.logger(c)); geo != nil {
					defer geo.Close()
					if info, err := geo.Lookup(e.SourceIP); err == nil {
						ex.Country, ex.ASN, ex.ASOrg = info.Country, info.ASN, info.ASOrg
					}
				}
			}
			return m.print(ex, func(w io.Writer) error {
				fmt.Fprintf(w, "parser    %s\nkind      %s\n", ex.Parser, ex.Kind)
				keys := make([]string, 0, len(ex.Fields))
				for k := range ex.Fields {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					fmt.Fprintf(w, "  %-14s %s\n", k, ex.Fields[k])
				}
				if ex.Country != "" || ex.ASN != 0 {
					fmt.Fprintf(w, "geoip     %s AS%d %s\n", dashIfEmpty(ex.Country), ex.ASN, ex.ASOrg)
				}
				if len(ex.Scenarios) == 0 {
					fmt.Fprintln(w, "scenarios none: the line feeds no bucket")
				} else {
					fmt.Fprintf(w, "scenarios %s\n", strings.Join(ex.Scenarios, ", "))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&scenariosDir, "scenarios", "", "directory of YAML scenarios replacing the built-in set")
	cmd.Flags().StringVar(&geoDir, "geoip", "", "GeoIP database directory (default: logs.geoip_dir)")
	return cmd
}

func (m *Main) logsScenariosCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "Print the built-in scenario files (YAML)",
		Long: `Print the built-in scenarios as YAML, the format of logs.scenarios_dir: copy
them into a directory, edit, and point logs.scenarios_dir (or --scenarios) at it.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fsys := scenario.BuiltinFiles()
			names, err := fs.Glob(fsys, "*.yaml")
			if err != nil {
				return err
			}
			for i, name := range names {
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					return err
				}
				if i > 0 {
					fmt.Fprintln(m.Stdout, "---")
				}
				fmt.Fprintf(m.Stdout, "# %s\n%s", name, b)
			}
			return nil
		},
	}
}

func (m *Main) logsFollowCommand() *cobra.Command {
	var serverURL, token, tokenFile, host, stateFile string
	var fromStart bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "follow FILE...",
		Short: "Follow log files across rotation and ship their lines to a server",
		Long: `Follow log files like tail -F (across rename and copytruncate rotation) and
send their new lines to a server's POST /v1/logs with an ingest token, in
batches. A failed send is retried with backoff; lines wait in memory (up to
64 MiB) meanwhile. A batch the server rejects as bad (4xx) is dropped and
logged; a refused token stops the command. Stops on SIGINT or SIGTERM, after
sending what is waiting.

With --state, the position up to which the server accepted each file's lines
is kept in that file, and a restart resumes there: lines written while the
agent was down are sent, none is sent twice (unless an answer was lost in
flight: delivery is at least once). A file rotated or truncated meanwhile is
read from its start.`,
		Example: `  occsimore logs follow --url https://occsimore.lab --token-file /etc/occsimore/ingest.token \
      --state /var/lib/occsimore/follow.state --host web-1 /var/log/nginx/access.log`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			if tokenFile != "" {
				if token != "" {
					return usageError{errors.New("give --token or --token-file, not both")}
				}
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return usageError{fmt.Errorf("--token-file: %w", err)}
				}
				token = strings.TrimSpace(string(b))
			}
			if token == "" {
				return usageError{errors.New("--token or --token-file is required (an ingest token: occsimore token create --role ingest)")}
			}
			u, err := url.Parse(serverURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageError{fmt.Errorf("--url %q must be an http(s) URL such as http://127.0.0.1:8080", serverURL)}
			}
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			sh := &ship.Shipper{URL: serverURL, Token: token, Host: host, Every: every, FromStart: fromStart, StateFile: stateFile, Logger: m.logger(c)}
			return sh.Run(cmd.Context(), files)
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "url", "http://127.0.0.1:8080", "server base URL")
	f.StringVar(&token, "token", "", "bearer token with the ingest role (visible to other users in the process list: prefer --token-file)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token")
	f.StringVar(&host, "host", "", "host of lines whose format names none (access logs)")
	f.BoolVar(&fromStart, "from-start", false, "send what the files already hold, not only new lines")
	f.StringVar(&stateFile, "state", "", "file keeping how far each file was sent, to resume there after a restart")
	f.DurationVar(&every, "every", time.Second, "send at least this often")
	return cmd
}
