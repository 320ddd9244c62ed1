package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/spec"
)

// TestCgroupsUpdate changes limits of a running container with runc's
// flags and with -r, and checks the kernel's values; refused updates name
// the field and change nothing.
func TestCgroupsUpdate(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: cgInt(64 << 20)},
		CPU:    &specs.LinuxCPU{Shares: cgUint(512)},
		Pids:   &specs.LinuxPids{Limit: cgInt(100)},
	}
	dropMissing(t, r)
	if r.Memory == nil || r.Pids == nil || r.CPU == nil {
		t.Skip("needs the memory, cpu and pids controllers")
	}
	// A shell holding 8 MiB of memory that cannot be reclaimed (no swap).
	// (In a loop: the shell would exec a last sleep, and its memory go.)
	b := cgBundle(t, `x=xxxxxxxxxxxxxxxx; for i in $(seq 19); do x=$x$x; done; while :; do sleep 1000; done`, r)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)
	m := cgLoad(t, "/tincan/"+id)

	ociMust(t, rt, "update", "--memory", "100m", "--cpu-share", "1024", "--cpu-quota", "20000", "--cpu-period", "100000", "--pids-limit", "50", id)
	cgExpect(t, m, "memory", "memory.limit_in_bytes", "104857600", "memory.max", "104857600")
	cgExpect(t, m, "cpu", "cpu.shares", "1024", "cpu.weight", "39")
	cgExpect(t, m, "cpu", "cpu.cfs_quota_us", "20000", "cpu.max", "20000 100000")
	cgExpect(t, m, "pids", "pids.max", "50", "pids.max", "50")

	resources := filepath.Join(t.TempDir(), "resources.json")
	if err := os.WriteFile(resources, []byte(`{"pids":{"limit":40},"cpu":{"quota":-1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ociMust(t, rt, "update", "-r", resources, id)
	cgExpect(t, m, "pids", "pids.max", "40", "pids.max", "40")
	cgExpect(t, m, "cpu", "cpu.cfs_quota_us", "-1", "cpu.max", "max 100000")
	// From stdin.
	cmd := rt.Cmd("update", "-r", "-", id)
	cmd.Stdin = strings.NewReader(`{"pids":{"limit":-1}}`)
	if res := ociExecCmd(t, cmd, nil); res.Code != 0 {
		t.Fatalf("update -r -: %s", res.Stderr)
	}
	cgExpect(t, m, "pids", "pids.max", "max", "pids.max", "max")

	// The shell's 8 MiB must be there for the memory case below (the VM
	// is slow to build it).
	cgWait(t, 120*time.Second, "the shell's memory", func() bool {
		v, _ := cgValue(t, m, "memory", "memory.usage_in_bytes", "memory.current")
		n, _ := strconv.ParseUint(v, 10, 64)
		return n > 6<<20
	})
	// Refused: each leaves the limits as they were.
	bad := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"--cpu-quota", "500"}, "", "linux.resources.cpu.quota"},
		{[]string{"--memory", "lots"}, "", "--memory"},
		{[]string{"-r", "-"}, `{"pids":{"limit":7},"unified":{"pids.nosuchfile":"1"}}`, "linux.resources.unified"},
		{[]string{"-r", "-"}, `{"pids":{"limit":7},"cpu":{"shares":1}}`, "linux.resources.cpu.shares"},
		{[]string{"-r", "-"}, `{"pids":{"limit":7}`, "resources -"},
		// Below what the shell holds: v1 cannot reclaim it (EBUSY), v2
		// refuses with checkBeforeUpdate.
		{[]string{"-r", "-"}, `{"pids":{"limit":7},"memory":{"limit":2097152,"checkBeforeUpdate":true}}`, "linux.resources.memory.limit"},
	}
	for _, tt := range bad {
		cmd := rt.Cmd(append(append([]string{"update"}, tt.args...), id)...)
		cmd.Stdin = strings.NewReader(tt.stdin)
		expectFailure(t, ociExecCmd(t, cmd, nil), tt.want)
		cgExpect(t, m, "pids", "pids.max", "max", "pids.max", "max")
		cgExpect(t, m, "memory", "memory.limit_in_bytes", "104857600", "memory.max", "104857600")
	}
	if _, isV2 := cgDir(m, "memory"); !isV2 {
		// v1 refuses a limit it cannot reclaim down to by itself (EBUSY),
		// after the cpuset was written: that must be put back.
		cpus, _ := cgValue(t, m, "cpuset", "cpuset.cpus", "cpuset.cpus")
		expectFailure(t, ociExec(t, rt, nil, "update", "--cpuset-cpus", "0", "--memory", "2m", id), "linux.resources.memory.limit")
		cgExpect(t, m, "cpuset", "cpuset.cpus", cpus, "cpuset.cpus", cpus)
	}
	if st := rt.State(t, id); st.Status != "running" {
		t.Errorf("after the refused updates the container is %s", st.Status)
	}
	expectFailure(t, ociExec(t, rt, nil, "update", id), "nothing to update")
	ociMust(t, rt, "kill", id, "KILL")
	waitStatusFor(t, rt, id, "stopped", 30*time.Second)
	expectFailure(t, ociExec(t, rt, nil, "update", "--pids-limit", "5", id), "container not running")
}

// TestCgroupsPs lists a container's processes as JSON and as ps's table.
func TestCgroupsPs(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	b := cgBundle(t, "sleep 1001 & sleep 1002 & wait", nil)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	pid := runDetached(t, rt, b, id)
	var pids []int
	cgWait(t, 30*time.Second, "three processes", func() bool {
		res := ociMust(t, rt, "ps", "--format", "json", id)
		pids = nil
		if err := json.Unmarshal([]byte(res.Stdout), &pids); err != nil {
			t.Fatalf("ps --format json: %v: %q", err, res.Stdout)
		}
		return len(pids) == 3
	})
	if !slices.Contains(pids, pid) {
		t.Errorf("ps --format json = %v, without the init %d", pids, pid)
	}
	table := ociMust(t, rt, "ps", id).Stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !slices.Contains(strings.Fields(lines[0]), "PID") {
		t.Fatalf("ps table:\n%s\nwant a header and the 3 processes", table)
	}
	for _, p := range pids {
		if !strings.Contains(table, " "+strconv.Itoa(p)+" ") {
			t.Errorf("ps table has no line for %d:\n%s", p, table)
		}
	}
	custom := ociMust(t, rt, "ps", id, "-o", "pid,comm").Stdout
	if strings.Count(custom, "sleep") != 2 || strings.Count(custom, "\n") != 4 || strings.Contains(custom, "UID") {
		t.Errorf("ps with options -o pid,comm:\n%s\nwant ps's own columns for the 3 processes", custom)
	}
	expectFailure(t, ociExec(t, rt, nil, "ps", "--format", "yaml", id), "--format")
}

// TestCgroupsEventsStats checks `events --stats` against the container's
// limits and use.
func TestCgroupsEventsStats(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgInt(48 << 20)}, Pids: &specs.LinuxPids{Limit: cgInt(30)}}
	dropMissing(t, r)
	b := cgBundle(t, "sleep 1000 & wait", r)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)
	m := cgLoad(t, "/tincan/"+id)
	cgWait(t, 30*time.Second, "the shell and its sleep", func() bool { pids, _ := m.Pids(); return len(pids) == 2 })
	res := ociMust(t, rt, "events", "--stats", id)
	if strings.Count(res.Stdout, "\n") != 1 {
		t.Fatalf("events --stats printed %q, want one line", res.Stdout)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &raw); err != nil {
		t.Fatal(err)
	}
	data, _ := raw["data"].(map[string]any)
	for _, key := range []string{"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"} {
		if _, ok := data[key]; !ok {
			t.Errorf("stats data has no %q (runc's shape): %s", key, res.Stdout)
		}
	}
	var ev cgEventLine
	if err := json.Unmarshal([]byte(res.Stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "stats" || ev.ID != id || ev.Data == nil {
		t.Fatalf("events --stats = %s", res.Stdout)
	}
	if r.Memory != nil && (ev.Data.Memory.Usage.Limit != 48<<20 || ev.Data.Memory.Usage.Usage == 0) {
		t.Errorf("memory stats %+v; want the 48 MiB limit and some use", ev.Data.Memory.Usage)
	}
	if r.Pids != nil && (ev.Data.Pids.Limit != 30 || ev.Data.Pids.Current < 2) {
		t.Errorf("pids stats %+v; want limit 30 and the 2 processes", ev.Data.Pids)
	}
	ociMust(t, rt, "kill", id, "KILL")
	waitStatusFor(t, rt, id, "stopped", 30*time.Second)
	expectFailure(t, ociExec(t, rt, nil, "events", "--stats", id), "container not running")
}

// TestCgroupsKillAllAndForceDeletePaused kills every process of a paused
// container, forks included, and delete --force removes its cgroup from
// every hierarchy.
func TestCgroupsKillAllAndForceDeletePaused(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	b := cgBundle(t, "sleep 1000 & sleep 1000 & while :; do (:); done", nil)
	// Without a pid namespace, killing the init would not end the others.
	b.Spec.Linux.Namespaces = without(b.Spec.Linux.Namespaces, specs.PIDNamespace)
	b.Save(t)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)
	m := cgLoad(t, "/tincan/"+id)
	var pids []int
	cgWait(t, 30*time.Second, "the sleeps", func() bool { pids, _ = m.Pids(); return len(pids) >= 3 })
	ociMust(t, rt, "pause", id)
	ociMust(t, rt, "kill", "--all", id, "KILL")
	cgWait(t, 30*time.Second, "an empty cgroup", func() bool { left, _ := m.Pids(); return len(left) == 0 })
	for _, p := range pids {
		if procAlive(p) {
			t.Errorf("process %d survived kill --all", p)
		}
	}
	ociMust(t, rt, "delete", "--force", id)
	for key, dir := range m.Paths() {
		if exists(dir) {
			t.Errorf("delete --force left %s (hierarchy %q)", dir, key)
		}
	}
}

// TestCgroupsRootless runs tincan-oci as an unprivileged user. Without a
// writable cgroup (this host) the container runs without limits and says
// so; with a cgroup v2 subtree delegated to the user (the VM) the limits
// apply.
func TestCgroupsRootless(t *testing.T) {
	cgRequire(t)
	const uid = 1000
	dir, err := os.MkdirTemp("", "tincan-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, filepath.Join(dir, "bundle")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	root := filepath.Join(dir, "state")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chown(root, uid, uid)
	b := &testutil.Bundle{Dir: filepath.Join(dir, "bundle"), Spec: spec.Default()}
	testutil.NewRootfs(t, b.Rootfs())
	os.Chmod(b.Rootfs(), 0o755)
	spec.Rootless(b.Spec, uid, uid)
	b.Spec.Process.Terminal = false
	b.Spec.Process.Args = []string{"sleep", "1000"}
	b.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgInt(33)}}
	dropMissing(t, b.Spec.Linux.Resources)
	id := newID(t)
	delegated := ""
	var launch *os.File // the cgroup tincan-oci starts in, when delegated
	if cgroups.DetectMode() == cgroups.Unified {
		delegated, launch = delegateCgroup(t, "/tincan-rootless-"+id, uid)
		b.Spec.Linux.CgroupsPath = delegated + "/ctr"
	}
	b.Save(t)
	oci := func(args ...string) testutil.Result {
		cmd := exec.Command(testutil.OCIBinary(t), append([]string{"--root", root}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		if launch != nil {
			cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(launch.Fd())
		}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "XDG_RUNTIME_DIR=" + root}
		return ociExecCmd(t, cmd, nil)
	}
	t.Cleanup(func() { oci("delete", "--force", id) })
	res := oci("run", "--detach", "--bundle", b.Dir, id)
	if res.Code != 0 && !strings.Contains(res.Stderr, "cgroup") && !strings.Contains(res.Stderr, "linux.resources") {
		t.Skipf("a rootless container does not start on this host (a problem outside cgroups): %s", res.Stderr)
	}
	if res.Code != 0 {
		t.Fatalf("rootless run: %s", res.Stderr)
	}
	st := oci("state", id)
	if !strings.Contains(st.Stdout, `"running"`) {
		t.Fatalf("rootless container state: %s %s", st.Stdout, st.Stderr)
	}
	if delegated == "" {
		if !strings.Contains(res.Stderr, "linux.resources are not applied") {
			t.Errorf("rootless run without a writable cgroup: stderr %q; want the warning that the limits are not applied", res.Stderr)
		}
		return
	}
	m := cgLoad(t, delegated+"/ctr")
	if b.Spec.Linux.Resources.Pids != nil && !cgExpect(t, m, "pids", "", "", "pids.max", "33") {
		t.Error("pids.max not found in the delegated cgroup")
	}
	if strings.Contains(res.Stderr, "not applied") {
		t.Errorf("limits skipped in a delegated cgroup: %s", res.Stderr)
	}
}

// delegateCgroup makes a cgroup v2 subtree owned by uid, as systemd
// delegates one to a user: the directory and its cgroup.procs,
// cgroup.subtree_control and cgroup.threads, with the controllers enabled
// for children; and a leaf in it for the user's runtime to start in (a
// process may only move others between cgroups whose common parent's
// cgroup.procs it can write). The leaf is returned open, for
// CLONE_INTO_CGROUP.
func delegateCgroup(t *testing.T, path string, uid int) (string, *os.File) {
	t.Helper()
	m, err := cgroups.New(path + "/launch")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(m.Path(""))
	t.Cleanup(func() {
		whole, _ := cgroups.New(path)
		whole.KillAll()
		whole.Destroy()
	})
	for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads", "launch", "launch/cgroup.procs"} {
		if err := os.Chown(filepath.Join(parent, f), uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	launch, err := m.CloneFD()
	if err != nil || launch == nil {
		t.Skipf("cannot start a process in a cgroup (CLONE_INTO_CGROUP): %v", err)
	}
	t.Cleanup(func() { launch.Close() })
	return path, launch
}
