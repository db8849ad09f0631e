package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/ingest"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/train"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// trainResult is what train prints.
type trainResult struct {
	Model *occsimore.ModelVersion `json:"model"`
	// Skipped counts labelled alerts whose features were computed under
	// other specs than today's.
	Skipped int `json:"skipped,omitempty"`
}

func (m *Main) trainCommand() *cobra.Command {
	var (
		slug, from, format, since, until string
		labelDelay                       string
		trees                            int
	)
	tc := train.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Fit a fraud model on labelled history and store it as a candidate version",
		Long: `Fit gradient-boosted trees on labelled events of one kind and store the model,
versioned per member and kind, with status candidate.

The rows come from --from FILE (the handbook's raw CSV, labels in TX_FRAUD, or
NDJSON events with attrs.fraud "0"/"1" as 'occsimore simulate cards --labels'
writes them; .gz is read too), replayed through the behaviour engine in time
order with no look-ahead; or, without --from, from the member's alerts that
analysts labelled, with the features the engine computed live when each alert
was raised.

The last --holdout of the rows in time is held out: early stopping watches it,
and AUC ROC, Average Precision and Card Precision@100 are measured on it.

A candidate does nothing until 'occsimore model shadow' or 'occsimore model
promote'. A promoted model decides with the engine: an event gets the more
severe of the engine's decision (score thresholds) and the model's (fraud
probability at or above --review or --block).`,
		Example: `  occsimore simulate cards --days 60 --out tx.csv
  occsimore train --member bank --kind card.tx --from tx.csv
  occsimore train --member bank --since 2026-01-01 -o json`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if tc.Since, err = parseTimeFlag("since", since); err != nil {
				return err
			}
			if tc.Until, err = parseTimeFlag("until", until); err != nil {
				return err
			}
			d, err := behavior.ParseDuration(labelDelay)
			if err != nil {
				return usageError{fmt.Errorf("--label-delay %q: %w", labelDelay, err)}
			}
			tc.LabelDelay = d.D()
			if trees < 1 {
				return usageError{fmt.Errorf("--trees %d must be at least 1", trees)}
			}
			tc.GBDT.Trees = trees
			ctx := cmd.Context()
			return m.withStore(ctx, func(db *sqlstore.DB) error {
				mem, err := memberBySlug(ctx, db, slug)
				if err != nil {
					return err
				}
				// The member's thresholds decide, as on the server, which
				// replayed events are blocked and so teach no habit.
				if tc.Engine, err = m.loadEngineConfig(ctx, db); err != nil {
					return err
				}
				res, err := m.train(ctx, db, mem, from, format, tc)
				if err != nil {
					return err
				}
				return m.print(res, func(w io.Writer) error { return printTrain(w, mem, res) })
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&slug, "member", "", "member slug (required)")
	f.StringVar(&tc.Kind, "kind", tc.Kind, "event kind the model scores")
	f.StringVar(&from, "from", "", "labelled file: handbook CSV or NDJSON (default: the member's labelled alerts)")
	f.StringVar(&format, "format", "", "format of --from: csv or ndjson (default: from the file name)")
	f.StringVar(&since, "since", "", "keep rows with event time from this date or RFC 3339 time")
	f.StringVar(&until, "until", "", "keep rows with event time before this date or RFC 3339 time")
	f.Float64Var(&tc.Holdout, "holdout", tc.Holdout, "fraction of rows, the last in time, held out")
	f.StringVar(&labelDelay, "label-delay", "7d", "--from: when a label reaches the engine's risk features")
	f.IntVar(&trees, "trees", tc.GBDT.Trees, "most boosting rounds (early stopping usually ends sooner)")
	f.Float64Var(&tc.Review, "review", tc.Review, "fraud probability at which the promoted model asks for review")
	f.Float64Var(&tc.Block, "block", tc.Block, "fraud probability at which the promoted model blocks")
	return cmd
}

// loadEngineConfig loads the configuration and builds from it the
// behaviour engine's configuration the server runs, for the commands that
// run an engine in process; members (nil without a store) resolves the
// per-member thresholds of the specs file.
func (m *Main) loadEngineConfig(ctx context.Context, members app.MemberFinder) (behavior.Config, error) {
	c, err := m.loadConfig()
	if err != nil {
		return behavior.Config{}, err
	}
	bc, err := app.EngineConfig(ctx, c, members)
	if err == nil && m.engineBuilt != nil {
		m.engineBuilt(bc)
	}
	return bc, err
}

// parseTimeFlag reads a date (UTC midnight) or an RFC 3339 time; "" is the
// zero time.
func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, usageError{fmt.Errorf("--%s %q must be a date (2026-01-02) or an RFC 3339 time", name, v)}
	}
	return t, nil
}

