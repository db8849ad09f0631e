package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/eval"
	"github.com/occsimore/occsimore/model"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func (m *Main) evalCommand() *cobra.Command {
	var (
		baseline  bool
		validDays int
		reportDir string
		exportDir string
		win       windowFlags
	)
	cmd := &cobra.Command{
		Use:   "eval FILE",
		Short: "Evaluate detection on a handbook-format CSV under the handbook's protocol",
		Long: `Replay FILE (the Fraud Detection Handbook's raw CSV, optionally gzipped) through
the behaviour engine, train gradient-boosted trees on the training week, and
report AUC ROC, Average Precision and Card Precision@100 on the test week (7 days
after a 7-day label delay, known compromised cards removed) beside the
handbook's published results.

The window defaults to the handbook's: training from 2018-07-25 for 7 days, a
7-day delay, 7 test days. --weeks N evaluates N windows, each starting 7 days
after the previous, and reports their mean, as the handbook's chapters 5 to 7
average four weeks.

CP@100 is given two ways: by the handbook's definition (the compromised cards
found on a test day are removed from later days; its published column) and
without that removal. When the file has fraud scenarios (TX_FRAUD_SCENARIO),
each metric is also shown as a fraction of its no-look-ahead ceiling (the
compromised-terminal frauds no fraud of whose terminal is known yet, under the
label delay, ranked at random among the genuine rows, every other fraud first),
with each scenario's recall at precision 0.5 and its AUC against genuine rows.`,
		Example: "  occsimore eval transactions_raw.csv.gz\n  occsimore eval --baseline -o json transactions_raw.csv.gz > report.json\n" +
			"  occsimore eval --weeks 4 transactions_raw.csv.gz   # chapters 5 to 7: four weekly windows from 2018-07-25\n" +
			"  occsimore eval --train-start 2019-02-01 --train-days 14 --delay 7 --test-days 7 sim.csv\n" +
			"  occsimore eval --report out/ transactions_raw.csv.gz   # out/report.html and out/report.json\n" +
			"  occsimore eval --export-features feats/ transactions_raw.csv.gz   # feats/train.csv, feats/test.csv",
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := eval.DefaultConfig()
			cfg.Baseline = baseline
			cfg.ValidDays = validDays
			p, err := win.protocol()
			if err != nil {
				return err
			}
			if validDays < 0 || validDays >= p.TrainDays {
				return occsimore.FieldErrorf("valid_days", "--valid-days %d must be at least 0 and below --train-days %d", validDays, p.TrainDays)
			}
			if exportDir != "" {
				if p.NumWindows() > 1 {
					return usageError{fmt.Errorf("--export-features writes one window's features: drop --weeks %d", p.Weeks)}
				}
				r, done, err := m.openEvalInput(args[0], "export")
				if err != nil {
					return err
				}
				fs, err := eval.CollectFeatures(cmd.Context(), r, p, cfg)
				done()
				if err != nil {
					return fmt.Errorf("eval %s: %w", args[0], err)
				}
				if err := exportFeatures(exportDir, fs); err != nil {
					return err
				}
				fmt.Fprintf(m.Stderr, "wrote %s: train %d×%d, test %d×%d\n", exportDir, fs.Train.Rows, fs.Train.Cols, fs.Test.Rows, fs.Test.Cols)
			}
			r, done, err := m.openEvalInput(args[0], "evaluate")
			if err != nil {
				return err
			}
			rep, err := eval.Run(cmd.Context(), r, p, cfg)
			done()
			if err != nil {
				return fmt.Errorf("eval %s: %w", args[0], err)
			}
			if reportDir != "" {
				if err := writeEvalReport(reportDir, rep); err != nil {
					return err
				}
				fmt.Fprintf(m.Stderr, "wrote %s\n", filepath.Join(reportDir, "report.html"))
			}
			return m.print(rep, func(w io.Writer) error { return printEval(w, rep, baseline) })
		},
	}
	cmd.Flags().BoolVar(&baseline, "baseline", false, "also give the model the handbook's own 15 baseline features")
	win.register(cmd)
	cmd.Flags().IntVar(&validDays, "valid-days", eval.DefaultConfig().ValidDays, "last training days held out to choose the number of trees by early stopping (0: no early stopping)")
	cmd.Flags().StringVar(&reportDir, "report", "", "write report.html (self-contained, inline SVG charts) and report.json to this directory")
	cmd.Flags().StringVar(&exportDir, "export-features", "", "also write the exact training and test feature matrices to train.csv and test.csv in this directory (label first; an extra engine pass)")
	return cmd
}

