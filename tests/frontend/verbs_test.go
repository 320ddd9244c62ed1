package frontend

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/linux/landlock"
)

func landlockAvailable() bool { return landlock.ABI() > 0 }

// top shows the container's processes and no others, with ps's options.
func TestTop(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sh", "-c", "sleep 1001 & sleep 1002 & wait")
	pid := e.pid("box")
	eventually(t, "the container's sleeps to start", func() bool {
		return strings.Count(e.must("top", "box").stdout, "\n") == 4
	})
	lines := strings.Split(strings.TrimSpace(e.must("top", "box").stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "PID") || !strings.Contains(lines[0], "CMD") {
		t.Fatalf("top: %q, want ps -ef's header and the 3 processes", lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), " "+strconv.Itoa(pid)+" ") {
		t.Errorf("top does not list the container's init (host pid %d): %q", pid, lines)
	}
	got := strings.Fields(e.must("top", "box", "-o", "pid,args").stdout)
	if len(got) < 2 || got[0] != "PID" || got[1] != "COMMAND" || strings.Count(strings.Join(got, " "), "sleep") != 4 {
		t.Errorf("top box -o pid,args: %q", got)
	}
	e.must("stop", "-t", "0", "box")
	if r := e.tincan("top", "box"); r.code != 125 || !strings.Contains(r.stderr, "container box is not running") {
		t.Errorf("top of a stopped container: %+v", r)
	}
}

// stats measures CPU over two samples, memory against the limit, and the
// number of processes; --cpus caps the CPU it can show. --no-stream prints
// one sample, streaming refreshes every second.
func TestStats(t *testing.T) {
	e := newEnv(t)
	e.runDetached("busy", "--cpus", "0.5", "--memory", "64m", "--rootfs", e.rootfs, "sh", "-c", "while :; do :; done")
	e.runDetached("idle", "--rootfs", e.rootfs, "sh", "-c", "sleep 1000 & sleep 1000 & wait")
	e.must("run", "--name", "gone", "--rootfs", e.rootfs, "true")
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.must("stats", "--no-stream", "--format", "json").stdout), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("stats --format json line %q: %v", l, err)
		}
		rows = append(rows, row)
	}
	byName := map[string]map[string]any{}
	for _, r := range rows {
		byName[r["name"].(string)] = r
	}
	if len(rows) != 2 || byName["busy"] == nil || byName["idle"] == nil {
		t.Fatalf("stats of every running container: %v", rows)
	}
	busy, idle := byName["busy"], byName["idle"]
	if cpu := busy["cpuPercent"].(float64); cpu < 5 || cpu > 65 {
		t.Errorf("a busy loop under --cpus 0.5 shows %.1f%% CPU, want some, at most ~50", cpu)
	}
	if cpu := idle["cpuPercent"].(float64); cpu > 5 {
		t.Errorf("a sleeping container shows %.1f%% CPU", cpu)
	}
	if lim := busy["memoryLimit"].(float64); lim != 64<<20 {
		t.Errorf("memory limit %v, want 64 MiB", lim)
	}
	if use := busy["memoryUsage"].(float64); use <= 0 || use >= 64<<20 {
		t.Errorf("memory use %v", use)
	}
	if pids := idle["pids"].(float64); pids != 3 {
		t.Errorf("pids of sh + 2 sleeps: %v", pids)
	}
	table := e.must("stats", "--no-stream", "busy", "gone").stdout
	if !regexp.MustCompile(`(?m)^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +BLOCK I/O +PIDS$`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^[0-9a-f]{12} +busy +[0-9.]+% +[0-9.]+[KMG]?i?B / 64MiB +[0-9.]+% +\S+ / \S+ +1$`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^[0-9a-f]{12} +gone +-- `).MatchString(table) {
		t.Errorf("stats table:\n%s", table)
	}
	if r := e.tincan("stats", "--no-stream", "nobody-here"); r.code != 125 || !strings.Contains(r.stderr, "no such container") {
		t.Errorf("stats of an unknown container: %+v", r)
	}
	// Streaming: a new table every second until interrupted.
	cmd := e.cmd("stats", "idle")
	outFile := filepath.Join(t.TempDir(), "stream")
	f, _ := os.Create(outFile)
	cmd.Stdout = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	f.Close()
	if n := strings.Count(string(mustRead(t, outFile)), "CONTAINER ID"); n < 2 || n > 4 {
		t.Errorf("3.5 s of streaming stats printed %d tables, want about 3", n)
	}
}

