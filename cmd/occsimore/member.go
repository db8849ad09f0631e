package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

func (m *Main) memberCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "Manage members (the tenants) directly in the store",
	}
	var add occsimore.Member
	addCmd := &cobra.Command{
		Use:     "add",
		Short:   "Add a member",
		Example: "  occsimore member add --slug banque-alpes --name 'Banque des Alpes' --sector banking",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := add.Validate(); err != nil {
				return err
			}
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				if err := db.CreateMember(cmd.Context(), &add); err != nil {
					return fmt.Errorf("add member %s: %w", add.Slug, err)
				}
				return m.print(&add, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "added member %s (%s)\n", add.Slug, add.ID)
					return err
				})
			})
		},
	}
	addCmd.Flags().StringVar(&add.Slug, "slug", "", "short unique name: lowercase letters, digits, hyphens")
	addCmd.Flags().StringVar(&add.Name, "name", "", "display name")
	addCmd.Flags().StringVar(&add.Sector, "sector", "", fmt.Sprintf("one of %v", occsimore.Sectors))
	addCmd.Flags().BoolVar(&add.Operator, "operator", false, "the member runs the platform (its admins can add members)")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List members",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				members, err := db.AllMembers(cmd.Context())
				if err != nil {
					return fmt.Errorf("list members: %w", err)
				}
				return m.print(members, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SLUG\tNAME\tSECTOR\tOPERATOR\tID\tCREATED")
					for _, x := range members {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", x.Slug, x.Name, x.Sector, x.Operator, x.ID, x.CreatedAt.Format(time.RFC3339))
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.AddCommand(addCmd, listCmd)
	return cmd
}
