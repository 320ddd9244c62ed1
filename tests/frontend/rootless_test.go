package frontend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/procfs"
)

// rootlessUID is the unprivileged user the rootless tests run tincan as.
const rootlessUID = 1000

// rootlessEnv runs the tincan binary as an unprivileged user with a store
// of its own: the default XDG locations under a private HOME and
// XDG_RUNTIME_DIR.
type rootlessEnv struct {
	t *testing.T
	// base holds everything; readable by the user.
	base, bin, home, xdgRun, rootfs string
}

// newRootlessEnv needs root to set up: the user's directories, a copy of
// the binary it can execute and a busybox rootfs owned by root and
// readable by all (as the host's root filesystems are).
func newRootlessEnv(t *testing.T) *rootlessEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to set up an unprivileged user's directories (the test then runs tincan as uid 1000)")
	}
	if _, err := user.LookupId(strconv.Itoa(rootlessUID)); err != nil {
		t.Skipf("no user with uid %d to run tincan as: %v", rootlessUID, err)
	}
	base, err := os.MkdirTemp("", "tincan-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	e := &rootlessEnv{t: t, base: base, bin: filepath.Join(base, "tincan"), home: filepath.Join(base, "home"),
		xdgRun: filepath.Join(base, "run"), rootfs: filepath.Join(base, "rootfs")}
	data, err := os.ReadFile(testutil.TincanBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{e.home, e.xdgRun} {
		e.userDir(d)
	}
	testutil.NewRootfs(t, e.rootfs)
	t.Cleanup(func() {
		r := e.tincan("ps", "-aq")
		for _, id := range strings.Fields(r.stdout) {
			e.tincan("rm", "-f", id)
		}
		os.RemoveAll(base)
	})
	return e
}

// userDir makes a directory owned by the test user.
func (e *rootlessEnv) userDir(dir string) string {
	e.t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chown(dir, rootlessUID, rootlessUID); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// dataDir is the user's default data root (engine.DefaultStore).
func (e *rootlessEnv) dataDir() string { return filepath.Join(e.home, ".local", "share", "tincan") }

func (e *rootlessEnv) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.base
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + e.home, "XDG_RUNTIME_DIR=" + e.xdgRun, "USER=rootless"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: rootlessUID, Gid: rootlessUID, Groups: []uint32{}}}
	return cmd
}

// tincan runs the CLI as the user, output through files (a detached
// container could hold a pipe open), bounded in time.
func (e *rootlessEnv) tincan(args ...string) result {
	e.t.Helper()
	cmd := e.cmd(args...)
	var out, errb bytes.Buffer
	files := make([]*os.File, 2)
	for i := range files {
		f, err := os.CreateTemp("", "tincan-rootless-out-")
		if err != nil {
			e.t.Fatal(err)
		}
		os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("tincan %v: %v", args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		e.t.Fatalf("tincan %v did not return", args)
	}
	r := result{}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("tincan %v: %v", args, err)
	}
	for i, b := range []*bytes.Buffer{&out, &errb} {
		files[i].Seek(0, 0)
		b.ReadFrom(files[i])
	}
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

func (e *rootlessEnv) must(args ...string) result {
	e.t.Helper()
	r := e.tincan(args...)
	if r.code != 0 {
		e.t.Fatalf("tincan %v as uid %d: exit %d\nstdout: %s\nstderr: %s", args, rootlessUID, r.code, r.stdout, r.stderr)
	}
	return r
}

// record reads a container's record as the engine wrote it.
func (e *rootlessEnv) record(id string) (rec struct {
	Pid        int `json:"pid"`
	MonitorPid int `json:"monitorPid"`
}) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dataDir(), "containers", id, "record.json"))
	if err != nil {
		e.t.Fatalf("record of %s: %v", id, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		e.t.Fatalf("record of %s: %v", id, err)
	}
	return rec
}

// pastaAvailable reports why rootless networking cannot run here ("" when
// it can): pasta installed.
func pastaAvailable() string {
	if _, err := exec.LookPath("pasta"); err != nil {
		return "pasta is not installed (apt install passt)"
	}
	return ""
}

