package cgroupfs

import (
	"errors"
	"time"
)

// Timeouts shared by the v1 and v2 managers. They bound operations that wait
// for the kernel or for processes; none of them is reached in normal use.
const (
	// KillTimeout bounds waiting for a killed cgroup to become empty.
	KillTimeout = 10 * time.Second
	// FreezeTimeout bounds waiting for a freeze to complete (a task in an
	// uninterruptible sleep can hold it back).
	FreezeTimeout = 5 * time.Second
	// RemoveTimeout bounds retrying rmdir on EBUSY while exiting processes
	// leave the cgroup.
	RemoveTimeout = 5 * time.Second
)

// ErrTimedOut is returned by Poll when the condition did not hold in time.
var ErrTimedOut = errors.New("timed out")

// Poll calls check until it reports done or fails, sleeping between calls
// from 1 ms doubling up to 50 ms: most waits on cgroups end within a few
// milliseconds, and the cap keeps a slow one from sleeping far past its end.
// After timeout it returns ErrTimedOut; check always runs at least once.
func Poll(timeout time.Duration, check func() (done bool, err error)) error {
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return ErrTimedOut
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}
