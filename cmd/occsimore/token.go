package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

// createdToken is what `token create` prints: the only time the bearer
// secret is ever shown.
type createdToken struct {
	*occsimore.Token
	Bearer string `json:"bearer"`
}

func (m *Main) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage a member's API tokens directly in the store",
	}
	var member, name, role string
	var ttl time.Duration
	createCmd := &cobra.Command{
		Use:     "create",
		Short:   "Create an API token and print its bearer secret once",
		Example: "  occsimore token create --member banque-alpes --name ingest-gw --role ingest --expires-in 720h",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				if ttl < 0 {
					return occsimore.FieldErrorf("expires-in", "--expires-in must not be negative")
				}
				tok, bearer := auth.NewToken(mem.ID, name, occsimore.Role(role), time.Now(), ttl)
				if err := tok.Validate(); err != nil {
					return err
				}
				if err := db.CreateToken(cmd.Context(), mem.ID, tok); err != nil {
					return fmt.Errorf("create token: %w", err)
				}
				return m.print(createdToken{tok, bearer}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "created token %s (%s, role %s) for %s\n\n  %s\n\nThis secret is shown once; store it now.\n", tok.ID, tok.Name, tok.Role, mem.Slug, bearer)
					return err
				})
			})
		},
	}
	createCmd.Flags().StringVar(&member, "member", "", "member slug")
	createCmd.Flags().StringVar(&name, "name", "", "what the token is for")
	createCmd.Flags().StringVar(&role, "role", string(occsimore.RoleReader), "admin, analyst, ingest or reader")
	createCmd.Flags().DurationVar(&ttl, "expires-in", 0, "lifetime such as 720h (0: no expiry)")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List a member's tokens (never their secrets)",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				tokens, err := db.ListTokens(cmd.Context(), mem.ID)
				if err != nil {
					return fmt.Errorf("list tokens: %w", err)
				}
				return m.print(tokens, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATE\tCREATED\tEXPIRES")
					now := time.Now()
					for _, t := range tokens {
						state := "active"
						switch {
						case !t.RevokedAt.IsZero():
							state = "revoked"
						case !t.Active(now):
							state = "expired"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, state, t.CreatedAt.Format(time.RFC3339), timeOrNever(t.ExpiresAt))
					}
					return tw.Flush()
				})
			})
		},
	}
	listCmd.Flags().StringVar(&member, "member", "", "member slug")

	revokeCmd := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token",
		Long: `Revoke a token in the store. A running server that has the token in its cache
refuses it within server.token_cache_ttl (5s by default); revoking through the
API or the console applies at once.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				if err := db.RevokeToken(cmd.Context(), mem.ID, args[0], time.Now()); err != nil {
					return fmt.Errorf("revoke token: %w", err)
				}
				return m.print(map[string]string{"revoked": args[0]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "revoked token %s\n", args[0])
					return err
				})
			})
		},
	}
	revokeCmd.Flags().StringVar(&member, "member", "", "member slug")
	cmd.AddCommand(createCmd, listCmd, revokeCmd)
	return cmd
}

func timeOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}