// windowFlags are eval's window options.
type windowFlags struct {
	trainStart                    string
	trainDays, delay, testDays, n int
}

func (f *windowFlags) register(cmd *cobra.Command) {
	p := eval.HandbookProtocol()
	fs := cmd.Flags()
	fs.StringVar(&f.trainStart, "train-start", p.TrainStart.Format(time.DateOnly), "first training day (UTC date, YYYY-MM-DD)")
	fs.IntVar(&f.trainDays, "train-days", p.TrainDays, "training days")
	fs.IntVar(&f.delay, "delay", p.DelayDays, "days between training and test, also the label delay")
	fs.IntVar(&f.testDays, "test-days", p.TestDays, "test days")
	fs.IntVar(&f.n, "weeks", 1, "weekly windows to average, each shifted 7 days")
}

// protocol reads the flags: a date that does not parse is a usage error
// (exit 2), a value out of range an invalid value (exit 6).
func (f *windowFlags) protocol() (eval.Protocol, error) {
	start, err := time.Parse(time.DateOnly, f.trainStart)
	if err != nil {
		return eval.Protocol{}, usageError{fmt.Errorf("--train-start %q must be a date such as 2018-07-25", f.trainStart)}
	}
	p := eval.Protocol{TrainStart: start, TrainDays: f.trainDays, DelayDays: f.delay, TestDays: f.testDays, Weeks: f.n}
	if f.n < 1 {
		return eval.Protocol{}, occsimore.FieldErrorf("weeks", "--weeks %d must be at least 1", f.n)
	}
	if err := p.Validate(); err != nil {
		flag := map[string]string{"train_start": "--train-start", "train_days": "--train-days", "delay_days": "--delay",
			"test_days": "--test-days", "weeks": "--weeks"}[occsimore.ErrorField(err)]
		return eval.Protocol{}, fmt.Errorf("%s: %w", flag, err)
	}
	return p, nil
}

// openEvalInput opens FILE, gunzipping a .gz, behind a progress bar over its
// bytes on standard error. done closes the file and the bar. The bar stops
// short of full: eval reads only up to the end of the test week.
func (m *Main) openEvalInput(name, what string) (io.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fileError(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", name, err)
	}
	bar := progressbar.NewOptions64(st.Size(),
		progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription(what+" "+filepath.Base(name)),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetVisibility(!m.NoProgress))
	var r io.Reader = bufio.NewReaderSize(&countingReader{r: f, bar: bar}, 1<<16)
	done := func() {
		bar.Exit()
		f.Close()
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			done()
			return nil, nil, occsimore.Errorf(occsimore.EINVALID, "%s: not gzip: %v", name, err)
		}
		r = zr
	}
	return r, done, nil
}

// writeEvalReport writes report.html and report.json into dir.
func writeEvalReport(dir string, rep *eval.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return writeFiles(dir, map[string]func(io.Writer) error{
		"report.html": rep.WriteHTML,
		"report.json": func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	})
}

// exportFeatures writes train.csv and test.csv into dir.
func exportFeatures(dir string, fs *eval.FeatureSet) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export features: %w", err)
	}
	write := func(X model.Matrix, y []bool) func(io.Writer) error {
		return func(w io.Writer) error { return eval.WriteFeaturesCSV(w, fs.Names, X, y) }
	}
	return writeFiles(dir, map[string]func(io.Writer) error{
		"train.csv": write(fs.Train, fs.TrainY),
		"test.csv":  write(fs.Test, fs.TestY),
	})
}

