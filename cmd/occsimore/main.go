// Command occsimore is the single binary: server, demo and administration.
// This package only wires the other packages together.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/config"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/spf13/cobra"
)

// Exit codes. They let scripts tell a typo from a missing object from an
// outage without parsing messages.
const (
	exitOK          = 0
	exitFailure     = 1 // internal or unexpected error
	exitUsage       = 2 // bad flags or arguments
	exitConfig      = 3 // configuration error
	exitNotFound    = 4 // the named object does not exist
	exitConflict    = 5 // the object already exists
	exitInvalid     = 6 // a value was rejected
	exitUnavailable = 7 // a dependency (store, listener) is unreachable
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// Main holds what every subcommand shares: the streams, the environment and
// the global flags. Nothing here is global state.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string

	ConfigPath string
	Output     string // text or json
	LogLevel   string
	NoProgress bool // no progress bars on standard error

	// ready, if set, is called with the server's URL once it listens and
	// its journal is recovered (tests).
	ready func(url string)
	// recovering, if set, is called with the server's URL once it listens,
	// before the journal is recovered, which waits for it to return (tests
	// of readiness).
	recovering func(url string)
	// wrap, if set, wraps serve's whole HTTP handler (tests check every
	// exchange against the OpenAPI document with it).
	wrap func(http.Handler) http.Handler
	// engineBuilt, if set, is called with the behaviour engine's
	// configuration each in-process command builds (tests).
	engineBuilt func(behavior.Config)
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

// configError marks configuration errors.
type configError struct{ error }

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	m := &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr, Environ: environ}
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "occsimore: %s\n", errorMessage(err))
	return exitCode(err)
}

func exitCode(err error) int {
	if _, ok := errors.AsType[usageError](err); ok {
		return exitUsage
	}
	if _, ok := errors.AsType[configError](err); ok {
		return exitConfig
	}
	if _, ok := errors.AsType[app.ConfigError](err); ok {
		return exitConfig
	}
	if _, ok := errors.AsType[*config.Error](err); ok {
		return exitConfig
	}
	switch occsimore.ErrorCode(err) {
	case occsimore.ENOTFOUND:
		return exitNotFound
	case occsimore.ECONFLICT:
		return exitConflict
	case occsimore.EINVALID:
		return exitInvalid
	case occsimore.EUNAVAILABLE:
		return exitUnavailable
	}
	return exitFailure
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "occsimore",
		Short: "Behavioural fraud and attack detection shared by the lab's members",
		Long: `occsimore learns each entity's habits (cards, customers, accounts, terminals, IPs),
scores every new event by how far it breaks them, detects attacks in members' logs
and shares indicators between members.

Exit codes: 0 ok, 1 failure, 2 usage, 3 configuration, 4 not found, 5 conflict,
6 invalid value, 7 dependency unavailable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if m.Output != "text" && m.Output != "json" {
				return usageError{fmt.Errorf("--output %q must be text or json", m.Output)}
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&m.ConfigPath, "config", "", "TOML configuration file (keys can also be set as OCCSIMORE_<SECTION>_<KEY>)")
	pf.StringVarP(&m.Output, "output", "o", "text", "output format: text or json")
	pf.StringVar(&m.LogLevel, "log-level", "", "override log.level: debug, info, warn or error")
	pf.BoolVar(&m.NoProgress, "no-progress", false, "draw no progress bar on standard error (long work draws one)")
	root.AddCommand(
		m.serveCommand(),
		m.demoCommand(),
		m.memberCommand(),
		m.tokenCommand(),
		m.userCommand(),
		m.scoreCommand(),
		m.benchCommand(),
		m.simulateCommand(),
		m.engineCommand(),
		m.evalCommand(),
		m.logsCommand(),
		m.trainCommand(), m.modelCommand(),
		m.taxiiCommand(),
		m.versionCommand(),
		m.docsCommand(),
		m.backupCommand(), m.restoreCommand(),
	)
	unknownSubcommand(root)
	return root
}

// argsUsage wraps cobra's positional argument validators so their errors exit
// with the usage code.
func argsUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// loadConfig reads the configuration the global flags point at.
func (m *Main) loadConfig() (config.Config, error) {
	c, err := config.Load(m.ConfigPath, m.Environ)
	if err != nil {
		return c, configError{err} // an unreadable --config file too
	}
	if m.LogLevel != "" {
		c.Log.Level = m.LogLevel
		if err := c.Validate(); err != nil {
			return c, configError{err}
		}
	}
	return c, nil
}

func (m *Main) logger(c config.Config) *slog.Logger {
	// Every *Context call made while serving a request says which.
	return slog.New(occhttp.NewContextHandler(logHandler(m.Stderr, c)))
}

// logHandler is the handler log.level and log.format ask for, writing to w.
func logHandler(w io.Writer, c config.Config) slog.Handler {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// print writes v as JSON when --output json, and calls text otherwise.
func (m *Main) print(v any, text func(w io.Writer) error) error {
	if m.Output == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(m.Stdout)
}
