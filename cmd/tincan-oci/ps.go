package main

import (
	"encoding/json"
	"flag"
	"os"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func psCommand() *cli.Command {
	var format string
	return &cli.Command{
		Name:    "ps",
		Args:    "<container-id> [ps options]",
		Summary: "display the processes running inside a container",
		Help: `The table is ps(1)'s output (options after the id, default -ef) limited to the
container's processes; --format json prints their pids as a JSON array.`,
		StopAtFirstArg: true,
		Flags: func(fs *flag.FlagSet) {
			cli.StringVarP(fs, &format, "format", "f", "table", "select one of: table or json")
		},
		Run: func(args []string) error {
			if len(args) < 1 {
				return usageErr("ps", "requires the container id")
			}
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format: invalid format %q (table or json)", format)
			}
			c, err := runtime.Load(global.root, args[0])
			if err != nil {
				return err
			}
			pids, err := c.Processes()
			if err != nil {
				return err
			}
			if format == "json" {
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(os.Stdout).Encode(pids)
			}
			table, err := runtime.PsTable(pids, args[1:])
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(table)
			return err
		},
	}
}
