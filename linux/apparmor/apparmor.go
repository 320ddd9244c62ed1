// Package apparmor applies an AppArmor profile to the container process:
// it tells whether the host has AppArmor enabled and asks the kernel to
// switch the calling thread to a profile at its next execve.
//
// It owns only those two mechanisms. It does not load or generate
// profiles (that is the host's or the engine's job), and it does not decide
// when to apply one: the init sequence does, on the thread that will
// execve the container process, since the request belongs to that thread.
package apparmor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/rootfs"
)

// Unconfined is the profile name for "no confinement". Asking for it on a
// host without AppArmor asks for nothing, so it is not an error there.
const Unconfined = "unconfined"

// Enabled reports whether AppArmor is enabled on this host: the module
// says so and its securityfs interface is there.
func Enabled() bool { return enabledAt("/") }

// enabledAt is Enabled for the host whose /sys is under root (tests pass a
// fake tree).
func enabledAt(root string) bool {
	data, err := os.ReadFile(filepath.Join(root, "sys/module/apparmor/parameters/enabled"))
	if err != nil || !strings.HasPrefix(string(data), "Y") {
		return false
	}
	fi, err := os.Stat(filepath.Join(root, "sys/kernel/security/apparmor"))
	return err == nil && fi.IsDir()
}

// CheckProfileName checks that name can be written to the kernel as a
// profile name (class errdefs.ErrInvalidArgument otherwise).
func CheckProfileName(name string) error {
	switch {
	case name == "":
		return errdefs.InvalidArgument("apparmor profile: empty name")
	case strings.ContainsAny(name, "\x00\n"):
		return errdefs.InvalidArgument("apparmor profile %q: name contains a NUL or newline", name)
	case len(name) > 4000:
		return errdefs.InvalidArgument("apparmor profile: name of %d bytes is too long", len(name))
	}
	return nil
}

// procfsFile checks that f is on a procfs.
func procfsFile(f *os.File) error { return rootfs.CheckFSType(f, "proc") }

// execCommand is what the kernel reads to change profile at the next
// execve (the "aa_change_onexec" request).
func execCommand(name string) string { return "exec " + name }

// ApplyExecProfile asks the kernel to confine the calling thread with
// profile name from its next execve on. It must run on the thread that
// will execve (lock the goroutine to it), while /proc is the host's or the
// container's procfs.
func ApplyExecProfile(name string) error { return applyExecProfileAt("/proc", name, procfsFile) }

// applyExecProfileAt writes through proc; verify checks the opened file
// (a procfs file, unless a test passes a fake tree).
func applyExecProfileAt(proc, name string, verify func(*os.File) error) error {
	if err := CheckProfileName(name); err != nil {
		return err
	}
	// Linux 5.1 gives each LSM its own directory; older kernels have the
	// shared attr/exec, which is AppArmor's when AppArmor is the major LSM.
	path := filepath.Join(proc, "thread-self/attr/apparmor/exec")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		path = filepath.Join(proc, "thread-self/attr/exec")
		f, err = os.OpenFile(path, os.O_WRONLY, 0)
	}
	if err != nil {
		return fmt.Errorf("apply apparmor profile %q: %w", name, err)
	}
	defer f.Close()
	// A fake /proc (a mount target redirected into a volume, CVE-2019-19921)
	// would take the write and leave the process unconfined.
	if err := verify(f); err != nil {
		return fmt.Errorf("apply apparmor profile %q: %w", name, err)
	}
	// One write: the kernel parses the buffer of a single write(2).
	if _, err := f.WriteString(execCommand(name)); err != nil {
		return fmt.Errorf("apply apparmor profile %q: write %s: %w", name, path, err)
	}
	return nil
}
