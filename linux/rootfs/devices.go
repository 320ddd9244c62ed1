package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/pathrs"
)

// DefaultDevices are the devices every Linux container gets (runtime-spec
// "Default Devices"); /dev/console and /dev/ptmx are handled separately.
func DefaultDevices() []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	zero := uint32(0)
	dev := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
	}
	return []specs.LinuxDevice{
		dev("/dev/null", 1, 3),
		dev("/dev/zero", 1, 5),
		dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8),
		dev("/dev/urandom", 1, 9),
		dev("/dev/tty", 5, 0),
	}
}

// CreateDevice makes the device node d.Path inside root. With bindFromHost
// (needed in a user namespace, where mknod is not allowed) it bind-mounts
// the host's node at the same path instead.
func CreateDevice(root *pathrs.Root, d specs.LinuxDevice, bindFromHost bool) error {
	if bindFromHost {
		return bindDevice(root, d)
	}
	dir, err := root.MkdirAll(filepath.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	base := filepath.Base(d.Path)
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	var kind uint32
	switch d.Type {
	case "c", "u":
		kind = unix.S_IFCHR
	case "b":
		kind = unix.S_IFBLK
	case "p":
		kind = unix.S_IFIFO
	default:
		return fmt.Errorf("device %s: unknown type %q", d.Path, d.Type)
	}
	// An existing entry (from the image or a previous mount) is replaced:
	// the config is what decides what the node is.
	if err := unix.Unlinkat(int(dir.Fd()), base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove existing %s: %w", d.Path, err)
	}
	rdev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if err := unix.Mknodat(int(dir.Fd()), base, kind|mode, rdev); err != nil {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	// mknod is subject to the umask; set the exact mode and owner.
	if err := unix.Fchmodat(int(dir.Fd()), base, mode, 0); err != nil {
		return fmt.Errorf("chmod %s: %w", d.Path, err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(int(dir.Fd()), base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", d.Path, err)
	}
	return nil
}

func bindDevice(root *pathrs.Root, d specs.LinuxDevice) error {
	target, err := root.CreateFile(d.Path, 0o000)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Mount(d.Path, pathrs.ProcPath(target), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind host device %s: %w", d.Path, err)
	}
	return nil
}

// DevSymlinks creates the /dev symlinks a Linux userland expects, inside
// root: fd, stdin, stdout, stderr, ptmx (to the container's devpts) and
// core when the host has /proc/kcore.
func DevSymlinks(root *pathrs.Root) error {
	dev, err := root.MkdirAll("/dev", 0o755)
	if err != nil {
		return err
	}
	defer dev.Close()
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s -> %s: %w", l[1], l[0], err)
		}
	}
	// /dev/ptmx must be the devpts instance's ptmx, so a pty opened in the
	// container belongs to the container's devpts.
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", int(dev.Fd()), "ptmx"); err != nil {
		return fmt.Errorf("symlink /dev/ptmx -> pts/ptmx: %w", err)
	}
	return nil
}