// pause freezes every process (a counter stops), ps and inspect show it,
// exec is refused; unpause thaws it.
func TestPauseUnpause(t *testing.T) {
	e := newEnv(t)
	e.runDetached("box", "--rootfs", e.rootfs, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done")
	pid := e.pid("box")
	count := func() string {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/count", pid))
		return strings.TrimSpace(string(data))
	}
	eventually(t, "the counter to start", func() bool { return count() != "" })
	if r := e.must("pause", "box"); r.stdout != "box\n" {
		t.Errorf("pause printed %q", r.stdout)
	}
	before := count()
	time.Sleep(300 * time.Millisecond)
	if after := count(); after != before {
		t.Errorf("the counter went from %s to %s while paused", before, after)
	}
	if st := e.state("box"); st["Status"] != "paused" || st["Paused"] != true || st["Running"] != true {
		t.Errorf("inspect of a paused container: %v", st)
	}
	if !strings.Contains(e.must("ps").stdout, "(Paused)") {
		t.Errorf("ps does not show the container paused: %q", e.must("ps").stdout)
	}
	var ps []map[string]any
	json.Unmarshal([]byte(e.must("ps", "--format", "json").stdout), &ps)
	if len(ps) != 1 || ps[0]["state"] != "paused" {
		t.Errorf("ps --format json: %v", ps)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"exec", "box", "true"}, "container box is paused, unpause the container before exec"},
		{[]string{"pause", "box"}, "container box is already paused"},
	} {
		if r := e.tincan(tc.args...); r.code != 125 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: %+v, want 125 and %q", tc.args, r, tc.msg)
		}
	}
	e.must("unpause", "box")
	eventually(t, "the counter to move again", func() bool { return count() != before })
	if st := e.state("box"); st["Status"] != "running" || st["Paused"] != false {
		t.Errorf("inspect after unpause: %v", st)
	}
	if r := e.tincan("unpause", "box"); r.code != 125 || !strings.Contains(r.stderr, "container box is not paused") {
		t.Errorf("unpause of a running container: %+v", r)
	}
	e.must("stop", "-t", "0", "box")
	if r := e.tincan("pause", "box"); r.code != 125 || !strings.Contains(r.stderr, "container box is not running") {
		t.Errorf("pause of a stopped container: %+v", r)
	}
}

// Stopping and killing a paused container work as with docker: a signal
// meant to end it (SIGKILL, the stop signal, any signal without one
// configured) thaws it; another stays pending until unpause. rm -f
// removes a paused container completely.
func TestStopKillRemovePaused(t *testing.T) {
	e := newEnv(t)
	// Each shell says when its trap is set: a signal before would be lost.
	loop := "; touch /tmp/ready; while :; do sleep 0.05; done"
	ready := func(name string) {
		pid := e.pid(name)
		eventually(t, name+"'s trap", func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/ready", pid))
			return err == nil
		})
	}
	e.runDetached("s1", "--stop-signal", "USR1", "--rootfs", e.rootfs, "sh", "-c", "trap 'exit 42' USR1"+loop)
	ready("s1")
	e.must("pause", "s1")
	start := time.Now()
	e.must("stop", "s1")
	if code := e.waitCode("s1"); code != "42" || time.Since(start) > 5*time.Second {
		t.Errorf("stop of a paused container: exit %s after %v, want 42 from its stop signal at once", code, time.Since(start))
	}

	e.runDetached("k1", "--rootfs", e.rootfs, "sh", "-c", "trap 'exit 7' TERM"+loop)
	ready("k1")
	e.must("pause", "k1")
	e.must("kill", "-s", "TERM", "k1")
	if code := e.waitCode("k1"); code != "7" {
		t.Errorf("kill -s TERM of a paused container without a stop signal: exit %s, want 7", code)
	}

	e.runDetached("k2", "--stop-signal", "USR1", "--rootfs", e.rootfs, "sh", "-c", "trap 'exit 9' HUP"+loop)
	ready("k2")
	e.must("pause", "k2")
	e.must("kill", "-s", "HUP", "k2")
	time.Sleep(200 * time.Millisecond)
	if st := e.state("k2"); st["Status"] != "paused" {
		t.Errorf("after a signal other than its stop signal, the container is %v, want still paused", st["Status"])
	}
	e.must("unpause", "k2")
	if code := e.waitCode("k2"); code != "9" {
		t.Errorf("the pending HUP after unpause: exit %s, want 9", code)
	}

	e.runDetached("k3", "--rootfs", e.rootfs, "sleep", "1000")
	e.must("pause", "k3")
	e.must("kill", "k3")
	if code := e.waitCode("k3"); code != "137" {
		t.Errorf("kill of a paused container: exit %s, want 137", code)
	}

	id := e.runDetached("r1", "--rootfs", e.rootfs, "sleep", "1000")
	pid := e.pid("r1")
	e.must("pause", "r1")
	e.must("rm", "-f", "r1")
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("rm -f of a paused container left its process %d", pid)
	}
	if _, err := os.Stat(filepath.Join(e.run, id)); err == nil {
		t.Error("rm -f of a paused container left its runtime state")
	}
	if strings.Contains(e.must("ps", "-aq").stdout, id[:12]) {
		t.Error("rm -f of a paused container left its record")
	}
}

