package engine

import (
	"github.com/tincan/tincan/network"
	"github.com/tincan/tincan/network/portmap"
)

// RunConfig is what `tincan run` was asked for: the person's intent, kept
// in the record so that restart and inspect see it.
//
// For a container from an image, Create replaces the run's own values with
// the image config merged with them (docker's precedence, see
// image.ResolveRunConfig), so the record says what actually runs.
type RunConfig struct {
	// Image is the image to run, as typed ("busybox", "reg:5000/app@sha256:..."),
	// exclusive with Rootfs. The container runs on a copy-on-write overlay
	// of the image's layer snapshots.
	Image string `json:"image,omitempty"`
	// Rootfs is a root filesystem directory (--rootfs); the container runs
	// on a copy-on-write overlay over it unless RootfsRW is set.
	Rootfs   string `json:"rootfs,omitempty"`
	RootfsRW bool   `json:"rootfsRw,omitempty"`
	// Entrypoint and Cmd make the process args (entrypoint first). A nil
	// Entrypoint is unset; an empty one was cleared with --entrypoint "".
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Env        []string `json:"env,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	// User is "uid", "name", "uid:gid" or "name:group" (-u).
	User        string `json:"user,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Tty         bool   `json:"tty,omitempty"`
	Interactive bool   `json:"interactive,omitempty"`
	// Mounts are -v bind mounts and volumes.
	Mounts []MountSpec `json:"mounts,omitempty"`
	// Tmpfs maps a container path to tmpfs options (--tmpfs).
	Tmpfs    map[string]string `json:"tmpfs,omitempty"`
	ReadOnly bool              `json:"readOnly,omitempty"`
	Resources
	Ulimits    []Ulimit `json:"ulimits,omitempty"`
	CapAdd     []string `json:"capAdd,omitempty"`
	CapDrop    []string `json:"capDrop,omitempty"`
	Privileged bool     `json:"privileged,omitempty"`
	// Seccomp is "" (the default profile), "unconfined", or a profile file.
	Seccomp         string            `json:"seccomp,omitempty"`
	NoNewPrivileges bool              `json:"noNewPrivileges,omitempty"`
	Landlock        string            `json:"landlock,omitempty"`
	Init            bool              `json:"init,omitempty"`
	StopSignal      string            `json:"stopSignal,omitempty"`
	StopTimeout     *int              `json:"stopTimeout,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	// Network is the network mode: "bridge" (the default network, or the
	// user networks of Networks), "none" (a network namespace with
	// loopback only), "host", "container:NAME" or, rootless, "pasta".
	Network string `json:"network,omitempty"`
	// Networks are the bridge networks joined at start, the first the
	// primary one (default route, published ports); `network connect`
	// and `disconnect` change the list.
	Networks []network.Attachment `json:"networks,omitempty"`
	// Publish are the -p ports; PublishAll (-P) adds the image's
	// ExposedPorts on random host ports.
	Publish    []portmap.Mapping `json:"publish,omitempty"`
	PublishAll bool              `json:"publishAll,omitempty"`
	// DNS, DNSSearch and DNSOptions replace the host's resolv.conf values;
	// ExtraHosts are --add-host "name:ip" lines for /etc/hosts.
	DNS        []string `json:"dns,omitempty"`
	DNSSearch  []string `json:"dnsSearch,omitempty"`
	DNSOptions []string `json:"dnsOptions,omitempty"`
	ExtraHosts []string `json:"extraHosts,omitempty"`
	AutoRemove bool     `json:"autoRemove,omitempty"`
	// ExposedPorts are the image's ("80/tcp"): -P publishes them.
	ExposedPorts []string `json:"exposedPorts,omitempty"`
}

// MountSpec is one -v/--volume.
type MountSpec struct {
	// Source is a host path, or a volume name when Volume is set.
	Source string `json:"source"`
	// Volume marks a named volume (created under the store when missing).
	Volume bool `json:"volume,omitempty"`
	// Anonymous marks a volume made for a -v with only a container path;
	// rm -v removes it.
	Anonymous   bool   `json:"anonymous,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
}

// Resources are the limits set with --memory, --cpus and friends. Zero
// means unset.
type Resources struct {
	Memory     int64   `json:"memory,omitempty"`
	MemorySwap int64   `json:"memorySwap,omitempty"` // -1: unlimited swap
	CPUs       float64 `json:"cpus,omitempty"`
	CPUShares  uint64  `json:"cpuShares,omitempty"`
	PidsLimit  int64   `json:"pidsLimit,omitempty"`
}

// Ulimit is one --ulimit name=soft[:hard].
type Ulimit struct {
	Name string `json:"name"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}
