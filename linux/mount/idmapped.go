package mount

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// BindIDMapped bind-mounts source on target with the id mapping of the user
// namespace usernsFd (an open /proc/PID/ns/user): a file whose owner is
// stored as id N shows, through target, as the host id that N maps to in
// that namespace's uid_map/gid_map. With recursive, the submounts of source
// come along and are idmapped too ("ridmap").
//
// It clones the tree with open_tree(2), sets MOUNT_ATTR_IDMAP on the
// detached clone with mount_setattr(2) (the kernel allows that only before
// the mount is attached) and attaches it with move_mount(2). Needs Linux
// 5.12 and a filesystem that supports idmapped mounts; flags and
// propagation are left to ApplyBindOptions.
func BindIDMapped(source, target string, usernsFd int, recursive bool) error {
	treeFlags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	attrFlags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		treeFlags |= unix.AT_RECURSIVE
		attrFlags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, source, treeFlags)
	if err != nil {
		return idmapError("clone mount tree", source, target, err)
	}
	defer unix.Close(tree)

	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFd)}
	if err := unix.MountSetattr(tree, "", attrFlags, &attr); err != nil {
		step := "set id mapping"
		if errors.Is(err, unix.EINVAL) {
			// Nearly always the filesystem of source cannot do idmapped
			// mounts; say so rather than leave a bare "invalid argument".
			step += " (does the filesystem support idmapped mounts?)"
		}
		return idmapError(step, source, target, err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return idmapError("attach", source, target, err)
	}
	return nil
}

func idmapError(step, source, target string, err error) error {
	if errors.Is(err, unix.ENOSYS) {
		return errdefs.Unsupported("idmapped mount of %s on %s: %s: the kernel lacks the new mount API (Linux 5.12 or later): %w", source, target, step, err)
	}
	return fmt.Errorf("idmapped mount of %s on %s: %s: %w", source, target, step, err)
}
