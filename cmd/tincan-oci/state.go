package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

// containerState is the JSON of "state" and "list --format json", the
// fields and names runc prints (engines parse them).
type containerState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func describe(c *runtime.Container) (containerState, error) {
	s, err := c.State()
	if err != nil {
		return containerState{}, err
	}
	status := c.Status()
	pid := s.Pid
	if status == runtime.Stopped {
		pid = 0
	}
	return containerState{
		OCIVersion:  s.OCIVersion,
		ID:          s.ID,
		Pid:         pid,
		Status:      string(status),
		Bundle:      s.Bundle,
		Rootfs:      s.Rootfs,
		Created:     s.Created,
		Annotations: s.Annotations,
		Owner:       c.Owner(),
	}, nil
}

func stateCommand() *cli.Command {
	return &cli.Command{
		Name:    "state",
		Args:    "<container-id>",
		Summary: "output the state of a container",
		Run: func(args []string) error {
			id, err := oneID("state", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			st, err := describe(c)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		},
	}
}