// writeFiles creates each named file in dir and fills it through a buffer.
func writeFiles(dir string, files map[string]func(io.Writer) error) error {
	for name, fill := range files {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		err = fill(bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func printEval(w io.Writer, rep *eval.Report, baseline bool) error {
	c := rep.Counts
	p := rep.Protocol
	if n := p.NumWindows(); n > 1 {
		fmt.Fprintf(w, "%d weekly windows from %s, mean figures; first window: ", n, p.TrainStart.Format(time.DateOnly))
	}
	fmt.Fprintf(w, "train %d transactions (%d frauds); test %d (%d frauds) after removing %d known compromised cards\n",
		c.Train.Transactions, c.Train.Frauds, c.Test.Transactions, c.Test.Frauds, c.KnownCards)
	fmt.Fprintf(w, "CP@%d (handbook) removes the compromised cards found on a test day from later days, as the published column does;\n"+
		"CP@%d (no removal) ranks each day on its own.\n\n", rep.Metrics.K, rep.Metrics.K)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	k := rep.Metrics.K
	fmt.Fprintf(tw, "SOURCE\tMODEL\tAUC ROC\tAP\tCP@%d (handbook)\tCP@%d (no removal)\n", k, k)
	features := "behaviour features"
	if baseline {
		features += " + handbook baseline"
	}
	row := func(src, model string, m eval.Metrics) {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\n", src, model, m.AUC, m.AP, m.CPK, m.CPKNoRemoval)
	}
	row("occsimore", fmt.Sprintf("GBDT on %s (%d trees)", features, rep.Model.Trees), rep.Metrics)
	row("occsimore", "behaviour score alone (no labels)", rep.EngineScore)
	if cl := rep.Ceiling; cl != nil {
		row("ceiling", "no look-ahead (hidden frauds at random)", cl.Metrics)
		f := rep.Fraction
		fmt.Fprintf(tw, "occsimore\tGBDT as a fraction of the ceiling\t%.3f\t%.3f\t%.3f\t%.3f\n", f.AUC, f.AP, f.CPK, f.CPKNoRemoval)
		fmt.Fprintf(tw, "oracle\tevery fraud first (sees the labels)\t1.000\t1.000\t%.3f\t%.3f\n", cl.OracleCPK, cl.OracleCPKNoRemoval)
	}
	for _, p := range rep.Published {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t\n", p.Source, p.Model, p.AUC, p.AP, p.CP100)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Windows) > 1 {
		fmt.Fprintln(w, "\nper window:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "TRAIN FROM\tTEST FRAUDS\tAUC ROC\tAP\tCP@%d (handbook)\tCP@%d (no removal)\tAP CEILING\tCP@%d CEILING (handbook)\n", k, k, k)
		for _, wr := range rep.Windows {
			ap, cp := "—", "—"
			if wr.Ceiling != nil {
				ap, cp = fmt.Sprintf("%.3f", wr.Ceiling.AP), fmt.Sprintf("%.3f", wr.Ceiling.CPK)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\n", wr.Protocol.TrainStart.Format(time.DateOnly), wr.Counts.Test.Frauds,
				wr.Metrics.AUC, wr.Metrics.AP, wr.Metrics.CPK, wr.Metrics.CPKNoRemoval, ap, cp)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(rep.Scenarios) > 0 {
		fmt.Fprintf(w, "\nrecall per fraud scenario at precision %.2f (GBDT):\n", rep.Scenarios[0].Precision)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SCENARIO\tFRAUDS\tFOUND\tRECALL\tAUC VS GENUINE\tCRUDE NOVELTY BASELINE AUC")
		for _, s := range rep.Scenarios {
			crude := "—"
			if s.NoveltyAUC != nil {
				crude = fmt.Sprintf("%.3f", *s.NoveltyAUC)
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.3f\t%.3f\t%s\n", s.Scenario, s.Frauds, s.Found, s.Recall, s.AUC, crude)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\ntop features by gain:")
	for i, f := range rep.Features {
		if i == 8 {
			break
		}
		fmt.Fprintf(w, " %s %.2f", f.Name, f.Gain)
	}
	_, err := fmt.Fprintf(w, "\ntook %s\n", rep.Timings.Total.Round(1e8))
	return err
}
