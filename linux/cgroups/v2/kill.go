package v2

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// KillAll SIGKILLs every process in the cgroup tree and waits until the
// cgroup is empty. With cgroup.kill (Linux 5.14) the kernel kills the whole
// tree at once, forks included; older kernels get freeze, list, kill, thaw
// rounds. A missing cgroup has nothing to kill.
func (m *Manager) KillAll() error {
	if !m.Exists() {
		return nil
	}
	killFile := filepath.Join(m.dir, "cgroup.kill")
	if !cgroupfs.FileExists(killFile) {
		freeze, thaw := m.Freeze, m.Thaw
		if !cgroupfs.FileExists(filepath.Join(m.dir, "cgroup.freeze")) {
			freeze, thaw = nil, nil
		}
		return cgroupfs.KillByListing(m.dir, freeze, thaw)
	}
	if err := cgroupfs.WriteFile(killFile, "1"); err != nil {
		return err
	}
	err := cgroupfs.WaitEvent(filepath.Join(m.dir, "cgroup.events"), "populated", "0", cgroupfs.KillTimeout)
	if errors.Is(err, cgroupfs.ErrTimedOut) {
		return fmt.Errorf("kill processes of cgroup %s: still populated after %s: %w", m.dir, cgroupfs.KillTimeout, err)
	}
	return err
}
