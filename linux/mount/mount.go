package mount

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// Mount is mount(2) with an error that names what failed. The error leaves
// out data, which can hold credentials (cifs "password=").
func Mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (type %q, flags %#x): %w", source, target, fstype, flags, err)
	}
	return nil
}

// MountWithOptions mounts source on target as an OCI mount with options o:
// a bind mount when o asks for one (see Bind), otherwise a new fstype mount
// with o's flags and data, optionally filled from the old contents of target
// (tmpcopyup), followed by o's recursive attributes and propagation. If a
// later step fails the mount is taken off again, so that nothing is left
// half-configured (writable where read-only was asked).
//
// Idmapped mounts need a user namespace and go through BindIDMapped and
// ApplyBindOptions instead.
func MountWithOptions(source, target, fstype string, o Options) error {
	if err := refuseIDMap(source, target, o); err != nil {
		return err
	}
	if o.Bind {
		return Bind(source, target, o)
	}
	if o.TmpCopyUp {
		if fstype != "tmpfs" {
			return errdefs.InvalidArgument("mount on %s: tmpcopyup needs a tmpfs mount, not %q", target, fstype)
		}
		if err := mountTmpfsCopyUp(source, target, o); err != nil {
			return err
		}
	} else if err := Mount(source, target, fstype, o.Flags, o.DataString()); err != nil {
		return err
	}
	return undoOnError(target, applyRecursiveAndPropagation(target, o))
}

// Bind bind-mounts source on target (recursively for "rbind") and then
// applies the rest of o with ApplyBindOptions, taking the bind mount off
// again if that fails.
func Bind(source, target string, o Options) error {
	if err := refuseIDMap(source, target, o); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND)
	if o.Recursive {
		flags |= unix.MS_REC
	}
	if err := unix.Mount(source, target, "", flags, ""); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", source, target, err)
	}
	return undoOnError(target, ApplyBindOptions(target, o))
}

// refuseIDMap stops an "idmap" mount from being made without its mapping,
// which would show the container files owned by the wrong ids.
func refuseIDMap(source, target string, o Options) error {
	if o.IDMap != nil {
		return errdefs.InvalidArgument("mount %s on %s: an idmapped mount needs a user namespace; use BindIDMapped", source, target)
	}
	return nil
}

// undoOnError detaches the mount just made on target when err says a later
// step failed.
func undoOnError(target string, err error) error {
	if err == nil {
		return nil
	}
	if uerr := unix.Unmount(target, unix.MNT_DETACH); uerr != nil {
		return errors.Join(err, fmt.Errorf("undo mount on %s: %w", target, uerr))
	}
	return err
}

// ApplyBindOptions gives the bind mount at target the per-mount flags,
// recursive attributes and propagation of o, in that order.
//
// The first MS_BIND mount ignores flags such as MS_RDONLY, so they take a
// second, remount call. That call keeps every flag o does not mention as
// the source had it, and when the kernel refuses (EPERM: in a user namespace
// the nosuid, nodev, noexec and atime flags inherited from the host are
// locked) it retries once keeping those, as other runtimes do. Only flags
// that o sets trigger a remount: "rw" alone on a bind of a read-only
// source leaves it read-only rather than costing a remount that would fail.
func ApplyBindOptions(target string, o Options) error {
	if o.Flags&(perMountFlags|atimeFlags) != 0 {
		if err := remountBind(target, o); err != nil {
			return err
		}
	}
	return applyRecursiveAndPropagation(target, o)
}

func remountBind(target string, o Options) error {
	current, err := currentFlags(target)
	if err != nil {
		return err
	}
	flags := bindRemountFlags(o, current)
	err = unix.Mount("", target, "", flags, "")
	if errors.Is(err, unix.EPERM) {
		if relaxed := withLockedFlags(flags, current); relaxed != flags {
			flags = relaxed
			err = unix.Mount("", target, "", flags, "")
		}
	}
	if err != nil {
		return fmt.Errorf("remount bind mount %s with flags %#x (it had %#x): %w", target, flags, current, err)
	}
	return nil
}

func applyRecursiveAndPropagation(target string, o Options) error {
	if o.RecursiveSet != 0 || o.RecursiveClear != 0 {
		if err := SetRecursiveAttr(target, o.RecursiveSet, o.RecursiveClear); err != nil {
			return err
		}
	}
	for _, p := range o.Propagation {
		if err := SetPropagation(target, p); err != nil {
			return err
		}
	}
	return nil
}

// SetPropagation changes the propagation type of the mount at target;
// flags is one of MS_SHARED, MS_PRIVATE, MS_SLAVE or MS_UNBINDABLE, with
// MS_REC to change every mount below it as well.
func SetPropagation(target string, flags uintptr) error {
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("set propagation %#x of %s: %w", flags, target, err)
	}
	return nil
}

// RemountReadonly makes the mount at target read-only, keeping its other
// per-mount flags (nosuid, nodev, noexec, atime), which a bare
// MS_REMOUNT|MS_BIND|MS_RDONLY would clear or, in a user namespace, fail on.
func RemountReadonly(target string) error {
	return remountBind(target, Options{Flags: unix.MS_RDONLY})
}

// SetRecursiveAttr changes the MOUNT_ATTR_* attributes of the mount at
// target and of every mount below it with mount_setattr(2) (Linux 5.12).
// To change the atime mode, put MOUNT_ATTR__ATIME in clear and the mode in
// set, as ParseOptions does.
func SetRecursiveAttr(target string, set, clear uint64) error {
	attr := unix.MountAttr{Attr_set: set, Attr_clr: clear}
	err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, &attr)
	if errors.Is(err, unix.ENOSYS) {
		return errdefs.Unsupported("set recursive mount attributes on %s: mount_setattr needs Linux 5.12 or later: %w", target, err)
	}
	if err != nil {
		return fmt.Errorf("set recursive mount attributes on %s (set %#x, clear %#x): %w", target, set, clear, err)
	}
	return nil
}

// currentFlags reads the MS_* flags the mount at path has now.
func currentFlags(path string) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return mountFlagsFromStatfs(st.Flags), nil
}
