package frontend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exec joins the container: the same pid, mount, uts and network
// namespaces as its init, the container's environment changed by -e and
// --env-file, the container's working directory unless -w, and the exit
// status of the command.
func TestExecJoinsTheContainer(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--hostname", "boxhost", "-w", "/tmp", "-e", "A=1", "-e", "B=2", "--rootfs", e.rootfs, "sleep", "1000")
	pid := e.pid("box")
	for _, ns := range []string{"pid", "mnt", "uts", "net", "ipc"} {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(e.must("exec", "box", "readlink", "/proc/self/ns/"+ns).stdout); got != want {
			t.Errorf("exec's %s namespace is %s, the container's %s", ns, got, want)
		}
	}
	if got := e.must("exec", "box", "sh", "-c", "hostname; pwd; cat /proc/1/cmdline | tr '\\0' ' '").stdout; got != "boxhost\n/tmp\nsleep 1000 " {
		t.Errorf("hostname, cwd, pid 1 in exec: %q", got)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# comment\nFROMFILE=yes\n"), 0o644)
	got := e.must("exec", "-e", "B=changed", "-e", "C=3", "--env-file", envFile, "box", "sh", "-c", "echo $A $B $C $FROMFILE $HOSTNAME").stdout
	if got != "1 changed 3 yes boxhost\n" {
		t.Errorf("exec environment: %q, want the container's changed by -e and --env-file", got)
	}
	if got := e.must("exec", "-w", "/etc", "box", "pwd").stdout; got != "/etc\n" {
		t.Errorf("exec -w /etc: pwd %q", got)
	}
	if r := e.tincan("exec", "-w", "relative", "box", "pwd"); r.code != 125 || !strings.Contains(r.stderr, "absolute") {
		t.Errorf("exec -w relative: %+v", r)
	}
	if r := e.tincan("exec", "box", "sh", "-c", "echo out; echo err >&2; exit 7"); r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("exec exit status and streams: %+v", r)
	}
	// A prefix of the id works as the name does.
	id := e.inspectOne("box")["Id"].(string)
	if got := e.must("exec", id[:8], "hostname").stdout; got != "boxhost\n" {
		t.Errorf("exec by id prefix: %q", got)
	}
}

// docker's statuses: 127 command not found, 126 not executable, 125 for
// tincan's own errors (a stopped or missing container, bad flags), each a
// one-line error naming what failed.
func TestExecErrorsAndStatuses(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sleep", "1000")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"exec", "box", "no-such-command"}, 127, `"no-such-command": executable file not found`},
		{[]string{"exec", "box", "/etc/passwd"}, 126, `"/etc/passwd": permission denied`},
		{[]string{"exec", "box", "/etc"}, 126, "is a directory"},
		{[]string{"exec", "nobody-here", "true"}, 125, "no such container: nobody-here"},
		{[]string{"exec", "--bogus", "box", "true"}, 125, "unknown flag: --bogus"},
		{[]string{"exec", "box"}, 125, "requires at least 2 arg"},
		{[]string{"exec", "-u", "ghost", "box", "true"}, 125, "unable to find user ghost"},
		{[]string{"exec", "-d", "-t", "box", "true"}, 125, "drop -t"},
	} {
		r := e.tincan(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d stderr %q, want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
		oneLine(t, r.stderr)
	}
	e.must("stop", "-t", "0", "box")
	r := e.tincan("exec", "box", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "container box is not running") {
		t.Errorf("exec into a stopped container: %+v", r)
	}
	oneLine(t, r.stderr)
}

