package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/linux/sched"
	"github.com/tincan/tincan/linux/seccomp"
	"github.com/tincan/tincan/runtime/initproc"
)

// ExecOptions are the inputs of Exec.
type ExecOptions struct {
	// Root is the runtime state root (--root).
	Root string
	// ID is the container to run the process in.
	ID string
	// ProcessFile is a process.json (--process); when set, Flags are not
	// used.
	ProcessFile string
	// Flags shape the process from the container's own when there is no
	// ProcessFile.
	Flags ExecProcessFlags
	// ConsoleSocket receives the pty master when the process has a
	// terminal.
	ConsoleSocket string
	// Detach returns once the process runs; otherwise Exec waits for it,
	// forwarding signals and relaying its terminal.
	Detach bool
	// PidFile, when set, receives the process's host pid.
	PidFile string
	// PreserveFDs passes fds 3..3+N-1 of the caller to the process.
	PreserveFDs int
	// Cgroups are --cgroup values: a sub-cgroup of the container's for the
	// process, "[controller[,controller]:]path".
	Cgroups []string
	// IgnorePaused allows exec into a paused container; the process then
	// starts only once the container is resumed.
	IgnorePaused bool
	// Stdin, Stdout and Stderr become the process's stdio (nil: /dev/null).
	Stdin, Stdout, Stderr *os.File
	// Debug makes the init report each step through Log.Debugf.
	Debug bool
	// Log receives warnings and debug lines.
	Log Logger
}

// Exec runs a new process in a running (or created) container: it joins
// every namespace of the container's init, its cgroup, its root, and gets
// the process's user, capabilities, no_new_privs, rlimits and the
// container's seccomp filter. Detached, it returns 0 once the process has
// been executed. Otherwise it forwards signals to the process, relays its
// terminal when it has one and no console socket, and returns its exit
// status (128+signal when a signal killed it).
func Exec(opts ExecOptions) (int, error) {
	var sigs chan os.Signal
	var sigsReady <-chan struct{}
	if !opts.Detach {
		// Caught in the background while the container is checked (see
		// catchSignals); waited for before the process is started.
		var stop func()
		sigs, sigsReady, stop = catchSignals()
		defer stop()
	}
	c, err := Load(opts.Root, opts.ID)
	if err != nil {
		return -1, err
	}
	st, err := c.State()
	if err != nil {
		return -1, err
	}
	switch status := c.Status(); status {
	case Created, Running:
	case Paused:
		if !opts.IgnorePaused {
			return -1, errdefs.Conflict("cannot exec in a paused container (use --ignore-paused to override)")
		}
	case Stopped:
		return -1, errdefs.NotRunning("cannot exec in a stopped container")
	default:
		return -1, errdefs.Conflict("cannot exec in a container in the %s state", status)
	}
	if st.Config == nil || st.Config.Linux == nil {
		return -1, fmt.Errorf("container %q: state has no config", opts.ID)
	}
	proc, err := execProcess(&opts, st.Config.Process)
	if err != nil {
		return -1, err
	}
	if proc.Terminal && opts.ConsoleSocket == "" && proc.ConsoleSize == nil {
		// Relayed: the pty starts with the caller's window size, which the
		// program may read before any SIGWINCH could pass it on.
		stdin := opts.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		if rows, cols, err := console.Winsize(stdin); err == nil {
			proc.ConsoleSize = &specs.Box{Height: uint(rows), Width: uint(cols)}
		}
	}
	var filter []byte
	if s := st.Config.Linux.Seccomp; s != nil {
		// Warnings were shown at create; here they would land in the
		// process's stderr.
		if filter, err = compileSeccomp(s, quietLogger{opts.Log}); err != nil {
			return -1, err
		}
	}
	place, err := execPlacement(st, opts.Cgroups)
	if err != nil {
		return -1, err
	}
	if a := proc.ExecCPUAffinity; a != nil && a.Initial != "" {
		// Before the process enters the container's cgroup (the runtime-
		// spec's "initial"); the init applies "final" once it is in.
		inCgroup := place
		place = func(pid int) error {
			if err := sched.SetAffinity(pid, "process.execCPUAffinity.initial", a.Initial); err != nil {
				return err
			}
			if inCgroup != nil {
				return inCgroup(pid)
			}
			return nil
		}
	}

	if sigsReady != nil {
		// Before the process exists, so that no signal is lost.
		<-sigsReady
	}
	ip, err := spawnExec(&opts, c, proc, filter, place)
	if err != nil {
		return -1, err
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, ip.pid); err != nil {
			// The caller cannot know the process: do not leave it behind.
			ip.kill()
			return -1, err
		}
	}
	if opts.Detach {
		return 0, nil
	}
	var restore func() error
	if ip.console != nil {
		restore = relayTerminal(ip.console, opts.Stdin, opts.Stdout)
	}
	status := waitForProcess(ip.pid, ip.startTime, ip.console, sigs)
	if restore != nil {
		restore()
		ip.console.Close()
	}
	return status, nil
}

