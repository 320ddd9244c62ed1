package selfexe

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// helperEnv makes the test binary, re-executed through a protected path,
// print "ready" and wait for stdin to close: a stand-in for an init that
// waits for start.
const helperEnv = "SELFEXE_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "wait":
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "exit":
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is the test binary waiting on its stdin.
type child struct {
	cmd   *exec.Cmd
	stdin *os.File
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop closes the child's stdin and waits for it to exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

// waitingChild starts the test binary from path and returns once it runs;
// it exits when stopped, or at cleanup.
func waitingChild(t *testing.T, path string, extra []*os.File) *child {
	t.Helper()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: path, Args: []string{"selfexe-helper"}, Env: []string{helperEnv + "=wait"},
		ExtraFiles: extra, Stdin: stdinR}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	stdinR.Close()
	c := &child{cmd: cmd, stdin: stdinW}
	t.Cleanup(func() {
		stdinW.Close()
		if cmd.ProcessState == nil {
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child started from %s said %q (%v), want ready", path, line, err)
	}
	return c
}

// assertNotWritable tries what the CVE-2019-5736 exploit does to a process
// started from the protected path: open its /proc/<pid>/exe for writing,
// and write through it if the open succeeds.
func assertNotWritable(t *testing.T, pid int, allowed ...unix.Errno) {
	t.Helper()
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	f, err := os.OpenFile(exe, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteAt([]byte{0}, 0)
		f.Close()
	}
	if err == nil {
		t.Fatalf("wrote to %s: the runtime binary is writable from the child", exe)
	}
	for _, e := range allowed {
		if errors.Is(err, e) {
			return
		}
	}
	t.Fatalf("writing %s failed with %v, want one of %v", exe, err, allowed)
}

func TestPathIsReadonlyMountAsRoot(t *testing.T) {
	testutil.RequiresRoot(t)
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if Used() != ReadonlyMount {
		t.Fatalf("root got %v, want %v", Used(), ReadonlyMount)
	}
	if !strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/proc/self/") {
		t.Fatalf("path %q: want /proc/<pid>/fd/<n>", path)
	}
	if again, _ := Path(); again != path {
		t.Fatalf("second Path() = %q, first %q: not cached", again, path)
	}
	child := waitingChild(t, path, nil)
	// The test binary runs here too, so the kernel may say ETXTBSY first.
	assertNotWritable(t, child.pid(), unix.EROFS, unix.ETXTBSY)
}

// copyOfTestBinary copies the test binary to a file no process executes,
// so that writes to it are refused only because of the protection.
func copyOfTestBinary(t *testing.T) (string, [32]byte) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/runtime-binary"
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p, sha256.Sum256(data)
}

// TestReadonlyMountResistsExploit runs the exploit's second form against
// a binary started from a read-only mount: hold an O_PATH handle on the
// process's exe while it runs, and reopen it for writing once nothing
// executes it any more.
func TestReadonlyMountResistsExploit(t *testing.T) {
	testutil.RequiresRoot(t)
	bin, sum := copyOfTestBinary(t)
	ro, err := readonlyMountOf(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	child := waitingChild(t, procFDPath(ro), nil)
	exe := "/proc/" + strconv.Itoa(child.pid()) + "/exe"
	h, err := os.OpenFile(exe, unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	assertNotWritable(t, child.pid(), unix.EROFS, unix.ETXTBSY)
	// Let the child exit: nothing executes the binary now.
	child.stop(t)
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(h.Fd())), os.O_WRONLY, 0)
	if err == nil {
		f.Close()
		t.Fatal("reopened the exited child's binary for writing through an O_PATH handle")
	}
	if !errors.Is(err, unix.EROFS) {
		t.Fatalf("reopen for writing: %v, want EROFS", err)
	}
	// Control: the same file through its own path is writable, so EROFS
	// came from the protection.
	w, err := os.OpenFile(bin, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("control: open %s for writing: %v", bin, err)
	}
	w.Close()
	data, _ := os.ReadFile(bin)
	if sha256.Sum256(data) != sum {
		t.Fatal("the binary changed")
	}
}

func TestSealedCopy(t *testing.T) {
	f, err := openSealedCopy()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{0}, 0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("write to the sealed copy: %v, want EPERM", err)
	}
	if err := f.Truncate(0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("truncate the sealed copy: %v, want EPERM", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_FUTURE_WRITE); !errors.Is(err, unix.EPERM) {
		t.Fatalf("add a seal to the sealed copy: %v, want EPERM", err)
	}
	copyData, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copyData, orig) {
		t.Fatalf("the copy (%d bytes) differs from the binary (%d bytes)", len(copyData), len(orig))
	}
	child := waitingChild(t, procFDPath(f), nil)
	assertNotWritable(t, child.pid(), unix.EPERM, unix.ETXTBSY)
}

func TestReadonlyMountHandle(t *testing.T) {
	testutil.RequiresRoot(t)
	f, err := openReadonlyMount()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_RDONLY == 0 {
		t.Fatalf("statfs flags %#x: the binary's mount is not read-only", st.Flags)
	}
	// Nothing was attached: the mount table of this namespace is unchanged.
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mounts, []byte("selfexe")) {
		t.Fatalf("a mount of the test binary appeared in mountinfo:\n%s", mounts)
	}
}

// TestPathSurvivesDescriptorShuffle starts the child with more ExtraFiles
// than the protected fd's number: exec.Cmd dup2s them onto 3, 4, ... in the
// child, so a /proc/self/fd/<n> path would name one of them by then.
func TestPathSurvivesDescriptorShuffle(t *testing.T) {
	path, err := Path()
	if err != nil {
		t.Skipf("no protected path here: %v", err)
	}
	n, _ := strconv.Atoi(path[strings.LastIndexByte(path, '/')+1:])
	var extra []*os.File
	for i := 0; i < n+4; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		extra = append(extra, r)
	}
	waitingChild(t, path, extra)
}

func TestMethodString(t *testing.T) {
	for m, want := range map[Method]string{ReadonlyMount: "read-only mount", SealedCopy: "sealed memfd copy", 9: "method 9"} {
		if got := m.String(); got != want {
			t.Errorf("Method(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}
