package runtime

import (
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/procfs"
)

// Kill sends sig to the container's init, or with all to every process in
// its cgroup. A container that is not created, running or paused cannot be
// signalled.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	if c.state == nil {
		return fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	switch c.Status() {
	case Stopped:
		return errdefs.NotRunning("container not running")
	case Creating:
		if c.state.Pid == 0 {
			return errdefs.NotRunning("container not running")
		}
	}
	if all {
		return c.signalAll(sig)
	}
	return signalProcess(c.state.Pid, c.state.PidStartTime, sig)
}

// signalProcess signals pid through a pidfd opened after checking the
// start time, so a pid reused by another process is never signalled.
func signalProcess(pid int, startTime uint64, sig unix.Signal) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errdefs.NotRunning("container not running: no such process")
		}
		return fmt.Errorf("open pidfd of %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	// The pidfd pins the process identity; check it is ours.
	if !procfs.Alive(pid, startTime) {
		return errdefs.NotRunning("container not running: no such process")
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errdefs.NotRunning("container not running: no such process")
		}
		return fmt.Errorf("signal %d to process %d: %w", sig, pid, err)
	}
	return nil
}

// waitExit waits up to timeout for the process pid that started at
// startTime to exit (a zombie has exited), and reports whether it has. A
// pidfd becomes readable when its process exits, so the wait ends then,
// not at the next tick of a sleep loop.
func waitExit(pid int, startTime uint64, timeout time.Duration) bool {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		// ESRCH: gone (reaped). Anything else: fall back to looking.
		return errors.Is(err, unix.ESRCH) || !procfs.Alive(pid, startTime)
	}
	defer unix.Close(pidfd)
	// The pidfd pins the process identity; check it is ours.
	if !procfs.Alive(pid, startTime) {
		return true
	}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return !procfs.Alive(pid, startTime)
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return !procfs.Alive(pid, startTime)
		}
		if n > 0 {
			return true
		}
	}
}

// signalAll signals every process of the container: through its cgroup
// when it owns one; otherwise through its pid namespace when it made one
// (SIGKILL to that namespace's init ends all of them). A container that
// has neither shares both with other processes, and only its init is
// signalled.
func (c *Container) signalAll(sig unix.Signal) error {
	if path, owned := c.ownedCgroup(); owned {
		cg, err := cgroups.Load(path)
		if errdefs.IsNotFound(err) {
			return errdefs.NotRunning("container not running")
		}
		if err != nil {
			return err
		}
		if sig == unix.SIGKILL {
			return cg.KillAll()
		}
		return cg.Signal(sig)
	}
	if !c.ownPidNamespace() || sig == unix.SIGKILL {
		return signalProcess(c.state.Pid, c.state.PidStartTime, sig)
	}
	ns, err := procfs.PidNamespace(c.state.Pid)
	if err != nil {
		return errdefs.NotRunning("container not running: %v", err)
	}
	pids, err := procfs.PidsInNamespace(ns)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return nil
}

// ownPidNamespace reports whether the container created its pid namespace.
func (c *Container) ownPidNamespace() bool {
	if c.state == nil || c.state.Config == nil || c.state.Config.Linux == nil {
		return false
	}
	for _, n := range c.state.Config.Linux.Namespaces {
		if n.Type == specs.PIDNamespace && n.Path == "" {
			return true
		}
	}
	return false
}
