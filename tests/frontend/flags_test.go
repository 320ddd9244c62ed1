package frontend

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The resource flags reach the container's cgroup: read back from the
// kernel's files (v1 or v2 names, whichever the host has).
func TestResourceLimitsReachTheCgroup(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("limited", "--memory", "64m", "--memory-swap", "96m", "--cpus", "1.5", "--cpu-shares", "512",
		"--pids-limit", "50", "--rootfs", e.rootfs, "sleep", "1000")
	for _, c := range []struct {
		controller, v1File, v1Want, v2File, v2Want string
	}{
		{"memory", "memory.limit_in_bytes", "67108864", "memory.max", "67108864"},
		// v1 counts memory+swap; v2 swap alone.
		{"memory", "memory.memsw.limit_in_bytes", "100663296", "memory.swap.max", "33554432"},
		{"cpu", "cpu.cfs_quota_us", "150000", "cpu.max", "150000 100000"},
		{"cpu", "cpu.shares", "512", "cpu.weight", "20"},
		{"pids", "pids.max", "50", "pids.max", "50"},
	} {
		got, isV2, ok := e.cgroupFile(id, c.controller, c.v1File, c.v2File)
		if !ok {
			t.Logf("no %s controller or no %s/%s on this host: not checked", c.controller, c.v1File, c.v2File)
			continue
		}
		want, file := c.v1Want, c.v1File
		if isV2 {
			want, file = c.v2Want, c.v2File
		}
		if got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// The limit is enforced: more processes than --pids-limit fail to fork.
	script := "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all-started"
	if r := e.tincan("run", "--rm", "--pids-limit", "5", "--rootfs", e.rootfs, "sh", "-c", script); r.stdout != "" || !strings.Contains(r.stderr, "fork") {
		t.Errorf("--pids-limit 5 let 8 background processes start: %+v", r)
	}
	if r := e.tincan("run", "--rm", "--pids-limit", "50", "--rootfs", e.rootfs, "sh", "-c", script); r.stdout != "all-started\n" {
		t.Errorf("--pids-limit 50 refused 8 background processes: %+v", r)
	}
}

// --ulimit sets soft and hard limits, as /proc/self/limits shows them.
func TestUlimit(t *testing.T) {
	e := newEnv(t)
	r := e.must("run", "--rm", "--ulimit", "nofile=512:1024", "--ulimit", "nproc=100", "--rootfs", e.rootfs,
		"grep", "-E", "^Max (open files|processes)", "/proc/self/limits")
	fields := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 {
			fields[f[1]] = f[len(f)-3 : len(f)-1]
		}
	}
	if got := fields["open"]; len(got) != 2 || got[0] != "512" || got[1] != "1024" {
		t.Errorf("nofile soft/hard %v, want 512 1024 (%q)", got, r.stdout)
	}
	if got := fields["processes"]; len(got) != 2 || got[0] != "100" || got[1] != "100" {
		t.Errorf("nproc soft/hard %v, want 100 100 (%q)", got, r.stdout)
	}
	if r := e.tincan("run", "--rm", "--ulimit", "nofile=2048:1024", "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "soft limit above hard limit") {
		t.Errorf("--ulimit soft > hard: %+v", r)
	}
}

