package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/procfs"
	"github.com/tincan/tincan/runtime/hooks"
)

// Start runs the user's program in a created container: it opens the exec
// fifo, which releases the init, and waits until the program has been
// executed (EOF on the fifo) or the init reports an error. Then it runs the
// poststart hooks. The caller must hold the lock (Lock, or from Create).
func (c *Container) Start(log Logger) error {
	if c.state == nil {
		return fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return errdefs.Conflict("cannot start a container that has stopped")
	case Running, Paused:
		return errdefs.Conflict("cannot start an already running container")
	default:
		return errdefs.Conflict("cannot start a container in the %s state", st)
	}
	if err := c.releaseInit(); err != nil {
		return err
	}
	// Running from here: the fifo's removal says so (Container.Status);
	// state.json keeps "created", which spares every start a write.
	os.Remove(c.fifoPath())
	if h := c.state.Config.Hooks; h != nil && len(h.Poststart) > 0 {
		st := c.hookState(Running)
		if err := hooks.RunAll("poststart", h.Poststart, &st); err != nil {
			// The runtime-spec: a failed poststart hook is a warning.
			log.Warnf("%v", err)
		}
	}
	return nil
}

// releaseInit does the exec fifo handshake with the waiting init.
func (c *Container) releaseInit() error {
	fd, err := unix.Open(c.fifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo of %s: %w", c.id, err)
	}
	f := os.NewFile(uintptr(fd), "exec.fifo")
	defer f.Close()
	// Wait for the init to open its end (POLLIN or POLLHUP). A fifo that
	// never had a writer reports neither, so an init that is gone is
	// noticed by checking the process between polls.
	for waited := time.Duration(0); ; waited += 100 * time.Millisecond {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait on exec fifo of %s: %w", c.id, err)
		}
		if n > 0 {
			break
		}
		if !procfs.Alive(c.state.Pid, c.state.PidStartTime) {
			return fmt.Errorf("container %s: init process exited before start", c.id)
		}
		if waited > 10*time.Second && !initWaiting(c.state.Pid) {
			return fmt.Errorf("container %s: init process is not waiting to be started", c.id)
		}
	}
	// Block until the init writes an error or closes the fifo by executing
	// the program (the fifo is close-on-exec in the init).
	if err := unix.SetNonblock(fd, false); err != nil {
		return fmt.Errorf("exec fifo of %s: %w", c.id, err)
	}
	msg, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read exec fifo of %s: %w", c.id, err)
	}
	if len(msg) > 0 {
		return fmt.Errorf("container %s failed to start: %s", c.id, strings.TrimSpace(string(msg)))
	}
	return nil
}

// initWaiting reports whether pid still runs our init binary (and so may
// yet open the fifo) rather than the container's program.
func initWaiting(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.HasPrefix(string(data), "tincan-oci\x00init\x00")
}
