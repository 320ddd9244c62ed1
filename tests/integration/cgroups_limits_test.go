package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/cgroups"
)

// TestCgroupsLimitsApplied runs a container with a limit for every
// controller the host has and checks each value where the kernel reports
// it, in v1 or v2 form (with the v1 -> v2 conversions).
func TestCgroupsLimitsApplied(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: cgInt(64 << 20), Reservation: cgInt(32 << 20), Swap: cgInt(96 << 20)},
		CPU: &specs.LinuxCPU{Shares: cgUint(512), Quota: cgInt(50000), Period: cgUint(100000),
			Cpus: "0", Mems: "0"},
		Pids: &specs.LinuxPids{Limit: cgInt(64)},
	}
	// Only what this host can apply: a limit for a missing controller is
	// an error by design.
	dropMissing(t, r)
	id := newID(t)
	b := cgBundle(t, "sleep 1000", r)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)
	m := cgLoad(t, "/tincan/"+id)

	checked := 0
	for _, ok := range []bool{
		r.Memory != nil && cgExpect(t, m, "memory", "memory.limit_in_bytes", "67108864", "memory.max", "67108864"),
		r.Memory != nil && cgExpect(t, m, "memory", "memory.soft_limit_in_bytes", "33554432", "memory.low", "33554432"),
		r.CPU != nil && cgExpect(t, m, "cpu", "cpu.shares", "512", "cpu.weight", "20"),
		r.CPU != nil && cgExpect(t, m, "cpu", "cpu.cfs_quota_us", "50000", "cpu.max", "50000 100000"),
		r.CPU != nil && cgExpect(t, m, "cpuset", "cpuset.cpus", "0", "cpuset.cpus", "0"),
		r.Pids != nil && cgExpect(t, m, "pids", "pids.max", "64", "pids.max", "64"),
	} {
		if ok {
			checked++
		}
	}
	if r.Memory != nil && r.Memory.Swap != nil {
		// memsw is memory+swap on v1; v2 keeps swap alone.
		cgExpect(t, m, "memory", "memory.memsw.limit_in_bytes", "100663296", "memory.swap.max", "33554432")
	}
	if checked == 0 {
		t.Skip("no controller to limit on this host")
	}
}

// dropMissing removes from r the groups whose controller the host lacks.
func dropMissing(t *testing.T, r *specs.LinuxResources) {
	t.Helper()
	probe := "/tincan-probe-" + newID(t)
	m, err := cgroups.New(probe)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	if dir, _ := cgDir(m, "memory"); dir == "" {
		r.Memory = nil
	} else if !exists(filepath.Join(dir, "memory.memsw.limit_in_bytes")) && !exists(filepath.Join(dir, "memory.swap.max")) {
		r.Memory.Swap = nil
	}
	if dir, _ := cgDir(m, "cpu"); dir == "" {
		r.CPU = nil
	}
	if dir, _ := cgDir(m, "cpuset"); dir == "" && r.CPU != nil {
		r.CPU.Cpus, r.CPU.Mems = "", ""
	}
	if dir, _ := cgDir(m, "pids"); dir == "" {
		r.Pids = nil
	}
}

// TestCgroupsPlacement checks where containers go for each form of
// linux.cgroupsPath, that the init is there before the program runs, and
// that delete removes the cgroup (and the parents create made) in every
// hierarchy.
func TestCgroupsPlacement(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	id := newID(t)
	for _, tt := range []struct {
		name, cgroupsPath, want, madeParent string
	}{
		{"default", "", "/tincan/" + id + "-d", ""},
		{"absolute", "/tincan-it-" + id + "/ctr", "/tincan-it-" + id + "/ctr", "/tincan-it-" + id},
		{"relative", "rel-" + id + "/ctr", "/tincan/rel-" + id + "/ctr", "/tincan/rel-" + id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cid := id + "-" + tt.name[:1]
			// The program reports its own cgroup: the init moved before it ran.
			b := testutil.NewBundle(t, "sh", "-c", "cat /proc/self/cgroup; exec sleep 1000")
			// The host's cgroup namespace, where /proc/self/cgroup shows full paths.
			b.Spec.Linux.Namespaces = without(b.Spec.Linux.Namespaces, specs.CgroupNamespace)
			b.Spec.Linux.CgroupsPath = tt.cgroupsPath
			b.Save(t)
			rt := testutil.NewRuntime(t)
			out := create(t, rt, b, cid)
			ociMust(t, rt, "start", cid)
			hierarchies := countLines("/proc/self/cgroup")
			cgWait(t, 30*time.Second, "the program's /proc/self/cgroup", func() bool { return countLines(out.Name()) >= hierarchies })
			m := cgLoad(t, tt.want)
			for _, line := range strings.Split(strings.TrimSpace(readFile(t, out.Name())), "\n") {
				f := strings.SplitN(line, ":", 3)
				if len(f) != 3 {
					t.Fatalf("bad /proc/self/cgroup line %q", line)
				}
				unifiedOnly := cgroups.DetectMode() == cgroups.Unified
				if unifiedOnly && f[1] != "" || m.Path(strings.Split(f[1], ",")[0]) == "" {
					continue // a hierarchy the manager does not use (v2view leaves the v1 ones)
				}
				if f[2] != tt.want {
					t.Errorf("/proc/self/cgroup in the container: %q, want %s in every hierarchy", line, tt.want)
				}
			}
			var pids []int
			initPid := rt.State(t, cid).Pid
			cgWait(t, 30*time.Second, "the init alone in "+tt.want+" once cat is done", func() bool {
				pids, _ = m.Pids()
				return len(pids) == 1 && pids[0] == initPid
			})
			ociMust(t, rt, "delete", "--force", cid)
			for key, dir := range m.Paths() {
				if exists(dir) {
					t.Errorf("delete left %s (hierarchy %q)", dir, key)
				}
				if tt.madeParent != "" && exists(filepath.Join(strings.TrimSuffix(dir, tt.want), tt.madeParent)) {
					t.Errorf("delete left the parent %s that create made (hierarchy %q)", tt.madeParent, key)
				}
			}
		})
	}
	t.Run("systemd", func(t *testing.T) {
		b := testutil.NewBundle(t, "true")
		b.Spec.Linux.CgroupsPath = "system.slice:tincan:" + id
		b.Save(t)
		rt := testutil.NewRuntime(t)
		before := testutil.TakeSnapshot(t)
		res := ociExec(t, rt, nil, "create", "--bundle", b.Dir, id+"-s")
		expectFailure(t, res, "systemd")
		assertNothingLeft(t, rt, before, id+"-s")
	})
}

