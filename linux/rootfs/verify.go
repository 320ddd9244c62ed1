package rootfs

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/pathrs"
)

// fsMagic are the statfs f_type values of the filesystems whose mounts the
// runtime writes to or masks paths in, by mount type name.
var fsMagic = map[string]int64{
	"proc":  unix.PROC_SUPER_MAGIC,
	"sysfs": unix.SYSFS_MAGIC,
}

// CheckFSType verifies that the open file f is on a filesystem of type
// fstype ("proc" or "sysfs"): a mount target redirected by a symlink or
// an overmount (CVE-2019-19921, CVE-2025-52565/52881 class) shows up as
// another filesystem, and masking paths in it or writing to it would then
// miss the real one.
func CheckFSType(f *os.File, fstype string) error {
	magic, ok := fsMagic[fstype]
	if !ok {
		return fmt.Errorf("check filesystem of %s: no known magic number for %q", f.Name(), fstype)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("statfs %s: %w", f.Name(), err)
	}
	if int64(st.Type) != magic {
		return fmt.Errorf("%s is not a %s mount (filesystem type %#x, want %#x): refusing to use it", f.Name(), fstype, st.Type, magic)
	}
	return nil
}

// CheckMountedFS verifies that dir, a path in the current root (after the
// switch), is a directory on a filesystem of type fstype. The last
// component must not be a symlink.
func CheckMountedFS(dir, fstype string) error {
	f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("check %s mount at %s: %w", fstype, dir, err)
	}
	defer f.Close()
	return CheckFSType(f, fstype)
}

// EnterDir makes dir, a path in the current root (after the switch), the
// working directory. It is resolved inside the root without magic links,
// so "/proc/self/fd/N" cannot name a directory the runtime holds open
// outside the container (CVE-2024-21626), and CheckCwdInRoot confirms the
// result. It must run as the container's user: the kernel checks search
// permission as for chdir.
func EnterDir(dir string) error {
	root, err := pathrs.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	d, err := root.Open(dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Fchdir(int(d.Fd())); err != nil {
		return fmt.Errorf("fchdir %s: %w", dir, err)
	}
	return CheckCwdInRoot()
}

// CheckCwdInRoot verifies that the working directory is reachable from the
// current root: the kernel's getcwd prefixes a directory outside the root
// with "(unreachable)" (a chdir through a leaked host fd does that), and a
// process started there could walk the host's tree with "..".
func CheckCwdInRoot() error {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return fmt.Errorf("getcwd: %w", err)
	}
	wd := strings.TrimRight(string(buf[:n]), "\x00")
	if !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("working directory %q is outside the container's root filesystem", wd)
	}
	return nil
}
