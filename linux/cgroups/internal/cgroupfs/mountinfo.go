package cgroupfs

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	// MountPoint is where the hierarchy is mounted ("/sys/fs/cgroup/memory").
	MountPoint string
	// Controllers lists a v1 hierarchy's controllers in the kernel's order,
	// named hierarchies as "name=NAME" ("cpu", "cpuacct"; "name=systemd").
	// Empty for cgroup2.
	Controllers []string
	// Unified is true for a cgroup2 mount.
	Unified bool
}

// Name is the hierarchy's controllers joined with commas as in the mount
// options ("cpu,cpuacct", "name=systemd"), or "" for cgroup2.
func (h Hierarchy) Name() string { return strings.Join(h.Controllers, ",") }

// ParseHierarchies reads mountinfo-formatted text (/proc/self/mountinfo) and
// returns the cgroup hierarchies mounted, v1 ones in mount order and then the
// cgroup2 one, each once. A hierarchy mounted more than once (bind mounts,
// nested containers) is reported at its best mount point: under
// /sys/fs/cgroup, then a mount of the hierarchy's root, then the first one.
func ParseHierarchies(r io.Reader) ([]Hierarchy, error) {
	mounts, err := mountinfo.GetMountsFromReader(r, mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("parse mountinfo: %w", err)
	}
	var (
		hierarchies []Hierarchy
		scores      []int
		index       = make(map[string]int) // Name() (v1) or "" (cgroup2) -> position
		unifiedSeen bool
	)
	for _, m := range mounts {
		h := Hierarchy{MountPoint: m.Mountpoint, Unified: m.FSType == "cgroup2"}
		if !h.Unified {
			h.Controllers = v1Controllers(m.VFSOptions)
			if len(h.Controllers) == 0 {
				continue // not a usable v1 mount; cannot happen on a sane kernel
			}
		}
		key := h.Name()
		if h.Unified {
			key = ""
		}
		score := mountScore(m)
		if i, ok := index[key]; ok {
			if score > scores[i] {
				hierarchies[i], scores[i] = h, score
			}
			continue
		}
		if h.Unified {
			unifiedSeen = true
		}
		index[key] = len(hierarchies)
		hierarchies = append(hierarchies, h)
		scores = append(scores, score)
	}
	if unifiedSeen {
		// Keep the documented order: v1 hierarchies first, cgroup2 last.
		i := index[""]
		unified := hierarchies[i]
		hierarchies = append(hierarchies[:i], hierarchies[i+1:]...)
		hierarchies = append(hierarchies, unified)
	}
	return hierarchies, nil
}

// mountScore ranks duplicate mounts of one hierarchy: the standard location
// first, then any mount showing the whole hierarchy.
func mountScore(m *mountinfo.Info) int {
	score := 0
	if m.Mountpoint == "/sys/fs/cgroup" || strings.HasPrefix(m.Mountpoint, "/sys/fs/cgroup/") {
		score += 2
	}
	if m.Root == "/" {
		score++
	}
	return score
}

// v1Controllers picks the controllers out of a cgroup v1 superblock's
// options ("rw,cpu,cpuacct", "rw,xattr,name=systemd"): everything that is not
// one of the generic cgroup v1 mount options is a controller or a name.
func v1Controllers(superOptions string) []string {
	var controllers []string
	for _, opt := range strings.Split(superOptions, ",") {
		switch {
		case opt == "", opt == "rw", opt == "ro",
			opt == "noprefix", opt == "xattr", opt == "clone_children",
			opt == "cpuset_v2_mode", opt == "favordynmods", opt == "none",
			strings.HasPrefix(opt, "release_agent="):
		default:
			controllers = append(controllers, opt)
		}
	}
	return controllers
}
