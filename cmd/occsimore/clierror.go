package main

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// errorMessage renders err for the terminal once: the code an
// *occsimore.Error carries for logs and APIs is left to the exit code, and a
// segment a wrapper repeats ("open x: open x: ...") is said once.
func errorMessage(err error) string {
	msg := err.Error()
	if e, ok := errors.AsType[*occsimore.Error](err); ok {
		plain := e.Message
		if e.Field != "" {
			plain += " (field " + e.Field + ")"
		}
		msg = strings.Replace(msg, e.Error(), plain, 1)
	}
	msg = strings.TrimPrefix(msg, "occsimore: ")
	return strings.Join(slices.Compact(strings.Split(msg, ": ")), ": ")
}

// fileError classes an error opening an input file: a missing file is "not
// found" (exit 4); the error already names the operation and the path.
func fileError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return occsimore.Errorf(occsimore.ENOTFOUND, "%v", err)
	}
	return err
}

// flagError turns pflag's parse errors into usage errors, with the command's
// nearest flag names when the flag is unknown.
func flagError(cmd *cobra.Command, err error) error {
	if e, ok := errors.AsType[*pflag.NotExistError](err); ok && e.GetSpecifiedName() != "" {
		if s := suggestFlags(cmd, e.GetSpecifiedName()); len(s) > 0 {
			err = fmt.Errorf("%w\n\nDid you mean this?\n\t%s", err, strings.Join(s, "\n\t"))
		}
	}
	return usageError{err}
}

// suggestFlags returns cmd's flags (its own and inherited) within a small
// edit distance of name, or that start with it, as "--flag" strings.
func suggestFlags(cmd *cobra.Command, name string) []string {
	name = strings.ToLower(name)
	maxDist := 1
	if len(name) >= 5 {
		maxDist = 2
	}
	var out []string
	add := func(f *pflag.Flag) {
		if f.Hidden || slices.Contains(out, "--"+f.Name) {
			return
		}
		if editDistance(name, f.Name) <= maxDist || (len(name) >= 3 && strings.HasPrefix(f.Name, name)) {
			out = append(out, "--"+f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	slices.Sort(out)
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes (flag
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unknownSubcommand lets a command that only groups others reject an
// unknown name as a usage error with suggestions, instead of printing its
// help and exiting 0 (cobra's default below the root).
func unknownSubcommand(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		unknownSubcommand(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.SuggestionsMinimumDistance = 2 // SuggestionsFor reads it; 0 suggests nothing
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return usageError{fmt.Errorf("%s\n\nRun '%s --help' for the commands", msg, cmd.CommandPath())}
	}
}
