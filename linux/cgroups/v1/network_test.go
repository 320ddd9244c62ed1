package v1

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// TestNetworkLimits writes net_cls and net_prio settings to ordinary files
// laid out like a net_cls,net_prio hierarchy. (Mounting a real one, even in
// a private mount namespace, would show in every process's /proc/PID/cgroup
// on the host while the test runs.)
func TestNetworkLimits(t *testing.T) {
	mount := t.TempDir()
	m := New([]cgroupfs.Hierarchy{{MountPoint: mount, Controllers: []string{"net_cls", "net_prio"}}}, "/ctr")
	dir := m.Path("net_cls")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"net_cls.classid", "net_prio.ifpriomap"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	classID := uint32(0x100001)
	err := m.Set(&specs.LinuxResources{Network: &specs.LinuxNetwork{
		ClassID:    &classID,
		Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}},
	}})
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	for file, want := range map[string]string{"net_cls.classid": "1048577", "net_prio.ifpriomap": "lo 5"} {
		if got, err := cgroupfs.ReadFile(filepath.Join(dir, file)); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", file, got, err, want)
		}
	}
}
