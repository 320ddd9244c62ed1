package engines

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/linux/console"
)

// terminal runs a client command on a pty of the host's, as a person at a
// terminal would (with -t / -it), and records what it shows.
type terminal struct {
	master, slave *os.File
	cmd           *exec.Cmd
	mu            sync.Mutex
	out           bytes.Buffer
	done          chan struct{}
}

// startOnTerminal starts cmd with a new pty (rows x cols) as its stdio and
// controlling terminal.
func startOnTerminal(t testing.TB, cmd *exec.Cmd, rows, cols uint16) *terminal {
	t.Helper()
	master, slave, err := console.NewPty("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	if err := console.SetWinsize(slave, rows, cols); err != nil {
		t.Fatal(err)
	}
	term := &terminal{master: master, slave: slave, cmd: cmd, done: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { cmd.Wait(); close(term.done) }()
	t.Cleanup(func() {
		select {
		case <-term.done:
		default:
			cmd.Process.Kill()
			<-term.done
		}
		master.Close()
		slave.Close()
	})
	return term
}

// text is what the terminal has shown so far, without carriage returns.
func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return strings.ReplaceAll(term.out.String(), "\r", "")
}

// waitText waits until the terminal shows want.
func (term *terminal) waitText(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(term.text(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal did not show %q; it showed %q", want, term.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitWindowSize types "stty size" until the shell in the container
// reports want: engines pass the caller's window size on asynchronously,
// after the process started.
func (term *terminal) waitWindowSize(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(term.text(), "\n"+want+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("the container's terminal never had the size %s; the terminal shows %q", want, term.text())
		}
		term.typeLine("stty size")
		time.Sleep(100 * time.Millisecond)
	}
}

// typeLine types a line at the terminal.
func (term *terminal) typeLine(s string) {
	term.master.WriteString(s + "\r")
}

// wait waits for the command to exit and returns its status.
func (term *terminal) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-term.done:
	case <-time.After(time.Minute):
		t.Fatalf("%v did not exit; the terminal shows %q", term.cmd.Args, term.text())
	}
	return term.cmd.ProcessState.ExitCode()
}
