package main

import (
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:    "start",
		Args:    "<container-id>",
		Summary: "execute the user-defined process in a created container",
		Run: func(args []string) error {
			id, err := oneID("start", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			if err := c.Lock(); err != nil {
				return err
			}
			defer c.Unlock()
			return c.Start(global.log)
		},
	}
}
