package mount

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// userNamespaceFd starts a process in a new user namespace whose ids 0..size-1
// map to host ids hostBase.., and returns an open descriptor of that
// namespace. The process and the descriptor end with the test.
func userNamespaceFd(t *testing.T, hostBase, size int) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(exe)
	holder.Env = append(os.Environ(), usernsHolderEnv+"=1")
	idMap := []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostBase, Size: size}}
	holder.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: idMap,
		GidMappings: idMap,
	}
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Start returns once the maps are written, so the namespace is ready.
	if err := holder.Start(); err != nil {
		skipIfUnsupported(t, err, "user namespaces")
		t.Fatalf("start user namespace holder: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := holder.Wait(); err != nil {
			t.Errorf("user namespace holder: %v", err)
		}
	})
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", holder.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestBindIDMapped(t *testing.T) {
	inMountNamespace(t, func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		file := filepath.Join(src, "f")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(file, 5, 7); err != nil {
			t.Fatal(err)
		}
		const hostBase = 100000
		userns := userNamespaceFd(t, hostBase, 1000)

		if err := BindIDMapped(src, dst, userns, false); err != nil {
			skipIfUnsupported(t, err, "idmapped mounts on the filesystem of "+src)
			t.Fatal(err)
		}
		unmountAtCleanup(t, dst)

		owner := func(path string) (uint32, uint32) {
			var st unix.Stat_t
			if err := unix.Stat(path, &st); err != nil {
				t.Fatal(err)
			}
			return st.Uid, st.Gid
		}
		if uid, gid := owner(filepath.Join(dst, "f")); uid != hostBase+5 || gid != hostBase+7 {
			t.Errorf("through the idmapped mount f is owned by %d:%d, want %d:%d", uid, gid, hostBase+5, hostBase+7)
		}
		if uid, gid := owner(dst); uid != hostBase || gid != hostBase {
			t.Errorf("the mount root is owned by %d:%d, want %d:%d", uid, gid, hostBase, hostBase)
		}
		if uid, gid := owner(file); uid != 5 || gid != 7 {
			t.Errorf("the source changed owner: %d:%d", uid, gid)
		}
		// Flags go on afterwards, as for a plain bind mount.
		if err := ApplyBindOptions(dst, mustParse(t, "ro", "rprivate")); err != nil {
			t.Fatal(err)
		}
		if statfs(t, dst).Flags&unix.ST_RDONLY == 0 {
			t.Error("ro not applied to the idmapped mount")
		}
	})
}
