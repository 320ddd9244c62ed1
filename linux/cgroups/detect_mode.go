package cgroups

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// Mode is the cgroup layout of the host.
type Mode int

// The cgroup layouts. Unavailable is the zero value.
const (
	// Unavailable: no cgroup hierarchy is mounted (or mountinfo could not be
	// read).
	Unavailable Mode = iota
	// Legacy: cgroup v1 hierarchies only.
	Legacy
	// Hybrid: cgroup v1 hierarchies plus a cgroup2 mount beside them.
	Hybrid
	// Unified: cgroup v2 only.
	Unified
)

// String names the mode as the documentation does.
func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	default:
		return "unavailable"
	}
}

// cgroupRoot is where every layout mounts its hierarchies.
const cgroupRoot = "/sys/fs/cgroup"

// layout is the host's cgroup layout, read once per process.
type layout struct {
	mode Mode
	// hierarchies are the mounted hierarchies, v1 ones first, the cgroup2
	// one last (if any).
	hierarchies []cgroupfs.Hierarchy
	// err says why the layout could not be read; mode is Unavailable then.
	err error
}

// hostLayout is computed on first use rather than at init: most tincan-oci
// invocations (state, start) never touch cgroups.
var hostLayout = sync.OnceValue(readHostLayout)

// DetectMode returns the host's cgroup layout. The result is cached after
// the first call.
func DetectMode() Mode { return hostLayout().mode }

func readHostLayout() layout {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		// The common case needs no mountinfo: cgroup2 at the standard place
		// is the whole story.
		return layout{mode: Unified, hierarchies: []cgroupfs.Hierarchy{{MountPoint: cgroupRoot, Unified: true}}}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return layout{err: fmt.Errorf("find cgroup hierarchies: %w", err)}
	}
	defer f.Close()
	hierarchies, err := cgroupfs.ParseHierarchies(f)
	if err != nil {
		return layout{err: fmt.Errorf("find cgroup hierarchies: %w", err)}
	}
	return layout{mode: modeOf(hierarchies), hierarchies: hierarchies}
}

// modeOf classifies the hierarchies found in mountinfo.
func modeOf(hierarchies []cgroupfs.Hierarchy) Mode {
	var v1, v2 bool
	for _, h := range hierarchies {
		if h.Unified {
			v2 = true
		} else {
			v1 = true
		}
	}
	switch {
	case v1 && v2:
		return Hybrid
	case v1:
		return Legacy
	case v2:
		return Unified
	}
	return Unavailable
}

// MountPoints returns where each hierarchy is mounted: v1 hierarchies under
// their controllers joined as in the mount options ("cpu,cpuacct",
// "memory", "name=systemd"), the cgroup2 one under "". Used to mount
// cgroupfs inside containers.
func MountPoints() (map[string]string, error) {
	l := hostLayout()
	if l.err != nil {
		return nil, l.err
	}
	mounts := make(map[string]string, len(l.hierarchies))
	for _, h := range l.hierarchies {
		mounts[h.Name()] = h.MountPoint
	}
	return mounts, nil
}
