package v1

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

var hybridHierarchies = []cgroupfs.Hierarchy{
	{MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Controllers: []string{"cpu", "cpuacct"}},
	{MountPoint: "/sys/fs/cgroup/freezer", Controllers: []string{"freezer"}},
	{MountPoint: "/sys/fs/cgroup/pids", Controllers: []string{"pids"}},
	{MountPoint: "/sys/fs/cgroup/systemd", Controllers: []string{"name=systemd"}},
	{MountPoint: "/sys/fs/cgroup/unified", Unified: true},
}

func TestPaths(t *testing.T) {
	m := New(hybridHierarchies, "/tincan/abc")
	for subsystem, want := range map[string]string{
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/tincan/abc",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/tincan/abc",
		"freezer":      "/sys/fs/cgroup/freezer/tincan/abc",
		"name=systemd": "/sys/fs/cgroup/systemd/tincan/abc",
		"":             "/sys/fs/cgroup/unified/tincan/abc",
		"memory":       "", // not mounted
		"systemd":      "", // only as name=systemd
	} {
		if got := m.Path(subsystem); got != want {
			t.Errorf("Path(%q) = %q, want %q", subsystem, got, want)
		}
	}
	want := map[string]string{
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/tincan/abc",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/tincan/abc",
		"freezer":      "/sys/fs/cgroup/freezer/tincan/abc",
		"pids":         "/sys/fs/cgroup/pids/tincan/abc",
		"name=systemd": "/sys/fs/cgroup/systemd/tincan/abc",
		"":             "/sys/fs/cgroup/unified/tincan/abc",
	}
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}

func TestProcsDirPreference(t *testing.T) {
	for _, tt := range []struct {
		name        string
		hierarchies []cgroupfs.Hierarchy
		want        string
	}{
		{"pids first", hybridHierarchies, "/sys/fs/cgroup/pids/x"},
		{"then freezer", []cgroupfs.Hierarchy{hybridHierarchies[0], hybridHierarchies[1]}, "/sys/fs/cgroup/freezer/x"},
		{"then the first", []cgroupfs.Hierarchy{hybridHierarchies[3], hybridHierarchies[0]}, "/sys/fs/cgroup/systemd/x"},
		{"then cgroup2", []cgroupfs.Hierarchy{hybridHierarchies[4]}, "/sys/fs/cgroup/unified/x"},
	} {
		if got := New(tt.hierarchies, "/x").procsDir; got != tt.want {
			t.Errorf("%s: procsDir = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLegacyHasNoUnifiedPath(t *testing.T) {
	m := New(hybridHierarchies[:4], "/x")
	if got := m.Path(""); got != "" {
		t.Errorf(`Path("") on a legacy host = %q, want ""`, got)
	}
	if _, ok := m.Paths()[""]; ok {
		t.Error(`Paths() on a legacy host has a "" entry`)
	}
}

// TestInheritCpuset uses ordinary files laid out like a cpuset hierarchy:
// the copy logic does not need the kernel.
func TestInheritCpuset(t *testing.T) {
	mount := t.TempDir()
	files := map[string]string{
		"cpuset.cpus": "0-3", "cpuset.mems": "0",
		"a/cpuset.cpus": "", "a/cpuset.mems": "",
		"a/b/cpuset.cpus": "2", "a/b/cpuset.mems": "",
	}
	for name, content := range files {
		path := filepath.Join(mount, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := inheritCpuset(mount, "/a/b"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"a/cpuset.cpus": "0-3", "a/cpuset.mems": "0",
		"a/b/cpuset.cpus": "2", // already set: left alone
		"a/b/cpuset.mems": "0",
	} {
		got, err := cgroupfs.ReadFile(filepath.Join(mount, name))
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestSplit checks where Set sends each group of settings on a hybrid
// host: to its v1 hierarchy, else to the cgroup2 side when that offers the
// controller (devices always can: an eBPF program), else an error naming
// the field. Ordinary directories stand in for the hierarchies.
func TestSplit(t *testing.T) {
	root := t.TempDir()
	hierarchies := []cgroupfs.Hierarchy{
		{MountPoint: filepath.Join(root, "memory"), Controllers: []string{"memory"}},
		{MountPoint: filepath.Join(root, "unified"), Unified: true},
	}
	m := New(hierarchies, "/ctr")
	if err := os.MkdirAll(m.unified.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.unified.Dir(), "cgroup.controllers"), []byte("hugetlb pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	limit := int64(1 << 20)
	r := &specs.LinuxResources{
		Memory:         &specs.LinuxMemory{Limit: &limit},
		Pids:           &specs.LinuxPids{Limit: &limit},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}},
		Devices:        []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Unified:        map[string]string{"pids.max": "5"},
	}
	own, unified, err := m.split(r)
	if err != nil {
		t.Fatal(err)
	}
	if own.Memory == nil || own.Pids != nil || own.HugepageLimits != nil || own.Devices != nil {
		t.Errorf("v1 part %+v; want only the memory limit", own)
	}
	if unified == nil || unified.Memory != nil || unified.Pids == nil || len(unified.HugepageLimits) != 1 || len(unified.Devices) != 1 || unified.Unified["pids.max"] != "5" {
		t.Errorf("cgroup2 part %+v; want pids, hugetlb, devices and the unified keys", unified)
	}
	classID := uint32(1)
	_, _, err = m.split(&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: &classID}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.network.classID") {
		t.Errorf("split of a net_cls setting without net_cls: %v; want an error naming the field", err)
	}
	_, _, err = m.split(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}})
	if err == nil || !strings.Contains(err.Error(), "cpuset") {
		t.Errorf("split of a cpuset setting without cpuset anywhere: %v; want an error naming cpuset", err)
	}
	if own, unified, err := m.split(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}); err != nil || unified != nil || own.Memory == nil {
		t.Errorf("a v1-only config: %+v, %+v, %v; want no cgroup2 part", own, unified, err)
	}
}
