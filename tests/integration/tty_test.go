package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/console"
)

// receivePty waits for the pty master sent to a console socket.
func receivePty(t *testing.T, masters <-chan *os.File) *os.File {
	t.Helper()
	select {
	case m := <-masters:
		if m == nil {
			t.Fatal("no pty master received on the console socket")
		}
		t.Cleanup(func() { m.Close() })
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no pty master received on the console socket")
	}
	return nil
}

func TestTTYExecConsoleSocket(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			t.Parallel()
			var b *testutil.Bundle
			if userns {
				b = userNSBundle(t, "sleep", "1000")
			} else {
				b = testutil.NewBundle(t, "sleep", "1000")
			}
			r := testutil.NewRuntime(t)
			id := newID(t)
			initPid := runDetached(t, r, b, id)
			p := b.Spec.Process
			p.Terminal = true
			p.ConsoleSize = &specs.Box{Height: 25, Width: 90}
			p.Args = []string{"sh", "-c", "tty; stty size; [ -t 0 ] && [ -t 2 ] && echo stdio-is-tty"}
			data, _ := json.Marshal(p)
			file := filepath.Join(t.TempDir(), "process.json")
			os.WriteFile(file, data, 0o644)

			sock, masters := consoleSocket(t)
			res := execIn(t, r, "--detach", "--console-socket", sock, "--process", file, id)
			if res.Code != 0 {
				t.Fatalf("exec --detach --console-socket: exit %d: %s", res.Code, res.Stderr)
			}
			master := receivePty(t, masters)
			out := readPty(master).wait(t)
			if !strings.HasPrefix(out, "/dev/pts/") || !strings.Contains(out, "\n25 90\n") || !strings.Contains(out, "stdio-is-tty") {
				t.Errorf("terminal output %q, want the pty's name, the console size 25x90, and stdio on it", out)
			}
			// The pty is the container's: from its devpts instance, not the
			// host's.
			var ptm, containerPts, hostPts unix.Stat_t
			unix.Fstat(int(master.Fd()), &ptm)
			unix.Stat(fmt.Sprintf("/proc/%d/root/dev/pts", initPid), &containerPts)
			unix.Stat("/dev/pts", &hostPts)
			if ptm.Dev != containerPts.Dev || ptm.Dev == hostPts.Dev {
				t.Errorf("pty master is on device %d; the container's devpts is %d, the host's %d", ptm.Dev, containerPts.Dev, hostPts.Dev)
			}
		})
	}
}

func TestTTYExecRelayWithoutConsoleSocket(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	res := execIn(t, r, "--tty", id, "sh", "-c", "tty; echo relayed; exit 4")
	out := strings.ReplaceAll(res.Stdout, "\r\n", "\n")
	if res.Code != 4 || !strings.HasPrefix(out, "/dev/pts/") || !strings.HasSuffix(out, "\nrelayed\n") {
		t.Errorf("exec -t: exit %d stdout %q stderr %q, want exit 4 and the output through a pty", res.Code, res.Stdout, res.Stderr)
	}
}

// ptyText is what has been read from the pty so far, \r\n made \n.
func (p *ptyReader) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.ReplaceAll(p.buf.String(), "\r\n", "\n")
}

