package integration

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// consoleSocket listens on a unix socket as an engine does and delivers the
// first pty master sent to it with SCM_RIGHTS.
func consoleSocket(t *testing.T) (path string, master <-chan *os.File) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan *os.File, 1)
	go func() {
		defer close(ch)
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		f, err := conn.File()
		if err != nil {
			return
		}
		defer f.Close()
		buf := make([]byte, 4096)
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, 0)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return
		}
		ch <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	return path, ch
}

// ptyReader collects what a pty master reads until EIO (every slave
// closed).
type ptyReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func readPty(master *os.File) *ptyReader {
	p := &ptyReader{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *ptyReader) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Error("the pty did not close")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.ReplaceAll(p.buf.String(), "\r\n", "\n")
}

func TestConsoleSocket(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh")
	b.Spec.Process.Terminal = true
	b.Spec.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	sock, masters := consoleSocket(t)
	create(t, r, b, id, "--console-socket", sock)

	var master *os.File
	select {
	case master = <-masters:
	case <-time.After(10 * time.Second):
	}
	if master == nil {
		t.Fatal("no pty master received on the console socket")
	}
	defer master.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(master.Fd()), &st); err != nil || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		t.Errorf("received fd is not a pty master (ptmx 5:2): %d:%d %v", unix.Major(st.Rdev), unix.Minor(st.Rdev), err)
	}
	out := readPty(master)

	r.MustExec(t, "start", id)
	// tty_nr (field 7 of stat) of pid 1 is its controlling terminal:
	// pts/0 is 136:0, encoded as 136<<8.
	script := "echo hi; tty; stty size; stat -c %t:%T /dev/console; cut -d' ' -f7 /proc/1/stat; exit 7\n"
	if _, err := master.WriteString(script); err != nil {
		t.Fatal(err)
	}
	text := out.wait(t)
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{"hi", "/dev/pts/0", "30 100", "88:0", "34816"} {
		if !lines[want] {
			t.Errorf("terminal output lacks a line %q:\n%s", want, text)
		}
	}
	waitStatus(t, r, id, "stopped")
}

func TestRunForegroundRelaysTerminal(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "echo relayed; tty; exit 5")
	b.Spec.Process.Terminal = true
	b.Save(t)
	r := testutil.NewRuntime(t)
	res := runFG(t, r, b, newID(t))
	out := strings.ReplaceAll(res.Stdout, "\r\n", "\n")
	if res.Code != 5 || out != "relayed\n/dev/pts/0\n" {
		t.Errorf("run with a terminal: exit %d stdout %q stderr %q, want exit 5 and the output through the pty", res.Code, res.Stdout, res.Stderr)
	}
}

func TestConsoleSocketMisuse(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	before := testutil.TakeSnapshot(t)

	tty := testutil.NewBundle(t, "true")
	tty.Spec.Process.Terminal = true
	tty.Save(t)
	id := newID(t)
	expectFailure(t, ociExec(t, r, nil, "run", "--detach", "--bundle", tty.Dir, id), "console socket")
	expectFailure(t, ociExec(t, r, nil, "create", "--bundle", tty.Dir, id), "console socket")

	noTTY := testutil.NewBundle(t, "true")
	sock, _ := consoleSocket(t)
	expectFailure(t, ociExec(t, r, nil, "create", "--console-socket", sock, "--bundle", noTTY.Dir, id), "console socket")

	// A console socket nobody listens on.
	expectFailure(t, ociExec(t, r, nil, "create", "--console-socket", filepath.Join(t.TempDir(), "none.sock"), "--bundle", tty.Dir, id), "none.sock")
	assertNothingLeft(t, r, before, id)
}