// --tmpfs mounts a tmpfs with the given options; binds are read-write
// unless :ro, and what the container writes reaches the host directory.
func TestTmpfsAndBindMounts(t *testing.T) {
	e := newEnv(t)
	r := e.must("run", "--rm", "--tmpfs", "/scratch", "--tmpfs", "/small:size=1m,mode=700", "--rootfs", e.rootfs,
		"sh", "-c", "grep -E ' /(scratch|small) ' /proc/mounts")
	mounts := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 {
			mounts[f[1]] = []string{f[2], f[3]}
		}
	}
	if m := mounts["/scratch"]; len(m) != 2 || m[0] != "tmpfs" || !strings.Contains(m[1], "noexec") || !strings.Contains(m[1], "size=65536k") {
		t.Errorf("--tmpfs /scratch: %v, want a noexec tmpfs of docker's 64 MiB", m)
	}
	if m := mounts["/small"]; len(m) != 2 || m[0] != "tmpfs" || !strings.Contains(m[1], "size=1024k") || !strings.Contains(m[1], "mode=700") {
		t.Errorf("--tmpfs /small:size=1m,mode=700: %v", m)
	}
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from-host"), 0o644)
	r = e.must("run", "--rm", "-v", host+":/rw", "-v", host+":/ro:ro", "--rootfs", e.rootfs, "sh", "-c",
		"cat /rw/in; echo; echo from-container > /rw/out; touch /ro/x 2>/dev/null || echo ro-refused")
	if r.stdout != "from-host\nro-refused\n" {
		t.Errorf("bind mounts: %q", r.stdout)
	}
	if data, _ := os.ReadFile(filepath.Join(host, "out")); string(data) != "from-container\n" {
		t.Errorf("a write to a read-write bind did not reach the host: %q", data)
	}
	if _, err := os.Stat(filepath.Join(host, "x")); err == nil {
		t.Error("a write to a :ro bind reached the host")
	}
}

// --label is kept in the record and shown by inspect and ps.
func TestLabels(t *testing.T) {
	e := newEnv(t)
	e.must("run", "--name", "lab", "--label", "tier=web", "-l", "owner=ops", "--rootfs", e.rootfs, "true")
	labels := e.inspectOne("lab")["Config"].(map[string]any)["labels"].(map[string]any)
	if labels["tier"] != "web" || labels["owner"] != "ops" || len(labels) != 2 {
		t.Errorf("inspect labels: %v", labels)
	}
	var ps []map[string]any
	json.Unmarshal([]byte(e.must("ps", "-a", "--format", "json").stdout), &ps)
	if len(ps) != 1 || ps[0]["labels"].(map[string]any)["tier"] != "web" {
		t.Errorf("ps --format json labels: %v", ps)
	}
}

