package initproc

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/apparmor"
	"github.com/tincan/tincan/linux/landlock"
	"github.com/tincan/tincan/linux/rootfs"
	"github.com/tincan/tincan/linux/selinux"
)

// applyLSMLabels asks the kernel to confine the next execve with
// process.apparmorProfile and process.selinuxLabel. create checked that
// the host has the LSM ("unconfined" passes without AppArmor).
func (in *initState) applyLSMLabels() error {
	p := in.process()
	if p == nil {
		return nil
	}
	if p.ApparmorProfile != "" && apparmor.Enabled() {
		if err := apparmor.ApplyExecProfile(p.ApparmorProfile); err != nil {
			return err
		}
	}
	if p.SelinuxLabel != "" {
		if err := selinux.SetExecLabel(p.SelinuxLabel); err != nil {
			return err
		}
	}
	return nil
}

// checkMountType reopens dest after a mount on it and checks that the
// filesystem there is fstype: a destination redirected on the way would
// show another one (CVE-2019-19921 class).
func (in *initState) checkMountType(dest, fstype string) error {
	mnt, err := in.root.Open(dest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer mnt.Close()
	return rootfs.CheckFSType(mnt, fstype)
}

// verifyProcAndSys checks, after pivot_root and the hooks, that every proc
// and sysfs mount of the config is still what is at its destination (no
// overmount, no symlink), before paths in them are masked.
func (in *initState) verifyProcAndSys() error {
	for i, m := range in.b.Spec.Mounts {
		if m.Type != "proc" && m.Type != "sysfs" {
			continue
		}
		if err := rootfs.CheckMountedFS(filepath.Clean("/"+m.Destination), m.Type); err != nil {
			return fmt.Errorf("mounts[%d]: %w", i, err)
		}
	}
	return nil
}

// prepareLandlock builds the ruleset of the run.tincan.landlock annotation
// (validated at create) while the rules' paths are reachable.
func (in *initState) prepareLandlock() error {
	c, err := landlock.FromAnnotations(in.b.Spec.Annotations)
	if c == nil || err != nil {
		return err
	}
	plan, _, err := c.Negotiate(landlock.ABI())
	if err != nil {
		return err
	}
	in.landlock, err = plan.Build()
	return err
}

// applyLandlock enforces the ruleset on this thread, which will execve.
func (in *initState) applyLandlock() error {
	err := in.landlock.RestrictSelf()
	in.landlock = nil
	return err
}
