package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/landlock"
)

// execIn runs tincan-oci exec with args (flags, id, command) and collects
// what it printed and its status.
func execIn(t *testing.T, r *testutil.Runtime, args ...string) testutil.Result {
	t.Helper()
	return ociExec(t, r, nil, append([]string{"exec"}, args...)...)
}

// execDetached runs the command in container id with exec --detach and
// returns the host pid from --pid-file.
func execDetached(t *testing.T, r *testutil.Runtime, id string, args ...string) int {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	res := execIn(t, r, append([]string{"--detach", "--pid-file", pidFile, id}, args...)...)
	if res.Code != 0 {
		t.Fatalf("exec --detach %v: exit %d: %s", args, res.Code, res.Stderr)
	}
	pid, err := strconv.Atoi(readFile(t, pidFile))
	if err != nil {
		t.Fatalf("exec --pid-file: %v", err)
	}
	return pid
}

// expectExecFailure checks exec's error contract: exit 255 (as runc), one
// "exec failed" line containing each of want.
func expectExecFailure(t *testing.T, res testutil.Result, want ...string) {
	t.Helper()
	if res.Code != 255 {
		t.Errorf("exit %d, want 255 (stdout %q, stderr %q)", res.Code, res.Stdout, res.Stderr)
	}
	noStackTrace(t, res.Stderr)
	if msg := strings.TrimSuffix(res.Stderr, "\n"); msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("stderr is not a single line: %q", res.Stderr)
	}
	for _, w := range append([]string{"exec failed"}, want...) {
		if !strings.Contains(res.Stderr, w) {
			t.Errorf("stderr %q does not contain %q", res.Stderr, w)
		}
	}
}

// allNamespacesBundle is a sleeping container with a new namespace of
// every type (user too when userns is set).
func allNamespacesBundle(t *testing.T, userns bool) *testutil.Bundle {
	t.Helper()
	var b *testutil.Bundle
	if userns {
		b = userNSBundle(t, "sleep", "1000")
	} else {
		b = testutil.NewBundle(t, "sleep", "1000")
	}
	for _, k := range nsKinds {
		b.Spec.Linux.Namespaces = without(b.Spec.Linux.Namespaces, k.typ)
		b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: k.typ})
	}
	b.Save(t)
	return b
}

func TestExecJoinsEveryNamespaceCgroupAndRoot(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			t.Parallel()
			b := allNamespacesBundle(t, userns)
			r := testutil.NewRuntime(t)
			id := newID(t)
			initPid := runDetached(t, r, b, id)
			pid := execDetached(t, r, id, "sleep", "1000")
			names := []string{"user"}
			for _, k := range nsKinds {
				names = append(names, k.proc)
			}
			for _, name := range names {
				if got, want := nsLink(t, pid, name), nsLink(t, initPid, name); got != want {
					t.Errorf("%s namespace of the exec'd process = %s, the container's is %s", name, got, want)
				}
			}
			if userns && nsLink(t, pid, "user") == nsLink(t, 0, "user") {
				t.Errorf("the container's user namespace is the host's")
			}
			for _, f := range []string{"cgroup", "root"} {
				var got, want string
				if f == "root" {
					// The same root as the container's init: the rootfs.
					got, _ = os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
					want, _ = os.Readlink(fmt.Sprintf("/proc/%d/root", initPid))
				} else {
					got = readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid))
					want = readFile(t, fmt.Sprintf("/proc/%d/cgroup", initPid))
				}
				if got != want || got == "" {
					t.Errorf("%s of the exec'd process:\n%s\nthe container's:\n%s", f, got, want)
				}
			}
			if userns {
				if got := procStatusField(t, pid, "Uid"); got != "100000\t100000\t100000\t100000" {
					t.Errorf("uid of the exec'd process seen from the host = %q, want container root, 100000", got)
				}
			}
			// The process is the container's: a forced delete ends it.
			r.MustExec(t, "delete", "--force", id)
			waitFor(t, "the exec'd process to end with its container", func() bool {
				st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				return err != nil || strings.Contains(string(st), ") Z ")
			})
		})
	}
}

