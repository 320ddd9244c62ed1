package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/engine/logs"
	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/network/portmap"
	"github.com/tincan/tincan/runtime"
)

// The monitor is the one process that stays with a container while it
// runs: "tincan monitor <id>", started by the CLI in a session of its own.
// It creates and starts the container in-process (so the container's init
// is its child and its exit status comes with wait4), keeps the
// container's stdio, writes the log, serves attach clients, records the
// exit and removes the runtime state (and the whole container with --rm).
//
// It is kept small: no goroutine per client beyond the copiers, and the
// binary's command tree is never built in it (see cmd/tincan).

// monitorReadyFD is the fd of the pipe on which the monitor tells the CLI
// "ok" or the error that stopped the start.
const monitorReadyFD = 3

// RunMonitor is the monitor process of container id. With attached, the
// container starts when the attached CLI sends frameStart (so it misses no
// output); otherwise at once.
func (s *Store) RunMonitor(id string, attached, debug bool) error {
	ready := os.NewFile(monitorReadyFD, "ready")
	m, err := s.prepareMonitor(id)
	if err == nil {
		var log runtime.Logger = quietLog{}
		if debug {
			// Until the container runs, the CLI reads this pipe: it shows
			// each isolation step as it happens.
			log = readyLog{ready}
		}
		err = m.create(log, debug)
	}
	if err != nil {
		s.recordFailure(id, err)
		if m != nil {
			m.stopNetwork()
			m.tearDownNetwork()
			m.ln.Close()
			os.RemoveAll(s.engineRunDir(id))
			if m.rec.Config.AutoRemove {
				s.removeFiles(id)
				s.removeAnonymousVolumes(m.rec)
			}
		}
		fmt.Fprintf(ready, "error: %v\n", err)
		ready.Close()
		return err
	}
	if attached {
		// The CLI attaches when it reads this, then sends frameStart.
		fmt.Fprintf(ready, "created\n")
		err = m.waitForStartFrame(10 * time.Second)
	} else {
		err = m.start()
	}
	if err != nil {
		m.abort(err)
		fmt.Fprintf(ready, "error: %v\n", err)
		ready.Close()
		return err
	}
	fmt.Fprintf(ready, "ok\n")
	ready.Close()
	m.waitAndFinish()
	return nil
}

type monitor struct {
	s   *Store
	rec *Record
	c   *runtime.Container
	ln  *net.UnixListener
	log *logs.Writer

	// The container's side of the stdio is handed to runtime.Create; ours
	// is kept: a pty master, or pipes.
	tty                      *os.File
	stdinW, stdoutR, stderrR *os.File

	// ports holds the published host ports while the container runs;
	// netUp says the network store has its sandbox to tear down.
	ports *portmap.Reservation
	netUp bool

	mu      sync.Mutex
	clients map[*net.UnixConn]bool
	started chan struct{}
	once    sync.Once
	stopNet func() // rootless: stops pasta (rootless.go)
}

func (s *Store) prepareMonitor(id string) (*monitor, error) {
	if err := s.awaitPreviousMonitor(id); err != nil {
		return nil, err
	}
	rec, err := s.Load(id)
	if err != nil {
		return nil, err
	}
	m := &monitor{s: s, rec: rec, clients: map[*net.UnixConn]bool{}, started: make(chan struct{})}
	ln, err := listenUnix(s.AttachSocket(id))
	if err != nil {
		return nil, err
	}
	m.ln = ln
	if m.log, err = logs.Create(s.LogPath(id)); err != nil {
		return nil, err
	}
	go m.serveAttach()
	return m, nil
}

// LogPath is the json-lines log of a container.
func (s *Store) LogPath(id string) string { return s.ContainerDir(id) + "/container.log" }

// create makes the runtime container with the monitor's stdio.
func (m *monitor) create(log runtime.Logger, debug bool) error {
	opts, err := m.s.createOptions(m.rec)
	if err != nil {
		return err
	}
	opts.Log, opts.Debug = log, debug
	opts.Namespaced = m.startNetwork // rootless: pasta (rootless.go)
	// The namespace exists before the runtime joins it (config.json names
	// its file).
	if err := m.setUpNetwork(); err != nil {
		return err
	}
	var theirs []*os.File
	if !m.rec.Config.Tty {
		if m.rec.Config.Interactive {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			opts.Stdin, m.stdinW = r, w
			theirs = append(theirs, r)
		}
		or, ow, err := os.Pipe()
		if err != nil {
			return err
		}
		er, ew, err := os.Pipe()
		if err != nil {
			return err
		}
		opts.Stdout, opts.Stderr, m.stdoutR, m.stderrR = ow, ew, or, er
		theirs = append(theirs, ow, ew)
	}
	opts.Foreground = m.rec.Config.Tty
	c, err := runtime.Create(opts)
	for _, f := range theirs {
		f.Close()
	}
	if err != nil {
		return err
	}
	c.Unlock()
	m.c = c
	m.tty = c.Console()
	return nil
}

func (m *monitor) waitForStartFrame(timeout time.Duration) error {
	select {
	case <-m.started:
		return m.start()
	case <-time.After(timeout):
		return errors.New("no client attached to start the container")
	}
}