// restart stops the container and starts it again: a new process, the
// same record, counted.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	e.runDetached("r", "--rootfs", e.rootfs, "sh", "-c", "echo started; exec sleep 1000")
	first := e.pid("r")
	if r := e.must("restart", "-t", "0", "r"); r.stdout != "r\n" {
		t.Errorf("restart printed %q", r.stdout)
	}
	st := e.state("r")
	if st["Running"] != true || int(st["Pid"].(float64)) == first {
		t.Errorf("after restart: %v (first pid %d)", st, first)
	}
	// Again at once, as a person (or a script) does: each start must wait
	// for the previous run's monitor to be done, not race it.
	for i := 0; i < 4; i++ {
		e.must("restart", "-t", "0", "r")
	}
	if n := e.inspectOne("r")["RestartCount"].(float64); n != 5 {
		t.Errorf("RestartCount %v, want 5", n)
	}
	eventually(t, "the sixth run's output", func() bool { return e.must("logs", "r").stdout == strings.Repeat("started\n", 6) })
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", first)); err == nil {
		if data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", first)); strings.Contains(string(data), "sleep") {
			t.Errorf("the first run's process %d is still there", first)
		}
	}
}

// prune removes the stopped containers only.
func TestPrune(t *testing.T) {
	e := newEnv(t)
	keep := e.runDetached("keep", "--rootfs", e.rootfs, "sleep", "1000")
	var exited []string
	for _, name := range []string{"done1", "done2"} {
		e.tincan("run", "--name", name, "--rootfs", e.rootfs, "sh", "-c", "exit 3")
		exited = append(exited, e.inspectOne(name)["Id"].(string))
	}
	out := strings.Fields(e.must("prune").stdout)
	if len(out) != 2 || !containsAll(out, exited) {
		t.Errorf("prune printed %q, want %q", out, exited)
	}
	if got := strings.TrimSpace(e.must("ps", "-aq").stdout); got != keep[:12] {
		t.Errorf("after prune: %q, want only the running container", got)
	}
	for _, id := range exited {
		if _, err := os.Stat(filepath.Join(e.data, "containers", id)); err == nil {
			t.Errorf("prune left %s's directory", id)
		}
	}
}

func containsAll(list, want []string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}

// attach relays a running container's input and output and exits with its
// status.
func TestAttach(t *testing.T) {
	e := newEnv(t)
	e.runDetached("talk", "-i", "--rootfs", e.rootfs, "sh", "-c", "read line; echo got $line; echo to-stderr >&2; exit 4")
	r := e.tincanStdin("hello\n", "attach", "talk")
	if r.code != 4 || r.stdout != "got hello\n" || r.stderr != "to-stderr\n" {
		t.Errorf("attach: %+v, want the reply on stdout, stderr, exit 4", r)
	}
	if r := e.tincan("attach", "talk"); r.code != 125 || !strings.Contains(r.stderr, "cannot attach to a stopped container") {
		t.Errorf("attach to a stopped container: %+v", r)
	}
}

// logs -f keeps printing until the container exits.
func TestLogsFollow(t *testing.T) {
	e := newEnv(t)
	e.runDetached("talker", "--rootfs", e.rootfs, "sh", "-c", "echo one; sleep 1; echo two; echo err >&2; sleep 0.5; echo three")
	start := time.Now()
	r := e.must("logs", "-f", "talker")
	if r.stdout != "one\ntwo\nthree\n" || r.stderr != "err\n" {
		t.Errorf("logs -f: %+v", r)
	}
	if time.Since(start) < time.Second {
		t.Errorf("logs -f returned after %v, before the container ended", time.Since(start))
	}
	if r := e.must("logs", "-f", "--tail", "1", "talker"); r.stdout != "three\n" {
		t.Errorf("logs -f --tail 1 of an exited container: %q", r.stdout)
	}
}

