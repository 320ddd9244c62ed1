// Package caps owns Linux capabilities: their names and numbers, the
// conversion of config.json process.capabilities, and applying the five
// capability sets to the calling thread.
//
// It does not decide which capabilities a container gets (the default set
// belongs to spec), and it does not switch users; the init sequence does,
// calling in here around that switch:
//
//  1. KeepCaps, before setresgid/setresuid, because changing from uid 0 to
//     another uid empties the permitted set unless keep-caps is on.
//  2. ApplyBounding, before the user switch too, because dropping from the
//     bounding set needs CAP_SETPCAP in the effective set, which the switch
//     clears.
//  3. setresgid/setresuid (not here).
//  4. ApplyProcess, after the switch, because the switch clears the
//     effective and ambient sets: it sets effective, permitted and
//     inheritable with capset(2), raises the ambient set and turns
//     keep-caps off again.
//
// Capabilities belong to a thread, not a process: every step must run on
// the thread that will execve, so the caller locks the goroutine to its OS
// thread (runtime.LockOSThread) for the whole sequence and does not unlock.
package caps

import (
	"fmt"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// Cap is a kernel capability number (CAP_CHOWN is 0).
type Cap int

// SysAdmin is CAP_SYS_ADMIN, which the init may hold a little longer than
// the container process gets it (loading a seccomp filter without
// no_new_privs needs it).
const SysAdmin Cap = 21

// names are the capabilities Linux has defined, indexed by number, up to
// CAP_CHECKPOINT_RESTORE (Linux 5.9). A static array: nothing is built at
// start-up.
var names = [...]string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// highestKnown is the highest capability number this package has a name for.
const highestKnown = Cap(len(names) - 1)

// Known returns the name of every capability Linux has defined, in number
// order, "CAP_" prefixed.
func Known() []string {
	return append([]string(nil), names[:]...)
}

// Parse returns the capability called name. Like runc and docker it also
// accepts lower case and a missing "CAP_" prefix ("sys_admin").
func Parse(name string) (Cap, error) {
	canonical := strings.ToUpper(name)
	if !strings.HasPrefix(canonical, "CAP_") {
		canonical = "CAP_" + canonical
	}
	for i, n := range names {
		if n == canonical {
			return Cap(i), nil
		}
	}
	return 0, errdefs.InvalidArgument("unknown capability %q", name)
}

// String returns the capability's name, or CAP_<number> for one newer than
// this package.
func (c Cap) String() string {
	if c >= 0 && c <= highestKnown {
		return names[c]
	}
	return fmt.Sprintf("CAP_%d", int(c))
}
