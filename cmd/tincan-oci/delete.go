package main

import (
	"flag"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func deleteCommand() *cli.Command {
	var force bool
	return &cli.Command{
		Name:    "delete",
		Args:    "<container-id>",
		Summary: "delete a stopped container (with --force, any container)",
		Flags: func(fs *flag.FlagSet) {
			cli.BoolVarP(fs, &force, "force", "f", false, "forcibly delete the container if it is still running (uses SIGKILL)")
		},
		Run: func(args []string) error {
			id, err := oneID("delete", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				// runc: deleting a missing container with --force succeeds;
				// it also clears what a create killed early left.
				if force && errdefs.IsNotFound(err) {
					return runtime.RemoveAbandoned(global.root, id)
				}
				return err
			}
			return c.Delete(force, global.log)
		},
	}
}
