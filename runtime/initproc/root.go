package initproc

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/pathrs"
	"github.com/tincan/tincan/linux/rootfs"
)

// openProcFD keeps a handle on /proc/self/fd of the host's /proc: after
// pivot_root it is the only way to reopen the exec fifo (an O_PATH fd) for
// writing, whether or not the container mounts its own /proc.
func (in *initState) openProcFD() error {
	if in.b.FifoFD < 0 {
		return nil
	}
	f, err := os.OpenFile("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /proc/self/fd: %w", err)
	}
	in.procFD = f
	return nil
}

func (in *initState) switchRoot() error {
	if in.root == nil {
		// No mount namespace: nothing may be mounted, so, as runc does, the
		// process is only confined to the rootfs with chroot.
		if err := unix.Chroot(in.b.Rootfs); err != nil {
			return fmt.Errorf("chroot to %s: %w", in.b.Rootfs, err)
		}
		return unix.Chdir("/")
	}
	// The root handle refers to the host path; it is of no use afterwards.
	in.root.Close()
	if in.b.NoPivot {
		in.debugf("move %s onto / and chroot (--no-pivot)", in.b.Rootfs)
		return rootfs.MoveRoot(in.b.Rootfs)
	}
	in.debugf("pivot_root into %s and detach the old root", in.b.Rootfs)
	if err := rootfs.PivotRoot(in.b.Rootfs); err != nil {
		return err
	}
	// The configured propagation applies to the container's root; shared
	// and unbindable were held back until now (see setRootPropagation).
	if flags := in.rootPropagation(); flags != 0 {
		return rootfs.SetRootPropagation(flags)
	}
	return nil
}

func (in *initState) maskPaths() error {
	paths := in.b.Spec.Linux.MaskedPaths
	if len(paths) == 0 {
		return nil
	}
	null, err := os.OpenFile("/dev/null", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/null to mask paths: %w", err)
	}
	defer null.Close()
	if err := rootfs.CheckNullDevice(null); err != nil {
		return err
	}
	in.debugf("mask %s", strings.Join(paths, " "))
	for _, p := range paths {
		if err := rootfs.MaskPath(p, null); err != nil {
			return err
		}
	}
	return nil
}

func (in *initState) readonlyPaths() error {
	if ro := in.b.Spec.Linux.ReadonlyPaths; len(ro) > 0 {
		in.debugf("make read-only %s", strings.Join(ro, " "))
	}
	for _, p := range in.b.Spec.Linux.ReadonlyPaths {
		if err := rootfs.ReadonlyPath(p); err != nil {
			return err
		}
	}
	return nil
}

func (in *initState) createCwd() error {
	p := in.process()
	if p == nil || p.Cwd == "" {
		return nil
	}
	// Engines rely on the runtime creating a missing working directory
	// (an image's WORKDIR), as runc does. Resolved inside the root without
	// magic links: /proc/self/fd/N/dir must not create dir on the host.
	root, err := pathrs.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	dir, err := root.MkdirAll(p.Cwd, 0o755)
	if err != nil {
		return fmt.Errorf("create working directory %s: %w", p.Cwd, err)
	}
	return dir.Close()
}

func (in *initState) readonlyRoot() error {
	if in.b.Spec.Root == nil || !in.b.Spec.Root.Readonly {
		return nil
	}
	return rootfs.RemountReadonly("/")
}
