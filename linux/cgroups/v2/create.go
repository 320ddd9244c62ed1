package v2

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// enableControllers turns on, in every parent of the cgroup below the root,
// the controllers the parent has (cgroup.controllers) and has not yet
// delegated (cgroup.subtree_control). The root is the host's to manage: what
// it delegates is what we get. Failures are ignored one controller at a
// time, because a controller can be refused for reasons that do not stop the
// container from running (a parent with processes in it, a realtime task
// blocking cpu, a threaded subtree); the resource code reports what it
// cannot limit.
func (m *Manager) enableControllers() {
	parts := strings.Split(strings.Trim(m.path, "/"), "/")
	parent := m.mountPoint
	for _, part := range parts[:len(parts)-1] {
		parent = filepath.Join(parent, part)
		available, err := cgroupfs.ReadFile(filepath.Join(parent, "cgroup.controllers"))
		if err != nil {
			return
		}
		enabled, err := cgroupfs.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
		if err != nil {
			return
		}
		delegated := strings.Fields(enabled)
		for _, controller := range strings.Fields(available) {
			if !slices.Contains(delegated, controller) {
				_ = cgroupfs.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), "+"+controller)
			}
		}
	}
}
