package storagetest

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/storage"
)

// testLayered: storage.Layered over a snapshot's layers shows what the
// container sees (the view: for overlay, the kernel's own overlay mount)
// — replaced files, whiteouts, opaque directories, a directory over a
// file and a file over a directory — follows symlinks inside the view
// only, and CopyDir copies the merged tree exactly.
func testLayered(t *testing.T, f Factory) {
	s, view := f(t)
	apply(t, s, "base", nil, Layer(t,
		Dir("etc"), File("etc/passwd", "base"), File("etc/group", "group"), File("etc/gone", "x"),
		Entry{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 5, GID: 6},
		File("data/keep", "k"), File("data/old", "o"),
		Dir("data/sub"), File("data/sub/deep", "d"),
		Entry{Name: "data/h1", Content: "linked", Mode: 0o600, UID: 7, GID: 8}, Hardlink("data/h2", "data/h1"),
		Dir("data/gonedir"), File("data/gonedir/f", "f"),
		Dir("lib"), File("lib/real", "real"),
		Symlink("link-abs", "/lib/real"),
		Symlink("etc/link-rel", "../lib/real"),
		Symlink("escape", "../../../../../lib/real"),
		Symlink("lnk", "data"),
		Symlink("loop", "loop"),
		File("x", "file below"),
		Dir("y"), File("y/f", "below"),
	))
	apply(t, s, "mid", []string{"base"}, Layer(t,
		File("etc/passwd", "mid"),
		Whiteout("etc", "gone"), Whiteout("data", "old"), Whiteout("data", "gonedir"),
		Entry{Name: "data/new", Content: "n", Mode: 0o604, UID: 3, GID: 4},
		Symlink("data/rel", "keep"),
	))
	apply(t, s, "top", []string{"mid", "base"}, Layer(t,
		Dir("data/sub"), Opaque("data/sub"), File("data/sub/only", "top"),
		Dir("x"), File("x/f", "dir above"),
		File("y", "file above"),
	))
	layers, err := s.Layers("top")
	if err != nil {
		t.Fatal(err)
	}
	v := storage.Layered{Layers: layers}
	root := view(t, "top")

	for _, tc := range []struct {
		path, want string // want "" : missing
		// onMount: the path resolves the same on the mounted view (no
		// absolute or escaping symlink on the way, which a mount outside
		// a chroot would resolve on the host).
		onMount bool
	}{
		{"/etc/passwd", "mid", true},
		{"/etc/group", "group", true},
		{"/etc/gone", "", true},
		{"/data/keep", "k", true},
		{"/data/old", "", true},
		{"/data/gonedir/f", "", true},
		{"/data/new", "n", true},
		{"/data/rel", "k", true},
		{"/data/sub/deep", "", true},
		{"/data/sub/only", "top", true},
		{"/x/f", "dir above", true},
		{"/y", "file above", true},
		{"/y/f", "", true},
		{"/lnk/keep", "k", true},
		{"/etc/link-rel", "real", true},
		{"/etc/../lib/./real", "real", true},
		{"/link-abs", "real", false},
		{"/escape", "real", false},
		{"/../../lib/real", "real", false},
	} {
		got, err := readView(v, tc.path)
		if tc.want == "" {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
				t.Errorf("%s: %q, %v; want missing", tc.path, got, err)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.path, got, err, tc.want)
		}
		if tc.onMount {
			data, err := os.ReadFile(filepath.Join(root, tc.path))
			if (err == nil) != (tc.want != "") || string(data) != tc.want {
				t.Errorf("%s on the mounted view: %q, %v; the test expects %q", tc.path, data, err, tc.want)
			}
		}
	}
	if _, err := v.Open("/loop"); !errors.Is(err, unix.ELOOP) {
		t.Errorf("a symlink loop: %v, want ELOOP", err)
	}
	if _, err := v.Open("/data"); err == nil {
		t.Error("a directory opened as a file")
	}

	dst := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	copied, err := v.CopyDir("/lnk", dst)
	if err != nil || !copied {
		t.Fatalf("copy /data through a symlink: %v, %v", copied, err)
	}
	got, want := describeTree(t, dst), describeTree(t, filepath.Join(root, "data"))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("copied tree:\n%s\nwant (the mounted view):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var h1, h2 unix.Stat_t
	unix.Lstat(filepath.Join(dst, "h1"), &h1)
	unix.Lstat(filepath.Join(dst, "h2"), &h2)
	if h1.Ino != h2.Ino {
		t.Error("the hardlink was not kept in the copy")
	}
	for _, p := range []string{"/missing", "/etc/passwd", "/etc/gone"} {
		if copied, err := v.CopyDir(p, t.TempDir()); copied || err != nil {
			t.Errorf("CopyDir(%s) = %v, %v; want nothing copied", p, copied, err)
		}
	}
}

func readView(v storage.Layered, path string) (string, error) {
	f, err := v.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	return string(data), err
}

// describeTree lists every path under root with its type, mode, owner,
// content or link target, and xattrs; the root itself included.
func describeTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		line := fmt.Sprintf("%s %o %d:%d", rel, st.Mode, st.Uid, st.Gid)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %q nlink=%d", data, st.Nlink)
		case unix.S_IFLNK:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		buf := make([]byte, 4096)
		if n, err := unix.Llistxattr(p, buf); err == nil && n > 0 {
			names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
			sort.Strings(names)
			line += " xattrs=" + strings.Join(names, ",")
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
