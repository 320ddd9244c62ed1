// Package selinux applies SELinux labels to a container: it tells whether
// the host has SELinux enabled, sets the label the calling thread gets at
// its next execve, and formats the context= mount option and file labels
// that give the container's mounts its mount label.
//
// It owns those mechanisms only. It does not choose labels (the engine
// does, with its policy) and does not load policy; the init sequence
// decides when to apply them.
package selinux

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/rootfs"
)

// Enabled reports whether SELinux is enabled on this host: selinuxfs is
// mounted at /sys/fs/selinux and says enforcing or permissive.
func Enabled() bool { return enabledAt("/") }

// enabledAt is Enabled for the host whose /sys is under root (tests pass a
// fake tree).
func enabledAt(root string) bool {
	data, err := os.ReadFile(filepath.Join(root, "sys/fs/selinux/enforce"))
	if err != nil {
		return false
	}
	mode := string(bytes.TrimSpace(data))
	return mode == "0" || mode == "1"
}

// CheckLabel checks that label is a security context the kernel could take:
// user:role:type, optionally followed by an MLS/MCS range (which has colons
// of its own: s0:c1,c2). Errors are of class errdefs.ErrInvalidArgument.
func CheckLabel(label string) error {
	if strings.ContainsAny(label, "\x00\n\" ") {
		return errdefs.InvalidArgument("selinux label %q: contains a NUL, newline, quote or space", label)
	}
	parts := strings.SplitN(label, ":", 4)
	if len(parts) < 3 {
		return errdefs.InvalidArgument("selinux label %q: want user:role:type[:range]", label)
	}
	for i, p := range parts {
		if p == "" {
			return errdefs.InvalidArgument("selinux label %q: empty %s", label, [...]string{"user", "role", "type", "range"}[i])
		}
	}
	return nil
}

// SetExecLabel asks the kernel to give the calling thread label at its
// next execve. It must run on the thread that will execve (lock the
// goroutine to it), with /proc a procfs showing that thread.
func SetExecLabel(label string) error { return setExecLabelAt("/proc", label, procfsFile) }

// setExecLabelAt writes through proc; verify checks the opened file (a
// procfs file, unless a test passes a fake tree).
func setExecLabelAt(proc, label string, verify func(*os.File) error) error {
	if err := CheckLabel(label); err != nil {
		return err
	}
	// SELinux's interface is the shared attr/exec (the per-LSM attr
	// directories of Linux 5.1 are for AppArmor and Smack).
	path := filepath.Join(proc, "thread-self/attr/exec")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("set selinux exec label %q: %w", label, err)
	}
	defer f.Close()
	// A fake /proc (a mount target redirected into a volume, CVE-2019-19921)
	// would take the write and leave the process unconfined.
	if err := verify(f); err != nil {
		return fmt.Errorf("set selinux exec label %q: %w", label, err)
	}
	if _, err := f.WriteString(label); err != nil {
		return fmt.Errorf("set selinux exec label %q: write %s: %w", label, path, err)
	}
	return nil
}

// procfsFile checks that f is on a procfs.
func procfsFile(f *os.File) error { return rootfs.CheckFSType(f, "proc") }

// noContext are the filesystem types that do not take a context= option:
// they label their files themselves (proc, sysfs, cgroups), or are bind
// mounts of files that keep their labels. mqueue rejects the option; label
// its mount point with SetFileLabel instead.
var noContext = map[string]bool{
	"": true, "bind": true, "none": true, "proc": true, "sysfs": true,
	"cgroup": true, "cgroup2": true, "mqueue": true, "securityfs": true, "selinuxfs": true,
}

// MountData adds the mount label as context="label" to the mount data of
// a filesystem of type fstype (tmpfs, devpts, ...), for the mounts that
// take one; data is returned unchanged for the others, or when label is
// empty. The quotes keep the commas of an MCS range inside the option.
func MountData(data, label, fstype string) string {
	if label == "" || noContext[fstype] {
		return data
	}
	opt := `context="` + label + `"`
	if data == "" {
		return opt
	}
	return data + "," + opt
}

// SetFileLabel labels the file f (any fd, O_PATH included) with label, as
// for a mount point whose filesystem takes no context= option.
func SetFileLabel(f *os.File, label string) error {
	if err := CheckLabel(label); err != nil {
		return err
	}
	// fsetxattr does not work on O_PATH fds; the /proc path does.
	p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if err := unix.Setxattr(p, "security.selinux", []byte(label), 0); err != nil {
		return fmt.Errorf("label %s with %q: %w", f.Name(), label, err)
	}
	return nil
}
