package initproc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/linux/seccomp"
)

// execSteps is the init sequence of a process added to a running container
// ("tincan-oci exec"). The nsenter constructor has joined every namespace
// of the container's init; these steps change nothing of the container,
// they only make this process what process.json asks for, then execve.
var execSteps = []step{
	// Before anything else, while this process still runs tincan-oci with
	// privileges next to the container's processes.
	{"not dumpable", (*initState).setNotDumpable},
	// Every later path (/dev/ptmx, /etc/passwd, the cwd, the
	// program) must be the container's.
	{"enter container root", (*initState).enterContainerRoot},
	{"prepare seccomp", (*initState).prepareExecSeccomp},
	// As root, before the user switch: the pty comes from the container's
	// devpts, which the process's user may not be allowed to open.
	{"console", (*initState).setupExecConsole},
	// On this thread, which will execve, with the container's /proc (the
	// apparmor and selinux packages check it is a procfs); before the user
	// switch, as writing the exec label needs the privilege.
	{"apply AppArmor profile and SELinux label", (*initState).applyLSMLabels},
	// As root, before the user switch, so every rule's path can be opened.
	{"prepare landlock", (*initState).prepareLandlock},
	{"session keyring", (*initState).joinSessionKeyring},
	{"prepare environment", (*initState).prepareEnv},
	{"CPU affinity", (*initState).setFinalAffinity},
	// As root: real-time policies and classes need privileges.
	{"scheduler and I/O priority", (*initState).setScheduling},
	// Before the user switch: raising a soft limit towards the hard one
	// needs the privileges about to be dropped.
	{"set rlimits", (*initState).setRlimits},
	// Before the user switch: dropping the bounding set needs CAP_SETPCAP.
	{"drop bounding capabilities", (*initState).dropBounding},
	{"switch user", (*initState).switchUser},
	{"apply capabilities", (*initState).applyCaps},
	{"no_new_privileges", (*initState).setNoNewPrivs},
	// After the user switch: the working directory and program must be
	// reachable by the process's user, as they will be at execve.
	{"enter working directory", (*initState).enterCwd},
	{"resolve program", (*initState).resolveProgram},
	{"personality", (*initState).setPersonality},
	// The last report: what follows can only fail at execve, which the
	// parent learns from MsgError, or success from EOF on the socket.
	{"signal ready", (*initState).signalReady},
	{"mark fds close-on-exec", (*initState).closeExtraFDs},
	// After everything that opens files, before seccomp (which might filter
	// landlock_restrict_self), as for create.
	{"apply landlock", (*initState).applyLandlock},
	// Last before execve, as for create: the filter constrains the program,
	// not the setup.
	{"load seccomp", (*initState).loadSeccomp},
	{"execute", (*initState).execProcess},
}

// setNotDumpable keeps the container's processes, which share this pid
// namespace, from ptracing this process or opening its /proc files (its
// fds, its memory, the runtime binary through exe) while it runs the
// runtime's code, including after it has taken the process's credentials
// (CVE-2016-9962); execve makes the program dumpable again.
func (in *initState) setNotDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("make the process not dumpable: %w", err)
	}
	return nil
}

// enterContainerRoot makes the root of the container's init ours. Joining
// its mount namespace alone lands on whatever is mounted topmost on the
// namespace's root, which is the container's root only when nothing is
// stacked there; a container without a mount namespace has an init merely
// chrooted to the rootfs. The init's own root (an fd opened by the parent)
// is right in every case, and chrooting to the namespace's own root does
// not count as a chroot for the kernel (nested user namespaces still work).
func (in *initState) enterContainerRoot() error {
	if in.b.RootFD <= 0 {
		return fmt.Errorf("no root directory of the container was passed")
	}
	if err := unix.Fchdir(in.b.RootFD); err != nil {
		return fmt.Errorf("enter the container's root: %w", err)
	}
	unix.Close(in.b.RootFD)
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot to the container's root: %w", err)
	}
	return unix.Chdir("/")
}

// prepareExecSeccomp decodes the container's filter, compiled by the
// parent. The listener of a notify filter was connected by the parent:
// its host path is out of reach in the container's mount namespace.
func (in *initState) prepareExecSeccomp() error {
	if len(in.b.Seccomp) == 0 {
		return nil
	}
	in.seccomp = new(seccomp.Program)
	if err := in.seccomp.UnmarshalBinary(in.b.Seccomp); err != nil {
		return fmt.Errorf("decode seccomp filter: %w", err)
	}
	if in.seccomp.Notify {
		if in.b.SeccompAgentFD <= 0 {
			return fmt.Errorf("linux.seccomp: the filter notifies a listener but no connection to it was passed")
		}
		in.seccompAgent = fdFile(in.b.SeccompAgentFD, "seccomp-agent")
	}
	return nil
}

// setupExecConsole gives the process a new pty from the container's devpts
// (/dev/ptmx as the container sees it): the master goes to the console
// socket, the slave becomes stdio and controlling terminal. Unlike create,
// /dev/console is left alone: it is the container's first terminal.
func (in *initState) setupExecConsole() error {
	p := in.process()
	if p == nil || !p.Terminal {
		return nil
	}
	if in.b.ConsoleSocketFD < 0 {
		return fmt.Errorf("process.terminal is set but no console socket was given")
	}
	sock := fdFile(in.b.ConsoleSocketFD, "console-socket")
	defer sock.Close()
	master, slave, err := console.NewPty("/dev/ptmx")
	if err != nil {
		return err
	}
	defer slave.Close()
	if p.ConsoleSize != nil {
		if err := console.SetWinsize(slave, uint16(p.ConsoleSize.Height), uint16(p.ConsoleSize.Width)); err != nil {
			master.Close()
			return err
		}
	}
	err = console.SendFd(sock, slave.Name(), master)
	master.Close()
	if err != nil {
		return err
	}
	return console.MakeControlling(slave)
}

// signalReady tells the parent the process is set up.
func (in *initState) signalReady() error {
	return Send(in.sock, MsgReady, nil)
}
