package v2

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// Set applies the limits in r to the cgroup, as at create: every limit is
// checked first (values, controllers, unified keys), so that bad input
// fails before anything is written. v1 values are converted (cpu shares to
// cpu.weight, blkio weights to io.weight or io.bfq.weight, memory+swap to
// memory.swap.max). Settings v2 has no equivalent for (swappiness,
// disableOOMKiller, kernel memory, leafWeight) are skipped; linux/cgroups
// warns about them. Device rules become an eBPF program attached to the
// cgroup.
func (m *Manager) Set(r *specs.LinuxResources) error {
	return m.SetWith(r, cgroupfs.NewWriter(false))
}

// Update applies r to the cgroup of a running container. With
// memory.checkBeforeUpdate it refuses a memory limit below the current
// usage (v2 would reclaim, then OOM-kill, to meet it). When the kernel
// refuses a value, the files already written are put back as they were.
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := m.CheckMemoryUsage(r.Memory); err != nil {
		return err
	}
	w := cgroupfs.NewWriter(true)
	if err := m.SetWith(r, w); err != nil {
		if rerr := w.Rollback(); rerr != nil {
			return fmt.Errorf("%w; restoring the previous limits failed too: %v", err, rerr)
		}
		return err
	}
	return nil
}

// Check does what Set checks before it writes anything: values,
// controllers, unified keys.
func (m *Manager) Check(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := resources.Validate(r); err != nil {
		return err
	}
	return m.checkSupported(r)
}

// SetWith is Set writing through w. linux/cgroups/v1 calls it with the
// limits a hybrid host can only apply on its cgroup2 side.
func (m *Manager) SetWith(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if err := m.Check(r); err != nil {
		return err
	}
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources, *cgroupfs.Writer) error{
		m.setCpuset, m.setMemory, m.setCPU, m.setIO, m.setPids, m.setHugetlb, m.setRdma, m.setUnified,
	}
	for _, step := range steps {
		if err := step(r, w); err != nil {
			return err
		}
	}
	// Last: the program is the one part no writer journal can take back.
	return m.setDevices(r.Devices)
}