// waitForText polls until the pty has shown want, calling poke (if set)
// before each look; it fails the test with what was shown.
func waitForText(t *testing.T, p *ptyReader, want string, poke func()) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if poke != nil {
			poke()
		}
		if strings.Contains(p.text(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal did not show %q; it showed %q", want, p.text())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTTYRelayRawModeAndWindowSize drives run -t and exec -t from a
// terminal as a person would: the caller's terminal is put in raw mode
// and restored, input reaches the container, the window size is passed on
// at start and after SIGWINCH.
func TestTTYRelayRawModeAndWindowSize(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	script := `stty size; while read cmd; do case $cmd in size) stty size;; exit) echo bye; exit 6;; *) echo "got:$cmd";; esac; done`
	for _, verb := range []string{"run", "exec"} {
		t.Run(verb, func(t *testing.T) {
			t.Parallel()
			r := testutil.NewRuntime(t)
			id := newID(t)
			var args []string
			if verb == "run" {
				b := testutil.NewBundle(t, "sh", "-c", script)
				b.Spec.Process.Terminal = true
				b.Save(t)
				args = []string{"run", "--bundle", b.Dir, id}
				forceDeleteAtCleanup(t, r, id)
			} else {
				b := testutil.NewBundle(t, "sleep", "1000")
				runDetached(t, r, b, id)
				args = []string{"exec", "-t", id, "sh", "-c", script}
			}
			// The caller's terminal: a pty of the host's.
			master, slave, err := console.NewPty("/dev/ptmx")
			if err != nil {
				t.Fatal(err)
			}
			defer master.Close()
			defer slave.Close()
			if err := console.SetWinsize(slave, 30, 100); err != nil {
				t.Fatal(err)
			}
			cooked, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			stderr := scratchFile(t)
			defer os.Remove(stderr.Name())
			defer stderr.Close()
			cmd := r.Cmd(args...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			out := readPty(master)
			waitForText(t, out, "30 100\n", nil)
			if tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS); err != nil || tio.Lflag&(unix.ICANON|unix.ECHO) != 0 {
				t.Errorf("the caller's terminal is not in raw mode while relaying (lflag %#x)", tio.Lflag)
			}
			master.WriteString("hello\r")
			waitForText(t, out, "got:hello\n", nil)

			console.SetWinsize(slave, 40, 120)
			cmd.Process.Signal(syscall.SIGWINCH)
			waitForText(t, out, "40 120\n", func() {
				master.WriteString("size\r")
				time.Sleep(20 * time.Millisecond)
			})
			master.WriteString("exit\r")
			err = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 6 {
				t.Errorf("%s -t: exit %d (%v), want 6; stderr %q, output %q", verb, code, err, readFile(t, stderr.Name()), out.text())
			}
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil || tio.Lflag != cooked.Lflag || tio.Iflag != cooked.Iflag || tio.Oflag != cooked.Oflag {
				t.Errorf("the caller's terminal was not restored: lflag %#x iflag %#x oflag %#x, want %#x %#x %#x",
					tio.Lflag, tio.Iflag, tio.Oflag, cooked.Lflag, cooked.Iflag, cooked.Oflag)
			}
		})
	}
}

func TestTTYDetachWithoutTerminalKeepsCallerStdio(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "echo to stdout; echo to stderr >&2; read line; echo read:$line")
	r := testutil.NewRuntime(t)
	id := newID(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "stdin")
	os.WriteFile(in, []byte("from stdin\n"), 0o644)
	stdin, _ := os.Open(in)
	defer stdin.Close()
	stdout, stderr := createFile(t, filepath.Join(dir, "stdout")), createFile(t, filepath.Join(dir, "stderr"))
	cmd := r.Cmd("run", "--detach", "--bundle", b.Dir, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run --detach: %v: %s", err, readFile(t, stderr.Name()))
	}
	forceDeleteAtCleanup(t, r, id)
	waitStatus(t, r, id, "stopped")
	if got := readFile(t, stdout.Name()); got != "to stdout\nread:from stdin\n" {
		t.Errorf("container stdout %q, want its output in the caller's stdout, with the caller's stdin read", got)
	}
	if got := readFile(t, stderr.Name()); got != "to stderr\n" {
		t.Errorf("container stderr %q", got)
	}
	// The same for exec --detach.
	b2 := testutil.NewBundle(t, "sleep", "1000")
	id2 := newID(t)
	runDetached(t, r, b2, id2)
	stdin.Seek(0, 0)
	stdout2 := createFile(t, filepath.Join(dir, "stdout2"))
	pidFile := filepath.Join(dir, "pid")
	cmd = r.Cmd("exec", "-d", "--pid-file", pidFile, id2, "sh", "-c", "read line; echo exec-read:$line")
	cmd.Stdin, cmd.Stdout = stdin, stdout2
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec -d: %v", err)
	}
	pid, _ := strconv.Atoi(readFile(t, pidFile))
	waitFor(t, "the detached exec to finish", func() bool { return !procAlive(pid) })
	if got := readFile(t, stdout2.Name()); got != "exec-read:from stdin\n" {
		t.Errorf("exec -d stdout %q, want the caller's stdio used", got)
	}
}
