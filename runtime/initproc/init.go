// Package initproc is what runs inside a new container before the user's
// program: the Go half of "tincan-oci init". The nsenter constructor has
// already joined and created the namespaces; this package receives the
// Bootstrap from the parent and runs the ordered steps that build the
// container (mounts, devices, pivot_root, console, user, capabilities)
// and finally execve the container process.
//
// It owns the order of those steps and the parent/init sync protocol
// (protocol.go). The mechanisms themselves live in linux/*; the parent side
// lives in package runtime.
package initproc

import (
	"fmt"
	"os"
	"strconv"

	"github.com/tincan/tincan/internal/lazyjson"
	"github.com/tincan/tincan/linux/nsenter"
)

// Run is the whole life of a "tincan-oci init" process. It returns only on
// failure, after reporting the error to the parent; the caller exits 1.
// The caller must have locked the main goroutine to the main thread
// (capabilities, no_new_privs and the final execve are per thread).
func Run() error {
	fd, err := strconv.Atoi(os.Getenv(nsenter.EnvFD))
	if err != nil {
		return fmt.Errorf("tincan-oci init must be started by tincan-oci (%s=%q)", nsenter.EnvFD, os.Getenv(nsenter.EnvFD))
	}
	os.Unsetenv(nsenter.EnvFD)
	// Set by the parent for this process's Go runtime only (see
	// runtime/spawn.go); hooks and the container get their own env.
	os.Unsetenv("GOMAXPROCS")
	sock := fdFile(fd, "sync")
	in := &initState{sock: sock}
	err = in.runRecovered()
	// Only reached on failure: tell whoever waits why, then exit. Before
	// "created" that is the parent on the sync socket; after, it is start,
	// reading the exec fifo.
	switch {
	case in.fifo != nil:
		in.fifo.WriteString(err.Error())
	case in.created:
		// Between "created" and start nobody reads the socket; the
		// container's stderr is the only place left to say it.
		fmt.Fprintf(os.Stderr, "tincan-oci init: %v\n", err)
	default:
		Send(sock, MsgError, []byte(err.Error()))
	}
	return err
}

// runRecovered runs the init and turns a panic (a bug) into an error, so
// that the caller gets one line instead of a stack trace on the
// container's stderr.
func (in *initState) runRecovered() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in container init: %v", r)
		}
	}()
	return in.run()
}

func (in *initState) run() error {
	if !nsenter.Ran() {
		return fmt.Errorf("namespace setup did not run: tincan-oci was linked without the external linker")
	}
	t, payload, err := Recv(in.sock)
	if err != nil {
		return fmt.Errorf("read bootstrap: %w", err)
	}
	if t != MsgBootstrap {
		return fmt.Errorf("expected %s message, got %s", MsgBootstrap, t)
	}
	var b Bootstrap
	if err := lazyjson.Unmarshal(payload, &b); err != nil {
		return fmt.Errorf("decode bootstrap: %w", err)
	}
	in.b = &b
	switch b.Mode {
	case ModeCreate:
		return in.runSteps(createSteps)
	case ModeExec:
		return in.runSteps(execSteps)
	default:
		return fmt.Errorf("unknown init mode %q", b.Mode)
	}
}

// step is one named stage of the init sequence.
type step struct {
	name string
	run  func(*initState) error
}

func (in *initState) runSteps(steps []step) error {
	for _, s := range steps {
		in.debugf("%s", s.name)
		if err := s.run(in); err != nil {
			return err
		}
	}
	return fmt.Errorf("init sequence ended without executing the container process")
}

// debugf reports a step to the parent when --debug is on.
func (in *initState) debugf(format string, args ...any) {
	if in.b.Debug {
		Send(in.sock, MsgLog, fmt.Appendf(nil, format, args...))
	}
}
