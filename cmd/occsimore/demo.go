package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/auth"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

// demoMembers are the lab's demo tenants. The lab, which runs the platform,
// comes last: its operator login has no events of its own, so a newcomer
// should not start there.
var demoMembers = []occsimore.Member{
	{Slug: "banque-alpes", Name: "Banque des Alpes", Sector: "banking"},
	{Slug: "pharmagen", Name: "Pharmagen Group", Sector: "pharma"},
	{Slug: "meteo-nationale", Name: "Météo Nationale", Sector: "weather"},
	{Slug: "lab", Name: "occsimore lab", Sector: "other", Operator: true},
}

// demoLogin is one line of what the demo prints.
type demoLogin struct {
	Member   string `json:"member"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (m *Main) demoCommand() *cobra.Command {
	var dataDir, addr string
	var traffic, verbose bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server on the embedded store with demo members and print the logins",
		Long: `Create a fresh embedded SQLite store with demo members (a bank, a
pharmaceutical group, a weather service and the lab that runs the platform), an
admin login for each, and serve the API and console on it until interrupted.

The logins are printed once the demo's history is loaded. The server's logs go
to demo.log in the data directory; --verbose shows them here too.`,
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
			db, err := app.OpenStore(cmd.Context(), c)
			if err != nil {
				return err
			}
			defer db.Close()
			logins, err := seedDemo(cmd.Context(), db)
			if err != nil {
				return err
			}
			members := make([]*occsimore.Member, 0, len(demoMembers))
			slugs := make(map[string]string, len(demoMembers))
			for _, dm := range demoMembers {
				mem, err := db.FindMemberBySlug(cmd.Context(), dm.Slug)
				if err != nil {
					return fmt.Errorf("demo member %s: %w", dm.Slug, err)
				}
				members = append(members, mem)
				slugs[mem.ID] = mem.Slug
			}
			logPath := filepath.Join(dataDir, "demo.log")
			logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("demo log file: %w", err)
			}
			defer logFile.Close()
			var logTo io.Writer = logFile
			if verbose {
				logTo = io.MultiWriter(logFile, m.Stderr)
			}
			logger := slog.New(occhttp.NewContextHandler(slugHandler{logHandler(logTo, c), slugs}))
			return m.serve(cmd.Context(), c, db, logger, func(ctx context.Context, url string, pl *pipeline.Pipeline, logs *logs.Service) {
				var loading sync.WaitGroup
				if traffic {
					fmt.Fprintf(m.Stderr, "occsimore demo: loading eight weeks of attack logs for each member; the logins follow (logs: %s)\n", logPath)
					var seed uint64
					for _, mem := range members {
						if mem.Operator {
							continue
						}
						seed++
						loading.Add(1)
						go streamDemo(ctx, pl, mem, seed, logger)
						go streamDemoLogs(ctx, logs, mem, seed, logger, loading.Done)
					}
				}
				// Printed last, so the logins are what the terminal ends with.
				go func() {
					loading.Wait()
					if ctx.Err() == nil {
						m.printDemo(url, dataDir, logPath, verbose, logins)
					}
				}()
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "store directory (default: a new temporary directory)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default: server.addr, 127.0.0.1:8080)")
	cmd.Flags().BoolVar(&traffic, "traffic", true, "stream simulated card payments and logins with planted habit ruptures, and attack logs with eight weeks of history, for each member")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the server's logs here as well as in demo.log")
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

func (m *Main) printDemo(url, dataDir, logPath string, verbose bool, logins []demoLogin) {
	_ = m.print(map[string]any{"url": url, "data_dir": dataDir, "log_file": logPath, "logins": logins}, func(w io.Writer) error {
		fmt.Fprintf(w, "\noccsimore demo is running.\n\n  Console: %s/login\n  Data:    %s\n  Logs:    %s", url, dataDir, logPath)
		if !verbose {
			fmt.Fprint(w, " (--verbose to show them here)")
		}
		fmt.Fprint(w, "\n\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  MEMBER\tEMAIL\tPASSWORD")
		for _, l := range logins {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Member, l.Email, l.Password)
		}
		tw.Flush()
		_, err := fmt.Fprintf(w, "\nSign in as a member to see its alerts and attacks. The lab login is the operator:\nit manages the members and holds no events of its own. Press Ctrl-C to stop.\n")
		return err
	})
}

// slugHandler writes the demo's log records with members' slugs in place of
// their internal IDs, which mean nothing to someone trying the demo.
type slugHandler struct {
	slog.Handler
	slugs map[string]string // member ID -> slug; read-only once built
}

func (h slugHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h slugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	mapped := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		mapped[i] = h.attr(a)
	}
	return slugHandler{h.Handler.WithAttrs(mapped), h.slugs}
}

func (h slugHandler) WithGroup(name string) slog.Handler {
	return slugHandler{h.Handler.WithGroup(name), h.slugs}
}

func (h slugHandler) attr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindString:
		if slug, ok := h.slugs[a.Value.String()]; ok {
			return slog.String(a.Key, slug)
		}
	case slog.KindGroup:
		group := a.Value.Group()
		mapped := make([]any, len(group))
		for i, g := range group {
			mapped[i] = h.attr(g)
		}
		return slog.Group(a.Key, mapped...)
	}
	return a
}
