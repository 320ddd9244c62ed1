package cgroups

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
	v2 "github.com/tincan/tincan/linux/cgroups/v2"
)

// TestResources runs the resource suite on the host's layout; on a hybrid
// host also on its cgroup2 side alone. TestManagerInV2View and
// TestManagerInVM run it on pure cgroup v2 (the VM has every controller).
// What a host lacks is skipped, so every layout checks what it can.
func TestResources(t *testing.T) {
	requireRoot(t)
	mode := DetectMode()
	if mode == Unavailable {
		t.Skip("no cgroup hierarchy is mounted")
	}
	targets := map[string]suiteTarget{mode.String(): {newManager: New, wholeHost: true}}
	if mode == Hybrid {
		mounts, err := MountPoints()
		if err != nil {
			t.Fatal(err)
		}
		targets["hybrid-cgroup2-side"] = suiteTarget{newManager: func(p string) (Manager, error) {
			return v2.New(mounts[""], p), nil
		}}
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			t.Run("SetAndRead", func(t *testing.T) { testSetAndRead(t, target) })
			t.Run("BadInputWritesNothing", func(t *testing.T) { testBadInput(t, target) })
			t.Run("UpdateRollback", func(t *testing.T) { testUpdateRollback(t, target) })
			t.Run("StatsAndOOM", func(t *testing.T) { testStatsAndOOM(t, target) })
		})
	}
}

// controllerDir returns the directory holding controller c's files for m
// and whether they are cgroup v2 files; "" when m has no such controller.
func controllerDir(t *testing.T, m Manager, c string) (string, bool) {
	t.Helper()
	unifiedHas := func(dir string) bool {
		have, err := cgroupfs.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		return err == nil && slices.Contains(strings.Fields(have), c)
	}
	if _, isV2 := m.(*v2.Manager); isV2 {
		if unifiedHas(m.Path("")) {
			return m.Path(""), true
		}
		return "", false
	}
	if dir := m.Path(c); dir != "" {
		return dir, false
	}
	if dir := m.Path(""); dir != "" && unifiedHas(dir) {
		return dir, true
	}
	return "", false
}

type fileWant struct{ path, want string }

func ptr[T any](v T) *T { return &v }

func testSetAndRead(t *testing.T, target suiteTarget) {
	m, _ := createTestCgroup(t, target)
	r := &specs.LinuxResources{}
	var wants []fileWant
	expect := func(dir, file, want string) { wants = append(wants, fileWant{filepath.Join(dir, file), want}) }
	if dir, isV2 := controllerDir(t, m, "memory"); dir != "" {
		r.Memory = &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Reservation: ptr[int64](32 << 20)}
		if isV2 {
			expect(dir, "memory.max", "67108864")
			expect(dir, "memory.low", "33554432")
			if cgroupfs.FileExists(filepath.Join(dir, "memory.swap.max")) {
				r.Memory.Swap = ptr[int64](96 << 20)
				expect(dir, "memory.swap.max", "33554432") // swap alone
			}
		} else {
			expect(dir, "memory.limit_in_bytes", "67108864")
			expect(dir, "memory.soft_limit_in_bytes", "33554432")
			if cgroupfs.FileExists(filepath.Join(dir, "memory.memsw.limit_in_bytes")) {
				r.Memory.Swap = ptr[int64](96 << 20)
				expect(dir, "memory.memsw.limit_in_bytes", "100663296") // memory+swap
			}
		}
	}
	if dir, isV2 := controllerDir(t, m, "cpu"); dir != "" {
		r.CPU = &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000)}
		if isV2 {
			expect(dir, "cpu.weight", "20") // 1 + (512-2)*9999/262142
			expect(dir, "cpu.max", "50000 100000")
		} else {
			expect(dir, "cpu.shares", "512")
			expect(dir, "cpu.cfs_quota_us", "50000")
			expect(dir, "cpu.cfs_period_us", "100000")
		}
	}
	if dir, _ := controllerDir(t, m, "cpuset"); dir != "" {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		r.CPU.Cpus, r.CPU.Mems = "0", "0"
		expect(dir, "cpuset.cpus", "0")
		expect(dir, "cpuset.mems", "0")
	}
	if dir, _ := controllerDir(t, m, "pids"); dir != "" {
		r.Pids = &specs.LinuxPids{Limit: ptr[int64](42)}
		expect(dir, "pids.max", "42")
	}
	if dir, isV2 := controllerDir(t, m, "hugetlb"); dir != "" && slices.Contains(resources.PageSizes(), "2MB") {
		r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
		if isV2 {
			expect(dir, "hugetlb.2MB.max", "4194304")
		} else {
			expect(dir, "hugetlb.2MB.limit_in_bytes", "4194304")
		}
	}
	if dir, isV2 := controllerDir(t, m, "io"); isV2 && dir != "" {
		r.Unified = map[string]string{"io.weight": "default 77"}
		expect(dir, "io.weight", "default 77")
	}
	if len(wants) == 0 {
		t.Skip("this cgroup has no controller to limit")
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set: %v", err)
	}
	for _, w := range wants {
		got, err := cgroupfs.ReadFile(w.path)
		if err != nil || strings.TrimSpace(got) != w.want {
			t.Errorf("%s = %q, %v; want %q", w.path, got, err, w.want)
		}
	}
}

