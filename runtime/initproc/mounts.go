package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/mount"
	"github.com/tincan/tincan/linux/pathrs"
	"github.com/tincan/tincan/linux/rootfs"
	"github.com/tincan/tincan/linux/selinux"
)

var propagationFlags = map[string]uintptr{
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// rootPropagation is linux.rootfsPropagation as mount flags (0 when unset).
func (in *initState) rootPropagation() uintptr {
	return propagationFlags[in.b.Spec.Linux.RootfsPropagation]
}

func (in *initState) setRootPropagation() error {
	flags := in.rootPropagation()
	// Until pivot_root the copy of the host's mounts must neither send the
	// container's setup mounts back (shared) nor refuse to be bind-mounted
	// (unbindable): those two apply to the new root only, after the switch.
	// Unset means rslave, so host mounts still reach the container but not
	// the reverse.
	if flags == 0 || flags&(unix.MS_SHARED|unix.MS_UNBINDABLE) != 0 {
		flags = unix.MS_SLAVE | unix.MS_REC
	}
	in.debugf("make every mount of the new mount namespace %s", propagationName(flags))
	return rootfs.SetRootPropagation(flags)
}

// propagationName names propagation flags for debug lines.
func propagationName(flags uintptr) string {
	for name, f := range propagationFlags {
		if f == flags {
			return name
		}
	}
	return fmt.Sprintf("%#x", flags)
}

func (in *initState) bindRootfs() error {
	in.debugf("bind the rootfs %s onto itself, ready for pivot_root", in.b.Rootfs)
	// pivot_root refuses a new root under a shared mount.
	if err := rootfs.MakeParentPrivate(in.b.Rootfs); err != nil {
		return err
	}
	if err := rootfs.BindSelf(in.b.Rootfs); err != nil {
		return err
	}
	root, err := pathrs.OpenRoot(in.b.Rootfs)
	if err != nil {
		return err
	}
	in.root = root
	return nil
}

func (in *initState) mountEntries() error {
	for i, m := range in.b.Spec.Mounts {
		if err := in.mountEntry(m); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", i, m.Type, m.Destination, err)
		}
	}
	return nil
}

func isBind(m specs.Mount, o mount.Options) bool {
	return m.Type == "bind" || o.Bind
}

