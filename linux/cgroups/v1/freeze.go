package v1

import (
	"fmt"
	"path/filepath"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// The values of the v1 freezer.state file.
const (
	stateThawed   = "THAWED"
	stateFreezing = "FREEZING"
	stateFrozen   = "FROZEN"
)

// Freeze stops every process in the cgroup tree and returns once the v1
// freezer reports FROZEN. Without a v1 freezer hierarchy a hybrid host's
// cgroup2 freezer is used instead. If the freeze does not complete in time
// (a task in an uninterruptible sleep), Freeze thaws the cgroup and fails.
func (m *Manager) Freeze() error {
	if m.freezerDir == "" {
		if m.unified != nil {
			return m.unified.Freeze()
		}
		return m.noFreezer()
	}
	stateFile := filepath.Join(m.freezerDir, "freezer.state")
	err := cgroupfs.Poll(cgroupfs.FreezeTimeout, func() (bool, error) {
		// Writing FROZEN again makes the kernel retry the tasks that did not
		// freeze on the previous attempt.
		if err := cgroupfs.WriteFile(stateFile, stateFrozen); err != nil {
			return false, err
		}
		state, err := cgroupfs.ReadFile(stateFile)
		return state == stateFrozen, err
	})
	if err != nil {
		_ = cgroupfs.WriteFile(stateFile, stateThawed)
		return fmt.Errorf("freeze cgroup %s: %w", m.freezerDir, err)
	}
	return nil
}

// Thaw lets the processes of the cgroup tree run again; the v1 freezer thaws
// synchronously. Processes stay frozen while a parent cgroup is frozen.
func (m *Manager) Thaw() error {
	if m.freezerDir == "" {
		if m.unified != nil {
			return m.unified.Thaw()
		}
		return m.noFreezer()
	}
	return cgroupfs.WriteFile(filepath.Join(m.freezerDir, "freezer.state"), stateThawed)
}

// FreezerState reports the v1 freezer's state of the cgroup (FROZEN also when
// a parent is frozen), the cgroup2 freezer's on a hybrid host without a v1
// freezer, or FreezerUnsupported when there is neither.
func (m *Manager) FreezerState() (cgroupfs.FreezerState, error) {
	if m.freezerDir == "" {
		if m.unified != nil {
			return m.unified.FreezerState()
		}
		return cgroupfs.FreezerUnsupported, nil
	}
	if !cgroupfs.DirExists(m.freezerDir) {
		return cgroupfs.FreezerUnsupported, errdefs.NotFound("freezer state of cgroup %s: no such cgroup", m.freezerDir)
	}
	stateFile := filepath.Join(m.freezerDir, "freezer.state")
	state, err := cgroupfs.ReadFile(stateFile)
	if err != nil {
		return cgroupfs.FreezerUnsupported, err
	}
	switch state {
	case stateThawed:
		return cgroupfs.Thawed, nil
	case stateFreezing:
		return cgroupfs.Freezing, nil
	case stateFrozen:
		return cgroupfs.Frozen, nil
	}
	return cgroupfs.FreezerUnsupported, fmt.Errorf("read %s: unknown state %q", stateFile, state)
}

func (m *Manager) noFreezer() error {
	return errdefs.Unsupported("freeze cgroup %s: no freezer hierarchy is mounted", m.path)
}
