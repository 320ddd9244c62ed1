// Package rootfs holds the kernel mechanisms that turn a directory into a
// container's root: pivot_root (and the MS_MOVE fallback), masking and
// read-only remounting of paths, device nodes and /dev symlinks.
//
// It does not decide which paths to mask or which devices to create; the
// init sequence (runtime/initproc) reads that from the config. Functions
// that take paths inside the new root must be called after the switch;
// those that take a rootfs path are for before it.
package rootfs

import (
	"fmt"
	"os"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// SetRootPropagation changes the propagation of every mount in this mount
// namespace (flags such as MS_SLAVE|MS_REC), so that what the container
// mounts does not reach the host and host mounts reach the container only
// as configured.
func SetRootPropagation(flags uintptr) error {
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set propagation of / to %#x: %w", flags, err)
	}
	return nil
}

// MakeParentPrivate makes the mount that contains dir private if it is
// shared: pivot_root refuses a new root under a shared mount. A slave or
// private mount is left alone, so the container's root keeps receiving
// host mounts when its propagation says so (the default, rslave).
func MakeParentPrivate(dir string) error {
	mp, shared, err := mountPointOf(dir)
	if err != nil {
		return err
	}
	if !shared {
		return nil
	}
	if err := unix.Mount("", mp, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mount %s (parent of %s) private: %w", mp, dir, err)
	}
	return nil
}

// mountPointOf returns the mount point of the mount that holds dir, and
// whether that mount is shared (has a "shared:" peer group).
func mountPointOf(dir string) (string, bool, error) {
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return "", false, fmt.Errorf("read mountinfo: %w", err)
	}
	var best *mountinfo.Info
	for _, m := range mounts {
		mp := m.Mountpoint
		// Later entries are mounted on top of earlier ones at the same
		// point, so >= keeps the topmost.
		if (dir == mp || mp == "/" || strings.HasPrefix(dir, mp+"/")) && (best == nil || len(mp) >= len(best.Mountpoint)) {
			best = m
		}
	}
	if best == nil {
		return "", false, fmt.Errorf("no mount holds %s", dir)
	}
	return best.Mountpoint, strings.Contains(best.Optional, "shared:"), nil
}

// BindSelf bind-mounts dir onto itself (recursively) so that it is a mount
// point, which pivot_root and MS_MOVE need.
func BindSelf(dir string) error {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s onto itself: %w", dir, err)
	}
	return nil
}

// PivotRoot makes rootfs the root of this mount namespace and detaches the
// old root, leaving the process in "/".
//
// It uses pivot_root(".", "."), which stacks the old root on top of the new
// one and so needs no directory inside the rootfs to park it in.
func PivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", rootfs, err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to new root %s: %w", rootfs, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Slave before unmounting, so the unmount cannot propagate to the host
	// if the old root was shared.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to / in new root: %w", err)
	}
	return detachOldRoot(newRoot)
}

// detachOldRoot detaches the old root, stacked on the new one by
// pivot_root, one mount at a time until the new root is on top. "/.." is
// the path that shows what is stacked on the process's root (lookups
// starting at the root itself do not), and umount follows it to the
// topmost mount: when the host had something mounted over its own /, the
// old root is two mounts deep, and stopping after the top one would leave
// the host's root reachable in the container.
func detachOldRoot(newRoot int) error {
	var want unix.Stat_t
	if err := unix.Fstat(newRoot, &want); err != nil {
		return fmt.Errorf("stat new root: %w", err)
	}
	for i := 0; i < 64; i++ {
		var st unix.Stat_t
		if err := unix.Stat("/..", &st); err != nil {
			return fmt.Errorf("stat /.. after pivot_root: %w", err)
		}
		if st.Dev == want.Dev && st.Ino == want.Ino {
			return nil
		}
		if err := unix.Unmount("/..", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detach old root: %w", err)
		}
	}
	return fmt.Errorf("detach old root: the new root never came to the top")
}

// MoveRoot is the --no-pivot fallback for roots that cannot be pivoted
// (a ramfs initrd): move the rootfs mount over "/" and chroot into it.
// The old root stays reachable to anything that escapes the chroot, which
// is why pivot_root is the default.
func MoveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot to rootfs %s: %w", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to / after chroot: %w", err)
	}
	return nil
}

// RemountReadonly remounts the mount at path read-only, keeping the flags
// it has (a user namespace forbids clearing locked flags such as nosuid).
func RemountReadonly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	flags := uintptr(st.Flags)&lockedFlags | unix.MS_RDONLY | unix.MS_REMOUNT | unix.MS_BIND
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", path, err)
	}
	return nil
}

// lockedFlags are the statfs flags that must be kept on a bind remount.
const lockedFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME |
	unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_RDONLY

// ReadonlyPath makes path (inside the current root) read-only by binding it
// onto itself and remounting. A missing path is not an error.
func ReadonlyPath(path string) error {
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("bind readonly path %s: %w", path, err)
	}
	return RemountReadonly(path)
}

// MaskPath hides path (inside the current root): directories get an empty
// read-only tmpfs, everything else /dev/null bound over it. nullDev must be
// an open handle on the container's /dev/null that the caller has checked is
// the real null device (1:3), so a planted file cannot be bound instead.
// A missing path is not an error.
func MaskPath(path string, nullDev *os.File) error {
	fi, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat masked path %s: %w", path, err)
	}
	if fi.IsDir() {
		if err := unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "size=0k,nr_inodes=1"); err != nil {
			return fmt.Errorf("mask directory %s: %w", path, err)
		}
		return nil
	}
	src := fmt.Sprintf("/proc/self/fd/%d", nullDev.Fd())
	if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mask %s with /dev/null: %w", path, err)
	}
	return nil
}

// CheckNullDevice verifies that f is the character device 1:3.
func CheckNullDevice(f *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(uint64(st.Rdev)) != 1 || unix.Minor(uint64(st.Rdev)) != 3 {
		return fmt.Errorf("%s is not the null device (1:3); refusing to use it to mask paths", f.Name())
	}
	return nil
}
