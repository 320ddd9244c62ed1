package v1

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// Set applies the limits in r to the cgroup, as at create. Each group of
// settings goes to its v1 hierarchy; on a hybrid host a group whose
// controller is not mounted as v1 but is offered by the cgroup2 side
// (hugetlb, often) goes there, converted as linux/cgroups/v2 does, and so
// do linux.resources.unified and, without a v1 devices hierarchy, the
// device rules (as an eBPF program). Everything is checked before the
// first write: values, hierarchies, controllers.
func (m *Manager) Set(r *specs.LinuxResources) error {
	return m.set(r, cgroupfs.NewWriter(false))
}

// Update applies r to the cgroup of a running container. When the kernel
// refuses a value (a memory limit it cannot reclaim down to fails with
// EBUSY), the files already written are put back as they were. With
// memory.checkBeforeUpdate a limit at or below the current usage is
// refused before anything is written, even one the kernel could reclaim
// down to.
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := m.checkMemoryUsage(r.Memory); err != nil {
		return err
	}
	w := cgroupfs.NewWriter(true)
	if err := m.set(r, w); err != nil {
		if rerr := w.Rollback(); rerr != nil {
			return fmt.Errorf("%w; restoring the previous limits failed too: %v", err, rerr)
		}
		return err
	}
	return nil
}

func (m *Manager) set(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if r == nil {
		return nil
	}
	if err := resources.Validate(r); err != nil {
		return err
	}
	own, unified, err := m.split(r)
	if err != nil {
		return err
	}
	if unified != nil {
		if err := m.unified.Check(unified); err != nil {
			return err
		}
	}
	steps := []func(*specs.LinuxResources, *cgroupfs.Writer) error{
		m.setCpuset, m.setMemory, m.setCPU, m.setBlkio, m.setPids, m.setHugetlb, m.setNetwork, m.setRdma, m.setDevices,
	}
	for _, step := range steps {
		if err := step(own, w); err != nil {
			return err
		}
	}
	if unified != nil {
		return m.unified.SetWith(unified, w)
	}
	return nil
}

// group is a part of linux.resources that one controller applies.
type group struct {
	field      string // the config field, for errors
	controller string // the v1 controller
	v2         string // the cgroup2 controller, "" when v2 has none
	set        bool   // the config sets it
	copyTo     func(dst *specs.LinuxResources)
}

// split sorts r into what the v1 hierarchies apply and what goes to the
// cgroup2 side (nil when nothing does), and fails for a group no
// hierarchy can take.
func (m *Manager) split(r *specs.LinuxResources) (own, unified *specs.LinuxResources, err error) {
	own, unified = &specs.LinuxResources{}, &specs.LinuxResources{}
	cpu, cpuset := splitCPU(r.CPU)
	network := r.Network
	if network == nil {
		network = &specs.LinuxNetwork{}
	}
	groups := []group{
		{"memory", "memory", "memory", r.Memory != nil, func(d *specs.LinuxResources) { d.Memory = r.Memory }},
		{"cpu", "cpu", "cpu", cpu != nil, func(d *specs.LinuxResources) { mergeCPU(d, cpu) }},
		{"cpu.cpus/mems", "cpuset", "cpuset", cpuset != nil, func(d *specs.LinuxResources) { mergeCPU(d, cpuset) }},
		{"pids", "pids", "pids", r.Pids != nil, func(d *specs.LinuxResources) { d.Pids = r.Pids }},
		{"blockIO", "blkio", "io", r.BlockIO != nil, func(d *specs.LinuxResources) { d.BlockIO = r.BlockIO }},
		{"hugepageLimits", "hugetlb", "hugetlb", len(r.HugepageLimits) > 0, func(d *specs.LinuxResources) { d.HugepageLimits = r.HugepageLimits }},
		{"network.classID", "net_cls", "", network.ClassID != nil, func(d *specs.LinuxResources) { setNetwork(d).ClassID = network.ClassID }},
		{"network.priorities", "net_prio", "", len(network.Priorities) > 0, func(d *specs.LinuxResources) { setNetwork(d).Priorities = network.Priorities }},
		{"rdma", "rdma", "rdma", len(r.Rdma) > 0, func(d *specs.LinuxResources) { d.Rdma = r.Rdma }},
		{"devices", "devices", "", len(r.Devices) > 0, func(d *specs.LinuxResources) { d.Devices = r.Devices }},
	}
	// Read only when a group has no v1 hierarchy: most creates never do.
	var v2Controllers []string
	v2Has := func(controller string) bool {
		if v2Controllers == nil && m.unified != nil {
			v2Controllers, _ = m.unified.Controllers()
			v2Controllers = append(v2Controllers, "") // read once, even when empty
		}
		return controller != "" && slices.Contains(v2Controllers, controller)
	}
	toUnified := false
	for _, g := range groups {
		switch {
		case !g.set:
		case m.Path(g.controller) != "":
			g.copyTo(own)
		case m.unified != nil && (g.controller == "devices" || v2Has(g.v2)):
			// The cgroup2 side: its controller, or for devices an eBPF
			// program, which needs none.
			g.copyTo(unified)
			toUnified = true
		default:
			return nil, nil, errdefs.Unsupported("linux.resources.%s: no %s hierarchy is mounted%s", g.field, g.controller, m.unifiedHint(g.v2))
		}
	}
	if len(r.Unified) > 0 {
		if m.unified == nil {
			return nil, nil, errdefs.Unsupported("linux.resources.unified: this host has no cgroup2 hierarchy")
		}
		unified.Unified = r.Unified
		toUnified = true
	}
	if !toUnified {
		unified = nil
	}
	return own, unified, nil
}

