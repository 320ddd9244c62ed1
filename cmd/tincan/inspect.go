package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/spec"
)

// inspectView is what inspect prints: the record, the live state, and the
// effective OCI configuration's mounts and limits.
type inspectView struct {
	ID      string       `json:"Id"`
	Name    string       `json:"Name"`
	Created time.Time    `json:"Created"`
	State   inspectState `json:"State"`
	// Image is the image as typed at run (or the --rootfs directory),
	// ImageID the image's id.
	Image        string                `json:"Image"`
	ImageID      string                `json:"ImageID,omitempty"`
	GraphDriver  *inspectGraphDriver   `json:"GraphDriver,omitempty"`
	Config       engine.RunConfig      `json:"Config"`
	RestartCount int                   `json:"RestartCount"`
	LogPath      string                `json:"LogPath"`
	Mounts       []specs.Mount         `json:"Mounts"`
	Resources    *specs.LinuxResources `json:"Resources,omitempty"`
	Process      *specs.Process        `json:"Process,omitempty"`
}

// inspectGraphDriver is the container's overlay, as docker shows it.
type inspectGraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
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
	var kind string
	cmd := &cobra.Command{
		Use:   "inspect [flags] CONTAINER|IMAGE...",
		Short: "Show everything about containers or images, as JSON",
		Long: `Show containers, as JSON; a name that is no container's is looked up as an
image (as "image inspect" shows it), unless --type says which.`,
		Example: "  tincan inspect web\n  tincan inspect --type image busybox",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && kind != "container" && kind != "image" {
				return errdefs.InvalidArgument("--type %q: container or image", kind)
			}
			out := make([]any, 0, len(args))
			for _, ref := range args {
				v, err := c.inspectOne(ref, kind)
				if err != nil {
					return err
				}
				out = append(out, v)
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&kind, "type", "", "only look for a container or an image")
	return cmd
}

// inspectOne is the container ref names, else (kind "") the image.
func (c *cli) inspectOne(ref, kind string) (any, error) {
	if kind != "image" {
		rec, err := c.store.Find(ref)
		if err == nil {
			return c.inspectContainer(rec), nil
		}
		if kind == "container" || !errdefs.IsNotFound(err) {
			return nil, err
		}
	}
	views, err := c.inspectImages([]string{ref})
	if err != nil {
		if kind == "" && errdefs.IsNotFound(err) {
			return nil, errdefs.NotFound("no such container or image: %s", ref)
		}
		return nil, err
	}
	return views[0], nil
}

func (c *cli) inspectContainer(rec *engine.Record) inspectView {
	st := c.store.LiveState(rec)
	v := inspectView{ID: rec.ID, Name: rec.Name, Created: rec.Created, Config: rec.Config,
		Image: rec.Config.Image, ImageID: rec.ImageID,
		RestartCount: rec.RestartCount, LogPath: c.store.LogPath(rec.ID),
		State: inspectState{Status: st, Running: st == engine.StateRunning || st == engine.StatePaused,
			Paused: st == engine.StatePaused, ExitCode: rec.ExitCode, Error: rec.Error,
			StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt}}
	if v.Image == "" {
		v.Image = rec.Config.Rootfs
	}
	if v.State.Running {
		v.State.Pid = rec.Pid
	}
	dir := c.store.ContainerDir(rec.ID)
	if !rec.Config.RootfsRW {
		// No MergedDir: the overlay is mounted in the container's mount
		// namespace only.
		v.GraphDriver = &inspectGraphDriver{Name: "overlay", Data: map[string]string{
			"LowerDir": strings.Join(rec.LowerDirs(), ":"),
			"UpperDir": filepath.Join(dir, "rootfs/upper"),
			"WorkDir":  filepath.Join(dir, "rootfs/work"),
		}}
	}
	if s, err := spec.Load(filepath.Join(dir, "bundle")); err == nil {
		v.Mounts, v.Process = s.Mounts, s.Process
		if s.Linux != nil {
			v.Resources = s.Linux.Resources
		}
	}
	return v
}