// --network host shares the host's network namespace and interfaces;
// none (the default) is a namespace of its own with loopback only.
func TestNetworkHostAndNone(t *testing.T) {
	e := newEnv(t)
	hostNS, _ := os.Readlink("/proc/self/ns/net")
	var hostIfs []string
	entries, _ := os.ReadDir("/sys/class/net")
	for _, x := range entries {
		hostIfs = append(hostIfs, x.Name())
	}
	sort.Strings(hostIfs)
	r := e.must("run", "--rm", "--network", "host", "--rootfs", e.rootfs, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net | sort | tr '\\n' ' '")
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 2 || lines[0] != hostNS || strings.TrimSpace(lines[1]) != strings.Join(hostIfs, " ") {
		t.Errorf("--network host: %q, want %s and %v", r.stdout, hostNS, hostIfs)
	}
	r = e.must("run", "--rm", "--network", "none", "--rootfs", e.rootfs, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || lines[0] == hostNS || lines[1] != "lo" {
		t.Errorf("--network none: %q, want a namespace of its own with lo only", r.stdout)
	}
	// The default is docker's: the default bridge network (eth0).
	r = e.must("run", "--rm", "--rootfs", e.rootfs, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net | tr '\\n' ' '")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || lines[0] == hostNS || strings.TrimSpace(lines[1]) != "eth0 lo" {
		t.Errorf("default network: %q, want a namespace of its own with eth0 and lo", r.stdout)
	}
	if r := e.tincan("run", "--rm", "--network", "nosuch", "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "network nosuch not found") {
		t.Errorf("--network nosuch: %+v", r)
	}
}

// --init runs tincan's init as PID 1: it forwards signals to the command
// (detached through kill, in the foreground from the CLI), and exits with
// the command's status.
func TestInitForwardsSignalsAndStatus(t *testing.T) {
	e := newEnv(t)
	e.runDetached("initd", "--init", "--rootfs", e.rootfs, "sh", "-c", "trap 'exit 42' USR1; touch /tmp/ready; while :; do sleep 0.05; done")
	if got := e.must("exec", "initd", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").stdout; !strings.HasPrefix(got, "/sbin/tincan-init -- sh -c") {
		t.Fatalf("pid 1 under --init: %q", got)
	}
	eventually(t, "the trap to be set", func() bool { return e.tincan("exec", "initd", "test", "-e", "/tmp/ready").code == 0 })
	e.must("kill", "-s", "USR1", "initd")
	if code := e.waitCode("initd"); code != "42" {
		t.Errorf("USR1 through --init: exit %s, want 42 from the command's trap", code)
	}
	if r := e.tincan("run", "--rm", "--init", "--rootfs", e.rootfs, "sh", "-c", "exit 5"); r.code != 5 {
		t.Errorf("--init exit status: %d, want 5", r.code)
	}
	cmd := e.cmd("run", "--rm", "--init", "--name", "fg", "--rootfs", e.rootfs, "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the foreground container to run", func() bool {
		return e.tincan("exec", "fg", "pidof", "sleep").code == 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("SIGTERM to a foreground --init run did not end it")
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("SIGTERM to a foreground --init run: exit %d, want 143", code)
	}
}

// --stop-timeout replaces stop's 10 seconds; stop -t replaces both.
func TestStopTimeout(t *testing.T) {
	e := newEnv(t)
	e.runDetached("deaf", "--stop-timeout", "1", "--rootfs", e.rootfs, "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done")
	start := time.Now()
	e.must("stop", "deaf")
	took := time.Since(start)
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("stop with --stop-timeout 1 took %v", took)
	}
	if code := e.waitCode("deaf"); code != "137" {
		t.Errorf("exit %s, want 137 (killed after the timeout)", code)
	}
}

// -i connects stdin, without it the container reads nothing; -t gives it a
// terminal of the caller's size, relayed, resized on SIGWINCH.
func TestRunInteractiveAndTTY(t *testing.T) {
	e := newEnv(t)
	if r := e.tincanStdin("in\n", "run", "--rm", "-i", "--rootfs", e.rootfs, "sh", "-c", "cat; echo end"); r.stdout != "in\nend\n" {
		t.Errorf("run -i: %+v", r)
	}
	if r := e.tincanStdin("in\n", "run", "--rm", "--rootfs", e.rootfs, "sh", "-c", "cat; echo end"); r.stdout != "end\n" {
		t.Errorf("run without -i read stdin: %+v", r)
	}
	p := e.startPty(25, 90, "run", "--rm", "-it", "--rootfs", e.rootfs, "sh", "-c",
		`tty; echo "term=$TERM"; stty size; echo ready; while read line; do echo "got $line"; stty size; done; exit 6`)
	p.waitFor("ready")
	if out := p.output(); !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "term=xterm") || !strings.Contains(out, "25 90") {
		t.Errorf("run -t: %q, want /dev/pts/0, TERM=xterm, 25 90", out)
	}
	p.resize(50, 132)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !strings.Contains(p.output(), "50 132"); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the resize never reached the container: %q", p.output())
		}
		p.typeText("x\r")
		time.Sleep(100 * time.Millisecond)
	}
	p.typeText("\x04")
	if code := p.wait(); code != 6 {
		t.Errorf("run -it: exit %d, want 6 (%q)", code, p.output())
	}
}

// Landlock rules from --security-opt landlock=JSON confine the container.
func TestLandlockOption(t *testing.T) {
	e := newEnv(t)
	if !landlockAvailable() {
		t.Skip("this kernel has no Landlock")
	}
	// Only /bin may be read and executed: no redirections (opening
	// /dev/null is denied too), output goes to the pipes tincan holds.
	rules := `landlock={"fs":[{"allow":["read","execute"],"paths":["/bin"]}]}`
	r := e.must("run", "--rm", "--security-opt", rules, "--rootfs", e.rootfs, "sh", "-c",
		"ls /bin/sh; cat /etc/hostname || echo hostname-denied")
	if r.stdout != "/bin/sh\nhostname-denied\n" || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("--security-opt landlock: %+v", r)
	}
	if r := e.tincan("run", "--rm", "--security-opt", `landlock={"fs":[{"allow":["fly"],"paths":["/"]}]}`, "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "landlock") {
		t.Errorf("a bad landlock rule: %+v", r)
	}
	if r := e.tincan("run", "--rm", "--security-opt", "apparmor=x", "--rootfs", e.rootfs, "true"); r.code != 125 {
		t.Errorf("an unknown --security-opt: %+v", r)
	}
}