// openTunForUsers makes /dev/net/tun readable and writable by everyone for
// the test (pasta opens it as the user to make its tap) when it is not,
// and puts the old mode back after.
func openTunForUsers(t *testing.T) {
	t.Helper()
	const tun = "/dev/net/tun"
	fi, err := os.Stat(tun)
	if err != nil {
		t.Skipf("no %s for pasta: %v", tun, err)
	}
	old := fi.Mode().Perm()
	if old&0o006 == 0o006 {
		return
	}
	if err := os.Chmod(tun, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(tun, old) })
}

// processGone reports whether pid has exited (zombies included: the
// machine's init reaps orphans when it gets to it).
func processGone(pid int) bool {
	st, err := procfs.ReadStat(pid)
	return errors.Is(err, procfs.ErrNoProcess) || (err == nil && st.State == 'Z')
}

func TestRootlessRunDetachedLogsStopRm(t *testing.T) {
	e := newRootlessEnv(t)
	netArgs := []string{}
	if why := pastaAvailable(); why != "" {
		t.Logf("without pasta (%s): --network none", why)
		netArgs = []string{"--network", "none"}
	} else {
		openTunForUsers(t)
	}
	run := func(args ...string) result {
		t.Helper()
		all := append(append([]string{"run", "--rm"}, netArgs...), append([]string{"--rootfs", e.rootfs}, args...)...)
		return e.must(all...)
	}

	// The caller is root in the container's user namespace.
	if got := strings.TrimSpace(run("id", "-u").stdout); got != "0" {
		t.Fatalf("id -u in a rootless container: %q, want 0", got)
	}
	if got := strings.TrimSpace(run("cat", "/proc/self/uid_map").stdout); !strings.HasPrefix(strings.Join(strings.Fields(got), " "), "0 1000 1") {
		t.Fatalf("uid_map: %q, want the caller (1000) mapped to 0 first", got)
	}

	// A network namespace of its own: loopback, plus the one interface
	// pasta makes.
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	out := run("sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net").stdout
	lines := strings.Fields(out)
	if len(lines) < 2 || lines[0] == hostNet {
		t.Fatalf("container network namespace %q is the host's %q (output %q)", lines, hostNet, out)
	}
	ifaces := lines[1:]
	if !slices.Contains(ifaces, "lo") || len(ifaces) > 2 || (len(netArgs) > 0 && len(ifaces) != 1) {
		t.Fatalf("interfaces in the container: %v, want lo (and pasta's tap)", ifaces)
	}
	if got := strings.Fields(e.must("run", "--rm", "--network", "none", "--rootfs", e.rootfs, "ls", "/sys/class/net").stdout); !slices.Equal(got, []string{"lo"}) {
		t.Fatalf("--network none: interfaces %v, want [lo]", got)
	}

	// A file made by the container's root in a bind mount is the caller's
	// on the host.
	vol := e.userDir(filepath.Join(e.base, "vol"))
	run("-v", vol+":/data", "sh", "-c", "echo hi > /data/made && mkdir /data/dir")
	for _, name := range []string{"made", "dir"} {
		fi, err := os.Stat(filepath.Join(vol, name))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != rootlessUID || st.Gid != rootlessUID {
			t.Fatalf("%s made in the container is owned by %d:%d on the host, want %d:%d", name, st.Uid, st.Gid, rootlessUID, rootlessUID)
		}
	}
	// The root filesystem is a copy-on-write overlay mounted in the
	// container's user namespace: new files go to the upper directory,
	// never to --rootfs. (Files of the host's root in --rootfs belong to no
	// one in the namespace: the container can read them, not change them.)
	run("sh", "-c", "touch /new /etc/new /tmp/new && test -r /etc/passwd")
	for _, p := range []string{"new", "etc/new", "tmp/new"} {
		if _, err := os.Lstat(filepath.Join(e.rootfs, p)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the container wrote /%s through to its --rootfs (%v)", p, err)
		}
	}

	// Images need root (a loopback reference: nothing is ever fetched).
	if r := e.tincan("run", "--rm", "127.0.0.1:1/none:latest", "true"); r.code != 125 || !strings.Contains(r.stderr, "--rootfs") {
		t.Errorf("run IMAGE as a user: %+v, want exit 125 naming --rootfs", r)
	}

	// Detached: logs, exec, stop, rm.
	id := strings.TrimSpace(e.must(append(append([]string{"run", "-d", "--name", "rl"}, netArgs...),
		"--rootfs", e.rootfs, "sh", "-c", `echo ready; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done`)...).stdout)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want an id", id)
	}
	eventually(t, "the detached container's first line", func() bool { return e.tincan("logs", "rl").stdout == "ready\n" })
	rec := e.record(id)
	if rec.Pid <= 0 || rec.MonitorPid <= 0 {
		t.Fatalf("record of a running container: %+v", rec)
	}
	pastaPid := 0
	if len(netArgs) == 0 {
		data, err := os.ReadFile(filepath.Join(e.xdgRun, "tincan", "engine", id, "pasta.pid"))
		if err != nil {
			t.Fatalf("pasta's pid file: %v", err)
		}
		pastaPid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		if pastaPid <= 0 || processGone(pastaPid) {
			t.Fatalf("pasta pid %q is not running", data)
		}
	}
	if got := strings.TrimSpace(e.must("exec", "rl", "id", "-u").stdout); got != "0" {
		t.Fatalf("exec id -u: %q", got)
	}
	e.must("stop", "-t", "5", "rl")
	if got := e.must("logs", "rl").stdout; got != "ready\nbye\n" {
		t.Fatalf("logs after stop: %q", got)
	}
	if !strings.Contains(e.must("ps", "-a").stdout, "Exited (0)") {
		t.Fatalf("ps -a after stop: %q", e.must("ps", "-a").stdout)
	}
	e.must("rm", "rl")
	for _, dir := range []string{filepath.Join(e.dataDir(), "containers", id), filepath.Join(e.xdgRun, "tincan", id),
		filepath.Join(e.xdgRun, "tincan", "engine", id)} {
		if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("rm left %s (%v)", dir, err)
		}
	}
	for what, pid := range map[string]int{"init": rec.Pid, "monitor": rec.MonitorPid, "pasta": pastaPid} {
		if pid == 0 {
			continue
		}
		p := pid
		eventually(t, fmt.Sprintf("the container's %s (pid %d) to exit", what, p), func() bool { return processGone(p) })
	}
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("containers left: %q", out)
	}
}