// -u resolves names in the container's own /etc/passwd and /etc/group as
// they are now (a user added in the container counts; the --rootfs
// directory is never read for it), and a non-root user holds no
// capabilities; HOME follows the user.
func TestExecUser(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sleep", "1000")
	cases := []struct {
		user, want string
	}{
		{"user", "1000 1000 /home/user CapEff: 0000000000000000"},
		{"1000:0", "1000 0 /home/user CapEff: 0000000000000000"},
		{"user:root", "1000 0 /home/user CapEff: 0000000000000000"},
		{"4321", "4321 0 / CapEff: 0000000000000000"},
		{"root", "0 0 /root CapEff: 00000000a80425fb"},
	}
	for _, tc := range cases {
		r := e.tincan("exec", "-u", tc.user, "box", "sh", "-c", "echo $(id -u) $(id -g) $HOME $(grep CapEff /proc/self/status)")
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("exec -u %s: exit %d %q (%s), want %q", tc.user, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	e.must("exec", "box", "sh", "-c", "echo 'late:x:2345:2346:late:/late:/bin/sh' >> /etc/passwd; echo 'lategroup:x:2347:late' >> /etc/group")
	if got := strings.TrimSpace(e.must("exec", "-u", "late", "box", "id").stdout); got != "uid=2345(late) gid=2346 groups=2347(lategroup)" {
		t.Errorf("exec -u of a user added in the container: id %q", got)
	}
	if data, _ := os.ReadFile(filepath.Join(e.rootfs, "etc/passwd")); strings.Contains(string(data), "late") {
		t.Error("a user added in the container reached --rootfs")
	}
}

// The exec'd process gets the container's confinement: capabilities,
// no_new_privs, seccomp and Landlock rules; --privileged gives every
// capability the host allows.
func TestExecKeepsTheContainersConfinement(t *testing.T) {
	e := newEnv(t)
	e.runDetached("narrow", "--cap-drop", "ALL", "--cap-add", "CAP_NET_ADMIN", "--security-opt", "no-new-privileges",
		"--rootfs", e.rootfs, "sleep", "1000")
	got := e.must("exec", "narrow", "sh", "-c", "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status").stdout
	want := "CapEff:\t0000000000001000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	if got != want {
		t.Errorf("exec in a narrowed container: %q, want %q", got, want)
	}
	host := hostBounding(t)
	got = e.must("exec", "--privileged", "narrow", "sh", "-c", "grep -E '^CapEff:' /proc/self/status").stdout
	if strings.TrimSpace(got) != "CapEff:\t"+host {
		t.Errorf("exec --privileged: %q, want every capability the host allows (%s)", got, host)
	}
	e.runDetached("open", "--security-opt", "seccomp=unconfined", "--rootfs", e.rootfs, "sleep", "1000")
	if got := e.must("exec", "open", "grep", "^Seccomp:", "/proc/self/status").stdout; got != "Seccomp:\t0\n" {
		t.Errorf("exec in a container without seccomp: %q", got)
	}
	if !landlockAvailable() {
		t.Log("no Landlock on this kernel: its exec check is skipped")
		return
	}
	e.runDetached("locked", "--security-opt", `landlock={"fs":[{"allow":["read","execute"],"paths":["/bin"]}]}`,
		"--rootfs", e.rootfs, "sleep", "1000")
	// No redirections: opening /dev/null is denied too.
	if got := e.must("exec", "locked", "sh", "-c", "cat /etc/passwd || echo denied; ls /bin/sh").stdout; got != "denied\n/bin/sh\n" {
		t.Errorf("exec under the container's Landlock rules: %q, want /etc denied and /bin readable", got)
	}
}

// hostBounding is this process's bounding set, as /proc/self/status shows.
func hostBounding(t *testing.T) string {
	for _, l := range strings.Split(string(mustRead(t, "/proc/self/status")), "\n") {
		if strings.HasPrefix(l, "CapBnd:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "CapBnd:"))
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return ""
}

// -i connects stdin; without it the process reads nothing. -d returns at
// once, leaving the process running in the container.
func TestExecStdinAndDetach(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sleep", "1000")
	if r := e.tincanStdin("line one\nline two\n", "exec", "-i", "box", "sh", "-c", "cat; echo end"); r.code != 0 || r.stdout != "line one\nline two\nend\n" {
		t.Errorf("exec -i: %+v", r)
	}
	if r := e.tincanStdin("should not arrive\n", "exec", "box", "sh", "-c", "cat; echo end"); r.code != 0 || r.stdout != "end\n" {
		t.Errorf("exec without -i read stdin: %+v", r)
	}
	// Through a pipe: reading it to the end must not wait for the
	// detached process (its stdio is /dev/null, as with docker).
	start := time.Now()
	out, err := e.cmd("exec", "-d", "box", "sh", "-c", "sleep 1; echo later > /tmp/detached; echo to-stdout").Output()
	if err != nil || len(out) != 0 {
		t.Fatalf("exec -d: %v, output %q", err, out)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("exec -d took %v: it waited for the process", d)
	}
	if got := e.must("exec", "box", "sh", "-c", "cat /tmp/detached 2>/dev/null || echo absent").stdout; got != "absent\n" {
		t.Errorf("the detached process finished too early: %q", got)
	}
	eventually(t, "the detached process to write its file", func() bool {
		return e.tincan("exec", "box", "cat", "/tmp/detached").stdout == "later\n"
	})
}

// In the foreground a signal to tincan exec reaches the process, and the
// status is the process's (128+signal when it dies of it).
func TestExecForwardsSignals(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sleep", "1000")
	for _, tc := range []struct {
		script string
		sig    syscall.Signal
		code   int
	}{
		{"trap 'exit 42' USR1; touch /tmp/ready-$1; while :; do sleep 0.05; done", syscall.SIGUSR1, 42},
		{"touch /tmp/ready-$1; exec sleep 1000", syscall.SIGTERM, 143},
	} {
		tag := fmt.Sprint(int(tc.sig))
		cmd := e.cmd("exec", "box", "sh", "-c", tc.script, "sh", tag)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the exec'd process to start", func() bool {
			return e.tincan("exec", "box", "test", "-e", "/tmp/ready-"+tag).code == 0
		})
		cmd.Process.Signal(tc.sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v to tincan exec: the process did not end", tc.sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != tc.code {
			t.Errorf("%v to tincan exec: exit %d, want %d", tc.sig, code, tc.code)
		}
	}
}

// -t gives the process a terminal: the caller's is relayed in raw mode,
// starts at its size and follows it on SIGWINCH; TERM is set.
func TestExecTTY(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sleep", "1000")
	p := e.startPty(30, 100, "exec", "-it", "box", "sh", "-c", `tty; echo "term=$TERM"; stty size; echo ready; while read line; do echo "got $line"; stty size; done; exit 3`)
	p.waitFor("ready")
	out := p.output()
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "term=xterm") || !strings.Contains(out, "30 100") {
		t.Errorf("exec -t: the terminal showed %q, want a pts, TERM=xterm and the size 30 100", out)
	}
	p.resize(40, 120)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !strings.Contains(p.output(), "40 120"); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the resize never reached the process: %q", p.output())
		}
		p.typeText(fmt.Sprintf("line%d\r", i))
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(p.output(), "got line0") {
		t.Errorf("typed input did not reach the process: %q", p.output())
	}
	p.typeText("\x04") // end of input at the start of a line
	if code := p.wait(); code != 3 {
		t.Errorf("exec -it: exit %d, want 3 (%q)", code, p.output())
	}
}
