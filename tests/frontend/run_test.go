package frontend

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
)

func TestRunForegroundOutputAndExitCodes(t *testing.T) {
	e := newEnv(t)
	r := e.tincan("run", "--rm", "--rootfs", e.rootfs, "sh", "-c", "echo out; echo err >&2; exit 7")
	if r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("got %+v", r)
	}
	// docker's codes: 127 command not found, 126 not executable, 125 ours.
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"run", "--rm", "--rootfs", e.rootfs, "no-such-command"}, 127},
		{[]string{"run", "--rm", "--rootfs", e.rootfs, "/etc/passwd"}, 126},
		{[]string{"run", "--rm", "--bogus-flag", "--rootfs", e.rootfs, "true"}, 125},
		{[]string{"run", "--rm", "--rootfs", "/does/not/exist", "true"}, 125},
		{[]string{"run", "--rm", "--memory", "lots", "--rootfs", e.rootfs, "true"}, 125},
		{[]string{"run", "--rm", "-v", "/does/not/exist:/x", "--rootfs", e.rootfs, "true"}, 125},
	} {
		r := e.tincan(tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
		oneLine(t, r.stderr)
	}
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("--rm and failed runs left containers: %q", out)
	}
}

func TestRunInitReapsZombiesAndReports128PlusSignal(t *testing.T) {
	e := newEnv(t)
	// Orphans re-parented to PID 1 must be reaped: no zombie stays.
	r := e.tincan("run", "--rm", "--init", "--rootfs", e.rootfs, "sh", "-c",
		"(sleep 0.1 &) ; sleep 0.5; ps -o stat | grep -c Z; true")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "0" {
		t.Fatalf("zombies under --init: %+v", r)
	}
	r = e.tincan("run", "--rm", "--init", "--rootfs", e.rootfs, "sh", "-c", "kill -TERM $$; sleep 5")
	if r.code != 143 {
		t.Fatalf("a TERM-killed command under --init: exit %d, want 143 (%s)", r.code, r.stderr)
	}
}

func TestDetachedContainerLogsAfterCLIExit(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.must("run", "-d", "--name", "ticker", "--rootfs", e.rootfs,
		"sh", "-c", "echo first; echo to-stderr >&2; sleep 0.3; echo done; exit 3").stdout)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-digit id", id)
	}
	if got := e.must("wait", "ticker").stdout; strings.TrimSpace(got) != "3" {
		t.Fatalf("wait printed %q", got)
	}
	logs := e.must("logs", "ticker")
	if logs.stdout != "first\ndone\n" || logs.stderr != "to-stderr\n" {
		t.Fatalf("logs: %+v", logs)
	}
	if out := e.must("logs", "--tail", "1", "ticker").stdout; out != "done\n" {
		t.Fatalf("--tail 1: %q", out)
	}
	ts := e.must("logs", "-t", "ticker").stdout
	if !strings.Contains(ts, "Z first") {
		t.Fatalf("--timestamps: %q", ts)
	}
	// The log file is docker's json-file format.
	var rows []map[string]string
	for _, l := range strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(e.data, "containers", id, "container.log")))), "\n") {
		var row map[string]string
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		rows = append(rows, row)
	}
	// stdout and stderr are separate pipes: only each stream's own order
	// is kept, as with docker.
	var firstOut map[string]string
	for _, row := range rows {
		if row["stream"] == "stdout" {
			firstOut = row
			break
		}
	}
	if firstOut == nil || firstOut["log"] != "first\n" || firstOut["time"] == "" {
		t.Fatalf("first stdout log entry %v (all: %v)", firstOut, rows)
	}
	var ps []map[string]any
	json.Unmarshal([]byte(e.must("ps", "-a", "--format", "json").stdout), &ps)
	if len(ps) != 1 || ps[0]["name"] != "ticker" || ps[0]["state"] != "exited" || ps[0]["exitCode"].(float64) != 3 {
		t.Fatalf("ps: %v", ps)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestNamesPrefixesStopKillRm(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.must("run", "-d", "--name", "svc", "--rootfs", e.rootfs, "sleep", "1000").stdout)
	if r := e.tincan("run", "-d", "--name", "svc", "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "already in use") {
		t.Fatalf("duplicate name: %+v", r)
	}
	if out := e.must("ps", "-q").stdout; strings.TrimSpace(out) != id[:12] {
		t.Fatalf("ps -q %q", out)
	}
	// A unique prefix works everywhere a name does.
	var insp []map[string]any
	json.Unmarshal([]byte(e.must("inspect", id[:6]).stdout), &insp)
	if len(insp) != 1 || insp[0]["Id"] != id || insp[0]["State"].(map[string]any)["Running"] != true {
		t.Fatalf("inspect by prefix: %v", insp)
	}
	if r := e.tincan("rm", "svc"); r.code == 0 || !strings.Contains(r.stderr, "running") {
		t.Fatalf("rm of a running container: %+v", r)
	}
	e.must("rename", "svc", "svc2")
	e.must("kill", "-s", "KILL", "svc2")
	eventually(t, "the killed container to show as exited", func() bool {
		return strings.Contains(e.must("ps", "-a").stdout, "Exited (137)")
	})
	e.must("rm", "svc2")
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("left: %q", out)
	}
	if r := e.tincan("inspect", "svc2"); r.code != 125 || !strings.Contains(r.stderr, "no such container") {
		t.Fatalf("inspect after rm: %+v", r)
	}
}

