package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// cgEventLine is one line of `events` output, the fields the tests read.
type cgEventLine struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		Memory struct {
			Usage struct {
				Limit uint64 `json:"limit"`
				Usage uint64 `json:"usage"`
			} `json:"usage"`
			EventCount struct {
				OOMKill uint64 `json:"oom_kill"`
			} `json:"event_count"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
	} `json:"data"`
}

// cgEvents parses the JSON lines of an events output file.
func cgEvents(t *testing.T, path string) []cgEventLine {
	t.Helper()
	var out []cgEventLine
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev cgEventLine
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue // a line being written
		}
		out = append(out, ev)
	}
	return out
}

// TestCgroupsOOMKillAndEvents runs a memory hog under a 32 MiB limit with
// `events` streaming: the kernel kills it, and events reports the OOM and
// ends when the container has stopped.
func TestCgroupsOOMKillAndEvents(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	limit := int64(32 << 20)
	// Swap equal to the limit: no swap for the hog to escape to.
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
	dropMissing(t, r)
	if r.Memory == nil {
		t.Skip("no memory controller")
	}
	b := cgBundle(t, "", r)
	dir := outDir(t, b, "/out")
	// The hog starts when the test says so, once events is watching; the
	// shell doubles a string until the kernel kills it.
	shell(t, b, `while [ ! -e /out/go ]; do sleep 0.05; done; x=xxxxxxxxxxxxxxxx; while :; do x=$x$x; done`)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)

	events := filepath.Join(t.TempDir(), "events")
	ef := createFile(t, events)
	cmd := rt.Cmd("events", "--interval", "1s", id)
	cmd.Stdout, cmd.Stderr = ef, ef
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	// The first stats line comes after the OOM watch is set up.
	cgWait(t, 60*time.Second, "the first stats event", func() bool { return len(cgEvents(t, events)) > 0 })
	first := cgEvents(t, events)[0]
	if first.Type != "stats" || first.ID != id || first.Data == nil || first.Data.Memory.Usage.Limit != uint64(limit) {
		t.Fatalf("first event %+v; want stats of %s with the %d limit", first, id, limit)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cgWait(t, 120*time.Second, "an oom event", func() bool {
		for _, ev := range cgEvents(t, events) {
			if ev.Type == "oom" && ev.ID == id && ev.Data == nil {
				return true
			}
		}
		return false
	})
	// The hog was the init: the container stops, and events ends with it.
	waitStatusFor(t, rt, id, "stopped", 60*time.Second)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("events exited with %v:\n%s", err, readFile(t, events))
		}
		exited <- nil
	case <-time.After(60 * time.Second):
		t.Fatalf("events still runs after the container stopped")
	}
}

// waitStatusFor is waitStatus with a longer deadline, for the VM.
func waitStatusFor(t *testing.T, r *testutil.Runtime, id, status string, d time.Duration) {
	t.Helper()
	cgWait(t, d, "status "+status, func() bool {
		st, res := ociState(t, r, id)
		return res.Code == 0 && string(st.Status) == status
	})
}

// TestCgroupsForkBombStopsAtPidsMax forks far past a pids limit: the forks
// beyond it fail, and the cgroup never holds more than the limit.
func TestCgroupsForkBombStopsAtPidsMax(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	const limit = 16
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgInt(limit)}}
	dropMissing(t, r)
	if r.Pids == nil {
		t.Skip("no pids controller")
	}
	b := cgBundle(t, "", r)
	dir := outDir(t, b, "/out")
	// The forks run in a subshell, so that the shell that reports is not
	// the one whose fork fails.
	shell(t, b, `(for i in $(seq 60); do sleep 1000 & done) 2>/out/err; echo done >/out/done; exec sleep 1000`)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	runDetached(t, rt, b, id)
	cgWait(t, 60*time.Second, "the fork loop to end", func() bool { return exists(filepath.Join(dir, "done")) })
	m := cgLoad(t, "/tincan/"+id)
	pids, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) > limit || len(pids) < limit/2 {
		t.Errorf("the cgroup holds %d processes; want at most the limit %d (and most of it used)", len(pids), limit)
	}
	if errText := readFile(t, filepath.Join(dir, "err")); !strings.Contains(errText, "fork") {
		t.Errorf("the shell's errors %q do not show a failed fork", errText)
	}
	if v, ok := cgValue(t, m, "pids", "pids.events", "pids.events"); ok && !strings.Contains(v, "max ") || strings.Contains(v, "max 0") {
		t.Errorf("pids.events = %q; want forks refused at the limit counted", v)
	}
}

// TestCgroupsPauseFreezes pauses a container that counts: it makes no
// progress and cannot run its signal handler until resumed; state reports
// paused; pausing twice and resuming a running container fail as with
// runc.
func TestCgroupsPauseFreezes(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	b := cgBundle(t, "", nil)
	dir := outDir(t, b, "/out")
	shell(t, b, `trap 'echo trapped >/out/trap' USR1; i=0; while :; do i=$((i+1)); echo $i >/out/counter; sleep 0.02; done`)
	id := newID(t)
	rt := testutil.NewRuntime(t)
	pid := runDetached(t, rt, b, id)
	counter := func() int {
		n, _ := strconv.Atoi(strings.TrimSpace(readFileIfAny(filepath.Join(dir, "counter"))))
		return n
	}
	cgWait(t, 60*time.Second, "the counter to start", func() bool { return counter() > 1 })

	ociMust(t, rt, "pause", id)
	if st := rt.State(t, id); st.Status != "paused" {
		t.Fatalf("state after pause: %q, want paused", st.Status)
	}
	frozenAt := counter()
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	// A frozen process neither counts nor runs its trap: the signal stays
	// pending. (A frozen process cannot progress however long one waits,
	// so this wait only gives a broken freeze the chance to show.)
	time.Sleep(200 * time.Millisecond)
	if c := counter(); c != frozenAt {
		t.Errorf("the counter went from %d to %d while paused", frozenAt, c)
	}
	if mask, _ := strconv.ParseUint(procStatusField(t, pid, "ShdPnd"), 16, 64); mask&(1<<(uint(syscall.SIGUSR1)-1)) == 0 || exists(filepath.Join(dir, "trap")) {
		t.Errorf("SIGUSR1 was handled while paused (pending mask %q)", procStatusField(t, pid, "ShdPnd"))
	}
	expectFailure(t, ociExec(t, rt, nil, "pause", id), "container not running")

	ociMust(t, rt, "resume", id)
	if st := rt.State(t, id); st.Status != "running" {
		t.Fatalf("state after resume: %q, want running", st.Status)
	}
	cgWait(t, 60*time.Second, "the trap to run after resume", func() bool { return exists(filepath.Join(dir, "trap")) })
	cgWait(t, 60*time.Second, "the counter to go on", func() bool { return counter() > frozenAt })
	expectFailure(t, ociExec(t, rt, nil, "resume", id), "container not paused")

	// A created container is not running: it cannot be paused.
	created := newID(t) + "-c"
	create(t, rt, testutil.NewBundle(t, "true"), created)
	expectFailure(t, ociExec(t, rt, nil, "pause", created), "container not running")
}

// readFileIfAny returns a file's content, "" when it cannot be read.
func readFileIfAny(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestCgroupsTinyPidsLimit checks that a pids limit smaller than what the
// runtime's own init needs (0 is a valid limit) still starts the
// container, as with runc, and holds it to the limit.
func TestCgroupsTinyPidsLimit(t *testing.T) {
	cgRequire(t)
	t.Parallel()
	for _, limit := range []int64{0, 1} {
		r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgInt(limit)}}
		dropMissing(t, r)
		if r.Pids == nil {
			t.Skip("no pids controller")
		}
		// Without the limit this prints all three lines and exits 0; at
		// the limit the subshell's fork fails and the shell gives up.
		b := cgBundle(t, "echo started; (echo child); echo after", r)
		res := runFG(t, testutil.NewRuntime(t), b, newID(t))
		if res.Code == 0 || res.Stdout != "started\n" {
			t.Errorf("pids limit %d: exit %d, stdout %q, stderr %q; want the shell to start and its fork refused", limit, res.Code, res.Stdout, res.Stderr)
		}
	}
}