// testBadInput checks that a config refused for one field changes no file
// for the others, whichever check catches it.
func testBadInput(t *testing.T, target suiteTarget) {
	m, _ := createTestCgroup(t, target)
	dir, _ := controllerDir(t, m, "pids")
	if dir == "" {
		t.Skip("no pids controller")
	}
	before, err := cgroupfs.ReadFile(filepath.Join(dir, "pids.max"))
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		r    *specs.LinuxResources
	}{
		{"cpu quota below 1000", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](5)}, CPU: &specs.LinuxCPU{Quota: ptr[int64](999)}}},
		{"a unified key with no file", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](5)}, Unified: map[string]string{"pids.nosuchfile": "1"}}},
		{"a hugepage size the kernel lacks", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](5)}, HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}},
	}
	for _, b := range bad {
		err := m.Set(b.r)
		if err == nil || !strings.Contains(err.Error(), "linux.resources.") {
			t.Errorf("%s: Set = %v; want an error naming the field", b.name, err)
		}
		if after, _ := cgroupfs.ReadFile(filepath.Join(dir, "pids.max")); after != before && !strings.Contains(b.name, "hugepage") {
			t.Errorf("%s: pids.max went from %q to %q although Set failed", b.name, before, after)
		}
	}
}

// testUpdateRollback has a memory limit refused (v1: the kernel's EBUSY
// when it cannot reclaim; v2: checkBeforeUpdate) in an update that also
// changes the cpuset, and checks the cpuset is as before.
func testUpdateRollback(t *testing.T, target suiteTarget) {
	m, _ := createTestCgroup(t, target)
	memDir, memV2 := controllerDir(t, m, "memory")
	cpusetDir, _ := controllerDir(t, m, "cpuset")
	if memDir == "" || cpusetDir == "" {
		t.Skip("needs the memory and cpuset controllers")
	}
	cpusFile := filepath.Join(cpusetDir, "cpuset.cpus")
	last := lastCPU(t, cpusetDir)
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}); err != nil {
		t.Fatal(err)
	}
	// A shell holding a few MiB of anonymous memory, which nothing can
	// reclaim without swap (in a loop: a last command would be exec'd,
	// and the memory go with the shell).
	p := startInCgroup(t, m, `x=xxxxxxxxxxxxxxxx; for i in $(seq 19); do x=$x$x; done; while :; do sleep 100; done`)
	usageFile := filepath.Join(memDir, "memory.usage_in_bytes")
	if memV2 {
		usageFile = filepath.Join(memDir, "memory.current")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		usage, _ := cgroupfs.ReadUint(usageFile)
		if usage > 4<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shell's memory use stays at %d", usage)
		}
		time.Sleep(10 * time.Millisecond)
	}
	update := &specs.LinuxResources{
		CPU: &specs.LinuxCPU{Cpus: "0-" + last},
		// v1: the kernel's EBUSY after the cpuset was written, so the
		// journal must put it back; v2 would OOM-kill instead, so there
		// checkBeforeUpdate refuses it first.
		Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), CheckBeforeUpdate: ptr(memV2)},
	}
	err := m.Update(update)
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "linux.resources.memory.limit") {
		t.Fatalf("Update with a memory limit below the usage = %v; want an error naming memory.limit", err)
	}
	if got, _ := cgroupfs.ReadFile(cpusFile); got != "0" {
		t.Errorf("cpuset.cpus = %q after the refused update, want it back at 0", got)
	}
	if !alive(t, p.pid()) {
		t.Error("the refused update killed the process")
	}
	// A valid update goes through.
	if err := m.Update(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](256 << 20)}}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// lastCPU is the highest CPU the cgroup's parent has, skipping the test on