func TestStopUsesStopSignalThenKills(t *testing.T) {
	e := newEnv(t)
	// A shell trapping USR1 exits 42 on the configured stop signal.
	e.must("run", "-d", "--name", "polite", "--stop-signal", "USR1", "--rootfs", e.rootfs,
		"sh", "-c", "trap 'exit 42' USR1; touch /tmp/ready; while true; do sleep 0.1; done")
	// A signal before the trap is set would be lost (PID 1 ignores it).
	eventually(t, "the trap to be set", func() bool { return e.tincan("exec", "polite", "test", "-e", "/tmp/ready").code == 0 })
	e.must("stop", "polite")
	if code := strings.TrimSpace(e.must("wait", "polite").stdout); code != "42" {
		t.Fatalf("stop-signal: exit %s, want 42", code)
	}
	// One that ignores it is killed after the timeout.
	e.must("run", "-d", "--name", "stubborn", "--rootfs", e.rootfs, "sh", "-c", "trap '' TERM; sleep 1000")
	e.must("stop", "-t", "1", "stubborn")
	if code := strings.TrimSpace(e.must("wait", "stubborn").stdout); code != "137" {
		t.Fatalf("stop timeout: exit %s, want 137", code)
	}
}

func TestRootfsIsCopyOnWriteUnlessRW(t *testing.T) {
	e := newEnv(t)
	e.must("run", "--rm", "--rootfs", e.rootfs, "sh", "-c", "echo changed > /etc/motd; rm /bin/ls")
	if _, err := os.Stat(filepath.Join(e.rootfs, "etc/motd")); err == nil {
		t.Fatal("a write in the container reached --rootfs")
	}
	if _, err := os.Lstat(filepath.Join(e.rootfs, "bin/ls")); err != nil {
		t.Fatal("a delete in the container reached --rootfs")
	}
	e.must("run", "--rm", "--rootfs-rw", "--rootfs", e.rootfs, "sh", "-c", "echo changed > /etc/motd")
	if data, _ := os.ReadFile(filepath.Join(e.rootfs, "etc/motd")); string(data) != "changed\n" {
		t.Fatalf("--rootfs-rw did not write to the rootfs: %q", data)
	}
}