// start starts the container and the output copiers.
func (m *monitor) start() error {
	if err := m.c.Lock(); err != nil {
		return err
	}
	err := m.c.Start(quietLog{})
	m.c.Unlock()
	if err != nil {
		return err
	}
	st, _ := m.c.State()
	m.rec.State, m.rec.Pid, m.rec.MonitorPid = StateRunning, st.Pid, os.Getpid()
	m.rec.StartedAt, m.rec.Error = time.Now().UTC(), ""
	if err := m.s.save(m.rec); err != nil {
		return err
	}
	if m.tty != nil {
		go m.copyOut(m.tty, frameStdout, "stdout")
	} else {
		go m.copyOut(m.stdoutR, frameStdout, "stdout")
		go m.copyOut(m.stderrR, frameStderr, "stderr")
	}
	return nil
}

// copyOut copies one output stream to the log and every attached client.
func (m *monitor) copyOut(r io.Reader, t frameType, stream string) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m.log.Write(stream, buf[:n])
			m.broadcast(t, buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (m *monitor) broadcast(t frameType, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for conn := range m.clients {
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if writeFrame(conn, t, data) != nil {
			// A client that cannot keep up is dropped, never the log.
			conn.Close()
			delete(m.clients, conn)
		}
	}
}

func (m *monitor) serveAttach() {
	for {
		conn, err := m.ln.AcceptUnix()
		if err != nil {
			return
		}
		m.mu.Lock()
		m.clients[conn] = true
		m.mu.Unlock()
		go m.readClient(conn)
	}
}

// readClient handles what one attached client sends.
func (m *monitor) readClient(conn *net.UnixConn) {
	for {
		t, payload, err := readFrame(conn)
		if err != nil {
			return
		}
		switch t {
		case frameStart:
			m.once.Do(func() { close(m.started) })
		case frameStdin:
			if m.tty != nil {
				m.tty.Write(payload)
			} else if m.stdinW != nil {
				m.stdinW.Write(payload)
			}
		case frameCloseStdin:
			if m.stdinW != nil {
				m.stdinW.Close()
			}
		case frameResize:
			if rows, cols, ok := parseResize(payload); ok && m.tty != nil {
				console.SetWinsize(m.tty, rows, cols)
			}
		}
	}
}

// waitAndFinish waits for the container's init, records how it ended,
// tells attached clients, and cleans up.
func (m *monitor) waitAndFinish() {
	st, _ := m.c.State()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(st.Pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	m.stopNetwork()
	code := 255
	switch {
	case ws.Exited():
		code = ws.ExitStatus()
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	}
	// Let the copiers drain what the process wrote last.
	time.Sleep(20 * time.Millisecond)
	if unlock, err := m.s.lockContainer(m.rec.ID); err == nil {
		if rec, err := m.s.Load(m.rec.ID); err == nil {
			m.rec = rec
		}
		m.rec.State, m.rec.ExitCode, m.rec.FinishedAt = StateExited, code, time.Now().UTC()
		m.rec.Pid, m.rec.MonitorPid, m.rec.Network = 0, 0, nil
		m.s.save(m.rec)
		unlock()
	}
	cleanup := func() {
		m.tearDownNetwork()
		m.ln.Close()
		m.log.Close()
		m.c.Delete(true, quietLog{})
		os.RemoveAll(m.s.engineRunDir(m.rec.ID))
		if m.rec.Config.AutoRemove {
			// docker's --rm takes the anonymous volumes along.
			m.s.removeFiles(m.rec.ID)
			m.s.removeAnonymousVolumes(m.rec)
		}
	}
	if m.rec.Config.AutoRemove {
		// As with docker, run --rm returns once the container is gone
		// (an rmi right after it must not find it using the image).
		cleanup()
	}
	m.mu.Lock()
	for conn := range m.clients {
		writeFrame(conn, frameExit, []byte(strconv.Itoa(code)))
		conn.Close()
	}
	m.clients = map[*net.UnixConn]bool{}
	m.mu.Unlock()
	if !m.rec.Config.AutoRemove {
		cleanup()
	}
}

// abort undoes a create whose start failed.
func (m *monitor) abort(err error) {
	m.stopNetwork()
	if m.c != nil {
		m.c.Delete(true, quietLog{})
	}
	m.tearDownNetwork()
	m.s.recordFailure(m.rec.ID, err)
	m.ln.Close()
	os.RemoveAll(m.s.engineRunDir(m.rec.ID))
	if m.rec.Config.AutoRemove {
		// docker's --rm takes the anonymous volumes along.
		m.s.removeFiles(m.rec.ID)
		m.s.removeAnonymousVolumes(m.rec)
	}
}

// recordFailure marks a container whose start failed as exited with the
// error, as docker shows it.
func (s *Store) recordFailure(id string, cause error) {
	rec, err := s.Load(id)
	if err != nil {
		return
	}
	rec.State, rec.Error, rec.ExitCode = StateExited, cause.Error(), exitCodeFor(cause)
	rec.FinishedAt = time.Now().UTC()
	s.save(rec)
}

// readyLog sends debug lines to the CLI over the ready pipe.
type readyLog struct{ w *os.File }

func (l readyLog) Warnf(format string, args ...any) {
	fmt.Fprintf(l.w, "warning: "+format+"\n", args...)
}

func (l readyLog) Debugf(format string, args ...any) {
	fmt.Fprintf(l.w, "debug: "+format+"\n", args...)
}

// quietLog discards the runtime's warnings in the monitor (they were shown
// when the CLI validated the config) and debug lines.
type quietLog struct{}

func (quietLog) Warnf(string, ...any)  {}
func (quietLog) Debugf(string, ...any) {}
