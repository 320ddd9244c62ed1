package v2

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// setDevices enforces the device rules with an eBPF program attached to
// the cgroup (cgroup v2 has no devices files), replacing the one a
// previous Set attached. No rules, no program.
func (m *Manager) setDevices(list []specs.LinuxDeviceCgroup) error {
	if len(list) == 0 {
		return nil
	}
	rules, err := resources.ParseRules(list)
	if err != nil {
		return err
	}
	progFD, err := loadDeviceProgram(deviceFilter(rules))
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	defer unix.Close(progFD)
	dir, err := m.openDir()
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	defer dir.Close()
	if err := replaceDevicePrograms(int(dir.Fd()), progFD); err != nil {
		return fmt.Errorf("linux.resources.devices: cgroup %s: %w", m.dir, err)
	}
	return nil
}

// CloneFD opens the cgroup's directory for CLONE_INTO_CGROUP
// (syscall.SysProcAttr.CgroupFD), which starts a child directly in the
// cgroup; the caller closes it. It returns nil before Linux 5.7, which
// lacks CLONE_INTO_CGROUP: the child must be moved with Apply then.
func (m *Manager) CloneFD() (*os.File, error) {
	if !cgroupfs.KernelAtLeast(5, 7) {
		return nil, nil
	}
	return m.openDir()
}

func (m *Manager) openDir() (*os.File, error) {
	fd, err := unix.Open(m.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", m.dir, err)
	}
	return os.NewFile(uintptr(fd), m.dir), nil
}
