package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/eval"
	"github.com/spf13/cobra"
)

func (m *Main) evalCommand() *cobra.Command {
	var baseline bool
	cmd := &cobra.Command{
		Use:   "eval FILE",
		Short: "Evaluate detection on a handbook-format CSV under the handbook's protocol",
		Long: `Replay FILE (the Fraud Detection Handbook's raw CSV, optionally gzipped) through
the behaviour engine, train gradient-boosted trees on the training week, and
report AUC ROC, Average Precision and Card Precision@100 on the test week (7 days
after a 7-day label delay, known compromised cards removed) beside the
handbook's published results.`,
		Example: "  occsimore eval transactions_raw.csv.gz\n  occsimore eval --baseline -o json transactions_raw.csv.gz > report.json",
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return occsimore.Errorf(occsimore.ENOTFOUND, "open %s: %v", args[0], err)
			}
			defer f.Close()
			var r io.Reader = f
			if strings.HasSuffix(args[0], ".gz") {
				zr, err := gzip.NewReader(f)
				if err != nil {
					return occsimore.Errorf(occsimore.EINVALID, "%s: not gzip: %v", args[0], err)
				}
				defer zr.Close()
				r = zr
			}
			cfg := eval.DefaultConfig()
			cfg.Baseline = baseline
			fmt.Fprintf(m.Stderr, "evaluating %s (this reads up to the end of the test week)…\n", args[0])
			rep, err := eval.Run(cmd.Context(), r, eval.HandbookProtocol(), cfg)
			if err != nil {
				return fmt.Errorf("eval %s: %w", args[0], err)
			}
			return m.print(rep, func(w io.Writer) error { return printEval(w, rep, baseline) })
		},
	}
	cmd.Flags().BoolVar(&baseline, "baseline", false, "also give the model the handbook's own 15 baseline features")
	return cmd
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