// An anonymous volume (-v /path) is a new volume per container, kept by
// rm and removed by rm -v; run -d --rm removes the container when it ends.
func TestAnonymousVolumesAndRmV(t *testing.T) {
	e := newEnv(t)
	e.must("run", "--name", "a1", "-v", "/data", "--rootfs", e.rootfs, "sh", "-c", "echo kept > /data/f")
	vols := strings.Fields(e.must("volume", "ls").stdout)
	if len(vols) != 1 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(vols[0]) {
		t.Fatalf("volumes after -v /data: %q, want one anonymous volume", vols)
	}
	if data, _ := os.ReadFile(filepath.Join(e.data, "volumes", vols[0], "_data", "f")); string(data) != "kept\n" {
		t.Errorf("the anonymous volume holds %q", data)
	}
	e.must("rm", "a1")
	if got := strings.Fields(e.must("volume", "ls").stdout); len(got) != 1 {
		t.Errorf("rm without -v removed the anonymous volume: %q", got)
	}
	e.must("run", "--name", "a2", "-v", "/data", "-v", "named:/named", "--rootfs", e.rootfs, "true")
	if got := strings.Fields(e.must("volume", "ls").stdout); len(got) != 3 {
		t.Fatalf("volumes: %q, want two anonymous and one named", got)
	}
	e.must("rm", "-v", "a2")
	got := strings.Fields(e.must("volume", "ls").stdout)
	if len(got) != 2 || !containsAll(got, []string{vols[0], "named"}) {
		t.Errorf("after rm -v: %q, want a1's volume and the named one kept", got)
	}

	e.must("run", "-d", "--rm", "--name", "brief", "--rootfs", e.rootfs, "sh", "-c", "sleep 0.3")
	eventually(t, "run -d --rm to remove the container", func() bool {
		entries, _ := os.ReadDir(filepath.Join(e.data, "containers"))
		return e.must("ps", "-aq").stdout == "" && len(entries) == 0
	})
}

// --debug shows the isolation steps as they happen; without it, none.
func TestDebugShowsIsolationSteps(t *testing.T) {
	e := newEnv(t)
	r := e.must("--debug", "run", "--rm", "--network", "none", "--rootfs", e.rootfs, "true")
	for _, want := range []string{
		"tincan: debug: namespaces: new [pid ipc uts mount network]",
		"tincan: debug: init: mount proc on /proc",
		"tincan: debug: init: mount rootfs overlay",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--debug run lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := e.must("run", "--rm", "--rootfs", e.rootfs, "true"); r.stderr != "" {
		t.Errorf("run without --debug printed %q", r.stderr)
	}
}

// Every container verb's --help has usage and examples.
func TestHelpHasExamples(t *testing.T) {
	e := newEnv(t)
	verbs := [][]string{{}, {"run"}, {"start"}, {"ps"}, {"logs"}, {"attach"}, {"stop"}, {"kill"}, {"rm"}, {"restart"},
		{"wait"}, {"rename"}, {"prune"}, {"inspect"}, {"exec"}, {"top"}, {"stats"}, {"pause"}, {"unpause"},
		{"info"}, {"check"}, {"volume"}, {"volume", "create"}, {"volume", "ls"}, {"volume", "rm"}}
	for _, v := range verbs {
		r := e.must(append(v, "--help")...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Examples:\n  tincan ") {
			t.Errorf("tincan %s --help has no usage or examples:\n%s", strings.Join(v, " "), r.stdout)
		}
	}
}

// start runs an exited container again: detached by default, attached
// with -a (its output, its status).
func TestStartAgain(t *testing.T) {
	e := newEnv(t)
	if r := e.tincan("run", "--name", "job", "--rootfs", e.rootfs, "sh", "-c", "echo ran; exit 3"); r.code != 3 {
		t.Fatalf("run: %+v", r)
	}
	if r := e.tincan("start", "-a", "job"); r.code != 3 || r.stdout != "ran\n" {
		t.Errorf("start -a: %+v, want its output and status 3", r)
	}
	if r := e.must("start", "job"); r.stdout != "job\n" {
		t.Errorf("start printed %q", r.stdout)
	}
	if code := e.waitCode("job"); code != "3" {
		t.Errorf("wait after start: %s", code)
	}
	if out := e.must("logs", "job").stdout; out != "ran\nran\nran\n" {
		t.Errorf("logs of three runs: %q", out)
	}
}

// Completion scripts are generated for each shell, and the completion
// they call lists the verbs.
func TestCompletion(t *testing.T) {
	e := newEnv(t)
	for shell, want := range map[string]string{"bash": "__start_tincan", "zsh": "#compdef tincan", "fish": "complete -c tincan"} {
		if out := e.must("completion", shell).stdout; !strings.Contains(out, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	verbs := map[string]bool{}
	for _, l := range strings.Split(e.must("__complete", "").stdout, "\n") {
		verbs[strings.SplitN(l, "\t", 2)[0]] = true
	}
	for _, v := range []string{"run", "exec", "top", "stats", "pause", "unpause", "logs", "ps"} {
		if !verbs[v] {
			t.Errorf("completion does not offer %q: %v", v, verbs)
		}
	}
}
