package v1

import (
	"path/filepath"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// KillAll SIGKILLs every process in the cgroup tree and waits until it is
// empty. On a hybrid host whose kernel has cgroup.kill, the cgroup2 side
// kills the whole tree at once first. Then rounds of freeze, list, kill,
// thaw run until no process is left: they catch what cgroup.kill could not
// reach, stop forks from escaping between listing and killing, and thaw
// tasks that a v1 freezer holds (a frozen v1 task acts on SIGKILL only once
// thawed, so a paused container would otherwise never die). A missing
// cgroup has nothing to kill.
func (m *Manager) KillAll() error {
	if !m.Exists() || m.procsDir == "" {
		return nil
	}
	if m.unified != nil && m.unified.Exists() {
		killFile := filepath.Join(m.unified.Dir(), "cgroup.kill")
		if cgroupfs.FileExists(killFile) {
			if err := cgroupfs.WriteFile(killFile, "1"); err != nil {
				return err
			}
		}
	}
	var freeze, thaw func() error
	if state, err := m.FreezerState(); err == nil && state != cgroupfs.FreezerUnsupported {
		freeze, thaw = m.Freeze, m.Thaw
	}
	return cgroupfs.KillByListing(m.procsDir, freeze, thaw)
}
