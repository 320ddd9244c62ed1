package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/spec"
)

// inspectView is what inspect prints: the record, the live state, and the
// effective OCI configuration's mounts and limits.
type inspectView struct {
	ID           string                `json:"Id"`
	Name         string                `json:"Name"`
	Created      time.Time             `json:"Created"`
	State        inspectState          `json:"State"`
	Config       engine.RunConfig      `json:"Config"`
	RestartCount int                   `json:"RestartCount"`
	LogPath      string                `json:"LogPath"`
	Mounts       []specs.Mount         `json:"Mounts"`
	Resources    *specs.LinuxResources `json:"Resources,omitempty"`
	Process      *specs.Process        `json:"Process,omitempty"`
}

type inspectState struct {
	Status     engine.State `json:"Status"`
	Running    bool         `json:"Running"`
	Paused     bool         `json:"Paused"`
	Pid        int          `json:"Pid"`
	ExitCode   int          `json:"ExitCode"`
	Error      string       `json:"Error"`
	StartedAt  time.Time    `json:"StartedAt"`
	FinishedAt time.Time    `json:"FinishedAt"`
}

func (c *cli) inspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "inspect CONTAINER...",
		Short:   "Show everything about containers, as JSON",
		Example: "  tincan inspect web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []inspectView
			for _, ref := range args {
				rec, err := c.store.Find(ref)
				if err != nil {
					return err
				}
				st := c.store.LiveState(rec)
				v := inspectView{ID: rec.ID, Name: rec.Name, Created: rec.Created, Config: rec.Config,
					RestartCount: rec.RestartCount, LogPath: c.store.LogPath(rec.ID),
					State: inspectState{Status: st, Running: st == engine.StateRunning || st == engine.StatePaused,
						Paused: st == engine.StatePaused, ExitCode: rec.ExitCode, Error: rec.Error,
						StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt}}
				if v.State.Running {
					v.State.Pid = rec.Pid
				}
				if s, err := spec.Load(filepath.Join(c.store.ContainerDir(rec.ID), "bundle")); err == nil {
					v.Mounts, v.Process = s.Mounts, s.Process
					if s.Linux != nil {
						v.Resources = s.Linux.Resources
					}
				}
				out = append(out, v)
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(out)
		},
	}
}
