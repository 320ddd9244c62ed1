package v2

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// NotifyOOM reports the cgroup's OOM events: one value on the returned
// channel each time the kernel's OOM counters in memory.events ("oom",
// "oom_kill") go up. The kernel signals a change of memory.events (and of
// cgroup.events, for "populated") as a modification, which inotify
// delivers. The channel is closed when done is closed, when the cgroup
// becomes empty or is removed, or on a read error.
func (m *Manager) NotifyOOM(done <-chan struct{}) (<-chan struct{}, error) {
	eventsFile := m.file("memory.events")
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", eventsFile, err)
	}
	// Non-blocking, so that the Go poller serves it and Close ends a
	// pending read.
	watcher := os.NewFile(uintptr(fd), "inotify")
	for _, f := range []string{eventsFile, m.file("cgroup.events")} {
		if _, err := unix.InotifyAddWatch(fd, f, unix.IN_MODIFY); err != nil {
			watcher.Close()
			return nil, fmt.Errorf("watch %s: %w", f, err)
		}
	}
	last, err := m.oomCount()
	if err != nil {
		watcher.Close()
		return nil, err
	}
	events := make(chan struct{}, 16)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-stopped:
		}
		watcher.Close()
	}()
	go func() {
		defer close(events)
		defer close(stopped)
		buf := make([]byte, 4096)
		for {
			if _, err := watcher.Read(buf); err != nil {
				return
			}
			count, err := m.oomCount()
			if err != nil {
				return // the cgroup is gone
			}
			for ; last < count; last++ {
				select {
				case events <- struct{}{}:
				case <-done:
					return
				}
			}
			if populated, err := m.eventValue("populated"); err != nil || populated == "0" {
				return
			}
		}
	}()
	return events, nil
}

// oomCount is the number of OOM events of the cgroup: the larger of the
// OOM condition count and the OOM kill count, as either can go up alone
// (an OOM with nothing to kill; a kill counted in a child).
func (m *Manager) oomCount() (uint64, error) {
	ev, err := cgroupfs.ReadKeyed(m.file("memory.events"))
	if err != nil {
		return 0, err
	}
	return max(ev["oom"], ev["oom_kill"]), nil
}
