package cgroupfs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// WaitEvent waits until the cgroup v2 events file (cgroup.events) has the
// line "key want", e.g. "populated 0" once a killed cgroup is empty or
// "frozen 1" once a freeze is complete. It re-reads the file on Poll's
// schedule (1 ms doubling to 50 ms), and in between sleeps in poll(2),
// which the kernel wakes with POLLPRI when the content changes, so most
// waits end with the change. (Not all: the kernel sends at most one
// notification per file every 20 ms and delays the rest.) After timeout
// it returns ErrTimedOut.
func WaitEvent(path, key, want string, timeout time.Duration) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	var buf [512]byte
	for {
		// Reading (from the start) also tells kernfs that this fd has
		// seen the current content; poll then waits for the next change.
		n, err := unix.Pread(fd, buf[:], 0)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		value, ok := eventValue(string(buf[:n]), key)
		if !ok {
			return fmt.Errorf("read %s: no %q entry", path, key)
		}
		if value == want {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrTimedOut
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
		ms := int(min(left, delay).Milliseconds())
		if _, err := unix.Poll(fds, max(ms, 1)); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait on %s: %w", path, err)
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// EventValue reads the value of key ("populated", "frozen") in the cgroup
// v2 events file at path.
func EventValue(path, key string) (string, error) {
	content, err := ReadFile(path)
	if err != nil {
		return "", err
	}
	value, ok := eventValue(content, key)
	if !ok {
		return "", fmt.Errorf("read %s: no %q entry", path, key)
	}
	return value, nil
}

// eventValue returns the value of key in the text of a cgroup.events file.
func eventValue(content, key string) (string, bool) {
	for _, line := range strings.Split(content, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			return v, true
		}
	}
	return "", false
}
