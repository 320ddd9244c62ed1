package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/linux/nsenter"
	"github.com/tincan/tincan/linux/procfs"
	"github.com/tincan/tincan/linux/selfexe"
	"github.com/tincan/tincan/linux/userns"
	"github.com/tincan/tincan/runtime/hooks"
	"github.com/tincan/tincan/runtime/initproc"
)

// initProcess is the container's init as the parent knows it.
type initProcess struct {
	// pid is the init, our child either way: started by us, or forked by
	// nsenter with CLONE_PARENT for a pid namespace (the intermediate it
	// forked from is reaped in spawn). Not reaped until we wait for it, so
	// the pid cannot be reused under us.
	pid       int
	startTime uint64
	// console is the pty master when the caller relays the terminal.
	console *os.File
}

// kill ends the init (used when create fails after spawning it).
func (p *initProcess) kill() error {
	if p.pid > 0 {
		killAndReap(p.pid)
		p.pid = 0
	}
	if p.console != nil {
		p.console.Close()
	}
	return nil
}

// killAndReap SIGKILLs our child pid and waits for it.
func killAndReap(pid int) {
	unix.Kill(pid, unix.SIGKILL)
	reap(pid)
}

// reap waits for our child pid to exit.
func reap(pid int) {
	for {
		if _, err := unix.Wait4(pid, nil, 0, nil); err != unix.EINTR {
			return
		}
	}
}

