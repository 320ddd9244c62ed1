package main

import (
	"flag"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func runCommand() *cli.Command {
	var f createFlags
	var detach, keep, noSubreaper bool
	return &cli.Command{
		Name:    "run",
		Args:    "<container-id>",
		Summary: "create and run a container",
		Help: `Create and start a container from a bundle. In the foreground, tincan-oci
waits for the container's process, forwards signals to it, relays its
terminal, deletes the container and exits with the process's status
(128+signal when a signal ended it).`,
		Flags: func(fs *flag.FlagSet) {
			f.define(fs)
			cli.BoolVarP(fs, &detach, "detach", "d", false, "detach from the container's process")
			fs.BoolVar(&keep, "keep", false, "do not delete the container after it exits")
			fs.BoolVar(&noSubreaper, "no-subreaper", false, "accepted for runc compatibility")
		},
		Run: func(args []string) error {
			id, err := oneID("run", args)
			if err != nil {
				return err
			}
			opts, err := f.options(id)
			if err != nil {
				return err
			}
			status, err := runtime.Run(runtime.RunOptions{CreateOptions: opts, Detach: detach, Keep: keep})
			if err != nil {
				return err
			}
			if status != 0 {
				return exitCode(status)
			}
			return nil
		},
	}
}
