package main

import (
	"flag"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/internal/signals"
	"github.com/tincan/tincan/runtime"
)

func killCommand() *cli.Command {
	var all bool
	return &cli.Command{
		Name:    "kill",
		Args:    "<container-id> [signal]",
		Summary: "send a signal to the container's init process (default SIGTERM)",
		Help:    `The signal is a number or a name, with or without "SIG" (9, KILL, SIGKILL).`,
		Flags: func(fs *flag.FlagSet) {
			cli.BoolVarP(fs, &all, "all", "a", false, "send the signal to all processes in the container")
		},
		Run: func(args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErr("kill", "requires the container id and at most one signal")
			}
			sigName := "SIGTERM"
			if len(args) == 2 {
				sigName = args[1]
			}
			sig, err := signals.Parse(sigName)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, args[0])
			if err != nil {
				return err
			}
			return c.Kill(sig, all)
		},
	}
}
