package console

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary, re-executed, a child that calls
// MakeControlling on its fd 3 (a pty slave) and reports.
const childEnv = "TINCAN_CONSOLE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(controllingChild())
	}
	os.Exit(m.Run())
}

func controllingChild() int {
	slave := os.NewFile(3, "slave")
	if err := MakeControlling(slave); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// /dev/tty is the controlling terminal: it opens only if there is one.
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tty.Close()
	sid, _ := unix.Getsid(0)
	fmt.Printf("controlling sid=%v pid=%d\n", sid == os.Getpid(), os.Getpid())
	return 0
}

func TestNewPtyAndFdPassing(t *testing.T) {
	master, slave, err := NewPty("/dev/ptmx")
	if err != nil {
		t.Skipf("no pty on this host: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	if !IsTerminal(slave) || !strings.HasPrefix(slave.Name(), "/dev/pts/") {
		t.Fatalf("slave %s is not a terminal", slave.Name())
	}
	if err := SetWinsize(slave, 24, 80); err != nil {
		t.Fatal(err)
	}
	if rows, cols, err := Winsize(master); err != nil || rows != 24 || cols != 80 {
		t.Errorf("window size through the master: %dx%d, %v; want 24x80", rows, cols, err)
	}

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()
	if err := SendFd(a, slave.Name(), master); err != nil {
		t.Fatal(err)
	}
	got, err := RecvFd(b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Name() != slave.Name() {
		t.Errorf("received name %q, want %q", got.Name(), slave.Name())
	}
	// The received fd is the same master: what the slave writes comes out.
	slave.WriteString("ping\n")
	buf := make([]byte, 16)
	n, err := got.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "ping") {
		t.Errorf("read through the passed master: %q, %v", buf[:n], err)
	}
}

func TestMakeControlling(t *testing.T) {
	master, slave, err := NewPty("/dev/ptmx")
	if err != nil {
		t.Skipf("no pty on this host: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.ExtraFiles = []*os.File{slave}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	// The child's stdout is now the pty: its report comes out of the master.
	out, _ := io.ReadAll(master) // EIO once the child has exited
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	if !strings.Contains(string(out), "controlling sid=true") {
		t.Errorf("child on the pty printed %q; want it to be a session leader with the pty as controlling terminal", out)
	}
}
