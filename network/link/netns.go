package link

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// maxStackedMounts bounds how many mounts RemoveNetNS peels off one path.
const maxStackedMounts = 16

// CreateNetNS makes a new network namespace and keeps it alive by bind-mounting it on
// path (created as an empty file, parent dirs made 0700). The namespace is made on a
// throwaway OS thread, so no thread of the caller changes namespace. Loopback is
// brought up in it. It fails if path exists and is already a netns mount.
//
// The mount is made in the caller's mount namespace with the propagation of the
// mount that holds path: under a shared mount it propagates to its peers.
func CreateNetNS(path string) error {
	created, err := prepareNetNSFile(path)
	if err != nil {
		return err
	}
	err = onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("create network namespace %s: unshare: %w", path, err)
		}
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("create network namespace %s: %w", path, err)
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind network namespace on %s: %w", path, err)
		}
		return nil
	})
	if err != nil && created {
		_ = os.Remove(path)
	}
	return err
}

// BindNetNS bind-mounts an existing namespace file (e.g. /proc/PID/ns/net) on path
// (for --network container:NAME). It fails if source is not a network namespace or
// path is already a netns mount.
func BindNetNS(path, source string) error {
	f, err := os.Open(source)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", source, err)
	}
	err = checkNetNSFd(int(f.Fd()))
	f.Close()
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", source, err)
	}
	created, err := prepareNetNSFile(path)
	if err != nil {
		return err
	}
	if err := unix.Mount(source, path, "", unix.MS_BIND, ""); err != nil {
		if created {
			_ = os.Remove(path)
		}
		return fmt.Errorf("bind network namespace %s on %s: %w", source, path, err)
	}
	return nil
}

// RemoveNetNS unmounts path (MNT_DETACH) and removes the file; a missing path is
// fine. Mounts stacked on path by repeated binds are all removed.
func RemoveNetNS(path string) error {
	for range maxStackedMounts {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if err == nil {
			continue
		}
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if errors.Is(err, unix.EINVAL) { // not (or no longer) a mount point
			break
		}
		return fmt.Errorf("unmount network namespace %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove network namespace file %s: %w", path, err)
	}
	return nil
}

// prepareNetNSFile makes path an empty file to mount a namespace on, creating its
// parent directories 0700. It reports whether it created the file. An existing
// regular file (left behind by a crash) is reused; an existing netns mount is an
// error.
func prepareNetNSFile(path string) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create directory for network namespace %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err == nil {
		f.Close()
		return true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("create network namespace file %s: %w", path, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, fmt.Errorf("inspect network namespace file %s: %w", path, err)
	}
	if st.Type == unix.NSFS_MAGIC {
		return false, fmt.Errorf("network namespace file %s: already a namespace mount: %w", path, fs.ErrExist)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return false, fmt.Errorf("inspect network namespace file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("network namespace file %s: not a regular file (%s)", path, fi.Mode().Type())
	}
	return false, nil
}

// loopbackUp brings lo up in the calling thread's network namespace.
func loopbackUp() error {
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink socket: %w", err)
	}
	defer nl.Close()
	return setLoopbackUp(nl)
}

func setLoopbackUp(nl *netlink.Handle) error {
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}