// a single-CPU host, where no cpuset change could be seen.
func lastCPU(t *testing.T, cpusetDir string) string {
	t.Helper()
	effective := "cpuset.effective_cpus"
	if !cgroupfs.FileExists(filepath.Join(cpusetDir, effective)) {
		effective = "cpuset.cpus.effective"
	}
	s, err := cgroupfs.ReadFile(filepath.Join(filepath.Dir(cpusetDir), effective))
	if err != nil {
		t.Fatal(err)
	}
	cpus, err := resources.ParseList(s)
	if err != nil || len(cpus) == 0 {
		t.Fatalf("parent's CPUs %q: %v", s, err)
	}
	if len(cpus) < 2 {
		t.Skip("one CPU: a cpuset change cannot be seen")
	}
	return strconv.Itoa(int(cpus[len(cpus)-1]))
}

// testStatsAndOOM runs a memory hog in a cgroup with a small limit and
// checks that NotifyOOM reports the OOM and Stats counts it.
func testStatsAndOOM(t *testing.T, target suiteTarget) {
	m, _ := createTestCgroup(t, target)
	if dir, _ := controllerDir(t, m, "memory"); dir == "" {
		t.Skip("no memory controller")
	}
	limit := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](16 << 20)}}
	if swap := m.Path("memory"); swap != "" && cgroupfs.FileExists(filepath.Join(swap, "memory.memsw.limit_in_bytes")) {
		limit.Memory.Swap = limit.Memory.Limit
	}
	if err := m.Set(limit); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	oom, err := m.NotifyOOM(done)
	if err != nil {
		t.Fatalf("NotifyOOM: %v", err)
	}
	// The shell doubles a string until the kernel kills it.
	p := startInCgroup(t, m, `x=xxxxxxxxxxxxxxxx; while :; do x=$x$x; done`)
	select {
	case _, ok := <-oom:
		if !ok {
			t.Fatal("the OOM channel closed without an event")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no OOM event")
	}
	p.wait(t)
	s, err := m.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.Memory.EventCount.OOMKill == 0 || s.Memory.Usage.Limit != 16<<20 || s.Memory.Usage.Max == 0 && s.Memory.Usage.Failcnt == 0 {
		t.Errorf("Stats().Memory = %+v; want the OOM kill counted, the 16 MiB limit and a peak or failure count", s.Memory.Usage)
	}
	if s.CPU.Usage.Total == 0 {
		t.Errorf("Stats().CPU.Usage.Total = 0 after a busy shell ran")
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stats(); !errdefs.IsNotFound(err) {
		t.Errorf("Stats of a removed cgroup: %v, want a not-found error", err)
	}
}
