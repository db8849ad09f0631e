package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/occsimore/occsimore"
	"github.com/spf13/cobra"
)

// buildInfo reads the version and commit the go tool stamped into the
// binary: a module version for `go install …@version`, a pseudo-version
// and the VCS revision for a build in a git checkout. Without either, as
// under `go test`, the version is "dev".
func buildInfo() occsimore.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return buildInfoFrom(info)
}

func buildInfoFrom(info *debug.BuildInfo) occsimore.BuildInfo {
	bi := occsimore.BuildInfo{Version: "dev", Go: runtime.Version()}
	if info == nil {
		return bi
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		bi.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.Commit = s.Value
		case "vcs.time":
			bi.Time = s.Value
		case "vcs.modified":
			bi.Modified = s.Value == "true"
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
				commit := orNone(bi.Commit)
				if bi.Modified {
					commit += " with local changes"
				}
				if bi.Time != "" {
					commit += " of " + bi.Time
				}
				if bi.Date != "" {
					commit += ", built " + bi.Date
				}
				_, err := fmt.Fprintf(w, "occsimore %s (commit %s, %s)\n", bi.Version, commit, bi.Go)
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
