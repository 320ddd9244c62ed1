package overlay

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/storage"
	"github.com/tincan/tincan/storage/storagetest"
)

// mountView mounts key's layers read-only under a test directory: what a
// container sees, whiteouts and opaque directories applied by the kernel.
func mountView(t *testing.T, s storage.Snapshotter, key string) string {
	t.Helper()
	layers, err := s.Layers(key)
	if err != nil {
		t.Fatalf("layers of %s: %v", key, err)
	}
	if len(layers) == 1 {
		// overlayfs wants two lower directories when there is no upper.
		layers = append(layers, t.TempDir())
	}
	target := t.TempDir()
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(layers, ":")); err != nil {
		t.Fatalf("mount overlay of %s: %v", key, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
	return target
}

func TestSuite(t *testing.T) {
	testutil.RequiresRoot(t)
	storagetest.Run(t, func(t *testing.T) (storage.Snapshotter, func(*testing.T, string) string) {
		s, err := New(filepath.Join(t.TempDir(), "overlay"))
		if err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, key string) string { return mountView(t, s, key) }
	})
}

// TestLayersAreShared checks the overlay specifics: one directory per
// layer, whiteouts stored as 0:0 devices and opaque xattrs, the parent's
// directory reused by every child.
func TestLayersAreShared(t *testing.T) {
	testutil.RequiresRoot(t)
	root := filepath.Join(t.TempDir(), "overlay")
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	base := storagetest.Layer(t, storagetest.Dir("d"), storagetest.File("d/f", "1"))
	if _, err := s.Apply(ctx, "base", nil, bytesReader(base), storage.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, child := range []string{"c1", "c2"} {
		l := storagetest.Layer(t, storagetest.Whiteout("d", "f"), storagetest.Opaque("e"))
		if _, err := s.Apply(ctx, child, []string{"base"}, bytesReader(l), storage.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		layers, err := s.Layers(child)
		if err != nil || len(layers) != 2 || layers[1] != filepath.Join(root, "base", "diff") {
			t.Fatalf("layers of %s: %v, %v", child, layers, err)
		}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(layers[0], "d/f"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Fatalf("whiteout of d/f is not a 0:0 device: %+v, %v", st, err)
		}
		buf := make([]byte, 8)
		n, err := unix.Getxattr(filepath.Join(layers[0], "e"), "trusted.overlay.opaque", buf)
		if err != nil || string(buf[:n]) != "y" {
			t.Fatalf("e is not opaque: %q, %v", buf[:n], err)
		}
		// Only one form: overlay shows the other to the container.
		if _, err := unix.Getxattr(filepath.Join(layers[0], "e"), "user.overlay.opaque", buf); err == nil {
			t.Fatal("the user.* marker was written too")
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "base", "diff", "d", "f")); err != nil || fi.Size() != 1 {
		t.Fatalf("the shared base layer changed: %v", err)
	}
}

// TestUserXattr: rootless overlay mounts read user.overlay.opaque.
func TestUserXattr(t *testing.T) {
	testutil.RequiresRoot(t)
	s, err := New(filepath.Join(t.TempDir(), "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	l := storagetest.Layer(t, storagetest.Opaque("e"))
	if _, err := s.Apply(t.Context(), "k", nil, bytesReader(l), storage.ApplyOptions{UserXattr: true}); err != nil {
		t.Fatal(err)
	}
	layers, _ := s.Layers("k")
	buf := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(layers[0], "e"), "user.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("user.overlay.opaque: %q, %v", buf[:n], err)
	}
	if _, err := unix.Getxattr(filepath.Join(layers[0], "e"), "trusted.overlay.opaque", buf); err == nil {
		t.Fatal("UserXattr wrote the trusted.* marker")
	}
}

// TestImplicitDirsSettledAfterParents applies a child layer before its
// parent exists, as a parallel pull may: the child's implicit directories
// get default attributes at first, and Settle gives them the parent's, so
// the merged view shows the parent's owner and mode. A directory the child
// lists itself (after a file in it) keeps its own attributes.
func TestImplicitDirsSettledAfterParents(t *testing.T) {
	testutil.RequiresRoot(t)
	s, err := New(filepath.Join(t.TempDir(), "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	child := storagetest.Layer(t,
		storagetest.File("a/b/f", "x"),
		storagetest.File("own/g", "y"),
		storagetest.Entry{Name: "own", Type: tar.TypeDir, Mode: 0o701, UID: 9, GID: 9},
	)
	if _, err := s.Apply(ctx, "child", []string{"parent"}, bytesReader(child), storage.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	parent := storagetest.Layer(t,
		storagetest.Entry{Name: "a", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1001},
		storagetest.Entry{Name: "a/b", Type: tar.TypeDir, Mode: 0o700, UID: 1002, GID: 1003},
		storagetest.Entry{Name: "own", Type: tar.TypeDir, Mode: 0o777, UID: 5, GID: 5},
	)
	if _, err := s.Apply(ctx, "parent", nil, bytesReader(parent), storage.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := storage.Settle(s, "parent", "child"); err != nil {
		t.Fatal(err)
	}
	root := mountView(t, s, "child")
	for _, c := range []struct {
		path     string
		perm     uint32
		uid, gid uint32
	}{{"a", 0o750, 1000, 1001}, {"a/b", 0o700, 1002, 1003}, {"own", 0o701, 9, 9}} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, c.path), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != c.perm || st.Uid != c.uid || st.Gid != c.gid {
			t.Errorf("%s: mode %#o owner %d:%d, want %#o %d:%d", c.path, st.Mode&0o7777, st.Uid, st.Gid, c.perm, c.uid, c.gid)
		}
	}
	rec, err := storage.ReadRecord(filepath.Join(s.root, "child"))
	if err != nil || len(rec.Implicit) != 0 {
		t.Errorf("child record after Settle: implicit %v, %v; want none left", rec.Implicit, err)
	}
}
