package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	v1 "github.com/tincan/tincan/linux/cgroups/v1"
	v2 "github.com/tincan/tincan/linux/cgroups/v2"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates cgroups and moves processes into them")
	}
}

// suiteTarget is one way of managing cgroups that the shared suite checks.
type suiteTarget struct {
	newManager func(cgroupPath string) (Manager, error)
	// wholeHost: the manager covers every hierarchy in MountPoints, and Load
	// (which uses the host's layout) sees what it does.
	wholeHost bool
}

// TestManager runs the shared suite against the host's layout and, on a
// hybrid host, also against each half of it: the v2 manager on the cgroup2
// mount alone (the v2 code, here, without a mount namespace) and the v1
// manager without the cgroup2 mount (a legacy host: no cgroup.kill, so
// KillAll's freeze-list-kill-thaw rounds do all the work). bench/v2view and
// the VM (TestManagerInV2View, TestManagerInVM) run it on pure cgroup v2.
func TestManager(t *testing.T) {
	requireRoot(t)
	mode := DetectMode()
	if mode == Unavailable {
		t.Skip("no cgroup hierarchy is mounted")
	}
	t.Run(mode.String(), func(t *testing.T) {
		runManagerSuite(t, suiteTarget{newManager: New, wholeHost: true})
	})
	if mode == Hybrid {
		mounts, err := MountPoints()
		if err != nil {
			t.Fatal(err)
		}
		t.Run("hybrid-cgroup2-side", func(t *testing.T) {
			runManagerSuite(t, suiteTarget{newManager: func(p string) (Manager, error) {
				return v2.New(mounts[""], p), nil
			}})
		})
		var legacy []cgroupfs.Hierarchy
		for _, h := range hostLayout().hierarchies {
			if !h.Unified {
				legacy = append(legacy, h)
			}
		}
		t.Run("hybrid-v1-side-as-legacy", func(t *testing.T) {
			runManagerSuite(t, suiteTarget{newManager: func(p string) (Manager, error) {
				return v1.New(legacy, p), nil
			}})
		})
	}
}

func runManagerSuite(t *testing.T, target suiteTarget) {
	t.Run("Placement", func(t *testing.T) { testPlacement(t, target) })
	t.Run("FreezeThaw", func(t *testing.T) { testFreezeThaw(t, target) })
	t.Run("KillAllChildren", func(t *testing.T) {
		testKillAll(t, target, "sleep 100 & sleep 100 & wait", false)
	})
	t.Run("KillAllForkLoop", func(t *testing.T) {
		// (:) forks a subshell in every shell, so the cgroup never stops
		// gaining processes until KillAll is done with it.
		testKillAll(t, target, "sleep 100 & sleep 100 & while :; do (:); done", false)
	})
	t.Run("KillAllFrozen", func(t *testing.T) {
		testKillAll(t, target, "sleep 100 & sleep 100 & wait", true)
	})
	t.Run("DestroyNested", func(t *testing.T) { testDestroyNested(t, target) })
}

var testCgroupSeq atomic.Int64

// createTestCgroup creates a cgroup at a path unique to this test process,
// under its own parent so that the host's /tincan is never touched. When the
// test ends, the cgroup and its parent are emptied and removed by
// removeTestCgroups, which does not rely on the code under test.
func createTestCgroup(t *testing.T, target suiteTarget) (Manager, string) {
	t.Helper()
	cgroupPath := fmt.Sprintf("/tincan-cgtest-%d-%d/ctr", os.Getpid(), testCgroupSeq.Add(1))
	m, err := target.newManager(cgroupPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var parents []string
		for _, dir := range uniqueDirs(m.Paths()) {
			parents = append(parents, filepath.Dir(dir))
		}
		removeTestCgroups(t, parents)
	})
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := m.Create(); err != nil {
		t.Fatalf("Create of an existing cgroup: %v", err)
	}
	return m, cgroupPath
}

