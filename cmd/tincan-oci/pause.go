package main

import (
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:    "pause",
		Args:    "<container-id>",
		Summary: "suspend all processes of a running container",
		Help:    "The container's cgroup is frozen (the v1 freezer, or cgroup.freeze on cgroup v2); state reports \"paused\" until resume.",
		Run: func(args []string) error {
			id, err := oneID("pause", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			return c.Pause()
		},
	}
}
