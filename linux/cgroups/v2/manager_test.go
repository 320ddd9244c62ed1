package v2

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

func TestPaths(t *testing.T) {
	m := New("/sys/fs/cgroup", "/tincan/abc")
	for subsystem, want := range map[string]string{
		"":             "/sys/fs/cgroup/tincan/abc",
		"memory":       "/sys/fs/cgroup/tincan/abc",
		"name=systemd": "",
	} {
		if got := m.Path(subsystem); got != want {
			t.Errorf("Path(%q) = %q, want %q", subsystem, got, want)
		}
	}
	if got, want := m.Paths(), map[string]string{"": "/sys/fs/cgroup/tincan/abc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}

// TestFreezerState reads the state from ordinary files laid out like a
// cgroup2 directory: the decision does not need the kernel.
func TestFreezerState(t *testing.T) {
	for _, tt := range []struct {
		freeze, events string // "" freeze: no cgroup.freeze file
		want           cgroupfs.FreezerState
	}{
		{"0", "populated 1\nfrozen 0\n", cgroupfs.Thawed},
		{"1", "populated 1\nfrozen 0\n", cgroupfs.Freezing},
		{"1", "populated 1\nfrozen 1\n", cgroupfs.Frozen},
		{"0", "populated 1\nfrozen 1\n", cgroupfs.Frozen}, // a parent is frozen
		{"", "populated 1\n", cgroupfs.FreezerUnsupported},
	} {
		mount := t.TempDir()
		m := New(mount, "/ctr")
		if err := os.Mkdir(m.Dir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if tt.freeze != "" {
			writeTestFile(t, filepath.Join(m.Dir(), "cgroup.freeze"), tt.freeze)
		}
		writeTestFile(t, filepath.Join(m.Dir(), "cgroup.events"), tt.events)
		if got, err := m.FreezerState(); err != nil || got != tt.want {
			t.Errorf("freeze %q, events %q: FreezerState() = %s, %v; want %s", tt.freeze, tt.events, got, err, tt.want)
		}
	}

	missing := New(t.TempDir(), "/gone")
	if _, err := missing.FreezerState(); !errdefs.IsNotFound(err) {
		t.Errorf("FreezerState() of a missing cgroup: %v, want a not-found error", err)
	}
	if err := missing.KillAll(); err != nil {
		t.Errorf("KillAll() of a missing cgroup: %v, want nothing to do", err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