// freeLoopbackPort is a TCP port nothing listens on at the moment.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRootlessPublishThroughPasta(t *testing.T) {
	e := newRootlessEnv(t)
	if why := pastaAvailable(); why != "" {
		t.Skip(why)
	}
	openTunForUsers(t)
	const body = "hello from a rootless container\n"
	www := filepath.Join(e.rootfs, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t)
	id := strings.TrimSpace(e.must("run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		"--rootfs", e.rootfs, "httpd", "-f", "-p", "80", "-h", "/www").stdout)
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	client := &http.Client{Timeout: 2 * time.Second}
	var got string
	var lastErr error
	for try := 0; try < 20; try++ {
		resp, err := client.Get(url)
		if err == nil {
			data, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				got = string(data)
				break
			}
			err = fmt.Errorf("status %s, read %v", resp.Status, rerr)
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	if got != body {
		t.Fatalf("GET %s: %q (last error %v), want %q", url, got, lastErr, body)
	}
	if out := strings.TrimSpace(e.must("port", "web", "80/tcp").stdout); out != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Errorf("port web 80/tcp: %q", out)
	}
	data, err := os.ReadFile(filepath.Join(e.xdgRun, "tincan", "engine", id, "pasta.pid"))
	if err != nil {
		t.Fatalf("pasta's pid file: %v", err)
	}
	pastaPid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	e.must("rm", "-f", "web")
	eventually(t, "pasta to exit after rm -f", func() bool { return processGone(pastaPid) })
	// Nothing listens on the published port any more.
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second); err == nil {
		conn.Close()
		t.Fatalf("port %d still accepts connections after rm -f", port)
	}
}
