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
	"github.com/tincan/tincan/network/portmap"
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
	// NetworkSettings are the running container's addresses and ports.
	NetworkSettings inspectNetwork `json:"NetworkSettings"`
}

// inspectNetwork is docker's NetworkSettings: the primary interface's
// addresses at the top, every network's under Networks.
type inspectNetwork struct {
	SandboxKey string                          `json:"SandboxKey"`
	Ports      map[string][]inspectPortBinding `json:"Ports"`
	inspectEndpoint
	Networks map[string]inspectEndpoint `json:"Networks"`
}

type inspectPortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type inspectEndpoint struct {
	IPAddress           string   `json:"IPAddress"`
	IPPrefixLen         int      `json:"IPPrefixLen"`
	Gateway             string   `json:"Gateway"`
	GlobalIPv6Address   string   `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int      `json:"GlobalIPv6PrefixLen"`
	IPv6Gateway         string   `json:"IPv6Gateway"`
	MacAddress          string   `json:"MacAddress"`
	Aliases             []string `json:"Aliases,omitempty"`
}

// newInspectNetwork shows n (nil: not running) as docker does.
func newInspectNetwork(n *engine.NetworkSettings) inspectNetwork {
	v := inspectNetwork{Ports: map[string][]inspectPortBinding{}, Networks: map[string]inspectEndpoint{}}
	if n == nil {
		return v
	}
	v.SandboxKey = n.SandboxKey
	for _, m := range n.Ports {
		for _, host := range portmap.HostAddrs(m) {
			i := strings.LastIndexByte(host, ':')
			v.Ports[m.Key()] = append(v.Ports[m.Key()], inspectPortBinding{HostIP: strings.Trim(host[:i], "[]"), HostPort: host[i+1:]})
		}
	}
	for i, e := range n.Endpoints {
		var ie inspectEndpoint
		ie.MacAddress, ie.Aliases = e.MAC, e.Aliases
		for _, a := range e.Addrs {
			if a.Addr().Is4() {
				ie.IPAddress, ie.IPPrefixLen = a.Addr().String(), a.Bits()
			} else {
				ie.GlobalIPv6Address, ie.GlobalIPv6PrefixLen = a.Addr().String(), a.Bits()
			}
		}
		for _, g := range e.Gateways {
			if g.Is4() {
				ie.Gateway = g.String()
			} else {
				ie.IPv6Gateway = g.String()
			}
		}
		v.Networks[e.Network] = ie
		if i == 0 {
			v.inspectEndpoint = ie
		}
	}
	return v
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
		v.NetworkSettings = newInspectNetwork(rec.Network)
	} else {
		v.NetworkSettings = newInspectNetwork(nil)
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
