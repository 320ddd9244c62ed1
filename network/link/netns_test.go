package link

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNetNSFiles(t *testing.T) {
	requireRoot(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "state", "netns", "c1")
	if err := CreateNetNS(p); err != nil {
		t.Fatalf("CreateNetNS: %v", err)
	}
	t.Cleanup(func() { RemoveNetNS(p) })
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("parent dir: %v %v, want 0700", fi.Mode(), err)
	}
	if !mounted(t, p) {
		t.Fatalf("%s not in mountinfo", p)
	}
	if err := CreateNetNS(p); err == nil {
		t.Errorf("CreateNetNS over a namespace mount succeeded")
	}

	// The new namespace is not the test's and has lo up.
	var self, made unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(p, &made); err != nil {
		t.Fatal(err)
	}
	if made.Ino == self.Ino {
		t.Fatalf("CreateNetNS bound the caller's namespace")
	}
	if lo, err := nlAtPath(t, p).LinkByName("lo"); err != nil || !isUp(lo) {
		t.Errorf("lo in new namespace: %v, up=%v", err, err == nil && isUp(lo))
	}

	// BindNetNS gives a second name to the same namespace.
	q := filepath.Join(dir, "state", "netns", "c2")
	if err := BindNetNS(q, p); err != nil {
		t.Fatalf("BindNetNS: %v", err)
	}
	t.Cleanup(func() { RemoveNetNS(q) })
	var bound unix.Stat_t
	if err := unix.Stat(q, &bound); err != nil {
		t.Fatal(err)
	}
	if bound.Ino != made.Ino || bound.Dev != made.Dev {
		t.Errorf("BindNetNS bound another namespace")
	}
	if err := BindNetNS(filepath.Join(dir, "c3"), filepath.Join(dir, "state")); err == nil {
		t.Errorf("BindNetNS from a directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "c3")); !os.IsNotExist(err) {
		t.Errorf("failed BindNetNS left its file: %v", err)
	}

	for _, f := range []string{p, q} {
		if err := RemoveNetNS(f); err != nil {
			t.Fatalf("RemoveNetNS(%s): %v", f, err)
		}
		if mounted(t, f) {
			t.Errorf("%s still in mountinfo", f)
		}
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", f, err)
		}
		if err := RemoveNetNS(f); err != nil {
			t.Errorf("RemoveNetNS of a missing file: %v", err)
		}
	}

	// A stale plain file (left by a crash) is reused, and stacked binds all go.
	if err := os.WriteFile(p, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := CreateNetNS(p); err != nil {
		t.Fatalf("CreateNetNS over a stale file: %v", err)
	}
	if err := unix.Mount("/proc/thread-self/ns/net", p, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := RemoveNetNS(p); err != nil {
		t.Fatalf("RemoveNetNS of stacked mounts: %v", err)
	}
	if mounted(t, p) {
		t.Errorf("%s still in mountinfo after stacked removal", p)
	}
}