func (in *initState) mountEntry(m specs.Mount) error {
	o, err := mount.ParseOptions(m.Options)
	if err != nil {
		return err
	}
	in.debugf("mount %s on %s (type %s, options %s)", m.Source, m.Destination, m.Type, strings.Join(m.Options, ","))
	dest := filepath.Clean("/" + m.Destination)
	switch {
	case isBind(m, o):
		return in.mountBind(m, dest, o)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		return in.mountCgroups(dest, o)
	}
	target, err := in.root.MkdirAll(dest, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	if o.TmpCopyUp {
		return in.mountTmpCopyUp(m, dest, target, o)
	}
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	data := selinux.MountData(o.DataString(), in.b.Spec.Linux.MountLabel, m.Type)
	err = mount.Mount(m.Source, pathrs.ProcPath(target), m.Type, flags, data)
	if err != nil && errors.Is(err, unix.EPERM) {
		// In a user namespace that does not own the network (sysfs) or IPC
		// (mqueue) namespace the kernel refuses a fresh instance; bind the
		// host's instead, as runc does.
		if alt := hostInstance(m.Type); alt != "" {
			return in.mountBind(specs.Mount{Source: alt, Type: "bind"}, dest,
				mount.Options{Bind: true, Recursive: true, Flags: o.Flags | unix.MS_BIND | unix.MS_REC})
		}
	}
	if err != nil {
		return err
	}
	if m.Type == "proc" || m.Type == "sysfs" {
		if err := in.checkMountType(dest, m.Type); err != nil {
			return err
		}
	}
	return in.afterMount(dest, o)
}

func hostInstance(fstype string) string {
	switch fstype {
	case "sysfs":
		return "/sys"
	case "mqueue":
		return "/dev/mqueue"
	}
	return ""
}

// afterMount applies what a first mount(2) call cannot: recursive
// attributes and propagation. The destination is opened again because the
// old handle still points at the directory under the new mount.
func (in *initState) afterMount(dest string, o mount.Options) error {
	if o.RecursiveSet == 0 && o.RecursiveClear == 0 && len(o.Propagation) == 0 {
		return nil
	}
	mnt, err := in.root.Open(dest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		// Non-directories (a file bind mount) are opened without O_DIRECTORY.
		if mnt, err = in.root.Open(dest, unix.O_PATH); err != nil {
			return err
		}
	}
	defer mnt.Close()
	p := pathrs.ProcPath(mnt)
	if o.RecursiveSet != 0 || o.RecursiveClear != 0 {
		if err := mount.SetRecursiveAttr(p, o.RecursiveSet, o.RecursiveClear); err != nil {
			return err
		}
	}
	for _, flag := range o.Propagation {
		if err := mount.SetPropagation(p, flag); err != nil {
			return err
		}
	}
	return nil
}

func (in *initState) mountBind(m specs.Mount, dest string, o mount.Options) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		// Relative bind sources are relative to the bundle, as in runc.
		src = filepath.Join(in.b.Bundle, src)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	var target *os.File
	if fi.IsDir() {
		target, err = in.root.MkdirAll(dest, 0o755)
	} else {
		target, err = in.root.CreateFile(dest, 0o644)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	flags := uintptr(unix.MS_BIND)
	if o.Recursive {
		flags |= unix.MS_REC
	}
	if err := mount.Mount(src, pathrs.ProcPath(target), "", flags, ""); err != nil {
		return err
	}
	if o.IDMap != nil {
		return fmt.Errorf("idmap: idmapped mounts are not supported yet")
	}
	// The first MS_BIND ignores most flags; remount, recursive attributes
	// and propagation apply to the new mount, reached by opening dest again.
	mnt, err := in.reopen(dest)
	if err != nil {
		return err
	}
	defer mnt.Close()
	return mount.ApplyBindOptions(pathrs.ProcPath(mnt), o)
}

// reopen opens dest again after a mount on it.
func (in *initState) reopen(dest string) (*os.File, error) {
	return in.root.Open(dest, unix.O_PATH)
}

// mountTmpCopyUp mounts a tmpfs and copies what the image had at dest into
// it, so the mount starts with the image's files (used for /dev and /run).
func (in *initState) mountTmpCopyUp(m specs.Mount, dest string, target *os.File, o mount.Options) error {
	staging, err := os.MkdirTemp("", "tincan-copyup")
	if err != nil {
		return err
	}
	defer os.Remove(staging)
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT | unix.MS_RDONLY)
	if err := mount.Mount(m.Source, staging, "tmpfs", flags, o.DataString()); err != nil {
		return err
	}
	if err := copyTree(pathrs.ProcPath(target), staging); err != nil {
		unix.Unmount(staging, unix.MNT_DETACH)
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	err = unix.Mount(staging, pathrs.ProcPath(target), "", unix.MS_MOVE, "")
	unix.Unmount(staging, unix.MNT_DETACH)
	if err != nil {
		return fmt.Errorf("tmpcopyup: move tmpfs onto %s: %w", dest, err)
	}
	if o.Flags&unix.MS_RDONLY != 0 {
		mnt, err := in.reopen(dest)
		if err != nil {
			return err
		}
		defer mnt.Close()
		if err := rootfs.RemountReadonly(pathrs.ProcPath(mnt)); err != nil {
			return err
		}
	}
	return in.afterMount(dest, o)
}

// mountCgroups shows the container's cgroups at dest: with a cgroup
// namespace of its own a fresh cgroupfs instance (which shows the namespace
// root), otherwise bind mounts of the container's cgroup directories.
func (in *initState) mountCgroups(dest string, o mount.Options) error {
	ownNS := in.newNamespace(specs.CgroupNamespace)
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if len(in.b.CgroupMounts) == 1 && in.b.CgroupMounts[0].Subsystems == "" {
		target, err := in.root.MkdirAll(dest, 0o755)
		if err != nil {
			return err
		}
		defer target.Close()
		if ownNS {
			return mount.Mount("cgroup2", pathrs.ProcPath(target), "cgroup2", flags, "")
		}
		return in.bindCgroupDir(in.b.CgroupMounts[0].HostDir, dest, flags)
	}
	// cgroup v1: a tmpfs holding one directory per hierarchy.
	target, err := in.root.MkdirAll(dest, 0o755)
	if err != nil {
		return err
	}
	err = mount.Mount("tmpfs", pathrs.ProcPath(target), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755")
	target.Close()
	if err != nil {
		return err
	}
	for _, cm := range in.b.CgroupMounts {
		name := strings.TrimPrefix(cm.Subsystems, "name=")
		sub := filepath.Join(dest, name)
		if cm.Subsystems == "" {
			sub = filepath.Join(dest, "unified")
		}
		dir, err := in.root.MkdirAll(sub, 0o755)
		if err != nil {
			return err
		}
		switch {
		case ownNS && cm.Subsystems == "":
			err = mount.Mount("cgroup2", pathrs.ProcPath(dir), "cgroup2", flags, "")
		case ownNS:
			err = mount.Mount("cgroup", pathrs.ProcPath(dir), "cgroup", flags, cm.Subsystems)
		default:
			err = in.bindCgroupDir(cm.HostDir, sub, flags)
		}
		dir.Close()
		if err != nil {
			return err
		}
		// Comounted hierarchies ("cpu,cpuacct") also get a link per
		// controller, as systemd lays them out.
		if parts := strings.Split(name, ","); len(parts) > 1 {
			if err := in.linkComounted(dest, name, parts); err != nil {
				return err
			}
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		mnt, err := in.reopen(dest)
		if err != nil {
			return err
		}
		defer mnt.Close()
		return rootfs.RemountReadonly(pathrs.ProcPath(mnt))
	}
	return nil
}

func (in *initState) bindCgroupDir(hostDir, dest string, flags uintptr) error {
	if hostDir == "" {
		return nil
	}
	return in.mountBind(specs.Mount{Source: hostDir, Type: "bind"}, dest,
		mount.Options{Bind: true, Recursive: true, Flags: flags | unix.MS_BIND | unix.MS_REC})
}

func (in *initState) linkComounted(dest, name string, controllers []string) error {
	dir, err := in.root.MkdirAll(dest, 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	for _, c := range controllers {
		if err := unix.Symlinkat(name, int(dir.Fd()), c); err != nil && err != unix.EEXIST {
			return fmt.Errorf("symlink %s/%s -> %s: %w", dest, c, name, err)
		}
	}
	return nil
}
