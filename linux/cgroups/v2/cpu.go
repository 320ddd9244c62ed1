package v2

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// setCPU writes cpu.weight (converted from shares), cpu.max (quota and
// period), cpu.max.burst and cpu.idle.
func (m *Manager) setCPU(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if nonzero(c.Shares) {
		weight := resources.SharesToWeight(*c.Shares)
		if err := w.Write(m.file("cpu.weight"), fmt.Sprint(weight)); err != nil {
			return field("cpu.shares", err)
		}
	}
	if nonzero(c.Quota) || nonzero(c.Period) {
		if err := m.setCPUMax(c, w); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := w.Write(m.file("cpu.max.burst"), fmt.Sprint(*c.Burst)); err != nil {
			return field("cpu.burst", err)
		}
	}
	if c.Idle != nil {
		if err := w.Write(m.file("cpu.idle"), fmt.Sprint(*c.Idle)); err != nil {
			return field("cpu.idle", err)
		}
	}
	return nil
}

// setCPUMax writes "quota period" to cpu.max; a field the config leaves
// out keeps the cgroup's current value.
func (m *Manager) setCPUMax(c *specs.LinuxCPU, w *cgroupfs.Writer) error {
	current, err := cgroupfs.ReadFile(m.file("cpu.max"))
	if err != nil {
		return field("cpu.quota", err)
	}
	quota, period, _ := strings.Cut(current, " ")
	if nonzero(c.Quota) {
		quota = resources.Limit(*c.Quota)
	}
	if nonzero(c.Period) {
		period = fmt.Sprint(*c.Period)
	}
	return field("cpu.quota", w.Write(m.file("cpu.max"), quota+" "+period))
}

// setCpuset writes cpuset.cpus and cpuset.mems.
func (m *Manager) setCpuset(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Cpus != "" {
		if err := w.Write(m.file("cpuset.cpus"), c.Cpus); err != nil {
			return field("cpu.cpus", err)
		}
	}
	if c.Mems != "" {
		if err := w.Write(m.file("cpuset.mems"), c.Mems); err != nil {
			return field("cpu.mems", err)
		}
	}
	return nil
}
