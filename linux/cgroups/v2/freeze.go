package v2

import (
	"fmt"
	"path/filepath"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// Freeze stops every process in the cgroup tree and returns once the kernel
// reports the cgroup frozen (cgroup.events "frozen 1"). If that does not
// happen in time, it thaws the cgroup again and fails.
func (m *Manager) Freeze() error {
	freezeFile := filepath.Join(m.dir, "cgroup.freeze")
	if !cgroupfs.FileExists(freezeFile) {
		return m.noFreezer()
	}
	if err := cgroupfs.WriteFile(freezeFile, "1"); err != nil {
		return err
	}
	err := cgroupfs.WaitEvent(filepath.Join(m.dir, "cgroup.events"), "frozen", "1", cgroupfs.FreezeTimeout)
	if err != nil {
		_ = cgroupfs.WriteFile(freezeFile, "0")
		return fmt.Errorf("freeze cgroup %s: %w", m.dir, err)
	}
	return nil
}

// Thaw lets the processes of the cgroup tree run again. The kernel thaws at
// once, so there is nothing to wait for. Processes stay frozen while a
// parent cgroup is frozen.
func (m *Manager) Thaw() error {
	freezeFile := filepath.Join(m.dir, "cgroup.freeze")
	if !cgroupfs.FileExists(freezeFile) {
		return m.noFreezer()
	}
	return cgroupfs.WriteFile(freezeFile, "0")
}

// FreezerState reports Frozen when the kernel says the cgroup is frozen
// (also when a parent froze it), Freezing when a freeze was asked for and is
// not complete, otherwise Thawed; FreezerUnsupported on kernels without the
// v2 freezer (before 5.2).
func (m *Manager) FreezerState() (cgroupfs.FreezerState, error) {
	freezeFile := filepath.Join(m.dir, "cgroup.freeze")
	if !cgroupfs.FileExists(freezeFile) {
		if !m.Exists() {
			return cgroupfs.FreezerUnsupported, errdefs.NotFound("freezer state of cgroup %s: no such cgroup", m.dir)
		}
		return cgroupfs.FreezerUnsupported, nil
	}
	frozen, err := m.eventValue("frozen")
	if err != nil {
		return cgroupfs.FreezerUnsupported, err
	}
	if frozen == "1" {
		return cgroupfs.Frozen, nil
	}
	wanted, err := cgroupfs.ReadFile(freezeFile)
	if err != nil {
		return cgroupfs.FreezerUnsupported, err
	}
	if wanted == "1" {
		return cgroupfs.Freezing, nil
	}
	return cgroupfs.Thawed, nil
}

func (m *Manager) noFreezer() error {
	if !m.Exists() {
		return errdefs.NotFound("freeze cgroup %s: no such cgroup", m.dir)
	}
	return errdefs.Unsupported("freeze cgroup %s: this kernel has no cgroup v2 freezer (cgroup.freeze)", m.dir)
}

// eventValue returns the value of key in the cgroup's cgroup.events
// ("populated", "frozen").
func (m *Manager) eventValue(key string) (string, error) {
	return cgroupfs.EventValue(filepath.Join(m.dir, "cgroup.events"), key)
}
