package v1

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// unlimited is the lowest value v1 memory limits show for "no limit"
// (PAGE_COUNTER_MAX pages, rounded, whatever the page size).
const unlimited = 1 << 62

// userHZ is the unit of cpuacct.stat (USER_HZ, 100 on every Linux ABI).
const userHZ = 100

// Stats reads the cgroup's usage counters: on a hybrid host the cgroup2
// side's first (hugetlb, pressure, whatever controllers it has), then each
// v1 hierarchy's over them. Files of controllers that are not mounted are
// skipped; a cgroup that exists nowhere is a NotFound error.
func (m *Manager) Stats() (*cgroupfs.Stats, error) {
	if !m.Exists() {
		return nil, errdefs.NotFound("stats of cgroup %s: no such cgroup", m.path)
	}
	s := &cgroupfs.Stats{Hugetlb: make(map[string]cgroupfs.HugetlbStats)}
	if m.unified != nil && m.unified.Exists() {
		var err error
		if s, err = m.unified.Stats(); err != nil {
			return nil, err
		}
	}
	readers := []struct {
		controller string
		read       func(dir string, s *cgroupfs.Stats) error
	}{
		{"cpuacct", cpuacctStats}, {"cpu", throttlingStats}, {"memory", memoryStats},
		{"pids", pidsStats}, {"blkio", blkioStats}, {"hugetlb", hugetlbStats}, {"cpuset", cpusetStats},
	}
	for _, r := range readers {
		dir := m.Path(r.controller)
		if dir == "" {
			continue
		}
		if err := r.read(dir, s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return s, nil
}

func cpuacctStats(dir string, s *cgroupfs.Stats) error {
	total, err := cgroupfs.ReadUint(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return err
	}
	u := &s.CPU.Usage
	u.Total = total
	u.PerCPU = readUints(filepath.Join(dir, "cpuacct.usage_percpu"))
	u.PerCPUKernel = readUints(filepath.Join(dir, "cpuacct.usage_percpu_sys"))
	u.PerCPUUser = readUints(filepath.Join(dir, "cpuacct.usage_percpu_user"))
	if st, err := cgroupfs.ReadKeyed(filepath.Join(dir, "cpuacct.stat")); err == nil {
		u.User = st["user"] * (1e9 / userHZ)
		u.Kernel = st["system"] * (1e9 / userHZ)
	}
	return nil
}

func throttlingStats(dir string, s *cgroupfs.Stats) error {
	st, err := cgroupfs.ReadKeyed(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return err
	}
	s.CPU.Throttling = cgroupfs.Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	return nil
}

func memoryStats(dir string, s *cgroupfs.Stats) error {
	mem := &s.Memory
	for _, e := range []struct {
		prefix string
		entry  *cgroupfs.MemoryEntry
	}{
		{"memory.", &mem.Usage}, {"memory.memsw.", &mem.Swap}, {"memory.kmem.", &mem.Kernel}, {"memory.kmem.tcp.", &mem.KernelTCP},
	} {
		usage, err := cgroupfs.ReadUint(filepath.Join(dir, e.prefix+"usage_in_bytes"))
		if err != nil {
			if e.prefix == "memory." {
				return err
			}
			continue // swap accounting off, or kmem files gone
		}
		e.entry.Usage = usage
		e.entry.Max, _ = cgroupfs.ReadUint(filepath.Join(dir, e.prefix+"max_usage_in_bytes"))
		e.entry.Failcnt, _ = cgroupfs.ReadUint(filepath.Join(dir, e.prefix+"failcnt"))
		e.entry.Limit, _ = cgroupfs.ReadUint(filepath.Join(dir, e.prefix+"limit_in_bytes"))
		if e.entry.Limit >= unlimited {
			e.entry.Limit = 0
		}
	}
	if raw, err := cgroupfs.ReadKeyed(filepath.Join(dir, "memory.stat")); err == nil {
		mem.Raw = raw
		mem.Cache = raw["total_cache"]
	}
	if oom, err := cgroupfs.ReadKeyed(filepath.Join(dir, "memory.oom_control")); err == nil {
		mem.EventCount.OOMKill = oom["oom_kill"]
		mem.EventCount.Max = mem.Usage.Failcnt
	}
	return nil
}

func pidsStats(dir string, s *cgroupfs.Stats) error {
	current, err := cgroupfs.ReadUint(filepath.Join(dir, "pids.current"))
	if err != nil {
		return err
	}
	s.Pids.Current = current
	if limit, err := cgroupfs.ReadFile(filepath.Join(dir, "pids.max")); err == nil && limit != "max" {
		s.Pids.Limit, _ = strconv.ParseUint(limit, 10, 64)
	}
	return nil
}

// blkioStats reads the throttling layer's counters, which see every
// request whatever the I/O scheduler, then the scheduler's (BFQ, CFQ) for
// kernels without throttling.
func blkioStats(dir string, s *cgroupfs.Stats) error {
	for _, prefix := range []string{"blkio.throttle.", "blkio.bfq.", "blkio."} {
		bytes, err := readBlkioEntries(filepath.Join(dir, prefix+"io_service_bytes_recursive"))
		if err != nil {
			continue
		}
		s.Blkio.IoServiceBytesRecursive = bytes
		s.Blkio.IoServicedRecursive, _ = readBlkioEntries(filepath.Join(dir, prefix+"io_serviced_recursive"))
		return nil
	}
	return nil
}

// readBlkioEntries parses "8:0 Read 4096" lines (the "Total N" line at the
// end has no device and is left out).
func readBlkioEntries(path string) ([]cgroupfs.BlkioEntry, error) {
	content, err := cgroupfs.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []cgroupfs.BlkioEntry
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		major, minor, ok := cgroupfs.ParseDevice(f[0])
		value, err := strconv.ParseUint(f[2], 10, 64)
		if ok && err == nil {
			out = append(out, cgroupfs.BlkioEntry{Major: major, Minor: minor, Op: f[1], Value: value})
		}
	}
	return out, nil
}

func hugetlbStats(dir string, s *cgroupfs.Stats) error {
	for _, size := range resources.PageSizes() {
		prefix := filepath.Join(dir, "hugetlb."+size+".")
		usage, err := cgroupfs.ReadUint(prefix + "usage_in_bytes")
		if err != nil {
			return err
		}
		st := cgroupfs.HugetlbStats{Usage: usage}
		st.Max, _ = cgroupfs.ReadUint(prefix + "max_usage_in_bytes")
		st.Failcnt, _ = cgroupfs.ReadUint(prefix + "failcnt")
		s.Hugetlb[size] = st
	}
	return nil
}

func cpusetStats(dir string, s *cgroupfs.Stats) error {
	cpus, err := cgroupfs.ReadFile(filepath.Join(dir, "cpuset.effective_cpus"))
	if err != nil {
		return err
	}
	c := &s.CPUSet
	c.CPUs, _ = resources.ParseList(cpus)
	if mems, err := cgroupfs.ReadFile(filepath.Join(dir, "cpuset.effective_mems")); err == nil {
		c.Mems, _ = resources.ParseList(mems)
	}
	for name, dst := range map[string]*uint64{
		"cpu_exclusive": &c.CPUExclusive, "mem_exclusive": &c.MemExclusive, "mem_hardwall": &c.MemHardwall,
		"memory_migrate": &c.MemoryMigrate, "memory_spread_page": &c.MemorySpreadPage,
		"memory_spread_slab": &c.MemorySpreadSlab, "memory_pressure": &c.MemoryPressure,
		"sched_load_balance": &c.SchedLoadBalance,
	} {
		*dst, _ = cgroupfs.ReadUint(filepath.Join(dir, "cpuset."+name))
	}
	if level, err := cgroupfs.ReadFile(filepath.Join(dir, "cpuset.sched_relax_domain_level")); err == nil {
		c.SchedRelaxDomainLevel, _ = strconv.ParseInt(level, 10, 64)
	}
	return nil
}

// readUints reads a file of space-separated numbers (cpuacct.usage_percpu);
// nil when it cannot.
func readUints(path string) []uint64 {
	content, err := cgroupfs.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []uint64
	for _, f := range strings.Fields(content) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}