// removeTestCgroups thaws, empties and removes the cgroup trees at dirs by
// writing the interface files itself, so that a broken Manager can neither
// leak processes or cgroups nor hang the cleanup.
func removeTestCgroups(t *testing.T, dirs []string) {
	var cgroups []string // deepest first
	for _, dir := range dirs {
		tree, err := cgroupfs.Dirs(dir)
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		cgroups = append(cgroups, tree...)
	}
	for _, dir := range cgroups {
		// A process frozen by the v1 freezer does not die until thawed.
		if freezerState := filepath.Join(dir, "freezer.state"); cgroupfs.FileExists(freezerState) {
			_ = cgroupfs.WriteFile(freezerState, "THAWED")
		}
		if freeze := filepath.Join(dir, "cgroup.freeze"); cgroupfs.FileExists(freeze) {
			_ = cgroupfs.WriteFile(freeze, "0")
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []int
		for _, dir := range cgroups {
			pids, _ := cgroupfs.ReadProcs(dir)
			left = append(left, pids...)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("cleanup: processes %v stay in the test cgroups", left)
			break
		}
		for _, pid := range left {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, dir := range cgroups {
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Errorf("cleanup: remove %s: %v", dir, err)
		}
	}
}

func testPlacement(t *testing.T, target suiteTarget) {
	m, cgroupPath := createTestCgroup(t, target)
	mounts, err := MountPoints()
	if err != nil {
		t.Fatal(err)
	}
	mountOf := make(map[string]string) // controller or name -> mount point
	for name, mountPoint := range mounts {
		for _, c := range strings.Split(name, ",") {
			mountOf[c] = mountPoint
		}
	}
	paths := m.Paths()
	if len(paths) == 0 || !m.Exists() {
		t.Fatalf("after Create: Paths() = %v, Exists() = %v", paths, m.Exists())
	}
	for key, dir := range paths {
		if want := filepath.Join(mountOf[key], cgroupPath); dir != want || m.Path(key) != dir {
			t.Errorf("Paths()[%q] = %s, Path(%q) = %s; want %s", key, dir, key, m.Path(key), want)
		}
		if !cgroupfs.DirExists(dir) {
			t.Errorf("Create did not make %s", dir)
		}
	}
	if target.wholeHost {
		for name := range mounts {
			if m.Path(strings.Split(name, ",")[0]) == "" {
				t.Errorf("no directory in hierarchy %q (paths %v)", name, paths)
			}
		}
	}
	if m.Path("name=tincan-no-such-hierarchy") != "" {
		t.Error("Path of a hierarchy that is not mounted is not empty")
	}
	if unifiedDir := m.Path(""); unifiedDir != "" {
		checkControllersDelegated(t, mounts[""], unifiedDir)
	}

	p := startInCgroup(t, m, "exec sleep 100")
	for key, got := range procCgroups(t, p.pid()) {
		if _, placed := paths[key]; placed && got != cgroupPath {
			t.Errorf("/proc/%d/cgroup puts it at %s in hierarchy %q, want %s", p.pid(), got, key, cgroupPath)
		}
	}
	for key := range paths {
		if _, ok := procCgroups(t, p.pid())[key]; !ok {
			t.Errorf("/proc/%d/cgroup has no hierarchy %q", p.pid(), key)
		}
	}
	pids := waitForPids(t, m, 1)
	if !slices.Equal(pids, []int{p.pid()}) {
		t.Errorf("Pids() = %v, want [%d]", pids, p.pid())
	}
	if target.wholeHost {
		loaded, err := Load(cgroupPath)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if pids, err := loaded.Pids(); err != nil || !slices.Equal(pids, []int{p.pid()}) {
			t.Errorf("Load(...).Pids() = %v, %v; want [%d]", pids, err, p.pid())
		}
	}

	if err := m.Signal(unix.SIGTERM); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	if sig := killedBy(p.wait(t)); sig != syscall.SIGTERM {
		t.Fatalf("after Signal(SIGTERM) the process ended by signal %d", sig)
	}
}

// checkControllersDelegated checks that the cgroup got every controller the
// root of the cgroup2 hierarchy delegates: Create enables them in the
// parents below the root.
func checkControllersDelegated(t *testing.T, mountPoint, dir string) {
	t.Helper()
	rootDelegates, err := cgroupfs.ReadFile(filepath.Join(mountPoint, "cgroup.subtree_control"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cgroupfs.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range strings.Fields(rootDelegates) {
		if !slices.Contains(strings.Fields(got), c) {
			t.Errorf("%s/cgroup.controllers = %q; want every controller the root delegates (%q)", dir, got, rootDelegates)
		}
	}
}

func testFreezeThaw(t *testing.T, target suiteTarget) {
	m, _ := createTestCgroup(t, target)
	state, err := m.FreezerState()
	if err != nil {
		t.Fatal(err)
	}
	if state == FreezerUnsupported {
		if err := m.Freeze(); !errors.Is(err, errdefs.ErrUnsupported) {
			t.Fatalf("Freeze without a freezer: %v, want an unsupported error", err)
		}
		t.Skip("no freezer on this host")
	}
	if state != Thawed {
		t.Fatalf("FreezerState() of a new cgroup = %s, want thawed", state)
	}
	p := startInCgroup(t, m, `trap "exit 7" USR1; sleep 100 & wait`)
	waitForPids(t, m, 2) // the trap is set once sleep has started

	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if state, err := m.FreezerState(); err != nil || state != Frozen {
		t.Fatalf("FreezerState() after Freeze = %s, %v; want frozen", state, err)
	}
	// A frozen process cannot run its signal handler: the signal stays
	// pending until Thaw, and then the trap ends the shell with status 7.
	if err := unix.Kill(p.pid(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if !alive(t, p.pid()) || !signalPending(t, p.pid(), syscall.SIGUSR1) {
		t.Fatalf("process %d acted on SIGUSR1 while frozen (state %q)", p.pid(), procStatus(t, p.pid(), "State"))
	}

	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if state, err := m.FreezerState(); err != nil || state != Thawed {
		t.Fatalf("FreezerState() after Thaw = %s, %v; want thawed", state, err)
	}
	if exitErr := p.wait(t); exitErr.ExitCode() != 7 {
		t.Fatalf("after Thaw the shell ended with %v, want status 7 from its USR1 trap", exitErr)
	}
}

func testKillAll(t *testing.T, target suiteTarget, script string, frozen bool) {
	m, _ := createTestCgroup(t, target)
	p := startInCgroup(t, m, script)
	pids := waitForPids(t, m, 3)
	if frozen {
		if state, _ := m.FreezerState(); state == FreezerUnsupported {
			t.Skip("no freezer on this host")
		}
		if err := m.Freeze(); err != nil {
			t.Fatalf("Freeze: %v", err)
		}
	}

	if err := m.KillAll(); err != nil {
		t.Fatalf("KillAll: %v", err)
	}
	if left, err := m.Pids(); err != nil || len(left) != 0 {
		t.Fatalf("Pids() after KillAll = %v, %v; want none", left, err)
	}
	// A process leaves its cgroup early in its exit, before it is a
	// zombie: give the last ones (slow in the VM) a moment to finish.
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(t, pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if alive(t, pid) {
			t.Errorf("process %d survived KillAll (state %q)", pid, procStatus(t, pid, "State"))
		}
	}
	if sig := killedBy(p.wait(t)); sig != syscall.SIGKILL {
		t.Fatalf("the shell ended by signal %d, want SIGKILL", sig)
	}
}

func testDestroyNested(t *testing.T, target suiteTarget) {
	m, cgroupPath := createTestCgroup(t, target)
	p := startInCgroup(t, m, "exec sleep 100")
	// The container made a cgroup of its own and moved into it.
	for _, dir := range uniqueDirs(m.Paths()) {
		nested := filepath.Join(dir, "nested")
		if err := os.Mkdir(nested, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			// A new v1 cpuset is empty and takes no process until filled.
			if value, err := cgroupfs.ReadFile(filepath.Join(nested, file)); err == nil && value == "" {
				inherited, err := cgroupfs.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if err := cgroupfs.WriteFile(filepath.Join(nested, file), inherited); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := cgroupfs.WriteFile(filepath.Join(nested, "cgroup.procs"), fmt.Sprint(p.pid())); err != nil {
			t.Fatal(err)
		}
	}
	if pids, err := m.Pids(); err != nil || !slices.Equal(pids, []int{p.pid()}) {
		t.Fatalf("Pids() = %v, %v; want [%d] found in the nested cgroup", pids, err, p.pid())
	}
	if err := m.KillAll(); err != nil {
		t.Fatalf("KillAll: %v", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, dir := range m.Paths() {
		if cgroupfs.DirExists(dir) {
			t.Errorf("Destroy left %s", dir)
		}
		if !cgroupfs.DirExists(filepath.Dir(dir)) {
			t.Errorf("Destroy removed the parent %s", filepath.Dir(dir))
		}
	}
	if m.Exists() {
		t.Error("Exists() after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("Destroy of a removed cgroup: %v", err)
	}
	if target.wholeHost {
		if _, err := Load(cgroupPath); !errdefs.IsNotFound(err) {
			t.Errorf("Load of a removed cgroup: %v, want a not-found error", err)
		}
	}
}

// uniqueDirs returns the distinct directories of a Paths map (comounted
// controllers share one).
func uniqueDirs(paths map[string]string) []string {
	var dirs []string
	for _, dir := range paths {
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// TestDestroyBusy checks that Destroy neither kills nor waits forever: with
// a live process inside, it gives up after its bounded retry (a few
// seconds) and names the busy cgroup.
func TestDestroyBusy(t *testing.T) {
	requireRoot(t)
	if DetectMode() == Unavailable {
		t.Skip("no cgroup hierarchy is mounted")
	}
	m, cgroupPath := createTestCgroup(t, suiteTarget{newManager: New, wholeHost: true})
	p := startInCgroup(t, m, "exec sleep 100")
	waitForPids(t, m, 1)
	err := m.Destroy()
	if err == nil || !strings.Contains(err.Error(), cgroupPath) || !errors.Is(err, unix.EBUSY) {
		t.Fatalf("Destroy with a process inside: %v; want EBUSY naming %s", err, cgroupPath)
	}
	t.Logf("Destroy with a process inside: %v", err)
	if !m.Exists() || !alive(t, p.pid()) {
		t.Fatal("Destroy removed a busy cgroup or killed its process")
	}
}