// execProcess is the process to run: process.json, or the container's
// process changed by the flags; checked completely before anything starts.
func execProcess(opts *ExecOptions, template *specs.Process) (*specs.Process, error) {
	var p *specs.Process
	var err error
	if opts.ProcessFile != "" {
		p, err = loadExecProcess(opts.ProcessFile)
	} else {
		p, err = processFromFlags(&opts.Flags, template)
	}
	if err != nil {
		return nil, err
	}
	if err := checkExecProcess(p, opts.Log); err != nil {
		return nil, err
	}
	switch {
	case p.Terminal && opts.Detach && opts.ConsoleSocket == "":
		return nil, errdefs.InvalidArgument("cannot allocate tty if tincan-oci will detach without setting console socket")
	case !p.Terminal && opts.ConsoleSocket != "":
		return nil, errdefs.InvalidArgument("cannot use console socket if tincan-oci will not detach or allocate tty")
	case opts.PreserveFDs < 0:
		return nil, errdefs.InvalidArgument("--preserve-fds: must not be negative")
	}
	return p, nil
}

// spawnExec starts the process's "tincan-oci init" in the container's
// namespaces and cgroup, and waits until the program has been executed.
func spawnExec(opts *ExecOptions, c *Container, proc *specs.Process, filter []byte, place func(int) error) (*initProcess, error) {
	st := c.state
	handles, err := openInitHandles(st)
	if err != nil {
		return nil, err
	}
	defer handles.close()
	l := &initLaunch{
		boot: initproc.Bootstrap{
			Mode:            initproc.ModeExec,
			ID:              c.id,
			Bundle:          st.Bundle,
			Rootfs:          st.Rootfs,
			Spec:            st.Config,
			Process:         proc,
			PreserveFDs:     opts.PreserveFDs,
			FifoFD:          -1,
			ConsoleSocketFD: -1,
			Seccomp:         filter,
			HookState:       c.hookState(Running),
			Debug:           opts.Debug,
		},
		spec:          st.Config,
		oomScoreAdj:   proc.OOMScoreAdj,
		inherited:     opts.PreserveFDs,
		terminal:      proc.Terminal,
		consoleSocket: opts.ConsoleSocket,
		stdin:         opts.Stdin,
		stdout:        opts.Stdout,
		stderr:        opts.Stderr,
		place:         place,
		await: func(sock *os.File, _ int) error {
			return awaitExecuted(sock, opts.Log)
		},
	}
	var plan strings.Builder
	for _, ns := range handles.namespaces {
		fd := l.addFile(ns.file)
		fmt.Fprintf(&plan, "J %d /proc/self/fd/%d\n", ns.flag, fd)
	}
	l.plan = plan.String()
	l.boot.RootFD = l.addFile(handles.root)
	if s := st.Config.Linux.Seccomp; len(filter) > 0 && s.ListenerPath != "" {
		if prog := new(seccomp.Program); prog.UnmarshalBinary(filter) == nil && prog.Notify {
			// The init cannot reach the listener's host path from inside
			// the container's mount namespace; connect for it.
			conn, err := seccomp.ConnectListener(s.ListenerPath)
			if err != nil {
				return nil, fmt.Errorf("linux.seccomp.listenerPath: %w", err)
			}
			defer conn.Close()
			l.boot.SeccompAgentFD = l.addFile(conn)
		}
	}
	return spawn(l)
}

// awaitExecuted serves the exec'd init until its program runs: MsgReady,
// then EOF when execve closes the socket (it is close-on-exec), or
// MsgError if anything failed.
func awaitExecuted(sock *os.File, log Logger) error {
	ready := false
	for {
		t, payload, err := initproc.Recv(sock)
		if err != nil {
			if ready && errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("unable to start container process: the process setup exited before it was ready")
			}
			return fmt.Errorf("unable to start container process: %w", err)
		}
		switch t {
		case initproc.MsgLog:
			log.Debugf("init: %s", payload)
		case initproc.MsgReady:
			ready = true
		case initproc.MsgError:
			return fmt.Errorf("unable to start container process: %s", payload)
		default:
			return fmt.Errorf("unable to start container process: unexpected %s message", t)
		}
	}
}

// quietLogger drops warnings, keeping debug lines.
type quietLogger struct{ Logger }

func (quietLogger) Warnf(string, ...any) {}
