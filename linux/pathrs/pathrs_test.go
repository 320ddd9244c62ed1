package pathrs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// newRoot makes a rootfs with symlinks that try to point outside it.
func newRoot(t *testing.T) (*Root, string) {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{rootfs, outside, filepath.Join(rootfs, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"abs":      outside,       // absolute symlink to a host dir
		"up":       "../../../..", // climbs above the root
		"etc/prev": "../etc",
		"dangling": "/nowhere/at/all",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(rootfs, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenRoot(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, outside
}

// realPath returns where an O_PATH handle points on the host.
func realPath(t *testing.T, f *os.File) string {
	t.Helper()
	p, err := os.Readlink(ProcPath(f))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMkdirAllStaysInsideRoot(t *testing.T) {
	r, outside := newRoot(t)
	cases := map[string]string{
		"/abs/x":       "abs/x resolves inside as /<outside>/x",
		"/up/y":        "up/y resolves to /y",
		"/etc/prev/z":  "etc/prev/z resolves to /etc/z",
		"../../escape": "leading .. is clamped at the root",
		"/a/b/c":       "plain nested dirs",
	}
	for in := range cases {
		f, err := r.MkdirAll(in, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%q): %v", in, err)
		}
		got := realPath(t, f)
		f.Close()
		if !strings.HasPrefix(got, r.Path()+"/") {
			t.Errorf("MkdirAll(%q) landed at %s, outside the root %s", in, got, r.Path())
		}
	}
	entries, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("a directory was created outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(r.Path(), outside, "x")); err != nil {
		t.Fatalf("absolute symlink was not resolved inside the root: %v", err)
	}
}

func TestCreateFileAndOpen(t *testing.T) {
	r, outside := newRoot(t)
	f, err := r.CreateFile("/abs/file", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := realPath(t, f); !strings.HasPrefix(got, r.Path()+"/") {
		t.Fatalf("file created at %s, outside the root", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "file")); !os.IsNotExist(err) {
		t.Fatalf("file appeared outside the root: %v", err)
	}
	// Opening through a dangling absolute symlink must not reach the host.
	if _, err := r.Open("/dangling", unix.O_RDONLY); err == nil {
		t.Fatal("opening a dangling symlink succeeded")
	}
}

func TestRelative(t *testing.T) {
	for in, want := range map[string]string{"/": ".", "": ".", "/a/../b": "b", "../../x": "x", "a/b/": "a/b"} {
		if got := relative(in); got != want {
			t.Errorf("relative(%q) = %q, want %q", in, got, want)
		}
	}
}
