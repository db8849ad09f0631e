package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/occsimore/occsimore"
	"github.com/spf13/cobra"
)

// version is set with -ldflags "-X main.version=…" by release builds.
var version = "dev"

func buildInfo() occsimore.BuildInfo {
	bi := occsimore.BuildInfo{Version: version, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				bi.Commit = s.Value
			}
		}
	}
	stamp(&bi)
	return bi
}

func (m *Main) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi := buildInfo()
			return m.print(bi, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "occsimore %s (commit %s, built %s, %s)\n", bi.Version, orNone(bi.Commit), orNone(bi.Date), bi.Go)
				return err
			})
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
