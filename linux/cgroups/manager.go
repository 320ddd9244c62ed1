package cgroups

import (
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	v1 "github.com/tincan/tincan/linux/cgroups/v1"
	v2 "github.com/tincan/tincan/linux/cgroups/v2"
)

// Manager is one container's cgroup in every hierarchy the host has. The v1
// implementation covers legacy and hybrid hosts, the v2 one unified hosts.
type Manager interface {
	// Create makes the cgroup (and missing parents) in every hierarchy; on
	// v2 it also delegates the available controllers down to it. An existing
	// cgroup is fine (joined or shared cgroups).
	Create() error
	// Apply moves process pid into the cgroup in every hierarchy.
	Apply(pid int) error
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Signal sends sig to every process in the cgroup tree.
	Signal(sig unix.Signal) error
	// KillAll SIGKILLs every process in the cgroup tree and waits, for a
	// bounded time, until the cgroup is empty; forks cannot escape.
	KillAll() error
	// Freeze stops every process in the cgroup tree and waits until the
	// freeze is complete.
	Freeze() error
	// Thaw lets the processes run again.
	Thaw() error
	// FreezerState reports Thawed, Freezing, Frozen, or FreezerUnsupported
	// when the host has no freezer.
	FreezerState() (FreezerState, error)
	// Exists reports whether the cgroup exists in at least one hierarchy.
	Exists() bool
	// Destroy removes the cgroup and the cgroups below it, deepest first,
	// retrying while exiting processes keep it busy. Missing directories
	// are not an error. It does not kill.
	Destroy() error
	// Path returns the cgroup's directory in the hierarchy of a v1
	// subsystem ("memory", "name=systemd") or, for "", in the cgroup2
	// hierarchy; "" when there is no such hierarchy. On a unified host every
	// controller maps to the one directory.
	Path(subsystem string) string
	// Paths maps every subsystem to its directory as Path does, with "" for
	// the cgroup2 hierarchy.
	Paths() map[string]string

	// Set applies the limits of linux.resources to a new cgroup (create).
	// Everything is checked before the first write (values, controllers,
	// unified keys), so bad input changes nothing; v1 values are converted
	// on v2 (shares to cpu.weight, blkio weights to io.weight). Device
	// rules are written to the v1 devices cgroup after denying every
	// device, or become an eBPF program on v2. Call Validate first for the
	// host-independent checks and the warnings.
	Set(r *specs.LinuxResources) error
	// Update applies limits to the cgroup of a running container: a value
	// the kernel refuses (a memory limit below what it cannot reclaim) puts
	// back the files already written, and on v2
	// memory.checkBeforeUpdate refuses a limit below the usage.
	Update(r *specs.LinuxResources) error
	// Stats reads the usage counters (what runc's `events --stats` shows).
	Stats() (*Stats, error)
	// NotifyOOM sends a value for each OOM in the cgroup until done is
	// closed or the cgroup goes, then closes the channel. v1 uses an
	// eventfd on memory.oom_control, v2 inotify on memory.events.
	NotifyOOM(done <-chan struct{}) (<-chan struct{}, error)
	// CloneFD opens the cgroup for CLONE_INTO_CGROUP
	// (syscall.SysProcAttr.CgroupFD), so that a child starts inside it; nil
	// when the layout cannot place a process that way (v1, which needs a
	// cgroup in every hierarchy; kernels before 5.7): use Apply then.
	CloneFD() (*os.File, error)
}

// Both implementations must stay complete.
var (
	_ Manager = (*v1.Manager)(nil)
	_ Manager = (*v2.Manager)(nil)
)

// FreezerState is the freezer state of a cgroup.
type FreezerState = cgroupfs.FreezerState

// The freezer states.
const (
	FreezerUnsupported = cgroupfs.FreezerUnsupported
	Thawed             = cgroupfs.Thawed
	Freezing           = cgroupfs.Freezing
	Frozen             = cgroupfs.Frozen
)

// New returns the manager of the cgroup at cgroupPath (as ResolvePath
// returns it) for the host's layout. It creates nothing; call Create.
func New(cgroupPath string) (Manager, error) {
	if cgroupPath == "" || cgroupPath[0] != '/' || path.Clean(cgroupPath) != cgroupPath || cgroupPath == "/" {
		return nil, errdefs.InvalidArgument("cgroup path %q: want a clean absolute path below the root (see ResolvePath)", cgroupPath)
	}
	l := hostLayout()
	switch {
	case l.err != nil:
		return nil, l.err
	case l.mode == Unified:
		return v2.New(l.hierarchies[len(l.hierarchies)-1].MountPoint, cgroupPath), nil
	case l.mode == Legacy || l.mode == Hybrid:
		return v1.New(l.hierarchies, cgroupPath), nil
	}
	return nil, errdefs.Unsupported("cgroup %s: no cgroup hierarchy is mounted (neither cgroup nor cgroup2 in /proc/self/mountinfo)", cgroupPath)
}

// Load returns the manager of an existing container's cgroup, for the
// commands that act on a container created earlier (kill, delete). It is
// New plus a check: a cgroup that exists in no hierarchy gives a NotFound
// error, which delete can treat as already gone.
func Load(cgroupPath string) (Manager, error) {
	m, err := New(cgroupPath)
	if err != nil {
		return nil, err
	}
	if !m.Exists() {
		return nil, errdefs.NotFound("cgroup %s: does not exist in any hierarchy", cgroupPath)
	}
	return m, nil
}