func (m *Main) train(ctx context.Context, db *sqlstore.DB, mem *occsimore.Member, from, format string, tc train.Config) (*trainResult, error) {
	var (
		ts      *train.Set
		skipped int
		source  string
	)
	if from == "" {
		eng, err := behavior.NewEngine(tc.Engine)
		if err != nil {
			return nil, fmt.Errorf("behaviour engine: %w", err)
		}
		names := eng.FeatureNames(tc.Kind)
		if names == nil {
			return nil, occsimore.FieldErrorf("kind", "kind %q has no behaviour spec", tc.Kind)
		}
		rows, err := db.ListTrainingRows(ctx, mem.ID, tc.Kind, tc.Since, tc.Until)
		if err != nil {
			return nil, err
		}
		ts, skipped = train.FromAlerts(rows, names)
		source = "alerts"
		fmt.Fprintf(m.Stderr, "training on %d labelled %s alerts of %s", len(ts.Y), tc.Kind, mem.Slug)
		if skipped > 0 {
			fmt.Fprintf(m.Stderr, " (%d skipped: features of other specs)", skipped)
		}
		fmt.Fprintln(m.Stderr)
	} else {
		var err error
		if ts, err = m.readTrainingFile(ctx, from, format, tc); err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		source = filepath.Base(from)
		fmt.Fprintf(m.Stderr, "training on %d %s events of %s\n", len(ts.Y), tc.Kind, from)
	}
	mv, err := train.Fit(ctx, ts, tc)
	if err != nil {
		return nil, err
	}
	mv.Source = source
	if err := db.CreateModel(ctx, mem.ID, mv); err != nil {
		return nil, fmt.Errorf("store model: %w", err)
	}
	return &trainResult{Model: mv, Skipped: skipped}, nil
}

// readTrainingFile replays a labelled file through the engine, with a
// progress bar over its bytes.
func (m *Main) readTrainingFile(ctx context.Context, name, format string, tc train.Config) (*train.Set, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fileError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(name, ".gz")
	if format == "" {
		switch {
		case strings.HasSuffix(base, ".csv"):
			format = "csv"
		case strings.HasSuffix(base, ".ndjson"), strings.HasSuffix(base, ".jsonl"):
			format = "ndjson"
		default:
			return nil, usageError{fmt.Errorf("cannot tell the format of %s: pass --format csv or ndjson", name)}
		}
	}
	bar := progressbar.NewOptions64(st.Size(),
		progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription("features"),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetVisibility(m.Output != "json" && !m.NoProgress))
	defer bar.Finish()
	var r io.Reader = &countingReader{r: f, bar: bar}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, occsimore.Errorf(occsimore.EINVALID, "not gzip: %v", err)
		}
		defer zr.Close()
		r = zr
	}
	var lr train.LabelledReader
	switch format {
	case "csv":
		if lr, err = ingest.NewLabelledCSV(r); err != nil {
			return nil, err
		}
	case "ndjson":
		lr = ingest.NewLabelledNDJSON(r)
	default:
		return nil, usageError{fmt.Errorf("--format %q must be csv or ndjson", format)}
	}
	return train.FromEvents(ctx, lr, tc)
}

func printTrain(w io.Writer, mem *occsimore.Member, res *trainResult) error {
	mv := res.Model
	mt := mv.Metrics
	fmt.Fprintf(w, "model %s: %s v%d of %s, status %s (%d trees on %d rows, %d frauds)\n",
		mv.ID, mv.Kind, mv.Version, mem.Slug, mv.Status, mt.Trees, mt.TrainRows, mt.TrainFrauds)
	fmt.Fprintf(w, "holdout (last %d rows, %d frauds): AUC ROC %s, AP %s, CP@%d %s\n",
		mt.HoldoutRows, mt.HoldoutFrauds, num(mt.AUC), num(mt.AP), mt.K, num(mt.CPK))
	_, err := fmt.Fprintf(w, "next: occsimore model shadow --member %s --kind %s %d (or promote)\n", mem.Slug, mv.Kind, mv.Version)
	return err
}

func num(f float64) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}
