package cgroupfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// SignalTree sends sig to every process in the cgroup tree at dir. A process
// that exits between the listing and the kill is not an error.
func SignalTree(dir string, sig unix.Signal) error {
	pids, err := TreePids(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("send %s to process %d of cgroup %s: %w", unix.SignalName(sig), pid, dir, err))
		}
	}
	return errors.Join(errs...)
}

// KillByListing SIGKILLs the processes of the cgroup tree at dir until it is
// empty, for kernels without cgroup.kill. freeze and thaw (nil when there is
// no freezer) bracket each round of listing and killing, so that a process
// cannot fork a child between being listed and being killed; without a
// freezer, repeated rounds catch such children instead. A freeze that fails
// (a task stuck in an uninterruptible sleep) does not stop the kill.
func KillByListing(dir string, freeze, thaw func() error) error {
	err := Poll(KillTimeout, func() (bool, error) {
		pids, err := TreePids(dir)
		if err != nil || len(pids) == 0 {
			return len(pids) == 0, err
		}
		if freeze != nil {
			_ = freeze() // best effort: the kill still goes out unfrozen
			if pids, err = TreePids(dir); err != nil {
				if thaw != nil {
					_ = thaw()
				}
				return false, err
			}
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL) // ESRCH: it already left
		}
		if thaw != nil {
			// Thaw after killing: a task frozen by the v1 freezer only acts
			// on its SIGKILL once it runs again.
			if err := thaw(); err != nil {
				return false, err
			}
		}
		return false, nil
	})
	if errors.Is(err, ErrTimedOut) {
		return fmt.Errorf("kill processes of cgroup %s: still populated after %s: %w", dir, KillTimeout, err)
	}
	return err
}
