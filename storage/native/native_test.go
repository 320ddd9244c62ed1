package native

import (
	"bytes"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/storage"
	"github.com/tincan/tincan/storage/storagetest"
)

func TestSuite(t *testing.T) {
	testutil.RequiresRoot(t)
	storagetest.Run(t, func(t *testing.T) (storage.Snapshotter, func(*testing.T, string) string) {
		s, err := New(filepath.Join(t.TempDir(), "native"))
		if err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, key string) string {
			layers, err := s.Layers(key)
			if err != nil || len(layers) != 1 {
				t.Fatalf("layers of %s: %v, %v", key, layers, err)
			}
			return layers[0]
		}
	})
}

// TestCopiesAreIndependent: a child is a full copy; its parent keeps its
// own files, hardlinks stay linked inside the copy.
func TestCopiesAreIndependent(t *testing.T) {
	testutil.RequiresRoot(t)
	s, err := New(filepath.Join(t.TempDir(), "native"))
	if err != nil {
		t.Fatal(err)
	}
	base := storagetest.Layer(t, storagetest.File("f", "1"), storagetest.Hardlink("g", "f"))
	if _, err := s.Apply(t.Context(), "base", nil, bytes.NewReader(base), storage.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	child := storagetest.Layer(t, storagetest.File("h", "2"))
	if _, err := s.Apply(t.Context(), "child", []string{"base"}, bytes.NewReader(child), storage.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	pl, _ := s.Layers("base")
	cl, _ := s.Layers("child")
	var pf, cf, cg unix.Stat_t
	unix.Lstat(filepath.Join(pl[0], "f"), &pf)
	unix.Lstat(filepath.Join(cl[0], "f"), &cf)
	unix.Lstat(filepath.Join(cl[0], "g"), &cg)
	if pf.Ino == cf.Ino {
		t.Fatal("the child shares the parent's inode")
	}
	if cf.Ino != cg.Ino || cf.Nlink != 2 {
		t.Fatalf("hardlink lost in the copy: %d %d nlink %d", cf.Ino, cg.Ino, cf.Nlink)
	}
	if err := unix.Access(filepath.Join(pl[0], "h"), unix.F_OK); err == nil {
		t.Fatal("the child's layer reached the parent")
	}
}
