package main

import (
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func resumeCommand() *cli.Command {
	return &cli.Command{
		Name:    "resume",
		Args:    "<container-id>",
		Summary: "resume all processes of a paused container",
		Run: func(args []string) error {
			id, err := oneID("resume", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			return c.Resume()
		},
	}
}
