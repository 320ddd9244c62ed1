// Package cli is the small command-line layer of tincan-oci: commands with
// their own flag sets on top of the standard flag package, so that runc's
// spellings parse the same way (single-dash long flags like -bundle, flags
// before or after the positional arguments, -- to end flags).
//
// It owns parsing and help text only; what a command does lives in the
// command's Run function in cmd/tincan-oci.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Command is one verb.
type Command struct {
	// Name is the verb ("create").
	Name string
	// Args describes the positional arguments ("<container-id>").
	Args string
	// Summary is the one-line description for the command list.
	Summary string
	// Help is the longer description shown by --help.
	Help string
	// Flags defines the command's flags on fs.
	Flags func(fs *flag.FlagSet)
	// StopAtFirstArg ends flag parsing at the first positional argument,
	// for commands whose later arguments belong to another program (exec).
	StopAtFirstArg bool
	// Hidden leaves the command out of the command list (init).
	Hidden bool
	// Run does the work with the positional arguments.
	Run func(args []string) error
}

// ErrHelp is returned when help was asked for and printed.
var ErrHelp = errors.New("help requested")

// UsageError is a mistake on the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Parse parses args (after the verb) with the command's flags and returns
// the positional arguments. Help goes to out.
func (c *Command) Parse(prog string, args []string, out io.Writer) ([]string, error) {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.Flags != nil {
		c.Flags(fs)
	}
	pos, err := ParseInterspersed(fs, args, c.StopAtFirstArg)
	if errors.Is(err, flag.ErrHelp) {
		c.PrintHelp(prog, fs, out)
		return nil, ErrHelp
	}
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: %s (see '%s %s --help')", c.Name, flagErrorText(err), prog, c.Name)}
	}
	return pos, nil
}

// flagErrorText rewords the flag package's errors into one short line.
func flagErrorText(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + name
	}
	return msg
}

// ParseInterspersed parses flags anywhere among the positional arguments
// (as urfave/cli does for runc), until "--" or, with stopAtFirstArg, the
// first positional argument.
func ParseInterspersed(fs *flag.FlagSet, args []string, stopAtFirstArg bool) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		if stopAtFirstArg {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// PrintHelp writes the command's usage and flags.
func (c *Command) PrintHelp(prog string, fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, "Usage: %s %s [flags] %s\n\n", prog, c.Name, c.Args)
	if c.Summary != "" {
		fmt.Fprintf(out, "%s\n", c.Summary)
	}
	if c.Help != "" {
		fmt.Fprintf(out, "\n%s\n", strings.TrimSpace(c.Help))
	}
	PrintFlags(fs, out)
}

// PrintFlags lists a flag set, aliases on one line ("--bundle, -b").
func PrintFlags(fs *flag.FlagSet, out io.Writer) {
	type entry struct {
		names []string
		usage string
		def   string
	}
	byUsage := map[string]*entry{}
	var order []*entry
	fs.VisitAll(func(f *flag.Flag) {
		key := f.Usage
		e, ok := byUsage[key]
		if !ok {
			e = &entry{usage: f.Usage, def: f.DefValue}
			byUsage[key] = e
			order = append(order, e)
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		e.names = append(e.names, dash+f.Name)
	})
	if len(order) == 0 {
		return
	}
	fmt.Fprintf(out, "\nFlags:\n")
	for _, e := range order {
		sort.Slice(e.names, func(i, j int) bool { return len(e.names[i]) > len(e.names[j]) })
		def := ""
		if e.def != "" && e.def != "false" && e.def != "0" && e.def != "[]" {
			def = fmt.Sprintf(" (default %q)", e.def)
		}
		fmt.Fprintf(out, "  %-28s %s%s\n", strings.Join(e.names, ", "), e.usage, def)
	}
}

// StringList is a repeatable string flag.
type StringList []string

// String implements flag.Value.
func (s *StringList) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *StringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// StringVarP defines a string flag with a long name and a short alias.
func StringVarP(fs *flag.FlagSet, p *string, long, short, def, usage string) {
	fs.StringVar(p, long, def, usage)
	if short != "" {
		fs.StringVar(p, short, def, usage)
	}
}

// BoolVarP defines a bool flag with a long name and a short alias.
func BoolVarP(fs *flag.FlagSet, p *bool, long, short string, def bool, usage string) {
	fs.BoolVar(p, long, def, usage)
	if short != "" {
		fs.BoolVar(p, short, def, usage)
	}
}
