package mount

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

func mustParse(t *testing.T, opts ...string) Options {
	t.Helper()
	o, err := ParseOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMountTmpfsWithData(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		dir := t.TempDir()
		if err := MountWithOptions("tmpfs", dir, "tmpfs", mustParse(t, "nosuid", "nodev", "mode=0710", "size=1m")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, dir)

		st := statfs(t, dir)
		if st.Type != unix.TMPFS_MAGIC {
			t.Fatalf("%s is not a tmpfs: type %#x", dir, st.Type)
		}
		if st.Flags&(unix.ST_NOSUID|unix.ST_NODEV) != unix.ST_NOSUID|unix.ST_NODEV {
			t.Errorf("nosuid,nodev not applied: flags %#x", st.Flags)
		}
		if size := st.Blocks * uint64(st.Bsize); size != 1<<20 {
			t.Errorf("size=1m gave %d bytes", size)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o710 {
			t.Errorf("mode=0710 gave %o", perm)
		}
	})
}

func TestBindReadonlyNosuid(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Bind(src, dst, mustParse(t, "bind", "ro", "nosuid")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, dst)

		if flags := statfs(t, dst).Flags; flags&(unix.ST_RDONLY|unix.ST_NOSUID) != unix.ST_RDONLY|unix.ST_NOSUID {
			t.Errorf("ro,nosuid not applied: flags %#x", flags)
		}
		info := findMountInfo(t, dst)
		if !slices.Contains(info.options, "ro") || !slices.Contains(info.options, "nosuid") {
			t.Errorf("mountinfo options %q lack ro or nosuid", info.options)
		}
		if _, err := os.ReadFile(filepath.Join(dst, "f")); err != nil {
			t.Errorf("bind mount does not show the source: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dst, "g"), nil, 0o644); !errors.Is(err, unix.EROFS) {
			t.Errorf("write through the read-only bind: %v, want EROFS", err)
		}
		if flags := statfs(t, src).Flags; flags&unix.ST_RDONLY != 0 {
			t.Errorf("the source became read-only too: flags %#x", flags)
		}
	})
}

func TestBindKeepsFlagsOfSource(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		mountForTest(t, "tmpfs", src, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NOATIME, "")
		if err := Bind(src, dst, mustParse(t, "bind", "ro")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, dst)

		want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NOEXEC | unix.ST_NOATIME)
		if flags := statfs(t, dst).Flags; flags&want != want {
			t.Errorf("flags %#x, want at least %#x", flags, want)
		}
	})
}

func TestRecursiveReadonlyReachesSubmounts(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		src := t.TempDir()
		sub := filepath.Join(src, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		mountForTest(t, "tmpfs", sub, "tmpfs", 0, "")

		plain, recursive := t.TempDir(), t.TempDir()
		if err := Bind(src, plain, mustParse(t, "rbind", "ro")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, plain)
		err := Bind(src, recursive, mustParse(t, "rbind", "rro", "rnoatime"))
		if err != nil {
			skipIfUnsupported(t, err, "mount_setattr")
			t.Fatal(err)
		}
		unmountAtCleanup(t, recursive)

		// "ro" changes only the top mount; that is why "rro" exists.
		if statfs(t, plain).Flags&unix.ST_RDONLY == 0 {
			t.Error("ro not applied to the top of the rbind")
		}
		if statfs(t, filepath.Join(plain, "sub")).Flags&unix.ST_RDONLY != 0 {
			t.Error("ro reached the submount; the test cannot tell ro from rro")
		}
		want := int64(unix.ST_RDONLY | unix.ST_NOATIME)
		for _, p := range []string{recursive, filepath.Join(recursive, "sub")} {
			if flags := statfs(t, p).Flags; flags&want != want {
				t.Errorf("%s: flags %#x, want rro and rnoatime (%#x)", p, flags, want)
			}
		}
		if statfs(t, sub).Flags&unix.ST_RDONLY != 0 {
			t.Error("rro changed the original submount")
		}
	})
}

func TestBindUndoneWhenALaterStepFails(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		mountForTest(t, "tmpfs", src, "tmpfs", 0, "")
		// Two propagation types at once are invalid: the last step fails.
		o := mustParse(t, "bind", "ro")
		o.Propagation = []uintptr{unix.MS_SHARED | unix.MS_SLAVE}
		if err := Bind(src, dst, o); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("got %v, want EINVAL from the propagation change", err)
		}
		if st := statfs(t, dst); st.Type == unix.TMPFS_MAGIC {
			_ = unix.Unmount(dst, unix.MNT_DETACH)
			t.Error("the bind mount stayed after the failure")
		}
	})
}

func TestPropagationSlaveThenPrivate(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		a, b := t.TempDir(), t.TempDir()
		mountForTest(t, "tmpfs", a, "tmpfs", 0, "")
		if err := SetPropagation(a, unix.MS_SHARED); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"x", "y", "z"} {
			if err := os.Mkdir(filepath.Join(a, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := Bind(a, b, mustParse(t, "rbind", "rslave")); err != nil {
			t.Fatal(err)
		}
		unmountAtCleanup(t, b)
		if info := findMountInfo(t, b); !hasPrefixed(info.optional, "master:") || hasPrefixed(info.optional, "shared:") {
			t.Errorf("rslave: propagation fields %q, want master: only", info.optional)
		}

		// Master to slave propagates ...
		mountWithMarker(t, filepath.Join(a, "x"))
		if !exists(filepath.Join(b, "x", "marker")) {
			t.Error("a mount under the master did not reach the slave")
		}
		// ... slave to master does not.
		mountWithMarker(t, filepath.Join(b, "y"))
		if exists(filepath.Join(a, "y", "marker")) {
			t.Error("a mount under the slave reached the master")
		}

		if err := SetPropagation(b, unix.MS_PRIVATE|unix.MS_REC); err != nil {
			t.Fatal(err)
		}
		if info := findMountInfo(t, b); len(info.optional) != 0 {
			t.Errorf("rprivate: propagation fields %q, want none", info.optional)
		}
		mountWithMarker(t, filepath.Join(a, "z"))
		if exists(filepath.Join(b, "z", "marker")) {
			t.Error("a mount under the old master reached the private mount")
		}
	})
}

// mountWithMarker mounts a tmpfs on dir holding a file named marker, which
// shows where the mount propagated.
func mountWithMarker(t *testing.T, dir string) {
	t.Helper()
	mountForTest(t, "tmpfs", dir, "tmpfs", 0, "")
	if err := os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestRemountReadonlyKeepsOtherFlags(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		dir := t.TempDir()
		mountForTest(t, "tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOATIME, "")
		if err := RemountReadonly(dir); err != nil {
			t.Fatal(err)
		}
		want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_NOATIME)
		if flags := statfs(t, dir).Flags; flags&want != want {
			t.Errorf("flags %#x, want at least %#x", flags, want)
		}
	})
}

func TestMountWithOptionsRefusesIDMap(t *testing.T) {
	err := MountWithOptions("/src", "/nonexistent", "", mustParse(t, "rbind", "idmap"))
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("got %v, want an invalid-argument error", err)
	}
}

func TestTmpCopyUpNeedsTmpfs(t *testing.T) {
	err := MountWithOptions("/dev/sda1", "/nonexistent", "ext4", Options{TmpCopyUp: true})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("got %v, want an invalid-argument error", err)
	}
}
