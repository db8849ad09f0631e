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
		reportDir string
		exportDir string
	)
	cmd := &cobra.Command{
		Use:   "eval FILE",
		Short: "Evaluate detection on a handbook-format CSV under the handbook's protocol",
		Long: `Replay FILE (the Fraud Detection Handbook's raw CSV, optionally gzipped) through
the behaviour engine, train gradient-boosted trees on the training week, and
report AUC ROC, Average Precision and Card Precision@100 on the test week (7 days
after a 7-day label delay, known compromised cards removed) beside the
handbook's published results.`,
		Example: "  occsimore eval transactions_raw.csv.gz\n  occsimore eval --baseline -o json transactions_raw.csv.gz > report.json\n" +
			"  occsimore eval --report out/ transactions_raw.csv.gz   # out/report.html and out/report.json\n" +
			"  occsimore eval --export-features feats/ transactions_raw.csv.gz   # feats/train.csv, feats/test.csv",
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := eval.DefaultConfig()
			cfg.Baseline = baseline
			p := eval.HandbookProtocol()
			if exportDir != "" {
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
	cmd.Flags().StringVar(&reportDir, "report", "", "write report.html (self-contained, inline SVG charts) and report.json to this directory")
	cmd.Flags().StringVar(&exportDir, "export-features", "", "also write the exact training and test feature matrices to train.csv and test.csv in this directory (label first; an extra engine pass)")
	return cmd
}

// openEvalInput opens FILE, gunzipping a .gz, behind a progress bar over its
// bytes on standard error. done closes the file and the bar. The bar stops
// short of full: eval reads only up to the end of the test week.
func (m *Main) openEvalInput(name, what string) (io.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, occsimore.Errorf(occsimore.ENOTFOUND, "open %s: %v", name, err)
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
	fmt.Fprintf(w, "train %d transactions (%d frauds); test %d (%d frauds) after removing %d known compromised cards\n\n",
		c.Train.Transactions, c.Train.Frauds, c.Test.Transactions, c.Test.Frauds, c.KnownCards)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tMODEL\tAUC ROC\tAP\tCP@100")
	features := "behaviour features"
	if baseline {
		features += " + handbook baseline"
	}
	fmt.Fprintf(tw, "occsimore\tGBDT on %s (%d trees)\t%.3f\t%.3f\t%.3f\n", features, rep.Model.Trees, rep.Metrics.AUC, rep.Metrics.AP, rep.Metrics.CPK)
	fmt.Fprintf(tw, "occsimore\tbehaviour score alone (no labels)\t%.3f\t%.3f\t%.3f\n", rep.EngineScore.AUC, rep.EngineScore.AP, rep.EngineScore.CPK)
	for _, p := range rep.Published {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\n", p.Source, p.Model, p.AUC, p.AP, p.CP100)
	}
	if err := tw.Flush(); err != nil {
		return err
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