// --entrypoint "" clears the entrypoint; --cap-drop of one capability
// removes just that one.
func TestEntrypointAndCapDropOne(t *testing.T) {
	e := newEnv(t)
	if r := e.must("run", "--rm", "--entrypoint", "", "--rootfs", e.rootfs, "echo", "plain"); r.stdout != "plain\n" {
		t.Errorf("--entrypoint \"\": %q", r.stdout)
	}
	r := e.must("run", "--rm", "--cap-drop", "CHOWN", "--rootfs", e.rootfs, "sh", "-c",
		"grep CapEff /proc/self/status; touch /f; chown 1000 /f 2>/dev/null || echo chown-refused")
	// docker's default set (a80425fb) without CAP_CHOWN (bit 0).
	if r.stdout != "CapEff:\t00000000a80425fa\nchown-refused\n" {
		t.Errorf("--cap-drop CHOWN: %q", r.stdout)
	}
}

// Bad input fails with one line, exit 125, and leaves nothing: no record,
// no runtime state, no volume.
func TestBadInputLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.runDetached("taken", "--rootfs", e.rootfs, "sleep", "1000")
	for _, args := range [][]string{
		{"run", "--name", "taken", "--rootfs", e.rootfs, "true"},
		{"run", "--name", "bad/name", "--rootfs", e.rootfs, "true"},
		{"run", "--memory", "12q", "--rootfs", e.rootfs, "true"},
		{"run", "--memory-swap", "lots", "--rootfs", e.rootfs, "true"},
		{"run", "--cpus", "-1", "--rootfs", e.rootfs, "true"},
		{"run", "--ulimit", "nofile", "--rootfs", e.rootfs, "true"},
		{"run", "--ulimit", "bogus=1", "--rootfs", e.rootfs, "true"},
		{"run", "--cap-add", "CAP_FLYING", "--rootfs", e.rootfs, "true"},
		{"run", "-v", "/no/such/dir:/x", "-v", "newvol:/y", "--rootfs", e.rootfs, "true"},
		// Refused only once the config is complete: the volume made for it
		// must go too.
		{"run", "-v", "newvol:/y", "--memory", "64m", "--memory-swap", "32m", "--rootfs", e.rootfs, "true"},
		{"run", "-v", "/anon", "--cpus", "0.001", "--rootfs", e.rootfs, "true"},
		{"run", "-v", "rel", "--rootfs", e.rootfs, "true"},
		{"run", "--tmpfs", "rel", "--rootfs", e.rootfs, "true"},
		{"run", "--rootfs", filepath.Join(e.rootfs, "bin/busybox"), "true"},
		{"run", "--rootfs", e.rootfs},
		{"run", "-u", "ghost", "--rootfs", e.rootfs, "true"},
		{"run", "--security-opt", "seccomp=/no/such/profile.json", "--rootfs", e.rootfs, "true"},
		{"run", "--env-file", "/no/such/env", "--rootfs", e.rootfs, "true"},
		{"logs", "nobody-here"}, {"stop", "nobody-here"}, {"kill", "-s", "NOSIG", "taken"},
		{"rm", "taken"}, {"rename", "taken", "bad/name"}, {"ps", "--format", "xml"},
	} {
		r := e.tincan(args...)
		if r.code != 125 || r.stderr == "" {
			t.Errorf("%v: exit %d stderr %q, want 125 and an error", args, r.code, r.stderr)
		}
		oneLine(t, r.stderr)
	}
	if got := strings.Fields(e.must("ps", "-aq").stdout); len(got) != 1 {
		t.Errorf("failed runs left containers: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Join(e.data, "containers"))
	runEntries := runtimeEntries(t, e.run)
	if len(entries) != 1 || len(runEntries) != 3 { // taken's, its netns file, and engine/
		t.Errorf("failed runs left %d records and %d runtime entries", len(entries), len(runEntries))
	}
	if vols := e.must("volume", "ls").stdout; vols != "" {
		t.Errorf("a failed run left volumes: %q", vols)
	}
}
