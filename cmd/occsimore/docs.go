package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// docsCommand writes the manual pages the packages ship. It is hidden: the
// pages are generated at build time (scripts/package), not by operators.
func (m *Main) docsCommand() *cobra.Command {
	docs := &cobra.Command{
		Use:    "docs",
		Short:  "Generate documentation from the commands",
		Hidden: true,
		Args:   argsUsage(cobra.NoArgs),
	}
	docs.AddCommand(&cobra.Command{
		Use:   "man DIR",
		Short: "Write a man page (section 1) for every command into DIR",
		Long: `Write occsimore.1 and one page per subcommand (occsimore-serve.1, ...) into
DIR, created if needed. The pages are dated with the build date, or today in
a development build, so that a release's pages do not change from build to build.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			bi := buildInfo()
			day := time.Now().UTC()
			if t, err := time.Parse(time.RFC3339, bi.Date); err == nil {
				day = t
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Section: "1", Source: "occsimore " + bi.Version, Manual: "occsimore manual", Date: &day}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			return nil
		},
	})
	return docs
}
