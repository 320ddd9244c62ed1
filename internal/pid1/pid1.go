// Package pid1 is tincan's init for containers run with --init: it runs as
// PID 1 of the container, starts the real command as its child, forwards
// every signal it can catch to that child, reaps every zombie (PID 1 adopts
// the orphans of the whole container), and exits with the child's status,
// 128+signal when a signal ended it.
//
// It owns only that loop. The binary is tincan itself, bound into the
// container read-only and started under the name tincan-init.
package pid1

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Main runs args (after an optional "--") as the child and returns the
// status to exit with.
func Main(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "tincan-init: no command given")
		return 127
	}
	// Catch everything before the child exists, so no signal sent in
	// between is lost (as PID 1, an unhandled signal would be ignored).
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child gets the terminal's foreground process group when there is
	// one, so ^C reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: isTerminal(), Ctty: 0}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "tincan-init: %v\n", err)
		if os.IsNotExist(err) || isNotFound(err) {
			return 127
		}
		return 126
	}
	child := cmd.Process.Pid
	for {
		select {
		case sig := <-sigs:
			s := sig.(unix.Signal)
			switch s {
			case unix.SIGCHLD:
				if code, done := reap(child); done {
					return code
				}
			case unix.SIGURG:
				// The Go runtime's own preemption signal.
			default:
				unix.Kill(child, s)
			}
		}
	}
}

// reap waits for every exited child; done when the main child is one.
func reap(child int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == child {
			done = true
			switch {
			case ws.Exited():
				code = ws.ExitStatus()
			case ws.Signaled():
				code = 128 + int(ws.Signal())
			}
		}
	}
}

func isTerminal() bool {
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	return err == nil
}

func isNotFound(err error) bool {
	e, ok := err.(*exec.Error)
	return ok && e.Err == exec.ErrNotFound
}