func TestRunOptions(t *testing.T) {
	e := newEnv(t)
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# comment\nFROMFILE=yes\n"), 0o644)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("hostdata"), 0o644)
	os.Setenv("TINCAN_TEST_PASSTHROUGH", "passed")
	defer os.Unsetenv("TINCAN_TEST_PASSTHROUGH")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"env", []string{"-e", "A=1", "-e", "TINCAN_TEST_PASSTHROUGH", "--env-file", envFile, "--", "sh", "-c", "echo $A $TINCAN_TEST_PASSTHROUGH $FROMFILE"}, "1 passed yes"},
		{"workdir", []string{"-w", "/tmp/newdir", "--", "pwd"}, "/tmp/newdir"},
		{"user", []string{"-u", "1000:1000", "--", "id", "-u"}, "1000"},
		{"user by name", []string{"-u", "user", "--", "sh", "-c", "id -u; id -g"}, "1000\n1000"},
		{"hostname", []string{"--hostname", "box1", "--", "hostname"}, "box1"},
		{"read-only", []string{"--read-only", "--", "sh", "-c", "touch /x 2>/dev/null || echo ro"}, "ro"},
		{"tmpfs", []string{"--read-only", "--tmpfs", "/scratch", "--", "sh", "-c", "touch /scratch/x && echo ok"}, "ok"},
		{"bind ro", []string{"-v", host + ":/data:ro", "--", "sh", "-c", "cat /data/in; touch /data/y 2>/dev/null || echo ro"}, "hostdataro"},
		{"named volume", []string{"-v", "vol1:/v", "--", "sh", "-c", "echo keep > /v/f; cat /v/f"}, "keep"},
		{"ulimit", []string{"--ulimit", "nofile=512:1024", "--", "sh", "-c", "ulimit -n"}, "512"},
		{"cap-drop all", []string{"--cap-drop", "ALL", "--", "sh", "-c", "grep CapEff /proc/self/status"}, "CapEff:\t0000000000000000"},
		{"cap-add", []string{"--cap-drop", "ALL", "--cap-add", "CAP_NET_ADMIN", "--", "sh", "-c", "grep CapEff /proc/self/status"}, "CapEff:\t0000000000001000"},
		{"no-new-privileges", []string{"--security-opt", "no-new-privileges", "--", "sh", "-c", "grep NoNewPrivs /proc/self/status"}, "NoNewPrivs:\t1"},
		{"entrypoint", []string{"--entrypoint", "echo", "--", "via", "entrypoint"}, "via entrypoint"},
		{"network none", []string{"--network", "none", "--", "sh", "-c", "ls /sys/class/net"}, "lo"},
		{"pids-limit", []string{"--pids-limit", "50", "--", "true"}, ""},
	}
	for _, tc := range cases {
		args := append([]string{"run", "--rm", "--rootfs", e.rootfs}, tc.args...)
		// -- ends tincan's flags in the table for readability; run stops at
		// the first argument anyway.
		for i, a := range args {
			if a == "--" {
				args = append(args[:i], args[i+1:]...)
				break
			}
		}
		r := e.tincan(args...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("%s: exit %d stdout %q stderr %q, want %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	// The named volume outlives its container.
	if out := e.must("run", "--rm", "-v", "vol1:/v", "--rootfs", e.rootfs, "cat", "/v/f").stdout; out != "keep\n" {
		t.Fatalf("named volume content: %q", out)
	}
	if vols := e.must("volume", "ls").stdout; !strings.Contains(vols, "vol1") {
		t.Fatalf("volume ls: %q", vols)
	}
}

// 50 containers run and removed in parallel leave nothing behind: no
// record, no runtime state, no mount, no cgroup, no process.
func TestParallelRunRemoveLeavesNothing(t *testing.T) {
	e := newEnv(t)
	before := testutil.TakeSnapshot(t)
	mark := fmt.Sprintf("9999.%d", os.Getpid())
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("par-%d", i)
			if r := e.tincan("run", "-d", "--name", name, "--rootfs", e.rootfs, "sleep", mark); r.code != 0 {
				errs <- name + ": run: " + r.stderr
				return
			}
			if r := e.tincan("rm", "-f", name); r.code != 0 {
				errs <- name + ": rm: " + r.stderr
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("containers left: %q", out)
	}
	entries, _ := os.ReadDir(filepath.Join(e.data, "containers"))
	var left []string
	for _, x := range entries {
		left = append(left, "record "+x.Name())
	}
	for _, x := range runtimeEntries(t, e.run) {
		if x != "engine" {
			left = append(left, "runtime state "+x)
		}
	}
	left = append(left, testutil.ProcessesWith(mark)...)
	left = append(left, testutil.Leaks(before, testutil.TakeSnapshot(t), e.data)...)
	if len(left) > 0 {
		t.Fatalf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// A SIGKILLed foreground run leaves a container that ps shows and rm -f
// removes completely.
func TestKilledCLILeavesRemovableContainer(t *testing.T) {
	e := newEnv(t)
	cmd := e.cmd("run", "--name", "orphan", "--rootfs", e.rootfs, "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the container to run", func() bool {
		return strings.Contains(e.tincan("ps").stdout, "orphan")
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if !strings.Contains(e.must("ps").stdout, "orphan") {
		t.Fatal("the container vanished with its CLI")
	}
	e.must("rm", "-f", "orphan")
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("left: %q", out)
	}
}

func TestInfoAndCheck(t *testing.T) {
	e := newEnv(t)
	out := e.must("info").stdout
	for _, want := range []string{"cgroups", "user namespaces", "overlayfs", "seccomp", "Landlock"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	if r := e.tincan("check"); r.code != 0 {
		t.Fatalf("check on a capable host: %+v", r)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if r := e.must("completion", shell); !strings.Contains(r.stdout, "tincan") {
			t.Errorf("completion %s: %q", shell, r.stdout[:min(len(r.stdout), 80)])
		}
	}
}

func TestSeccompChoicesAndPrivileged(t *testing.T) {
	e := newEnv(t)
	profile := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		// docker's default profile: filtered, and unshare(CLONE_NEWUSER) refused.
		{"default profile", []string{"sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true 2>/dev/null || echo refused"}, "Seccomp:\t2\nrefused"},
		{"unconfined", []string{"--security-opt", "seccomp=unconfined", "sh", "-c", "grep '^Seccomp:' /proc/self/status"}, "Seccomp:\t0"},
		{"profile file", []string{"--security-opt", "seccomp=" + profile, "sh", "-c", "mkdir /x 2>/dev/null || echo refused"}, "refused"},
		{"privileged", []string{"--privileged", "sh", "-c", "grep '^Seccomp:' /proc/self/status; grep -c . /proc/self/mountinfo >/dev/null; ls /dev/vda >/dev/null 2>&1 && echo host-devices"}, "Seccomp:\t0\nhost-devices"},
	}
	for _, tc := range cases {
		r := e.tincan(append([]string{"run", "--rm", "--rootfs", e.rootfs}, tc.args...)...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("%s: exit %d stdout %q stderr %q, want %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	var bnd string
	for _, l := range strings.Split(string(mustRead(t, "/proc/self/status")), "\n") {
		if strings.HasPrefix(l, "CapBnd:") {
			bnd = strings.TrimSpace(strings.TrimPrefix(l, "CapBnd:"))
		}
	}
	r := e.tincan("run", "--rm", "--privileged", "--rootfs", e.rootfs, "sh", "-c", "grep CapEff /proc/self/status")
	if r.code != 0 || !strings.Contains(r.stdout, bnd) {
		t.Errorf("--privileged: capabilities %q, want every one the host allows (%s)", r.stdout, bnd)
	}
}

// The init's capability changes are per thread: run it several times, so a
// regression where it drops them on one thread and executes from another
// is caught (it once gave random capability sets).
func TestCapabilitiesAreExactEveryTime(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 8; i++ {
		r := e.tincan("run", "--rm", "--cap-drop", "ALL", "--cap-add", "CAP_NET_ADMIN", "--rootfs", e.rootfs,
			"sh", "-c", "grep -E '^Cap(Bnd|Eff|Prm):' /proc/self/status")
		want := "CapPrm:\t0000000000001000\nCapEff:\t0000000000001000\nCapBnd:\t0000000000001000"
		if r.code != 0 || strings.TrimSpace(r.stdout) != want {
			t.Fatalf("run %d: capabilities %q, want %q (%s)", i, r.stdout, want, r.stderr)
		}
	}
}
