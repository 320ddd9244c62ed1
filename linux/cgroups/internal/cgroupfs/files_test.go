package cgroupfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadWriteFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cgroup.procs")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(file, "12\n34"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(file)
	if err != nil || got != "12\n34" {
		t.Fatalf("ReadFile = %q, %v; want the content without the trailing newline", got, err)
	}

	missing := filepath.Join(dir, "memory.max")
	err = WriteFile(missing, "1")
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("WriteFile of a missing file: %v; want an ErrNotExist naming %s", err, missing)
	}
	if strings.Count(err.Error(), missing) != 1 {
		t.Errorf("error names the file more than once: %v", err)
	}
	if FileExists(missing) {
		t.Fatal("WriteFile created a missing interface file")
	}
}

func TestTreePidsAndDirs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ctr")
	for dir, procs := range map[string]string{
		"":        "10\n11\n",
		"sub":     "12\n",
		"sub/sub": "11\n13\n", // a pid seen twice (threads split over cgroups on v1)
		"empty":   "",
	} {
		d := filepath.Join(root, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(procs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pids, err := TreePids(root)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	if want := []int{10, 11, 12, 13}; !slices.Equal(pids, want) {
		t.Fatalf("TreePids = %v, want %v", pids, want)
	}

	dirs, err := Dirs(root)
	if err != nil {
		t.Fatal(err)
	}
	pos := func(d string) int { return slices.Index(dirs, filepath.Join(root, d)) }
	if len(dirs) != 4 || pos("sub/sub") > pos("sub") || pos("sub") > pos("") || pos("empty") > pos("") {
		t.Fatalf("Dirs = %v; want all four, children before parents", dirs)
	}

	if pids, err := TreePids(filepath.Join(root, "gone")); err != nil || len(pids) != 0 {
		t.Fatalf("TreePids of a missing cgroup = %v, %v; want none and no error", pids, err)
	}
}

func TestParsePidsRejectsGarbage(t *testing.T) {
	if _, err := parsePids("x/cgroup.procs", "12\nabc\n"); err == nil || !strings.Contains(err.Error(), "x/cgroup.procs") {
		t.Fatalf("parsePids: %v; want an error naming the file", err)
	}
}

func TestRemoveTrees(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ctr")
	if err := MakeDirs(filepath.Join(root, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if err := MakeDirs(filepath.Join(root, "a", "b")); err != nil {
		t.Fatalf("MakeDirs of an existing directory: %v", err)
	}
	if err := MakeDirs(filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTrees(root); err != nil {
		t.Fatal(err)
	}
	if DirExists(root) {
		t.Fatal("RemoveTrees left the directory")
	}
	if err := RemoveTrees(root); err != nil {
		t.Fatalf("RemoveTrees of a missing directory: %v", err)
	}
	// A failure other than EBUSY ends at once and names the directory: an
	// ordinary directory with a file in it cannot be rmdir'ed.
	if err := os.MkdirAll(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "d", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTrees(root); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "d")) {
		t.Fatalf("RemoveTrees of a non-empty directory: %v; want an error naming it", err)
	}
}

func TestPoll(t *testing.T) {
	calls := 0
	err := Poll(KillTimeout, func() (bool, error) { calls++; return calls == 3, nil })
	if err != nil || calls != 3 {
		t.Fatalf("Poll = %v after %d calls; want success on the third", err, calls)
	}
	stop := errors.New("stop")
	if err := Poll(KillTimeout, func() (bool, error) { return false, stop }); !errors.Is(err, stop) {
		t.Fatalf("Poll = %v, want the check's error", err)
	}
	calls = 0
	if err := Poll(0, func() (bool, error) { calls++; return false, nil }); !errors.Is(err, ErrTimedOut) || calls != 1 {
		t.Fatalf("Poll with no time = %v after %d calls; want ErrTimedOut after one call", err, calls)
	}
}

func TestFreezerStateString(t *testing.T) {
	for state, want := range map[FreezerState]string{
		FreezerUnsupported: "unsupported", Thawed: "thawed", Freezing: "freezing", Frozen: "frozen",
	} {
		if got := state.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", state, got, want)
		}
	}
}