// TestCgroupsJoinSharedCgroup puts a container in a cgroup that already
// holds another process: it joins, limits in the config apply, and delete
// neither kills the other process nor removes the cgroup.
func TestCgroupsJoinSharedCgroup(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	id := newID(t)
	path := "/tincan-it-shared-" + id
	shared, err := cgroups.New(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Create(); err != nil {
		t.Fatal(err)
	}
	other := exec.Command("sleep", "1000")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		other.Process.Kill()
		other.Wait()
		shared.KillAll()
		shared.Destroy()
	})
	if err := shared.Apply(other.Process.Pid); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgInt(77)}}
	dropMissing(t, r)
	b := cgBundle(t, "sleep 1000", r)
	b.Spec.Linux.CgroupsPath = path
	b.Save(t)
	rt := testutil.NewRuntime(t)
	pid := runDetached(t, rt, b, id)
	pids, err := shared.Pids()
	if err != nil || !slices.Contains(pids, pid) || !slices.Contains(pids, other.Process.Pid) {
		t.Fatalf("shared cgroup holds %v, %v; want the init %d and the other process %d", pids, err, pid, other.Process.Pid)
	}
	if r.Pids != nil {
		cgExpect(t, shared, "pids", "pids.max", "77", "pids.max", "77")
	}
	ociMust(t, rt, "delete", "--force", id)
	if !procAlive(other.Process.Pid) || !shared.Exists() {
		t.Fatalf("delete of the container killed the other process (%v) or removed the shared cgroup (%v)", !procAlive(other.Process.Pid), !shared.Exists())
	}
}

// TestCgroupsDevices checks the device rules: the default devices work, a
// default one the config denies does not, mknod is allowed for any device
// but opening one outside the rules is not (the v1 devices cgroup, or the
// eBPF program on v2).
func TestCgroupsDevices(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	major, minor := int64(1), int64(5)
	script := `echo x > /dev/null && echo null-ok
head -c1 /dev/zero >/dev/null 2>/dev/null || echo zero-denied
mknod /dev/tincan-fuse c 10 229 && echo mknod-ok
cat /dev/tincan-fuse 2>&1 | grep -q "not permitted" && echo fuse-denied`
	b := cgBundle(t, script, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: false, Type: "c", Major: &major, Minor: &minor, Access: "rwm"},
	}})
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Effective = append(b.Spec.Process.Capabilities.Effective, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Permitted = append(b.Spec.Process.Capabilities.Permitted, "CAP_MKNOD")
	b.Save(t)
	out := runOutput(t, testutil.NewRuntime(t), b)
	if want := "null-ok\nzero-denied\nmknod-ok\nfuse-denied\n"; out != want {
		t.Errorf("container printed %q, want %q", out, want)
	}
}

// TestCgroupsBadResources checks that impossible limits fail create with
// one line naming the field, leaving nothing behind.
func TestCgroupsBadResources(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	for i, tt := range []struct {
		r    *specs.LinuxResources
		want string
	}{
		// Refused by Set, after the cgroup and its parents exist: they go.
		{&specs.LinuxResources{Unified: map[string]string{"cgroup.nosuchfile": "1"}}, "linux.resources.unified"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgInt(500)}}, "linux.resources.cpu.quota"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgInt(100 << 20), Swap: cgInt(50 << 20)}}, "linux.resources.memory.swap"},
		{&specs.LinuxResources{Unified: map[string]string{"memory.nosuchfile": "1"}}, "linux.resources.unified"},
		{&specs.LinuxResources{Unified: map[string]string{"../escape": "1"}}, "linux.resources.unified"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, "linux.resources.hugepageLimits[0]"},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x"}}}, "linux.resources.devices[0].type"},
	} {
		id := fmt.Sprintf("%s-%d", newID(t), i)
		b := cgBundle(t, "true", tt.r)
		b.Spec.Linux.CgroupsPath = "made-" + id + "/parents/ctr" // under /tincan, named for the leak check
		b.Save(t)
		rt := testutil.NewRuntime(t)
		before := testutil.TakeSnapshot(t)
		res := ociExec(t, rt, nil, "create", "--bundle", b.Dir, id)
		expectFailure(t, res, tt.want)
		assertNothingLeft(t, rt, before, id)
	}
}
