package cgroups

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

func TestModeOf(t *testing.T) {
	v1 := cgroupfs.Hierarchy{MountPoint: "/sys/fs/cgroup/memory", Controllers: []string{"memory"}}
	v2 := cgroupfs.Hierarchy{MountPoint: "/sys/fs/cgroup/unified", Unified: true}
	for _, tt := range []struct {
		hierarchies []cgroupfs.Hierarchy
		want        Mode
	}{
		{nil, Unavailable},
		{[]cgroupfs.Hierarchy{v1}, Legacy},
		{[]cgroupfs.Hierarchy{v1, v2}, Hybrid},
		{[]cgroupfs.Hierarchy{v2}, Unified},
	} {
		if got := modeOf(tt.hierarchies); got != tt.want {
			t.Errorf("modeOf(%+v) = %s, want %s", tt.hierarchies, got, tt.want)
		}
	}
}

// TestDetectMode checks the cached detection against the host, whichever
// layout it has; under bench/v2view (BENCH_IN_V2VIEW=1) it must be unified.
func TestDetectMode(t *testing.T) {
	mode := DetectMode()
	if os.Getenv("BENCH_IN_V2VIEW") == "1" && mode != Unified {
		t.Fatalf("DetectMode() = %s inside v2view, want unified", mode)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		t.Skipf("no %s: %v", cgroupRoot, err)
	}
	if (st.Type == unix.CGROUP2_SUPER_MAGIC) != (mode == Unified) {
		t.Fatalf("DetectMode() = %s but statfs(%s) says magic %#x", mode, cgroupRoot, st.Type)
	}

	mounts, err := MountPoints()
	if err != nil {
		t.Fatal(err)
	}
	_, hasUnified := mounts[""]
	if hasUnified != (mode == Unified || mode == Hybrid) {
		t.Fatalf("MountPoints() = %v for a %s host", mounts, mode)
	}
	if (len(mounts) > 1) != (mode == Legacy || mode == Hybrid) {
		t.Fatalf("MountPoints() = %v for a %s host", mounts, mode)
	}
	for name, mountPoint := range mounts {
		if err := unix.Statfs(mountPoint, &st); err != nil {
			t.Fatalf("mount point %s of %q: %v", mountPoint, name, err)
		}
		wantMagic := int64(unix.CGROUP_SUPER_MAGIC)
		if name == "" {
			wantMagic = unix.CGROUP2_SUPER_MAGIC
		}
		if int64(st.Type) != wantMagic {
			t.Errorf("mount point %s of %q has magic %#x, want %#x", mountPoint, name, st.Type, wantMagic)
		}
		if name != "" {
			// A v1 hierarchy's name must be the one /proc/self/cgroup uses.
			if !strings.Contains(readSelfCgroup(t), ":"+name+":") {
				t.Errorf("hierarchy %q is not in /proc/self/cgroup", name)
			}
		}
	}
}

func readSelfCgroup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
