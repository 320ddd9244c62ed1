package engine

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/runtime"
)

// Top lists a container's processes as ps(1) shows them (psArgs, default
// -ef), as docker top does: the processes of its cgroup, found through the
// runtime.
func (s *Store) Top(ref string, psArgs []string) ([]byte, error) {
	rec, c, err := s.liveContainer(ref)
	if err != nil {
		return nil, err
	}
	pids, err := c.Processes()
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", rec.Name, err)
	}
	table, err := runtime.PsTable(pids, psArgs)
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", rec.Name, err)
	}
	return table, nil
}

// liveContainer finds a running or paused container and its runtime
// container.
func (s *Store) liveContainer(ref string) (*Record, *runtime.Container, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, nil, err
	}
	if st := s.LiveState(rec); st != StateRunning && st != StatePaused {
		return nil, nil, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return nil, nil, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	return rec, c, nil
}

// StatsSample is one reading of a container's resource counters.
type StatsSample struct {
	Time time.Time
	// CPU is the CPU time used so far, in nanoseconds.
	CPU uint64
	// Memory is the memory in use without the page cache that can be
	// dropped at once (inactive files), as docker counts it; MemoryLimit
	// is the limit, or the host's memory when there is none.
	Memory, MemoryLimit uint64
	// BlockRead and BlockWrite are bytes read and written on block devices.
	BlockRead, BlockWrite uint64
	// Pids is the number of tasks.
	Pids uint64
}

// Sample reads a running container's counters from its cgroup.
func (s *Store) Sample(rec *Record) (StatsSample, error) {
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil || c.Status() == runtime.Stopped {
		return StatsSample{}, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	st, err := c.State()
	if err != nil {
		return StatsSample{}, fmt.Errorf("stats of %s: %w", rec.Name, err)
	}
	if st.CgroupPath == "" {
		return StatsSample{}, errdefs.Unsupported("container %s runs without a cgroup (the cgroup tree is not writable): it has no resource statistics", rec.Name)
	}
	cg, err := cgroups.Load(st.CgroupPath)
	if errdefs.IsNotFound(err) {
		return StatsSample{}, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	if err != nil {
		return StatsSample{}, fmt.Errorf("stats of %s: %w", rec.Name, err)
	}
	cs, err := cg.Stats()
	if err != nil {
		return StatsSample{}, fmt.Errorf("stats of %s: %w", rec.Name, err)
	}
	out := StatsSample{Time: time.Now(), CPU: cs.CPU.Usage.Total, Pids: cs.Pids.Current}
	out.Memory = cs.Memory.Usage.Usage
	// v1 names the cgroup tree's figure total_inactive_file, v2 inactive_file.
	inactive, ok := cs.Memory.Raw["total_inactive_file"]
	if !ok {
		inactive = cs.Memory.Raw["inactive_file"]
	}
	if inactive < out.Memory {
		out.Memory -= inactive
	}
	out.MemoryLimit = cs.Memory.Usage.Limit
	if host := hostMemory(); host > 0 && (out.MemoryLimit == 0 || out.MemoryLimit > host) {
		out.MemoryLimit = host
	}
	for _, e := range cs.Blkio.IoServiceBytesRecursive {
		switch e.Op {
		case "Read", "read":
			out.BlockRead += e.Value
		case "Write", "write":
			out.BlockWrite += e.Value
		}
	}
	return out, nil
}

// ContainerStats is one line of stats: usage between two samples.
type ContainerStats struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Running is false for a named container that is not running: it has
	// no figures.
	Running bool `json:"running"`
	// CPUPercent is CPU time over wall time between the samples: 100 is
	// one CPU kept busy.
	CPUPercent  float64 `json:"cpuPercent"`
	Memory      uint64  `json:"memoryUsage"`
	MemoryLimit uint64  `json:"memoryLimit"`
	MemPercent  float64 `json:"memoryPercent"`
	BlockRead   uint64  `json:"blockRead"`
	BlockWrite  uint64  `json:"blockWrite"`
	Pids        uint64  `json:"pids"`
}

// ComputeStats is the usage of rec between prev and cur (CPU % needs two
// samples; the memory, block I/O and pids figures are cur's).
func ComputeStats(rec *Record, prev, cur StatsSample) ContainerStats {
	st := ContainerStats{ID: rec.ID, Name: rec.Name, Running: true, Memory: cur.Memory, MemoryLimit: cur.MemoryLimit,
		BlockRead: cur.BlockRead, BlockWrite: cur.BlockWrite, Pids: cur.Pids}
	if wall := cur.Time.Sub(prev.Time); wall > 0 && cur.CPU >= prev.CPU {
		st.CPUPercent = float64(cur.CPU-prev.CPU) / float64(wall.Nanoseconds()) * 100
	}
	if cur.MemoryLimit > 0 {
		st.MemPercent = float64(cur.Memory) / float64(cur.MemoryLimit) * 100
	}
	return st
}

// StatsCollector samples containers for stats: the named ones, or every
// running container (found again at each collection).
type StatsCollector struct {
	s    *Store
	recs []*Record // nil: every running container
	prev map[string]StatsSample
}

// NewStatsCollector resolves refs (none: every running container); an
// unknown one is an error.
func (s *Store) NewStatsCollector(refs []string) (*StatsCollector, error) {
	sc := &StatsCollector{s: s, prev: map[string]StatsSample{}}
	for _, ref := range refs {
		rec, err := s.Find(ref)
		if err != nil {
			return nil, err
		}
		sc.recs = append(sc.recs, rec)
	}
	return sc, nil
}

// Collect samples the containers and returns their usage since the
// previous collection (CPU % is 0 for a container sampled the first
// time). A named container that is not running has a line with Running
// false; others that stopped are left out.
func (sc *StatsCollector) Collect() ([]ContainerStats, error) {
	recs := sc.recs
	named := recs != nil
	if !named {
		all, err := sc.s.List()
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			if st := sc.s.LiveState(r); st == StateRunning || st == StatePaused {
				recs = append(recs, r)
			}
		}
	}
	out := []ContainerStats{}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.ID] = true
		if cur, err := sc.s.Load(rec.ID); err == nil {
			rec = cur // renamed meanwhile
		}
		sample, err := sc.s.Sample(rec)
		if errdefs.IsNotRunning(err) || errdefs.IsNotFound(err) {
			delete(sc.prev, rec.ID)
			if named {
				out = append(out, ContainerStats{ID: rec.ID, Name: rec.Name})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		prev, ok := sc.prev[rec.ID]
		if !ok {
			prev = sample
		}
		sc.prev[rec.ID] = sample
		out = append(out, ComputeStats(rec, prev, sample))
	}
	for id := range sc.prev {
		if !seen[id] {
			delete(sc.prev, id)
		}
	}
	return out, nil
}

// hostMemory is the host's MemTotal in bytes (0 if unknown).
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
