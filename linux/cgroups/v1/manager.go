// Package v1 manages one container's cgroup on a cgroup v1 host: a directory
// in every mounted v1 hierarchy (comounted controllers such as "cpu,cpuacct"
// and named ones such as "name=systemd" included) and, on a hybrid host, in
// the cgroup2 hierarchy as well, through linux/cgroups/v2. It creates the
// directories, places processes in all of them, lists, signals, kills and
// freezes the processes, applies resource limits, reads usage, reports
// OOM events, and removes the directories.
//
// It does not find the hierarchies (linux/cgroups reads them from
// mountinfo).
package v1

import (
	"fmt"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	v2 "github.com/tincan/tincan/linux/cgroups/v2"
)

// Manager is one cgroup in every v1 hierarchy of the host.
type Manager struct {
	// path is the cgroup below each hierarchy's root ("/tincan/abc").
	path string
	// dirs holds the cgroup's directory in each v1 hierarchy, in mount order.
	dirs []hierarchyDir
	// unified is the cgroup in the hybrid host's cgroup2 hierarchy; nil on a
	// legacy host.
	unified *v2.Manager
	// procsDir is the directory Pids reads: the pids hierarchy, else the
	// freezer, else the first one, because those follow every process.
	procsDir string
	// freezerDir is the directory in the freezer hierarchy, "" without one.
	freezerDir string
}

// hierarchyDir is the container's cgroup in one v1 hierarchy.
type hierarchyDir struct {
	controllers []string
	mountPoint  string
	dir         string
}

// New returns the manager for the cgroup at path (absolute, cleaned, below
// the root) in the given hierarchies, as found in mountinfo; a cgroup2 one
// among them makes the host hybrid. It touches nothing; Create makes the
// cgroup.
func New(hierarchies []cgroupfs.Hierarchy, path string) *Manager {
	m := &Manager{path: path}
	for _, h := range hierarchies {
		if h.Unified {
			m.unified = v2.New(h.MountPoint, path)
			continue
		}
		m.dirs = append(m.dirs, hierarchyDir{
			controllers: h.Controllers,
			mountPoint:  h.MountPoint,
			dir:         filepath.Join(h.MountPoint, path),
		})
	}
	m.freezerDir = m.Path("freezer")
	switch {
	case m.Path("pids") != "":
		m.procsDir = m.Path("pids")
	case m.freezerDir != "":
		m.procsDir = m.freezerDir
	case len(m.dirs) > 0:
		m.procsDir = m.dirs[0].dir
	case m.unified != nil:
		m.procsDir = m.unified.Dir()
	}
	return m
}

// Create makes the cgroup and its missing parents in every hierarchy. In the
// cpuset hierarchy it also fills in the CPUs and memory nodes, which a new v1
// cpuset leaves empty and which must be set before any process can join.
// An existing cgroup is fine.
func (m *Manager) Create() error {
	for _, h := range m.dirs {
		if err := cgroupfs.MakeDirs(h.dir); err != nil {
			return err
		}
		if slices.Contains(h.controllers, "cpuset") {
			if err := inheritCpuset(h.mountPoint, m.path); err != nil {
				return err
			}
		}
	}
	if m.unified != nil {
		return m.unified.Create()
	}
	return nil
}

// Apply moves the process pid into the cgroup in every hierarchy.
func (m *Manager) Apply(pid int) error {
	for _, h := range m.dirs {
		if err := cgroupfs.WriteFile(filepath.Join(h.dir, "cgroup.procs"), fmt.Sprint(pid)); err != nil {
			return err
		}
	}
	if m.unified != nil {
		return m.unified.Apply(pid)
	}
	return nil
}

// Pids returns every process in the cgroup and in the cgroups below it.
func (m *Manager) Pids() ([]int, error) {
	if m.procsDir == "" {
		return nil, nil
	}
	return cgroupfs.TreePids(m.procsDir)
}

// Signal sends sig to every process in the cgroup tree.
func (m *Manager) Signal(sig unix.Signal) error {
	if m.procsDir == "" {
		return nil
	}
	return cgroupfs.SignalTree(m.procsDir, sig)
}

// Exists reports whether the cgroup's directory exists in any hierarchy.
func (m *Manager) Exists() bool {
	for _, h := range m.dirs {
		if cgroupfs.DirExists(h.dir) {
			return true
		}
	}
	return m.unified != nil && m.unified.Exists()
}

// Destroy removes the cgroup, and the cgroups the container made below it,
// in every hierarchy, deepest first, retrying busy ones for one bounded time
// across all hierarchies. Missing directories are not an error. It kills
// nothing.
func (m *Manager) Destroy() error {
	var dirs []string
	for _, h := range m.dirs {
		dirs = append(dirs, h.dir)
	}
	if m.unified != nil {
		dirs = append(dirs, m.unified.Dir())
	}
	return cgroupfs.RemoveTrees(dirs...)
}

// Path returns the cgroup's directory in the hierarchy that has subsystem (a
// controller such as "cpu", or "name=systemd"), or in the cgroup2 hierarchy
// for "". It returns "" when no such hierarchy is mounted.
func (m *Manager) Path(subsystem string) string {
	if subsystem == "" {
		if m.unified == nil {
			return ""
		}
		return m.unified.Dir()
	}
	for _, h := range m.dirs {
		if slices.Contains(h.controllers, subsystem) {
			return h.dir
		}
	}
	return ""
}

// Paths maps every controller and hierarchy name to the cgroup's directory
// in that hierarchy (comounted controllers share one), and "" to the one in
// the cgroup2 hierarchy of a hybrid host.
func (m *Manager) Paths() map[string]string {
	paths := make(map[string]string)
	for _, h := range m.dirs {
		for _, c := range h.controllers {
			paths[c] = h.dir
		}
	}
	if m.unified != nil {
		paths[""] = m.unified.Dir()
	}
	return paths
}
