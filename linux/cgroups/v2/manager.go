// Package v2 manages one container's cgroup on the unified (cgroup v2)
// hierarchy: creating it (and delegating controllers down to it), placing
// processes, listing, signalling, killing and freezing them, applying
// resource limits (device rules as an eBPF program), reading usage,
// reporting OOM events, and removing it.
//
// It serves two hosts: a pure cgroup v2 host, where it is the whole manager,
// and the cgroup2 mount of a hybrid host, where linux/cgroups/v1 uses it for
// the unified part of the container's cgroup. It does not detect the host's
// layout (linux/cgroups does).
package v2

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// Manager is one cgroup in the unified hierarchy.
type Manager struct {
	// mountPoint is where cgroup2 is mounted ("/sys/fs/cgroup").
	mountPoint string
	// path is the cgroup below the hierarchy root ("/tincan/abc").
	path string
	// dir is mountPoint joined with path.
	dir string
}

// New returns the manager for the cgroup at path (absolute, cleaned, below
// the root) of the cgroup2 hierarchy mounted at mountPoint. It touches
// nothing; Create makes the cgroup.
func New(mountPoint, path string) *Manager {
	return &Manager{mountPoint: mountPoint, path: path, dir: filepath.Join(mountPoint, path)}
}

// Dir returns the cgroup's directory.
func (m *Manager) Dir() string { return m.dir }

// Create makes the cgroup and its missing parents, and enables in each
// parent below the root every controller it offers, so that the cgroup gets
// all the controllers the host delegates. An existing cgroup is fine.
func (m *Manager) Create() error {
	if err := cgroupfs.MakeDirs(m.dir); err != nil {
		return err
	}
	m.enableControllers()
	return nil
}

// Apply moves the process pid into the cgroup.
func (m *Manager) Apply(pid int) error {
	return cgroupfs.WriteFile(filepath.Join(m.dir, "cgroup.procs"), fmt.Sprint(pid))
}

// Pids returns every process in the cgroup and in the cgroups below it.
func (m *Manager) Pids() ([]int, error) { return cgroupfs.TreePids(m.dir) }

// Signal sends sig to every process in the cgroup tree.
func (m *Manager) Signal(sig unix.Signal) error { return cgroupfs.SignalTree(m.dir, sig) }

// Exists reports whether the cgroup's directory exists.
func (m *Manager) Exists() bool { return cgroupfs.DirExists(m.dir) }

// Destroy removes the cgroup and the cgroups the container made below it,
// deepest first. A missing cgroup is not an error. It kills nothing: a
// cgroup with processes stays, and Destroy fails after a bounded retry.
func (m *Manager) Destroy() error { return cgroupfs.RemoveTrees(m.dir) }

// Path returns the cgroup's directory for "" (the unified hierarchy) and for
// any controller name, since every v2 controller lives in the one directory;
// named v1 hierarchies ("name=systemd") do not exist here and give "".
func (m *Manager) Path(subsystem string) string {
	if strings.HasPrefix(subsystem, "name=") {
		return ""
	}
	return m.dir
}

// Paths maps "" (the unified hierarchy) to the cgroup's directory.
func (m *Manager) Paths() map[string]string { return map[string]string{"": m.dir} }
