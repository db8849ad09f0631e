package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

// demoMembers are the lab's demo tenants; the first runs the platform.
var demoMembers = []occsimore.Member{
	{Slug: "lab", Name: "occsimore lab", Sector: "other", Operator: true},
	{Slug: "banque-alpes", Name: "Banque des Alpes", Sector: "banking"},
	{Slug: "pharmagen", Name: "Pharmagen Group", Sector: "pharma"},
	{Slug: "meteo-nationale", Name: "Météo Nationale", Sector: "weather"},
}

// demoLogin is one line of what the demo prints.
type demoLogin struct {
	Member   string `json:"member"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (m *Main) demoCommand() *cobra.Command {
	var dataDir, addr string
	var traffic bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server on the embedded store with demo members and print the logins",
		Long: `Create a fresh embedded SQLite store with demo members (the lab, a bank, a
pharmaceutical group and a weather service), an admin login for each, and serve
the API and console on it until interrupted.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			c.Store.Driver = "sqlite"
			if addr != "" {
				c.Server.Addr = addr
			}
			if dataDir == "" {
				if dataDir, err = os.MkdirTemp("", "occsimore-demo-"); err != nil {
					return fmt.Errorf("demo data directory: %w", err)
				}
			}
			c.Store.DataDir = dataDir
			logger := m.logger(c)
			db, err := app.OpenStore(cmd.Context(), c)
			if err != nil {
				return err
			}
			defer db.Close()
			logins, err := seedDemo(cmd.Context(), db)
			if err != nil {
				return err
			}
			return m.serve(cmd.Context(), c, db, logger, func(ctx context.Context, url string, pl *pipeline.Pipeline, logs *logs.Service) {
				m.printDemo(url, dataDir, logins)
				if traffic {
					for i, dm := range demoMembers[1:] {
						mem, err := db.FindMemberBySlug(ctx, dm.Slug)
						if err != nil {
							logger.Error("demo traffic", "member", dm.Slug, "err", err)
							continue
						}
						go streamDemo(ctx, pl, mem, uint64(i+1), logger)
						go streamDemoLogs(ctx, logs, mem, uint64(i+1), logger)
					}
				}
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "store directory (default: a new temporary directory)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default: server.addr, 127.0.0.1:8080)")
	cmd.Flags().BoolVar(&traffic, "traffic", true, "stream simulated card payments and logins with planted habit ruptures, and attack logs with eight weeks of history, for each member")
	return cmd
}

// seedDemo creates the demo members, each with an admin user whose random
// password is returned. Members that already exist are kept.
func seedDemo(ctx context.Context, db *sqlstore.DB) ([]demoLogin, error) {
	var logins []demoLogin
	for _, dm := range demoMembers {
		mem := dm
		if err := db.CreateMember(ctx, &mem); err != nil {
			if occsimore.ErrorCode(err) != occsimore.ECONFLICT {
				return nil, fmt.Errorf("demo member %s: %w", mem.Slug, err)
			}
			continue // seeded by an earlier run on the same --data-dir
		}
		password := occsimore.NewSecret(10)
		hash, err := auth.HashPassword(password, auth.DefaultArgon2)
		if err != nil {
			return nil, err
		}
		u := &occsimore.User{Email: "admin@" + mem.Slug + ".demo", Name: mem.Name + " admin", Role: occsimore.RoleAdmin, PasswordHash: hash}
		if err := db.CreateUser(ctx, mem.ID, u); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", u.Email, err)
		}
		logins = append(logins, demoLogin{Member: mem.Slug, Email: u.Email, Password: password})
	}
	return logins, nil
}

func (m *Main) printDemo(url, dataDir string, logins []demoLogin) {
	_ = m.print(map[string]any{"url": url, "data_dir": dataDir, "logins": logins}, func(w io.Writer) error {
		fmt.Fprintf(w, "\noccsimore demo is running.\n\n  Console: %s/login\n  Data:    %s\n\n", url, dataDir)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  MEMBER\tEMAIL\tPASSWORD")
		for _, l := range logins {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Member, l.Email, l.Password)
		}
		tw.Flush()
		_, err := fmt.Fprintf(w, "\nThe lab admin is an operator: it sees every member. Press Ctrl-C to stop.\n")
		return err
	})
}
