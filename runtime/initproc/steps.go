package initproc

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/landlock"
	"github.com/tincan/tincan/linux/pathrs"
	"github.com/tincan/tincan/linux/seccomp"
)

// initState is what the steps share.
type initState struct {
	b    *Bootstrap
	sock *os.File
	// root is the rootfs, opened before pivot_root for safe resolution.
	root *pathrs.Root
	// procFD is the host's /proc/self/fd, opened before pivot_root, used to
	// reopen the exec fifo afterwards (the container may have no /proc).
	procFD *os.File
	// caps is the parsed capability set, applied around the user switch.
	caps caps.Set
	// program is args[0] resolved in the container, before "created", so a
	// missing program fails create rather than start.
	program string
	// env is the container process environment.
	env []string
	// created is set once MsgCreated was sent: the parent no longer reads
	// the sync socket.
	created bool
	// fifo is the exec fifo once start has opened it; errors after that
	// point are written to it for start to report.
	fifo *os.File
	// seccomp is the filter to load last, and seccompAgent the connection
	// to the listener that receives its notify fd.
	seccomp      *seccomp.Program
	seccompAgent *os.File
	// landlock is the ruleset of the run.tincan.landlock annotation, built
	// before the user switch and enforced last before seccomp.
	landlock *landlock.Ruleset
}

// createSteps is the init sequence of a container's first process. Each
// constraint on the order is noted where it applies.
var createSteps = []step{
	// First: from here on the init runs the runtime's code with privileges;
	// processes that may share its pid namespace must not ptrace it or
	// open its /proc files (CVE-2016-9962). execve makes it dumpable again.
	{"not dumpable", (*initState).setNotDumpable},
	{"bring up loopback", (*initState).setupLoopback},
	// Before any mount: what the container mounts must not reach the host.
	{"set root propagation", inMountNS((*initState).setRootPropagation)},
	// After the propagation change, so the overlay does not reach the host.
	{"mount rootfs overlay", inMountNS((*initState).mountRootfsOverlay)},
	{"bind rootfs", inMountNS((*initState).bindRootfs)},
	{"mount entries", inMountNS((*initState).mountEntries)},
	// After the mounts, because a tmpfs mounted on /dev would hide the nodes.
	{"create devices", inMountNS((*initState).createDevices)},
	// Before pivot_root: the host's /proc shows this process's namespaces,
	// so sysctls work even for a container without a /proc mount.
	{"write sysctls", (*initState).writeSysctls},
	// Before pivot_root: afterwards the host's /proc is gone, and the
	// seccomp agent's socket path with it.
	{"open fifo directory", (*initState).openProcFD},
	{"prepare seccomp", (*initState).prepareSeccomp},
	// After the mounts and before pivot_root, where the runtime-spec puts them.
	{"prestart and createRuntime hooks", (*initState).parentHooks},
	{"createContainer hooks", (*initState).createContainerHooks},
	// After the createContainer hooks, which run as the runtime, and before
	// pivot_root, while the host's /proc shows this thread: both take effect
	// at the next execve (startContainer hooks and the process).
	{"apply AppArmor profile and SELinux label", (*initState).applyLSMLabels},
	{"switch root", (*initState).switchRoot},
	// After pivot_root, so the pty comes from the container's devpts.
	{"console", (*initState).setupConsole},
	// After pivot_root, because these are paths as the container sees them;
	// masking after the console so /dev/console is never a masked target.
	// Before masking paths in them: /proc and /sys must still be the procfs
	// and sysfs mounted for the container, not an overmount or a symlink.
	{"verify proc and sys", inMountNS((*initState).verifyProcAndSys)},
	{"mask paths", inMountNS((*initState).maskPaths)},
	{"readonly paths", inMountNS((*initState).readonlyPaths)},
	// Before the read-only root, which forbids creating it.
	{"create working directory", inMountNS((*initState).createCwd)},
	// Last mount change: nothing can be created on a read-only /.
	{"readonly root", inMountNS((*initState).readonlyRoot)},
	// As root, before the user switch, so every rule's path can be opened.
	{"prepare landlock", (*initState).prepareLandlock},
	{"hostname", (*initState).setHostname},
	{"session keyring", (*initState).joinSessionKeyring},
	{"prepare environment", (*initState).prepareEnv},
	// As root: real-time policies and classes need privileges.
	{"scheduler and I/O priority", (*initState).setScheduling},
	// Late, so small limits do not hinder the setup, but before the user
	// switch: raising a soft limit towards the hard one, or changing the
	// limits at all from outside, needs the privileges we are about to drop.
	{"set rlimits", (*initState).setRlimits},
	// Before the user switch: dropping the bounding set needs CAP_SETPCAP.
	{"drop bounding capabilities", (*initState).dropBounding},
	{"switch user", (*initState).switchUser},
	{"apply capabilities", (*initState).applyCaps},
	{"no_new_privileges", (*initState).setNoNewPrivs},
	// After the user switch: the working directory and program must be
	// reachable by the container user, as they will be at execve.
	{"enter working directory", (*initState).enterCwd},
	{"resolve program", (*initState).resolveProgram},
	{"personality", (*initState).setPersonality},
	{"signal created", (*initState).signalCreated},
	{"wait for start", (*initState).waitForStart},
	{"startContainer hooks", (*initState).startContainerHooks},
	{"mark fds close-on-exec", (*initState).closeExtraFDs},
	// After everything that opens files, before seccomp (which might filter
	// landlock_restrict_self) and execve.
	{"apply landlock", (*initState).applyLandlock},
	// Last before execve, so the filter constrains the container process
	// and not the setup (which may need syscalls the profile blocks).
	{"load seccomp", (*initState).loadSeccomp},
	{"execute", (*initState).execProcess},
}

// inMountNS runs a rootfs step only when the container has a mount
// namespace (new or joined). Without one, as with runc, the process keeps
// the runtime's root and nothing is mounted: mounting here would change
// the host.
func inMountNS(run func(*initState) error) func(*initState) error {
	return func(in *initState) error {
		for _, n := range in.b.Spec.Linux.Namespaces {
			if n.Type == specs.MountNamespace {
				return run(in)
			}
		}
		return nil
	}
}

// newNamespace reports whether the container got a new namespace of type t.
func (in *initState) newNamespace(t specs.LinuxNamespaceType) bool {
	for _, n := range in.b.NewNamespaces {
		if n == t {
			return true
		}
	}
	return false
}

// process is the container process config (may be nil).
func (in *initState) process() *specs.Process { return in.b.Process }
