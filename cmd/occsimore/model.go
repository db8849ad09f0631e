package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

func (m *Main) modelCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "List trained models and move them through shadow, promotion and retirement",
		Long: `Models go candidate → shadow → promoted → retired. A shadow model scores every
event beside the promoted one: its probability is returned as shadow_score and
kept with alerts, and never changes a decision. A promoted model's probability
takes part in every decision. Promoting retires the model promoted before; a
retired model can be promoted again (a rollback). A running server picks the
change up within a few seconds.

A model is named by its version within --kind (3 or v3) or by its ID (mdl_...).`,
	}
	var slug, kind string
	pf := cmd.PersistentFlags()
	pf.StringVar(&slug, "member", "", "member slug (required)")
	pf.StringVar(&kind, "kind", "card.tx", "event kind")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the member's models of --kind, newest first",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return m.withStore(ctx, func(db *sqlstore.DB) error {
				mem, err := memberBySlug(ctx, db, slug)
				if err != nil {
					return err
				}
				ms, err := db.ListModels(ctx, mem.ID, occsimore.ModelFilter{Kind: kind})
				if err != nil {
					return err
				}
				return m.print(ms, func(w io.Writer) error { return printModels(w, ms) })
			})
		},
	}
	cmd.AddCommand(list)
	for _, st := range []struct {
		status occsimore.ModelStatus
		short  string
	}{
		{occsimore.ModelShadow, "Score every event with the model beside the promoted one, without deciding"},
		{occsimore.ModelPromoted, "Use the model's probability in live decisions"},
		{occsimore.ModelRetired, "Stop scoring with the model"},
		{occsimore.ModelCandidate, "Return the model to candidate (it stops scoring)"},
	} {
		verb := map[occsimore.ModelStatus]string{occsimore.ModelShadow: "shadow", occsimore.ModelPromoted: "promote",
			occsimore.ModelRetired: "retire", occsimore.ModelCandidate: "demote"}[st.status]
		cmd.AddCommand(&cobra.Command{
			Use:   verb + " VERSION",
			Short: st.short,
			Args:  argsUsage(cobra.ExactArgs(1)),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context()
				return m.withStore(ctx, func(db *sqlstore.DB) error {
					mem, err := memberBySlug(ctx, db, slug)
					if err != nil {
						return err
					}
					mv, err := findModelRef(ctx, db, mem.ID, kind, args[0])
					if err != nil {
						return err
					}
					mv, err = db.SetModelStatus(ctx, mem.ID, mv.ID, st.status, time.Now())
					if err != nil {
						return err
					}
					return m.print(mv, func(w io.Writer) error {
						_, err := fmt.Fprintf(w, "model %s (%s v%d of %s) is now %s\n", mv.ID, mv.Kind, mv.Version, mem.Slug, mv.Status)
						return err
					})
				})
			},
		})
	}
	return cmd
}

// findModelRef resolves a version number or a model ID of memberID.
func findModelRef(ctx context.Context, db occsimore.ModelService, memberID, kind, ref string) (*occsimore.ModelVersion, error) {
	version, id, err := occsimore.ParseModelRef(ref)
	if err != nil {
		return nil, err
	}
	if id != "" {
		return db.FindModel(ctx, memberID, id)
	}
	return db.FindModelVersion(ctx, memberID, kind, version)
}

func printModels(w io.Writer, ms []*occsimore.ModelVersion) error {
	if len(ms) == 0 {
		_, err := fmt.Fprintln(w, "no models")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tID\tKIND\tSTATUS\tAUC\tAP\tCP@K\tROWS\tSOURCE\tCREATED")
	for _, mv := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", mv.Version, mv.ID, mv.Kind, mv.Status,
			num(mv.Metrics.AUC), num(mv.Metrics.AP), num(mv.Metrics.CPK), mv.Metrics.TrainRows+mv.Metrics.HoldoutRows,
			mv.Source, mv.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
