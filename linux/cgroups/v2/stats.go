package v2

import (
	"errors"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// Stats reads the cgroup's usage counters. Files of controllers the cgroup
// does not have are skipped; a cgroup that does not exist is a NotFound
// error.
func (m *Manager) Stats() (*cgroupfs.Stats, error) {
	if !m.Exists() {
		return nil, errdefs.NotFound("stats of cgroup %s: no such cgroup", m.dir)
	}
	s := &cgroupfs.Stats{Hugetlb: make(map[string]cgroupfs.HugetlbStats)}
	readers := []func(*cgroupfs.Stats) error{m.cpuStats, m.memoryStats, m.pidsStats, m.ioStats, m.cpusetStats, m.HugetlbStats}
	for _, read := range readers {
		if err := read(s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return s, nil
}

func (m *Manager) cpuStats(s *cgroupfs.Stats) error {
	st, err := cgroupfs.ReadKeyed(m.file("cpu.stat"))
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = st["usage_usec"] * 1000
	s.CPU.Usage.User = st["user_usec"] * 1000
	s.CPU.Usage.Kernel = st["system_usec"] * 1000
	s.CPU.Throttling.Periods = st["nr_periods"]
	s.CPU.Throttling.ThrottledPeriods = st["nr_throttled"]
	s.CPU.Throttling.ThrottledTime = st["throttled_usec"] * 1000
	s.CPU.PSI = m.psi("cpu.pressure")
	return nil
}

func (m *Manager) memoryStats(s *cgroupfs.Stats) error {
	usage, err := cgroupfs.ReadUint(m.file("memory.current"))
	if err != nil {
		return err
	}
	mem := &s.Memory
	mem.Usage.Usage = usage
	mem.Usage.Limit = limitOrZero(m.file("memory.max"))
	mem.Usage.Max, _ = cgroupfs.ReadUint(m.file("memory.peak")) // Linux 5.19
	if ev, err := cgroupfs.ReadKeyed(m.file("memory.events")); err == nil {
		mem.EventCount = cgroupfs.MemoryEvents{Low: ev["low"], High: ev["high"], Max: ev["max"], OOM: ev["oom"], OOMKill: ev["oom_kill"]}
		mem.Usage.Failcnt = ev["max"]
	}
	// v1's swap counters are memory+swap: report v2's the same way.
	if swap, err := cgroupfs.ReadUint(m.file("memory.swap.current")); err == nil {
		mem.Swap.Usage = usage + swap
		if swapMax := limitOrZero(m.file("memory.swap.max")); swapMax != 0 && mem.Usage.Limit != 0 {
			mem.Swap.Limit = swapMax + mem.Usage.Limit
		}
		if peak, err := cgroupfs.ReadUint(m.file("memory.swap.peak")); err == nil {
			mem.Swap.Max = mem.Usage.Max + peak
		}
	}
	if raw, err := cgroupfs.ReadKeyed(m.file("memory.stat")); err == nil {
		mem.Raw = raw
		mem.Cache = raw["file"]
		mem.Kernel.Usage = raw["kernel"]
		mem.KernelTCP.Usage = raw["sock"]
	}
	mem.PSI = m.psi("memory.pressure")
	return nil
}

func (m *Manager) pidsStats(s *cgroupfs.Stats) error {
	current, err := cgroupfs.ReadUint(m.file("pids.current"))
	if err != nil {
		return err
	}
	s.Pids.Current = current
	s.Pids.Limit = limitOrZero(m.file("pids.max"))
	return nil
}

// ioStats turns io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5
// dios=6") into v1-style entries per device and operation.
func (m *Manager) ioStats(s *cgroupfs.Stats) error {
	content, err := cgroupfs.ReadFile(m.file("io.stat"))
	if err != nil {
		return err
	}
	for _, e := range cgroupfs.ParseNested(content) {
		major, minor, ok := cgroupfs.ParseDevice(e.Key)
		if !ok {
			continue
		}
		for _, op := range []struct{ name, bytes, ios string }{
			{"Read", "rbytes", "rios"}, {"Write", "wbytes", "wios"}, {"Discard", "dbytes", "dios"},
		} {
			s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive,
				cgroupfs.BlkioEntry{Major: major, Minor: minor, Op: op.name, Value: e.Values[op.bytes]})
			s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive,
				cgroupfs.BlkioEntry{Major: major, Minor: minor, Op: op.name, Value: e.Values[op.ios]})
		}
	}
	s.Blkio.PSI = m.psi("io.pressure")
	return nil
}

func (m *Manager) cpusetStats(s *cgroupfs.Stats) error {
	cpus, err := cgroupfs.ReadFile(m.file("cpuset.cpus.effective"))
	if err != nil {
		return err
	}
	s.CPUSet.CPUs, _ = resources.ParseList(cpus)
	if mems, err := cgroupfs.ReadFile(m.file("cpuset.mems.effective")); err == nil {
		s.CPUSet.Mems, _ = resources.ParseList(mems)
	}
	return nil
}

// HugetlbStats adds the hugetlb usage per page size to s; linux/cgroups/v1
// uses it on hybrid hosts, where hugetlb is often on the cgroup2 side.
func (m *Manager) HugetlbStats(s *cgroupfs.Stats) error {
	for _, size := range resources.PageSizes() {
		usage, err := cgroupfs.ReadUint(m.file("hugetlb." + size + ".current"))
		if err != nil {
			return err
		}
		st := cgroupfs.HugetlbStats{Usage: usage}
		if ev, err := cgroupfs.ReadKeyed(m.file("hugetlb." + size + ".events")); err == nil {
			st.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = st
	}
	return nil
}

// psi reads a pressure file ("some avg10=0.00 avg60=0.00 avg300=0.00
// total=0", then a "full" line); nil when there is none.
func (m *Manager) psi(name string) *cgroupfs.PSIStats {
	content, err := cgroupfs.ReadFile(m.file(name))
	if err != nil {
		return nil
	}
	var out cgroupfs.PSIStats
	for _, line := range strings.Split(content, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var d cgroupfs.PSIData
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, _ = strconv.ParseUint(v, 10, 64)
			}
		}
		switch fields[0] {
		case "some":
			out.Some = d
		case "full":
			out.Full = d
		}
	}
	return &out
}

// limitOrZero reads a limit file; "max" (no limit) and errors give 0, as
// the stats report no limit.
func limitOrZero(path string) uint64 {
	v, err := cgroupfs.ReadUint(path)
	if err != nil || v == math.MaxUint64 {
		return 0
	}
	return v
}