func TestExecOutputAndExitStatus(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	for _, tc := range []struct {
		script         string
		code           int
		stdout, stderr string
	}{
		{"echo out; echo err >&2", 0, "out\n", "err\n"},
		{"exit 7", 7, "", ""},
		// Not pid 1 of the container, so a signal to itself is delivered.
		{"kill -TERM $$", 143, "", ""},
		{"echo $$ $PPID", 0, "", ""},
	} {
		res := execIn(t, r, id, "sh", "-c", tc.script)
		if tc.script == "echo $$ $PPID" {
			// In the container's pid namespace: not 1 (the init), and its
			// parent is outside the namespace (shown as 0).
			f := strings.Fields(res.Stdout)
			if res.Code != 0 || len(f) != 2 || f[0] == "1" || f[1] != "0" {
				t.Errorf("pid and ppid inside = %q (exit %d %s), want a pid other than 1 and ppid 0", res.Stdout, res.Code, res.Stderr)
			}
			continue
		}
		if res.Code != tc.code || res.Stdout != tc.stdout || res.Stderr != tc.stderr {
			t.Errorf("exec %q: exit %d stdout %q stderr %q; want exit %d stdout %q stderr %q",
				tc.script, res.Code, res.Stdout, res.Stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
	if st := r.State(t, id); st.Status != "running" {
		t.Errorf("container status after the execs = %q, want running", st.Status)
	}
}

func TestExecProcessSettingsFromConfigAndFlags(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	b.Spec.Process.Env = append(b.Spec.Process.Env, "FROM_CONFIG=yes", "REPLACED=old")
	b.Spec.Process.Cwd = "/tmp"
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1234, Soft: 1000}}
	b.Spec.Process.NoNewPrivileges = false
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)

	script := `echo "$FROM_CONFIG $REPLACED $ADDED"; pwd; ulimit -n; id; grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status`
	res := execIn(t, r, id, "sh", "-c", script)
	lines := strings.Split(res.Stdout, "\n")
	if res.Code != 0 || len(lines) < 6 || lines[0] != "yes old " || lines[1] != "/tmp" || lines[2] != "1000" ||
		!strings.HasPrefix(lines[3], "uid=0(root) gid=0") || statusField(res.Stdout, "NoNewPrivs") != "0" {
		t.Errorf("exec with the config's settings: exit %d, output:\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	defaultBounding := statusField(res.Stdout, "CapBnd")

	res = execIn(t, r, "--env", "ADDED=new", "-e", "REPLACED=new", "--cwd", "/", "--user", "1000:1000",
		"-g", "20", "--additional-gids", "21", "--cap", "CAP_SYS_ADMIN", "--no-new-privs", id, "sh", "-c", script)
	lines = strings.Split(res.Stdout, "\n")
	if res.Code != 0 || len(lines) < 6 || lines[0] != "yes new new" || lines[1] != "/" ||
		lines[3] != "uid=1000(user) gid=1000(user) groups=20,21" || statusField(res.Stdout, "NoNewPrivs") != "1" {
		t.Errorf("exec with flags: exit %d, output:\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	bnd, _ := strconv.ParseUint(statusField(res.Stdout, "CapBnd"), 16, 64)
	def, _ := strconv.ParseUint(defaultBounding, 16, 64)
	if bnd != def|1<<21 {
		t.Errorf("--cap CAP_SYS_ADMIN: bounding set %x, want the container's %x plus CAP_SYS_ADMIN", bnd, def)
	}
}

func TestExecProcessJSON(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	p := specs.Process{
		Args: []string{"sh", "-c", `echo "$ONLY"; pwd; id -u; ulimit -n; grep NoNewPrivs /proc/self/status`},
		Env:  []string{"PATH=/bin", "ONLY=process.json"},
		Cwd:  "/etc",
		User: specs.User{UID: 65534, GID: 65534},
		// The flags are ignored with --process, as in runc.
		NoNewPrivileges: true,
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 300, Soft: 200}},
	}
	data, _ := json.Marshal(p)
	file := filepath.Join(t.TempDir(), "process.json")
	os.WriteFile(file, data, 0o644)
	res := execIn(t, r, "--process", file, "--user", "0", id, "ignored")
	if want := "process.json\n/etc\n65534\n200\nNoNewPrivs:\t1\n"; res.Code != 0 || res.Stdout != want {
		t.Errorf("exec --process: exit %d stdout %q stderr %q, want %q", res.Code, res.Stdout, res.Stderr, want)
	}
	os.WriteFile(file, []byte(`{"args": [], "cwd": "/"}`), 0o644)
	expectExecFailure(t, execIn(t, r, "-p", file, id), "process.args")
	os.WriteFile(file, []byte(`{"args": ["true"], "cwd": "relative"}`), 0o644)
	expectExecFailure(t, execIn(t, r, "-p", file, id), "process.cwd")
	os.WriteFile(file, []byte(`{"args": ["true"], "cwd": "/", "apparmorProfile": "docker-default"}`), 0o644)
	expectExecFailure(t, execIn(t, r, "-p", file, id), "AppArmor")
	expectExecFailure(t, execIn(t, r, "-p", filepath.Join(t.TempDir(), "missing.json"), id), "missing.json")
}

func TestExecErrors(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)

	expectExecFailure(t, execIn(t, r, "nosuch", "true"), `"nosuch" does not exist`)
	expectExecFailure(t, execIn(t, r, id), "process args cannot be empty")
	// The texts engines turn into "command not found" (127) and
	// "permission denied" (126).
	expectExecFailure(t, execIn(t, r, id, "/nonexistent"), "no such file or directory")
	expectExecFailure(t, execIn(t, r, id, "nonexistent"), "executable file not found in $PATH")
	expectExecFailure(t, execIn(t, r, id, "/etc/passwd"), "permission denied")
	expectExecFailure(t, execIn(t, r, "--cwd", "/nonexistent", id, "true"), "/nonexistent")
	expectExecFailure(t, execIn(t, r, "--user", "root", id, "true"), "--user")
	expectExecFailure(t, execIn(t, r, "--apparmor", "tincan-test-profile", id, "true"), "AppArmor")
	expectExecFailure(t, execIn(t, r, "--cap", "CAP_NOT_A_THING", id, "true"), "CAP_NOT_A_THING")
	expectExecFailure(t, execIn(t, r, "--tty", "--detach", id, "true"), "console socket")
	expectExecFailure(t, execIn(t, r, "--console-socket", "/nonexistent.sock", id, "true"), "console socket")
	expectExecFailure(t, execIn(t, r, "--cgroup", "no-such-sub", id, "true"), "no-such-sub")
	if st := r.State(t, id); st.Status != "running" {
		t.Errorf("container status after failed execs = %q, want running", st.Status)
	}

	r.MustExec(t, "kill", id, "KILL")
	waitStatus(t, r, id, "stopped")
	expectExecFailure(t, execIn(t, r, id, "true"), "cannot exec in a stopped container")
}

// freezerState is the file that freezes the container's cgroup, as pause
// does (cgroup v1 freezer, or cgroup.freeze on v2).
func freezerState(t *testing.T, id string) (path, frozen, thawed string) {
	t.Helper()
	if p := "/sys/fs/cgroup/freezer/tincan/" + id + "/freezer.state"; exists(p) {
		return p, "FROZEN", "THAWED"
	}
	if p := "/sys/fs/cgroup/tincan/" + id + "/cgroup.freeze"; exists(p) {
		return p, "1", "0"
	}
	t.Skip("no cgroup freezer for the container on this host")
	return "", "", ""
}

func TestExecInPausedContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)
	state, frozen, thawed := freezerState(t, id)
	if err := os.WriteFile(state, []byte(frozen), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(state, []byte(thawed), 0) })
	waitStatus(t, r, id, "paused")
	expectExecFailure(t, execIn(t, r, id, "true"), "cannot exec in a paused container")

	// --ignore-paused: the process joins the frozen cgroup and runs once
	// the container is thawed.
	out := scratchFile(t)
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := r.Cmd("exec", "--ignore-paused", id, "echo", "ran after thaw")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	procs := filepath.Join(filepath.Dir(state), "cgroup.procs")
	waitFor(t, "the exec's process to join the frozen cgroup", func() bool {
		return len(strings.Fields(readFile(t, procs))) == 2
	})
	if err := os.WriteFile(state, []byte(thawed), 0); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if got := readFile(t, out.Name()); err != nil || got != "ran after thaw\n" {
		t.Errorf("exec --ignore-paused: %v, output %q", err, got)
	}
}

func TestExecIntoCreatedContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "true")
	id := newID(t)
	create(t, r, b, id)
	res := execIn(t, r, id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, "tincan-oci init") {
		t.Errorf("exec into a created container: exit %d stdout %q stderr %q, want to see the waiting init as pid 1", res.Code, res.Stdout, res.Stderr)
	}
	if st := r.State(t, id); st.Status != "created" {
		t.Errorf("status after exec = %q, want still created", st.Status)
	}
}

func TestExecDetachAndPidFile(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)
	out := createFile(t, filepath.Join(t.TempDir(), "stdout"))
	pidFile := filepath.Join(t.TempDir(), "pid")
	// Detached without a terminal, the process keeps the caller's stdio.
	res := ociExec(t, r, out, "exec", "-d", "--pid-file", pidFile, id, "sh", "-c", "echo detached; exec sleep 1000")
	if res.Code != 0 {
		t.Fatalf("exec -d: exit %d: %s", res.Code, res.Stderr)
	}
	pid, err := strconv.Atoi(readFile(t, pidFile))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the detached process's output", func() bool { return readFile(t, out.Name()) == "detached\n" })
	waitFor(t, "the detached process to run sleep", func() bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return string(cmdline) == "sleep\x001000\x00"
	})
}

func TestExecForwardsSignals(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)
	out := scratchFile(t)
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := r.Cmd("exec", id, "sh", "-c", `trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.05; done`)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the exec'd shell to set its trap", func() bool { return strings.Contains(readFile(t, out.Name()), "ready") })
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(readFile(t, out.Name()), "got TERM") {
		t.Errorf("exec after SIGTERM: exit %d, output %q; want the trap's exit 3", code, readFile(t, out.Name()))
	}
}

func TestExecSeccompOfContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	eperm := uint(syscall.EPERM)
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &eperm,
		}},
	}
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			b.Spec.Process.NoNewPrivileges = nnp
			b.Save(t)
			r := testutil.NewRuntime(t)
			id := newID(t)
			runDetached(t, r, b, id)
			for _, user := range []string{"0", "1000"} {
				res := execIn(t, r, "-u", user, id, "sh", "-c", "grep ^Seccomp: /proc/self/status; mkdir /tmp/d-$$ 2>&1; grep ^CapEff /proc/self/status")
				if !strings.Contains(res.Stdout, "Seccomp:\t2") || !strings.Contains(res.Stdout, "Operation not permitted") {
					t.Errorf("user %s: exec in a container with a seccomp filter: exit %d, output %q %q; want the filter applied", user, res.Code, res.Stdout, res.Stderr)
				}
				if user == "1000" && statusField(res.Stdout, "CapEff") != "0000000000000000" {
					t.Errorf("user 1000 kept capabilities after the filter was loaded: %q", res.Stdout)
				}
			}
		})
	}
}

func TestExecCgroupSubPath(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/tincan/" + id)
	if unified := "/sys/fs/cgroup/tincan/" + id; exists(unified) {
		dirs = append(dirs, unified)
	}
	if len(dirs) == 0 {
		t.Skip("the container's cgroup is not under /sys/fs/cgroup/*/tincan")
	}
	for _, d := range dirs {
		// Removed by delete with the container's cgroup.
		if err := os.Mkdir(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		// A new v1 cpuset has no CPUs or memory nodes: nothing could join.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if data, err := os.ReadFile(filepath.Join(d, f)); err == nil {
				os.WriteFile(filepath.Join(d, "sub", f), data, 0)
			}
		}
	}
	cgroupLines := func(pid int) []string {
		return strings.Split(strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid))), "\n")
	}
	pid := execDetached(t, r, id, "sleep", "1000")
	for _, line := range cgroupLines(pid) {
		if !strings.HasSuffix(line, ":/tincan/"+id) {
			t.Errorf("exec: cgroup line %q not the container's cgroup", line)
		}
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	if res := execIn(t, r, "-d", "--pid-file", pidFile, "--cgroup", "sub", id, "sleep", "1000"); res.Code != 0 {
		t.Fatalf("exec --cgroup sub: exit %d: %s", res.Code, res.Stderr)
	}
	pid, _ = strconv.Atoi(readFile(t, pidFile))
	for _, line := range cgroupLines(pid) {
		if !strings.HasSuffix(line, ":/tincan/"+id+"/sub") {
			t.Errorf("exec --cgroup sub: cgroup line %q not in the sub-cgroup", line)
		}
	}
	if exists("/sys/fs/cgroup/pids/tincan/" + id) {
		// cgroup v1: one controller in a sub-cgroup, the others at the top.
		if res := execIn(t, r, "-d", "--pid-file", pidFile, "--cgroup", "pids:sub", id, "sleep", "1000"); res.Code != 0 {
			t.Fatalf("exec --cgroup pids:sub: exit %d: %s", res.Code, res.Stderr)
		}
		pid, _ = strconv.Atoi(readFile(t, pidFile))
		for _, line := range cgroupLines(pid) {
			want := ":/tincan/" + id
			if strings.Contains(line, ":pids:") {
				want += "/sub"
			}
			if !strings.HasSuffix(line, want) {
				t.Errorf("exec --cgroup pids:sub: cgroup line %q, want it to end in %s", line, want)
			}
		}
	}
}

