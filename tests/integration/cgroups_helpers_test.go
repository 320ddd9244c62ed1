package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/cgroups"
)

// The cgroup tests run on whatever layout the host has: this one's hybrid
// v1 hierarchies, or pure cgroup v2 where TestCgroupsInV2VM re-runs them.
// They read the kernel's view of a limit with cgValue, which picks the v1
// or the v2 file name.

// cgRequire skips the test unless it runs as root on a host with cgroups.
func cgRequire(t *testing.T) {
	t.Helper()
	testutil.RequiresRoot(t)
	if cgroups.DetectMode() == cgroups.Unavailable {
		t.Skip("no cgroup hierarchy is mounted")
	}
}

// cgLoad returns the manager of the cgroup at path ("/tincan/<id>" for a
// container with no cgroupsPath).
func cgLoad(t *testing.T, path string) cgroups.Manager {
	t.Helper()
	m, err := cgroups.Load(path)
	if err != nil {
		t.Fatalf("cgroup %s: %v", path, err)
	}
	return m
}

// cgDir returns the directory with controller's files for the cgroup of m
// and whether they are cgroup v2 files: the v1 hierarchy of controller, or
// the cgroup2 directory when that offers it (a pure v2 host, or the
// cgroup2 side of a hybrid one). "" when the host has neither.
func cgDir(m cgroups.Manager, controller string) (string, bool) {
	if cgroups.DetectMode() != cgroups.Unified {
		if dir := m.Path(controller); dir != "" {
			return dir, false
		}
	}
	dir := m.Path("")
	if dir == "" {
		return "", false
	}
	have, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil || !slices.Contains(strings.Fields(string(have)), controller) {
		return "", false
	}
	return dir, true
}

// cgValue reads a file of controller for the cgroup of m, v1File or
// v2File depending on where the controller is; ok is false when the host
// does not have the controller or the file.
func cgValue(t *testing.T, m cgroups.Manager, controller, v1File, v2File string) (value string, ok bool) {
	t.Helper()
	dir, isV2 := cgDir(m, controller)
	file := v1File
	if isV2 {
		file = v2File
	}
	if dir == "" || file == "" {
		return "", false
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(data)), true
}

// cgExpect checks a limit as the kernel reports it, where the host has the
// controller; it returns whether it could check.
func cgExpect(t *testing.T, m cgroups.Manager, controller, v1File, v1Want, v2File, v2Want string) bool {
	t.Helper()
	got, ok := cgValue(t, m, controller, v1File, v2File)
	if !ok {
		t.Logf("no %s controller here: %s/%s not checked", controller, v1File, v2File)
		return false
	}
	_, isV2 := cgDir(m, controller)
	want, file := v1Want, v1File
	if isV2 {
		want, file = v2Want, v2File
	}
	if got != want {
		t.Errorf("%s = %q, want %q", file, got, want)
	}
	return true
}

// cgBundle makes a bundle that runs script with resources r.
func cgBundle(t *testing.T, script string, r *specs.LinuxResources) *testutil.Bundle {
	t.Helper()
	b := testutil.NewBundle(t, "sh", "-c", script)
	b.Spec.Linux.Resources = r
	b.Save(t)
	return b
}

// cgWait polls cond every few milliseconds for up to d (the VM runs code
// tens of times slower than the host), then fails with what.
func cgWait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cgInt(v int64) *int64    { return &v }
func cgUint(v uint64) *uint64 { return &v }

// procAlive reports whether pid exists and is not a zombie.
func procAlive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(st), ") Z ")
}
