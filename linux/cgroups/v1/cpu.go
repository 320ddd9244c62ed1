package v1

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// setCPU writes the cpu controller's files: shares, CFS bandwidth (period,
// quota, burst), realtime bandwidth, idle.
func (m *Manager) setCPU(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	c := r.CPU
	if c == nil || m.Path("cpu") == "" {
		return nil
	}
	dir := m.Path("cpu")
	file := func(name string) string { return filepath.Join(dir, name) }
	if nonzero(c.Shares) {
		if err := w.Write(file("cpu.shares"), fmt.Sprint(*c.Shares)); err != nil {
			return field("cpu.shares", err)
		}
	}
	if nonzero(c.Period) {
		if err := w.Write(file("cpu.cfs_period_us"), fmt.Sprint(*c.Period)); err != nil {
			return field("cpu.period", err)
		}
	}
	switch {
	case nonzero(c.Quota) && c.Burst != nil:
		// The kernel keeps burst <= quota.
		err := writeOrdered(w, file("cpu.cfs_quota_us"), num(*c.Quota), file("cpu.cfs_burst_us"), fmt.Sprint(*c.Burst))
		if err != nil {
			return field("cpu.quota/burst", err)
		}
	case nonzero(c.Quota):
		if err := w.Write(file("cpu.cfs_quota_us"), num(*c.Quota)); err != nil {
			return field("cpu.quota", err)
		}
	case c.Burst != nil:
		if err := w.Write(file("cpu.cfs_burst_us"), fmt.Sprint(*c.Burst)); err != nil {
			return field("cpu.burst", err)
		}
	}
	if err := m.setRealtime(c, w, file); err != nil {
		return err
	}
	if c.Idle != nil {
		if err := w.Write(file("cpu.idle"), fmt.Sprint(*c.Idle)); err != nil {
			return field("cpu.idle", err)
		}
	}
	return nil
}

// setRealtime writes the realtime period and runtime; the kernel keeps
// runtime <= period, and a runtime above what the parent cgroup grants its
// children fails (EBUSY or EINVAL): the parents' budget is the host's.
func (m *Manager) setRealtime(c *specs.LinuxCPU, w *cgroupfs.Writer, file func(string) string) error {
	period, runtime := nonzero(c.RealtimePeriod), nonzero(c.RealtimeRuntime)
	var err error
	switch {
	case period && runtime:
		err = writeOrdered(w, file("cpu.rt_period_us"), fmt.Sprint(*c.RealtimePeriod), file("cpu.rt_runtime_us"), num(*c.RealtimeRuntime))
	case period:
		err = w.Write(file("cpu.rt_period_us"), fmt.Sprint(*c.RealtimePeriod))
	case runtime:
		err = w.Write(file("cpu.rt_runtime_us"), num(*c.RealtimeRuntime))
	}
	return field("cpu.realtimeRuntime/realtimePeriod", err)
}

// setCpuset writes cpuset.cpus and cpuset.mems (Create has filled in the
// parents' values, which the kernel requires to be supersets).
func (m *Manager) setCpuset(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	c := r.CPU
	if c == nil || m.Path("cpuset") == "" {
		return nil
	}
	dir := m.Path("cpuset")
	if c.Cpus != "" {
		if err := w.Write(filepath.Join(dir, "cpuset.cpus"), c.Cpus); err != nil {
			return field("cpu.cpus", err)
		}
	}
	if c.Mems != "" {
		if err := w.Write(filepath.Join(dir, "cpuset.mems"), c.Mems); err != nil {
			return field("cpu.mems", err)
		}
	}
	return nil
}