func TestExecPreserveFDs(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	id := newID(t)
	runDetached(t, r, b, id)
	f3 := createFile(t, filepath.Join(t.TempDir(), "fd3"))
	f4, _ := os.Open("/dev/null") // not preserved
	defer f4.Close()
	cmd := r.Cmd("exec", "--preserve-fds", "1", id, "sh", "-c", "echo via fd 3 >&3; ls /proc/self/fd")
	cmd.ExtraFiles = []*os.File{f3, f4}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec --preserve-fds 1: %v: %s", err, stderr.String())
	}
	if got := readFile(t, f3.Name()); got != "via fd 3\n" {
		t.Errorf("fd 3 received %q", got)
	}
	// ls opens one directory fd of its own (3 is preserved, so 4).
	if fds := strings.Fields(stdout.String()); strings.Join(fds, " ") != "0 1 2 3 4" {
		t.Errorf("fds of the exec'd process: %q, want only stdio, fd 3 and ls's own", stdout.String())
	}
}

func TestExecWithoutMountNamespaceAndNoPivot(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	marker := "only-in-this-rootfs"
	for _, tc := range []struct {
		name  string
		setup func(*testutil.Bundle)
		flags []string
	}{
		{"no-pivot", func(*testutil.Bundle) {}, []string{"--no-pivot"}},
		{"no mount namespace", func(b *testutil.Bundle) {
			setNamespace(t, b, specs.MountNamespace, "", true)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testutil.NewBundle(t, "sleep", "1000")
			tc.setup(b)
			os.WriteFile(filepath.Join(b.Rootfs(), marker), nil, 0o644)
			r := testutil.NewRuntime(t)
			id := newID(t)
			runDetached(t, r, b, id, tc.flags...)
			res := execIn(t, r, id, "ls", "/")
			if res.Code != 0 || !strings.Contains(res.Stdout, marker) {
				t.Errorf("exec sees / as %q (exit %d %s), want the container's rootfs", res.Stdout, res.Code, res.Stderr)
			}
		})
	}
}