func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("create socket pair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// dialConsoleSocket connects to the engine's console socket.
func dialConsoleSocket(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to console socket %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// spawnInit starts the container's init and drives it through the protocol
// in runtime/initproc/protocol.go until it reports "created".
// whileBooting, when set, runs once the init has its namespace plan and
// before it gets the bootstrap (see initLaunch).
func spawnInit(opts *CreateOptions, p *prepared, c *Container, cg cgroups.Manager, whileBooting func() error) (*initProcess, error) {
	fifo, err := os.OpenFile(c.fifoPath(), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()
	l := &initLaunch{
		boot: initproc.Bootstrap{
			Mode:            initproc.ModeCreate,
			ID:              c.id,
			Bundle:          p.bundle,
			Rootfs:          p.rootfs,
			RootfsOverlay:   opts.RootfsOverlay,
			Spec:            p.spec,
			Process:         p.spec.Process,
			NoPivot:         opts.NoPivot,
			NoNewKeyring:    opts.NoNewKeyring,
			PreserveFDs:     opts.PreserveFDs,
			ListenFDs:       opts.ListenFDs,
			FifoFD:          -1,
			ConsoleSocketFD: -1,
			NewNamespaces:   p.plan.newNS,
			Seccomp:         p.seccomp,
			HookState:       c.hookState(Creating),
			Debug:           opts.Debug,
		},
		plan:          p.plan.text,
		spec:          p.spec,
		inherited:     opts.ListenFDs + opts.PreserveFDs,
		fifo:          fifo,
		consoleSocket: opts.ConsoleSocket,
		stdin:         opts.Stdin,
		stdout:        opts.Stdout,
		stderr:        opts.Stderr,
		cg:            cg,
		whileBooting:  whileBooting,
		namespaced:    opts.Namespaced,
		await: func(sock *os.File, pid int) error {
			return awaitCreated(sock, opts, c, pid)
		},
	}
	if proc := p.spec.Process; proc != nil {
		l.terminal = proc.Terminal
		l.oomScoreAdj = proc.OOMScoreAdj
	}
	l.boot.CgroupMounts = cgroupMounts(p.spec, cg)
	return spawn(l)
}

// initLaunch is what starting one "tincan-oci init" takes. Create and exec
// fill it in; spawn does the rest, the same for both.
type initLaunch struct {
	// boot is sent as MsgBootstrap; spawn fills in the fd numbers of the
	// fifo and console socket, and HostPid.
	boot initproc.Bootstrap
	// plan is the nsenter plan (see linux/nsenter/nsenter.c).
	plan string
	// spec gives the uid/gid maps of a new user namespace.
	spec *specs.Spec
	// oomScoreAdj, when set, is written for the init before it can enter a
	// user namespace (inside one, lowering the score is not allowed).
	oomScoreAdj *int
	// inherited is how many of the caller's fds from 3 up the init gets
	// ($LISTEN_FDS and --preserve-fds); they keep their numbers.
	inherited int
	// files are more fds for the init, right after the inherited ones (see
	// addFile).
	files []*os.File
	// fifo is the exec fifo of a create (O_PATH), or nil.
	fifo *os.File
	// terminal: the init makes a pty; its master goes to consoleSocket, or
	// with no socket back to us, for the caller to relay.
	terminal      bool
	consoleSocket string
	// stdin, stdout and stderr are the init's stdio (nil: /dev/null).
	stdin, stdout, stderr *os.File
	// cg is the cgroup the init is placed in before it enters any
	// namespace (nil: none); place, when set, runs right after, for
	// placements a Manager does not express (exec's per-controller
	// sub-cgroups).
	cg    cgroups.Manager
	place func(pid int) error
	// whileBooting, when set, runs after the namespace plan is sent, in
	// parallel with the init's namespace setup and Go runtime start (the
	// better part of a millisecond), and before the bootstrap: until the
	// bootstrap the init does nothing of the container's setup, so what
	// runs here (the cgroup limits, the device filter) is in place before
	// any of it.
	whileBooting func() error
	// namespaced, when set, runs once the init's namespaces exist and
	// before its bootstrap (CreateOptions.Namespaced).
	namespaced func(pid int) error
	// await serves the init after the bootstrap until it is done with the
	// parent: created (create) or executed (exec).
	await func(sock *os.File, pid int) error
}

// addFile passes f to the init and returns the fd number it gets there.
func (l *initLaunch) addFile(f *os.File) int {
	l.files = append(l.files, f)
	return 3 + l.inherited + len(l.files) - 1
}

// spawn starts "tincan-oci init" and drives the protocol in
// runtime/initproc/protocol.go: placement, namespaces, bootstrap, then
// l.await until the init is done with us.
func spawn(l *initLaunch) (_ *initProcess, err error) {
	parentSock, childSock, err := socketPair()
	if err != nil {
		return nil, err
	}
	defer parentSock.Close()

	extra := make([]*os.File, 0, l.inherited+len(l.files)+3)
	for i := 0; i < l.inherited; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	extra = append(extra, l.files...)
	syncFD := 3 + len(extra)
	extra = append(extra, childSock)
	if l.fifo != nil {
		l.boot.FifoFD = 3 + len(extra)
		extra = append(extra, l.fifo)
	}

	var consoleParent *os.File
	if l.terminal {
		var consoleChild *os.File
		if l.consoleSocket != "" {
			consoleChild, err = dialConsoleSocket(l.consoleSocket)
		} else {
			// Foreground without a console socket: we relay the pty.
			consoleParent, consoleChild, err = socketPair()
		}
		if err != nil {
			childSock.Close()
			return nil, err
		}
		l.boot.ConsoleSocketFD = 3 + len(extra)
		extra = append(extra, consoleChild)
		defer consoleChild.Close()
	}

	// On cgroup v2 the child starts in its cgroup (CLONE_INTO_CGROUP), so
	// it never runs outside; v1 (a cgroup per hierarchy) uses Apply below.
	var cgroupFD *os.File
	if l.cg != nil {
		if cgroupFD, err = l.cg.CloneFD(); err != nil {
			childSock.Close()
			return nil, err
		}
	}
	if cgroupFD != nil {
		defer cgroupFD.Close()
	}
	childPid, err := startInit(l, extra, syncFD, cgroupFD)
	childSock.Close()
	if err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	ip := &initProcess{pid: childPid}
	defer func() {
		if err != nil {
			ip.kill()
		}
		if consoleParent != nil {
			consoleParent.Close()
		}
	}()

	// Into the cgroup before the namespaces: a new cgroup namespace is
	// rooted at the cgroup the process is in when it unshares.
	cg := l.cg
	if cg != nil && cgroupFD == nil {
		if err := cg.Apply(childPid); err != nil {
			return nil, err
		}
	}
	if l.place != nil {
		if err := l.place(childPid); err != nil {
			return nil, err
		}
	}
	if adj := l.oomScoreAdj; adj != nil {
		// From here, before the user namespace: inside one, lowering the
		// score is not allowed.
		path := "/proc/" + strconv.Itoa(childPid) + "/oom_score_adj"
		if err := os.WriteFile(path, []byte(strconv.Itoa(*adj)), 0); err != nil {
			return nil, fmt.Errorf("set process.oomScoreAdj %d: %w", *adj, err)
		}
	}
	if err := initproc.Send(parentSock, initproc.MsgNsPlan, []byte(l.plan)); err != nil {
		return nil, err
	}
	if l.whileBooting != nil {
		if err := l.whileBooting(); err != nil {
			return nil, err
		}
	}
	initPid, err := awaitInitPid(parentSock, childPid, l.spec)
	if err != nil {
		return nil, err
	}
	if initPid != childPid {
		// nsenter forked the init (CLONE_PARENT: it is our child) and its
		// intermediate exits right after reporting; reap it.
		reap(childPid)
		ip.pid = initPid
	}
	st, err := procfs.ReadStat(ip.pid)
	if err != nil {
		return nil, fmt.Errorf("container init: %w", err)
	}
	ip.startTime = st.StartTime
	if l.namespaced != nil {
		if err := l.namespaced(ip.pid); err != nil {
			return nil, err
		}
	}

	l.boot.HostPid = ip.pid
	if err := initproc.SendJSON(parentSock, initproc.MsgBootstrap, &l.boot); err != nil {
		return nil, err
	}
	if err := l.await(parentSock, ip.pid); err != nil {
		return nil, err
	}
	if consoleParent != nil {
		if ip.console, err = console.RecvFd(consoleParent); err != nil {
			return nil, err
		}
	}
	return ip, nil
}

// startInit forks and executes "tincan-oci init" with stdio, the extra
// files from fd 3 on and the sync socket's number in the environment. It
// calls syscall.ForkExec itself rather than os/exec: exec.Cmd goes through
// os.StartProcess, whose first use in a process probes pidfd support with
// a throwaway vfork, and the init is our child to wait for with its pid
// anyway (nsenter may fork the real one).
//
// The binary is this one, protected so that the container cannot write to
// it through /proc/<pid>/exe (CVE-2019-5736, see linux/selfexe); without
// protection the init does not start.
func startInit(l *initLaunch, extra []*os.File, syncFD int, cgroupFD *os.File) (int, error) {
	files := make([]uintptr, 0, 3+len(extra))
	var devNull *os.File
	for _, f := range []*os.File{l.stdin, l.stdout, l.stderr} {
		if f == nil {
			if devNull == nil {
				var err error
				if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return 0, err
				}
				defer devNull.Close()
			}
			f = devNull
		}
		files = append(files, f.Fd())
	}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	attr := &syscall.ProcAttr{
		// GOMAXPROCS=1: the init is one goroutine; a single P spares it the
		// threads and wake-ups an idle second P costs. Unset by the init.
		Env:   []string{nsenter.EnvFD + "=" + strconv.Itoa(syncFD), "GOMAXPROCS=1"},
		Files: files,
		Sys:   &syscall.SysProcAttr{},
	}
	if cgroupFD != nil {
		attr.Sys.UseCgroupFD = true
		attr.Sys.CgroupFD = int(cgroupFD.Fd())
	}
	exe, err := selfexe.Path()
	if err != nil {
		return 0, err
	}
	pid, err := syscall.ForkExec(exe, []string{"tincan-oci", "init"}, attr)
	// The files must stay open until the child has its copies.
	for _, f := range extra {
		goruntime.KeepAlive(f)
	}
	goruntime.KeepAlive(l)
	return pid, err
}

// awaitInitPid serves the namespace phase (user namespace maps) until the
// constructor reports the pid of the process that runs the Go init.
func awaitInitPid(sock *os.File, childPid int, s *specs.Spec) (int, error) {
	for {
		t, payload, err := initproc.Recv(sock)
		if err != nil {
			return 0, initExited(err)
		}
		switch t {
		case initproc.MsgUsernsMapRequest:
			if err := userns.WriteMaps(childPid, s.Linux.UIDMappings, s.Linux.GIDMappings); err != nil {
				return 0, err
			}
			if err := initproc.Send(sock, initproc.MsgUsernsMapDone, nil); err != nil {
				return 0, err
			}
		case initproc.MsgInitPid:
			pid, err := strconv.Atoi(string(payload))
			if err != nil {
				return 0, fmt.Errorf("container init sent a bad pid %q", payload)
			}
			return pid, nil
		case initproc.MsgError:
			return 0, fmt.Errorf("container init: %s", payload)
		default:
			return 0, fmt.Errorf("container init: unexpected %s message", t)
		}
	}
}

// awaitCreated serves the init until it reports MsgCreated: hooks in the
// runtime namespace and debug lines.
func awaitCreated(sock *os.File, opts *CreateOptions, c *Container, pid int) error {
	for {
		t, payload, err := initproc.Recv(sock)
		if err != nil {
			return initExited(err)
		}
		switch t {
		case initproc.MsgLog:
			opts.Log.Debugf("init: %s", payload)
		case initproc.MsgRunHooks:
			if err := c.runCreateHooks(pid); err != nil {
				return err
			}
			if err := initproc.Send(sock, initproc.MsgHooksDone, nil); err != nil {
				return err
			}
		case initproc.MsgCreated:
			return nil
		case initproc.MsgError:
			return fmt.Errorf("container init: %s", payload)
		default:
			return fmt.Errorf("container init: unexpected %s message", t)
		}
	}
}

func initExited(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("container init exited before it was ready")
	}
	return fmt.Errorf("container init: %w", err)
}

// runCreateHooks runs prestart then createRuntime hooks, in the runtime
// namespace, with the init's host pid in the state.
func (c *Container) runCreateHooks(pid int) error {
	h := c.state.Config.Hooks
	// prestart hooks were defined as running once start is called, with
	// status "created"; the conformance suite and hooks written for them
	// expect that status, though they now run during create.
	st := c.hookState(Created)
	st.Pid = pid
	if err := hooks.Run("prestart", h.Prestart, &st); err != nil {
		return err
	}
	st.Status = specs.StateCreating
	return hooks.Run("createRuntime", h.CreateRuntime, &st)
}

// hookState is the runtime-spec state passed to hooks.
func (c *Container) hookState(status Status) specs.State {
	st := specs.State{
		Version:     c.state.OCIVersion,
		ID:          c.id,
		Status:      specs.ContainerState(status),
		Pid:         c.state.Pid,
		Bundle:      c.state.Bundle,
		Annotations: c.state.Annotations,
	}
	if st.Version == "" {
		st.Version = specs.Version
	}
	return st
}

func (c *Container) fifoPath() string { return c.dir + "/" + fifoFile }

// cgroupMounts lists what a "cgroup" mount in the config must show.
func cgroupMounts(s *specs.Spec, cg cgroups.Manager) []initproc.CgroupMount {
	need := false
	if cg == nil {
		return nil
	}
	for _, m := range s.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			need = true
		}
	}
	if !need {
		return nil
	}
	points, err := cgroups.MountPoints()
	if err != nil {
		return nil
	}
	var out []initproc.CgroupMount
	for _, subsystems := range sortedKeys(points) {
		dir := ""
		if subsystems == "" {
			dir = cg.Path("")
		} else {
			dir = cg.Path(strings.Split(subsystems, ",")[0])
		}
		out = append(out, initproc.CgroupMount{Subsystems: subsystems, HostDir: dir})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
