package mount

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeCopyUpTree fills dir with one of each kind of entry tmpcopyup copies.
func makeCopyUpTree(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "f"), []byte("contents"), 0o640))
	must(os.Chown(filepath.Join(dir, "f"), 1234, 5678))
	must(os.Chtimes(filepath.Join(dir, "f"), time.Unix(1000, 0), time.Unix(2000, 0)))
	must(os.Mkdir(filepath.Join(dir, "d"), 0o751))
	must(os.WriteFile(filepath.Join(dir, "d", "g"), []byte("nested"), 0o600))
	must(os.Symlink("f", filepath.Join(dir, "l")))
	must(unix.Mkfifo(filepath.Join(dir, "p"), 0o600))
	must(os.Chmod(filepath.Join(dir, "p"), 0o620)) // past the umask
}

func TestTmpCopyUp(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		dir := t.TempDir()
		makeCopyUpTree(t, dir)
		if err := MountWithOptions("tmpfs", dir, "tmpfs", mustParse(t, "tmpcopyup", "nosuid", "mode=755")); err != nil {
			t.Fatal(err)
		}
		unmounted := false
		t.Cleanup(func() {
			if !unmounted {
				_ = unix.Unmount(dir, unix.MNT_DETACH)
			}
		})
		if st := statfs(t, dir); st.Type != unix.TMPFS_MAGIC || st.Flags&unix.ST_NOSUID == 0 {
			t.Fatalf("%s: type %#x flags %#x, want a nosuid tmpfs", dir, st.Type, st.Flags)
		}
		checkCopiedTree(t, dir)

		// Writes land in the tmpfs, not in the directory it covers.
		if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Unmount(dir, 0); err != nil {
			t.Fatal(err)
		}
		unmounted = true
		if exists(filepath.Join(dir, "new")) {
			t.Error("a write to the tmpfs reached the covered directory")
		}
		if !exists(filepath.Join(dir, "f")) {
			t.Error("the covered directory lost its contents")
		}
	})
}

func TestTmpCopyUpReadonly(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		dir := t.TempDir()
		makeCopyUpTree(t, dir)
		if err := MountWithOptions("tmpfs", dir, "tmpfs", mustParse(t, "tmpcopyup", "ro", "nodev")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, dir)
		want := int64(unix.ST_RDONLY | unix.ST_NODEV)
		if st := statfs(t, dir); st.Type != unix.TMPFS_MAGIC || st.Flags&want != want {
			t.Fatalf("%s: type %#x flags %#x, want a read-only nodev tmpfs", dir, st.Type, st.Flags)
		}
		checkCopiedTree(t, dir)
	})
}

func checkCopiedTree(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "f"))
	if err != nil || string(data) != "contents" {
		t.Errorf("f: %q, %v", data, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "f"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1234 || st.Gid != 5678 || st.Mode&0o7777 != 0o640 || st.Mtim.Sec != 2000 {
		t.Errorf("f: uid %d gid %d mode %o mtime %d, want 1234 5678 640 2000", st.Uid, st.Gid, st.Mode&0o7777, st.Mtim.Sec)
	}
	if fi, err := os.Stat(filepath.Join(dir, "d")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o751 {
		t.Errorf("d: %v, %v", fi, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "d", "g")); err != nil || string(data) != "nested" {
		t.Errorf("d/g: %q, %v", data, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "l")); err != nil || target != "f" {
		t.Errorf("l: %q, %v", target, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "p")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o620 {
		t.Errorf("p: %v, %v", fi, err)
	}
}
