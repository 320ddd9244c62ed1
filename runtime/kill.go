package runtime

import (
	"errors"
	"fmt"

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
		if !c.state.CgroupOwned {
			// The cgroup is shared: everything in it is not ours to signal.
			return errdefs.Unsupported("kill --all: container %s shares a cgroup it did not create", c.id)
		}
		cg, err := cgroups.Load(c.state.CgroupPath)
		if err != nil {
			return err
		}
		if sig == unix.SIGKILL {
			return cg.KillAll()
		}
		return cg.Signal(sig)
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
