package runtime

import (
	"io"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/console"
)

// RunOptions are the inputs of Run beyond those of Create.
type RunOptions struct {
	CreateOptions
	// Detach returns once the container has started.
	Detach bool
	// Keep leaves the stopped container behind instead of deleting it.
	Keep bool
}

// Run creates and starts a container. Detached, it returns at once with 0.
// Otherwise it forwards signals to the container's init, relays its
// terminal when it has one and no console socket, reaps it, deletes the
// container (unless Keep) and returns the init's exit status, 128+signal
// when a signal killed it.
func Run(opts RunOptions) (int, error) {
	opts.Foreground = !opts.Detach
	var sigs chan os.Signal
	var sigsReady <-chan struct{}
	if !opts.Detach {
		// Before create, so that no signal between create and the wait
		// loop is lost; they are forwarded once the init exists.
		var stop func()
		sigs, sigsReady, stop = catchSignals()
		defer stop()
	}
	c, err := Create(opts.CreateOptions)
	if err != nil {
		return 1, err
	}
	var restore func() error
	if tty := c.initProc.console; tty != nil {
		// Before start, so that the program finds the caller's window
		// size and its first output is relayed.
		restore = relayTerminal(tty, opts.Stdin, opts.Stdout)
	}
	if sigsReady != nil {
		// Every signal caught before the program runs.
		<-sigsReady
	}
	if err := c.Start(opts.Log); err != nil {
		c.Unlock()
		c.Delete(true, opts.Log)
		if restore != nil {
			restore()
		}
		return 1, err
	}
	c.Unlock()
	if opts.Detach {
		return 0, nil
	}
	status := waitForProcess(c.state.Pid, c.state.PidStartTime, c.initProc.console, sigs)
	if !opts.Keep {
		// Before restoring the terminal: the container's other processes
		// may hold the pty open, and deleting ends them.
		err = c.Delete(true, opts.Log)
	}
	if restore != nil {
		restore()
	}
	return status, err
}

// catchSignals starts catching every signal, for waitForProcess to
// forward, and makes this process a subreaper: processes the container
// orphans (without a pid namespace of its own) are reparented to us and
// reaped by the wait loop. stop stops catching.
//
// os/signal registers each signal with a round trip between two threads
// (the Go runtime keeps a thread for the signal mask): about 1 ms for all
// of them, so they are registered in the background while the caller
// creates the container; ready is closed once every one is caught, and
// the caller waits for it before the container's program runs.
func catchSignals() (sigs chan os.Signal, ready <-chan struct{}, stop func()) {
	sigs = make(chan os.Signal, 128)
	done := make(chan struct{})
	go func() {
		signal.Notify(sigs)
		close(done)
	}()
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	// Stopping costs the runtime a round trip per signal (milliseconds in
	// all); nothing needs to wait for it, least of all an exiting CLI.
	return sigs, done, func() {
		go func() {
			<-done
			signal.Stop(sigs)
		}()
	}
}

// waitForProcess forwards signals to the process pid (identified by its
// start time too) and reaps children until it has exited, returning its
// status. SIGWINCH resizes tty, the pty being relayed (nil: none).
func waitForProcess(pid int, startTime uint64, tty *os.File, sigs chan os.Signal) int {
	for {
		if status, done := reapChildren(pid); done {
			return status
		}
		sig := <-sigs
		switch sig {
		case unix.SIGCHLD:
			// Reaped at the top of the loop.
		case unix.SIGWINCH:
			if tty != nil {
				if rows, cols, err := console.Winsize(os.Stdin); err == nil {
					console.SetWinsize(tty, rows, cols)
				}
			}
		case unix.SIGURG:
			// The Go runtime's own preemption signal.
		default:
			if s, ok := sig.(unix.Signal); ok {
				signalProcess(pid, startTime, s)
			}
		}
	}
}

// reapChildren reaps every exited child; done is set when one was pid.
func reapChildren(pid int) (status int, done bool) {
	for {
		var ws unix.WaitStatus
		child, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || child <= 0 {
			return status, done
		}
		if child == pid {
			status, done = exitStatus(ws), true
		}
	}
}

func exitStatus(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}

// relayTerminal copies between the caller's stdio and the container's pty,
// with the caller's terminal in raw mode; the returned function restores it.
func relayTerminal(tty *os.File, stdin, stdout *os.File) func() error {
	if stdin == nil {
		stdin = os.Stdin
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	restore := func() error { return nil }
	if console.IsTerminal(stdin) {
		if r, err := console.MakeRaw(stdin); err == nil {
			restore = r
		}
		if rows, cols, err := console.Winsize(stdin); err == nil {
			console.SetWinsize(tty, rows, cols)
		}
	}
	go io.Copy(tty, stdin)
	done := make(chan struct{})
	go func() {
		io.Copy(stdout, tty)
		close(done)
	}()
	return func() error {
		// The pty reports EIO once every slave is closed; let the output
		// drain, but do not hang on a process (--keep) that holds it.
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		return restore()
	}
}
