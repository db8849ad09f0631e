package main

import (
	"fmt"

	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/config"
	"github.com/spf13/cobra"
)

func (m *Main) engineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Inspect the behaviour engine's profile specs",
	}
	specs := &cobra.Command{
		Use:   "specs",
		Short: "Print the profile specs in use (the built-in ones, or engine.specs_file) as a specs file",
		Long: `Print the profiled kinds, their features and thresholds in the TOML format of
engine.specs_file. Redirect it to a file to start your own:

  occsimore engine specs > specs.toml`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			s := config.Specs{Specs: behavior.DefaultSpecs()}
			if c.Engine.SpecsFile != "" {
				if s, err = config.LoadSpecs(c.Engine.SpecsFile); err != nil {
					return err
				}
			}
			if m.Output == "json" {
				return m.print(s, nil)
			}
			b, err := config.EncodeSpecs(s)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(m.Stdout, "%s", b)
			return err
		},
	}
	cmd.AddCommand(specs)
	return cmd
}