func (m *Manager) unifiedHint(controller string) string {
	switch {
	case m.unified == nil:
		return ""
	case controller == "":
		return " (and cgroup v2 has no equivalent)"
	}
	return fmt.Sprintf(" and the cgroup2 hierarchy does not offer %s either", controller)
}

// splitCPU separates the cpu controller's settings from cpuset's.
func splitCPU(c *specs.LinuxCPU) (cpu, cpuset *specs.LinuxCPU) {
	if c == nil {
		return nil, nil
	}
	if c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil || c.RealtimeRuntime != nil || c.RealtimePeriod != nil || c.Idle != nil {
		cpu = &specs.LinuxCPU{Shares: c.Shares, Quota: c.Quota, Period: c.Period, Burst: c.Burst,
			RealtimeRuntime: c.RealtimeRuntime, RealtimePeriod: c.RealtimePeriod, Idle: c.Idle}
	}
	if c.Cpus != "" || c.Mems != "" {
		cpuset = &specs.LinuxCPU{Cpus: c.Cpus, Mems: c.Mems}
	}
	return cpu, cpuset
}

// mergeCPU adds part's fields to r.CPU.
func mergeCPU(r *specs.LinuxResources, part *specs.LinuxCPU) {
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	c := r.CPU
	if part.Cpus != "" || part.Mems != "" {
		c.Cpus, c.Mems = part.Cpus, part.Mems
		return
	}
	c.Shares, c.Quota, c.Period, c.Burst = part.Shares, part.Quota, part.Period, part.Burst
	c.RealtimeRuntime, c.RealtimePeriod, c.Idle = part.RealtimeRuntime, part.RealtimePeriod, part.Idle
}

func setNetwork(r *specs.LinuxResources) *specs.LinuxNetwork {
	if r.Network == nil {
		r.Network = &specs.LinuxNetwork{}
	}
	return r.Network
}

// writeOrdered writes two files that constrain each other (a limit and a
// limit of which it must stay below: memory and memory+swap, quota and
// burst, realtime period and runtime): first a then b, and if a is refused
// with EINVAL, b then a. One order always keeps the pair valid.
func writeOrdered(w *cgroupfs.Writer, fileA, valueA, fileB, valueB string) error {
	err := w.Write(fileA, valueA)
	if errors.Is(err, unix.EINVAL) {
		if err := w.Write(fileB, valueB); err != nil {
			return err
		}
		return w.Write(fileA, valueA)
	}
	if err != nil {
		return err
	}
	return w.Write(fileB, valueB)
}

// field names the config field whose value the kernel refused.
func field(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("linux.resources.%s: %w", name, err)
}
