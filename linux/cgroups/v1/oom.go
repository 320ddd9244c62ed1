package v1

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// NotifyOOM reports the cgroup's OOM events: one value on the returned
// channel for each time the memory controller hits its limit and cannot
// reclaim (the OOM killer runs, or with disableOOMKiller the tasks wait).
// It registers an eventfd for memory.oom_control through
// cgroup.event_control; the kernel also signals the eventfd when the
// cgroup is removed, which ends the stream. Without a v1 memory hierarchy
// a hybrid host's cgroup2 side is watched instead. The channel is closed
// when done is closed, the cgroup goes, or a read fails.
func (m *Manager) NotifyOOM(done <-chan struct{}) (<-chan struct{}, error) {
	dir := m.Path("memory")
	if dir == "" {
		if m.unified != nil {
			return m.unified.NotifyOOM(done)
		}
		return nil, errdefs.Unsupported("oom notification for cgroup %s: no memory hierarchy is mounted", m.path)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("oom notification for cgroup %s: eventfd: %w", dir, err)
	}
	// Non-blocking, so that the Go poller serves it and Close ends a
	// pending read.
	eventfd := os.NewFile(uintptr(efd), "eventfd")
	control, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		eventfd.Close()
		return nil, fmt.Errorf("oom notification for cgroup %s: %w", dir, err)
	}
	// The kernel keeps what it needs of memory.oom_control once registered.
	defer control.Close()
	eventControl := filepath.Join(dir, "cgroup.event_control")
	if err := cgroupfs.WriteFile(eventControl, fmt.Sprintf("%d %d", efd, control.Fd())); err != nil {
		eventfd.Close()
		return nil, fmt.Errorf("oom notification: %w", err)
	}
	events := make(chan struct{}, 16)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-stopped:
		}
		eventfd.Close()
	}()
	go func() {
		defer close(events)
		defer close(stopped)
		buf := make([]byte, 8)
		for {
			if _, err := eventfd.Read(buf); err != nil {
				return
			}
			if !cgroupfs.FileExists(eventControl) {
				return // the cgroup was removed
			}
			for n := binary.NativeEndian.Uint64(buf); n > 0; n-- {
				select {
				case events <- struct{}{}:
				case <-done:
					return
				}
			}
		}
	}()
	return events, nil
}

// CloneFD returns nil: a v1 process must join a cgroup in every hierarchy,
// which CLONE_INTO_CGROUP (one cgroup2 directory) cannot do; use Apply.
func (m *Manager) CloneFD() (*os.File, error) { return nil, nil }