// Controllers lists the controllers the cgroup has (cgroup.controllers).
func (m *Manager) Controllers() ([]string, error) {
	s, err := cgroupfs.ReadFile(filepath.Join(m.dir, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	return strings.Fields(s), nil
}

// NeededControllers maps each controller r needs to the config field that
// needs it ("memory" -> "memory"), unified keys included.
func NeededControllers(r *specs.LinuxResources) map[string]string {
	need := make(map[string]string)
	if mem := r.Memory; mem != nil && (nonzero(mem.Limit) || nonzero(mem.Reservation) || nonzero(mem.Swap)) {
		need["memory"] = "memory"
	}
	if c := r.CPU; c != nil {
		if nonzero(c.Shares) || nonzero(c.Quota) || nonzero(c.Period) || nonzero(c.Burst) || c.Idle != nil {
			need["cpu"] = "cpu"
		}
		if c.Cpus != "" || c.Mems != "" {
			need["cpuset"] = "cpu.cpus/mems"
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		need["pids"] = "pids"
	}
	if b := r.BlockIO; b != nil && (nonzero(b.Weight) || len(b.WeightDevice) > 0 || b.ThrottleReadBpsDevice != nil ||
		b.ThrottleWriteBpsDevice != nil || b.ThrottleReadIOPSDevice != nil || b.ThrottleWriteIOPSDevice != nil) {
		need["io"] = "blockIO"
	}
	if len(r.HugepageLimits) > 0 {
		need["hugetlb"] = "hugepageLimits"
	}
	if len(r.Rdma) > 0 {
		need["rdma"] = "rdma"
	}
	for key := range r.Unified {
		if c := resources.UnifiedController(key); c != "" {
			need[c] = fmt.Sprintf("unified[%q]", key)
		}
	}
	return need
}

// checkSupported fails, before anything is written, for limits this
// cgroup cannot take: a controller it lacks, a v1-only setting, a unified
// key without its interface file.
func (m *Manager) checkSupported(r *specs.LinuxResources) error {
	if c := r.CPU; c != nil && (nonzero(c.RealtimeRuntime) || nonzero(c.RealtimePeriod)) {
		return errdefs.Unsupported("linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime CPU bandwidth control")
	}
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return errdefs.Unsupported("linux.resources.network: net_cls and net_prio are cgroup v1 controllers; cgroup v2 has no equivalent")
	}
	need := NeededControllers(r)
	if len(need) == 0 {
		return m.checkUnifiedFiles(r.Unified)
	}
	have, err := m.Controllers()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(need))
	for c := range need {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		if !slices.Contains(have, c) {
			return errdefs.Unsupported("linux.resources.%s: the %s controller is not available in cgroup %s (it has: %s)",
				need[c], c, m.dir, strings.Join(have, " "))
		}
	}
	return m.checkUnifiedFiles(r.Unified)
}

// checkUnifiedFiles fails for a unified key that names no interface file
// of the cgroup: the runtime-spec has them written as given, so an unknown
// name can only be an error, found before anything is written.
func (m *Manager) checkUnifiedFiles(unified map[string]string) error {
	for _, key := range sortedKeys(unified) {
		if !cgroupfs.FileExists(filepath.Join(m.dir, key)) {
			return errdefs.InvalidArgument("linux.resources.unified[%q]: cgroup %s has no interface file %s", key, m.dir, key)
		}
	}
	return nil
}

func (m *Manager) setPids(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return field("pids.limit", w.Write(m.file("pids.max"), resources.Limit(*r.Pids.Limit)))
}

func (m *Manager) setHugetlb(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	for i, h := range r.HugepageLimits {
		name := fmt.Sprintf("hugepageLimits[%d]", i)
		limit := fmt.Sprint(h.Limit)
		maxFile := m.file("hugetlb." + h.Pagesize + ".max")
		if !cgroupfs.FileExists(maxFile) {
			return errdefs.InvalidArgument("linux.resources.%s.pageSize: %s is not a hugepage size of this kernel (it has %s)",
				name, h.Pagesize, strings.Join(resources.PageSizes(), ", "))
		}
		if err := w.Write(maxFile, limit); err != nil {
			return field(name, err)
		}
		// The runtime-spec limits reservations when the kernel can.
		if rsvd := m.file("hugetlb." + h.Pagesize + ".rsvd.max"); cgroupfs.FileExists(rsvd) {
			if err := w.Write(rsvd, limit); err != nil {
				return field(name, err)
			}
		}
	}
	return nil
}

func (m *Manager) setRdma(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	for _, dev := range sortedKeys(r.Rdma) {
		limit := r.Rdma[dev]
		var parts []string
		if limit.HcaHandles != nil {
			parts = append(parts, fmt.Sprintf("hca_handle=%d", *limit.HcaHandles))
		}
		if limit.HcaObjects != nil {
			parts = append(parts, fmt.Sprintf("hca_object=%d", *limit.HcaObjects))
		}
		if err := w.WriteEntry(m.file("rdma.max"), dev, strings.Join(parts, " "), "hca_handle=max hca_object=max"); err != nil {
			return field("rdma."+dev, err)
		}
	}
	return nil
}

// setUnified writes the unified keys last, so that they override what the
// typed fields set. A value of several lines is written a line at a time:
// keyed files (io.max, rdma.max) take one entry per write.
func (m *Manager) setUnified(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	for _, key := range sortedKeys(r.Unified) {
		value := r.Unified[key]
		path := m.file(key)
		var err error
		if lines := strings.Split(strings.TrimSpace(value), "\n"); len(lines) > 1 {
			for _, line := range lines {
				if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
					err = w.WriteEntry(path, k, v, "")
				} else if line != "" {
					err = w.Write(path, line)
				}
				if err != nil {
					break
				}
			}
		} else {
			err = w.Write(path, value)
		}
		if err != nil {
			return field(fmt.Sprintf("unified[%q]", key), err)
		}
	}
	return nil
}

func (m *Manager) file(name string) string { return filepath.Join(m.dir, name) }

// field names the config field whose value the kernel refused.
func field(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("linux.resources.%s: %w", name, err)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonzero[T int64 | uint64 | uint16](p *T) bool { return p != nil && *p != 0 }