func TestExecLeavesNothingBehind(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	before := testutil.TakeSnapshot(t)
	b := allNamespacesBundle(t, true)
	id := newID(t)
	runDetached(t, r, b, id)
	for i := 0; i < 20; i++ {
		if res := execIn(t, r, id, "true"); res.Code != 0 {
			t.Fatalf("exec %d: exit %d: %s", i, res.Code, res.Stderr)
		}
		execIn(t, r, id, "/nonexistent")
	}
	execDetached(t, r, id, "sleep", "1000")
	// No init of an exec lingers.
	for _, p := range containerProcesses(id) {
		if strings.Contains(p, "tincan-oci init") {
			t.Errorf("an exec's init is left: %s", p)
		}
	}
	r.MustExec(t, "delete", "--force", id)
	assertNothingLeft(t, r, before, id)
}

func TestExecLandlockOfContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	if landlock.ABI() == 0 {
		t.Skip("this kernel has no Landlock")
	}
	b := testutil.NewBundle(t, "sleep", "1000")
	addMount(b, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777"}})
	b.Spec.Annotations = map[string]string{landlock.Annotation: `{"fs": [
		{"allow": ["read", "execute"], "paths": ["/"]},
		{"allow": ["read", "write"], "paths": ["/tmp"]}]}`}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	res := execIn(t, r, id, "sh", "-c", "touch /tmp/allowed && echo tmp-ok; touch /denied 2>/dev/null || echo root-denied")
	if res.Code != 0 || res.Stdout != "tmp-ok\nroot-denied\n" {
		t.Errorf("exec in a container with a Landlock ruleset: exit %d stdout %q stderr %q; want writes allowed in /tmp only", res.Code, res.Stdout, res.Stderr)
	}
}

func TestExecRuncFlagSpellings(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	// Single-dash long flags and name=value, as urfave/cli accepts them
	// for runc; flags end at the container id.
	res := execIn(t, r, "-cwd", "/tmp", "-env", "A=b", "--env=C=d", "-user=1000", "-additional-gids", "7", id,
		"sh", "-c", `pwd; echo $A $C; id -u; id -G; echo "$@"`, "sh", "-t", "--env", "x")
	// Only the uid changes: the gid stays the container's (0).
	if want := "/tmp\nb d\n1000\n0 7\n-t --env x\n"; res.Code != 0 || res.Stdout != want {
		t.Errorf("exec with runc's spellings: exit %d stdout %q stderr %q, want %q", res.Code, res.Stdout, res.Stderr, want)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	if res := execIn(t, r, "-detach", "-pid-file", pidFile, id, "true"); res.Code != 0 || !exists(pidFile) {
		t.Errorf("exec -detach -pid-file: exit %d %s", res.Code, res.Stderr)
	}
}

func TestExecErrorInJSONLog(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	// As engines call it: the log file, JSON, and the error as its last
	// "error" line (containerd shows that line's msg).
	logFile := filepath.Join(t.TempDir(), "log.json")
	pidFile := filepath.Join(t.TempDir(), "pid")
	process := filepath.Join(t.TempDir(), "process.json")
	os.WriteFile(process, []byte(`{"args": ["/nonexistent"], "cwd": "/"}`), 0o644)
	res := ociExec(t, r, nil, "--log", logFile, "--log-format", "json", "exec", "--process", process, "--detach", "--pid-file", pidFile, id)
	if res.Code != 255 {
		t.Errorf("exec of a missing program: exit %d, want 255", res.Code)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, logFile)), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("log %q: %v", lines, err)
	}
	if msg, _ := last["msg"].(string); last["level"] != "error" || !strings.Contains(msg, "exec failed") || !strings.Contains(msg, "no such file or directory") {
		t.Errorf("last log line %v, want the exec error at level error", last)
	}
	if exists(pidFile) {
		t.Errorf("a failed exec wrote the pid file")
	}
}

func TestExecProgramIsDumpableAgain(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	// The init makes itself not dumpable while it runs the runtime's code;
	// execve must undo that, or the user's program could not read its own
	// /proc files (owned by root when not dumpable).
	res := execIn(t, r, "-u", "1000:1000", id, "sh", "-c", "stat -c %u /proc/$$/fd; ls /proc/self/fd >/dev/null && echo readable")
	if res.Code != 0 || res.Stdout != "1000\nreadable\n" {
		t.Errorf("exec -u 1000: exit %d stdout %q stderr %q; want its /proc files owned by it", res.Code, res.Stdout, res.Stderr)
	}
}
