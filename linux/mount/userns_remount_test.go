package mount

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// lockedFlagsChildEnv carries "SOURCE:TARGET" to the part of
// TestBindInUserNamespaceKeepsLockedFlags that runs in a user namespace.
const lockedFlagsChildEnv = "TINCAN_MOUNT_TEST_LOCKED_FLAGS"

// A mount namespace created with a new user namespace gets the mounts of its
// parent with their nosuid, noexec and atime flags locked, as a container
// with a user namespace does. A bind remount there must keep them rather
// than fail with EPERM.
func TestBindInUserNamespaceKeepsLockedFlags(t *testing.T) {
	if paths := os.Getenv(lockedFlagsChildEnv); paths != "" {
		src, dst, _ := strings.Cut(paths, ":")
		// Not only "ro": "suid" and "exec" ask to clear locked flags, which
		// the kernel refuses; the retry must keep them and succeed.
		if err := Bind(src, dst, mustParse(t, "bind", "ro", "suid", "exec")); err != nil {
			t.Fatal(err)
		}
		want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NOEXEC)
		if flags := statfs(t, dst).Flags; flags&want != want {
			t.Errorf("flags %#x, want at least %#x", flags, want)
		}
		return
	}
	inMountNamespace(t, func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		mountForTest(t, "tmpfs", src, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "")
		rootOnly := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
		runTestInChild(t, []string{lockedFlagsChildEnv + "=" + src + ":" + dst}, &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: rootOnly,
			GidMappings: rootOnly,
		})
	})
}
