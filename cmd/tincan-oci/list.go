package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func listCommand() *cli.Command {
	var format string
	var quiet bool
	return &cli.Command{
		Name:    "list",
		Summary: "list the containers",
		Flags: func(fs *flag.FlagSet) {
			cli.StringVarP(fs, &format, "format", "f", "table", "select one of: table or json")
			cli.BoolVarP(fs, &quiet, "quiet", "q", false, "display only container IDs")
		},
		Run: func(args []string) error {
			if len(args) != 0 {
				return usageErr("list", "takes no arguments")
			}
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format: invalid format %q (table or json)", format)
			}
			containers, err := runtime.List(global.root)
			if err != nil {
				return err
			}
			if quiet {
				for _, c := range containers {
					fmt.Println(c.ID())
				}
				return nil
			}
			states := []containerState{}
			for _, c := range containers {
				st, err := describe(c)
				if err != nil {
					// A container with a damaged state is still listed.
					st = containerState{ID: c.ID(), Status: string(runtime.Stopped), Owner: c.Owner()}
				}
				states = append(states, st)
			}
			if format == "json" {
				return json.NewEncoder(os.Stdout).Encode(states)
			}
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		},
	}
}
