package engines

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

func TestMain(m *testing.M) {
	// Directories the engines make in fixed places whatever their
	// configuration (containerd 1.6's shim sockets, dockerd's plugin
	// directory): removed at the end if the tests made them and they are
	// empty again.
	fixed := []string{"/run/containerd/s", "/run/containerd", "/run/docker/plugins", "/run/docker"}
	var made []string
	for _, d := range fixed {
		if _, err := os.Lstat(d); err != nil {
			made = append(made, d)
		}
	}
	code := m.Run()
	for _, d := range made {
		os.Remove(d)
	}
	scratch.removeAll()
	os.Exit(code)
}

// scratch holds directories made outside t.TempDir (shared by the tests of
// one binary), removed when the tests end.
var scratch dirList

type dirList struct {
	mu   sync.Mutex
	dirs []string
}

func (l *dirList) add(dir string) {
	l.mu.Lock()
	l.dirs = append(l.dirs, dir)
	l.mu.Unlock()
}

func (l *dirList) removeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.dirs {
		os.RemoveAll(d)
	}
}

// runtimeUnderTest is the OCI runtime the engines are pointed at, and a
// name for messages.
func runtimeUnderTest(t testing.TB) (path, name string) {
	t.Helper()
	if p := os.Getenv("TINCAN_ENGINES_RUNTIME"); p != "" {
		abs, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("TINCAN_ENGINES_RUNTIME=%s: %v", p, err)
		}
		return abs, filepath.Base(abs)
	}
	return testutil.OCIBinary(t), "tincan-oci"
}

// requireBinaries skips the test when a program the engine needs is not
// installed (scripts/install-deps.sh installs them all).
func requireBinaries(t testing.TB, names ...string) {
	t.Helper()
	testutil.RequiresRoot(t)
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s cannot start on this host: %s is not installed (scripts/install-deps.sh installs it)", t.Name(), n)
		}
	}
}

// daemon is an engine daemon a test started.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
	// dir holds all of its state; mounts left under it are removed after
	// it stopped.
	dir string
	// helpers match the command lines of processes the daemon started
	// that outlive it when something went wrong (shims, conmon); they are
	// ended by pid after the daemon stopped.
	helpers string
	// cgroups name the parent cgroups the engine makes for its containers
	// ("/docker/"); those that appeared while it ran are removed when
	// empty after it stopped.
	cgroups []string
}

// startDaemon starts a daemon and waits until ready reports true; a daemon
// that exits or never gets ready skips the test with its log.
func startDaemon(t testing.TB, d *daemon, ready func() bool, args ...string) *daemon {
	t.Helper()
	name := d.name
	d.log = filepath.Join(d.dir, name+".log")
	logFile, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	d.cmd = exec.Command(args[0], args[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	// Its own process group, so that a terminal's signals do not reach it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	before := testutil.TakeSnapshot(t)
	if err := d.cmd.Start(); err != nil {
		t.Skipf("%s cannot start on this host: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { d.cmd.Wait(); close(exited) }()
	t.Cleanup(func() { d.stop(t, exited, before) })
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		select {
		case <-exited:
			t.Skipf("%s cannot start on this host: it exited (%v); its log ends:\n%s", name, d.cmd.ProcessState, tail(d.log, 15))
		default:
		}
		if time.Now().After(deadline) {
			t.Skipf("%s cannot start on this host: not ready after 60s; its log ends:\n%s", name, tail(d.log, 15))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// stop ends the daemon (SIGTERM, then SIGKILL), then whatever of its
// helpers is left, the mounts under its directory and the cgroups that
// appeared while it ran and are empty now (engines leave their parent
// cgroups, /docker or /libpod_parent, behind with runc too).
func (d *daemon) stop(t testing.TB, exited chan struct{}, before testutil.Snapshot) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s of SIGTERM; killing it", d.name)
		d.cmd.Process.Kill()
		<-exited
	}
	if d.helpers != "" {
		for _, pid := range pidsWithCmdline(d.helpers) {
			t.Logf("ending %s helper %d left behind: %s", d.name, pid, cmdline(pid))
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	unmountUnder(t, d.dir)
	removeNewCgroups(t, before, d.cgroups)
}

// removeNewCgroups removes, when empty, the cgroup directories that are
// not in before and whose path contains one of markers (an engine's parent
// cgroups), deepest first.
func removeNewCgroups(t testing.TB, before testutil.Snapshot, markers []string) {
	var fresh []string
	for c := range testutil.TakeSnapshot(t).Cgroups {
		if before.Cgroups[c] {
			continue
		}
		for _, m := range markers {
			if strings.Contains(c+"/", m) {
				fresh = append(fresh, c)
				break
			}
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return len(fresh[i]) > len(fresh[j]) })
	for _, c := range fresh {
		unix.Rmdir(c)
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(t testing.TB, dir string) {
	for _, m := range mountsUnder(dir) {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			t.Logf("unmount %s: %v", m, err)
		}
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// pidsWithCmdline lists processes whose command line contains marker.
func pidsWithCmdline(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdline(pid), marker) {
			out = append(out, pid)
		}
	}
	return out
}

func cmdline(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// socketReady reports whether a unix socket accepts connections.
func socketReady(path string) func() bool {
	return func() bool {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return false
		}
		defer unix.Close(fd)
		return unix.Connect(fd, &unix.SockaddrUnix{Name: path}) == nil
	}
}

// result is what a client command printed and its status.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// client runs an engine's command line tool with fixed leading arguments
// and environment.
type client struct {
	args []string
	env  []string
}

func (c *client) command(args ...string) *exec.Cmd {
	all := append(append([]string{}, c.args...), args...)
	cmd := exec.Command(all[0], all[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	return cmd
}

// run runs the tool with args (bounded to two minutes) and collects its
// output; stdin is empty.
func (c *client) run(t testing.TB, args ...string) result {
	t.Helper()
	cmd := c.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Errorf("%v did not finish within two minutes", cmd.Args)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// must is run that fails the test unless the tool exits 0.
func (c *client) must(t testing.TB, args ...string) result {
	t.Helper()
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %v", filepath.Base(c.args[0]), strings.Join(args, " "), r)
	}
	return r
}

// waitFor polls cond until it holds or a deadline passes, then fails the
// test with what.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cgroupsNaming lists the cgroup directories whose path contains s (a
// container id): none must be left once its container is removed.
func cgroupsNaming(t testing.TB, s string) []string {
	var out []string
	for c := range testutil.TakeSnapshot(t).Cgroups {
		if strings.Contains(c, s) {
			out = append(out, c)
		}
	}
	return out
}

// processesOf lists the processes whose cgroup path names s.
func processesOf(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err == nil && strings.Contains(string(data), s) {
			out = append(out, pid)
		}
	}
	return out
}

// assertGone checks that nothing of container id is left: no cgroup and
// no process naming it.
func assertGone(t testing.TB, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cgs, procs := cgroupsNaming(t, id), processesOf(id)
		if len(cgs)+len(procs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("container %s left cgroups %v and processes %v", id, cgs, procs)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
