package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testProcess is a shell started by a test and placed in a cgroup before it
// runs its script, so that everything it forks starts inside the cgroup.
type testProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
}

// startInCgroup starts sh -c script with its first command blocked on
// stdin, moves it into m, then lets it go. The process is killed and reaped
// at the end of the test if it is still there.
func startInCgroup(t *testing.T, m Manager, script string) *testProcess {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read gate; "+script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &testProcess{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			// Frozen, most likely; the cgroup cleanup, which runs next,
			// thaws it and kills it again.
			t.Errorf("cleanup: process %d did not exit on SIGKILL", p.pid())
		}
	})
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatalf("Apply(%d): %v", cmd.Process.Pid, err)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	_ = stdin.Close()
	return p
}

func (p *testProcess) pid() int { return p.cmd.Process.Pid }

// wait returns how the process ended; a test that expects it to end gets a
// failure instead of a hang when it does not.
func (p *testProcess) wait(t *testing.T) *exec.ExitError {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("process %d did not exit", p.pid())
	}
	var exitErr *exec.ExitError
	if !errors.As(p.err, &exitErr) {
		t.Fatalf("process %d: %v; want it to end by a signal or a failing status", p.pid(), p.err)
	}
	return exitErr
}

// killedBy reports the signal that ended the process, or -1.
func killedBy(exitErr *exec.ExitError) syscall.Signal {
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return -1
}

// waitForPids waits until the cgroup holds at least n processes and
// returns them.
func waitForPids(t *testing.T, m Manager, n int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pids, err := m.Pids()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("cgroup holds %v, want at least %d processes", pids, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procStatus returns a field of /proc/pid/status ("" when the process is gone).
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), field+":"); ok {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(t *testing.T, pid int) bool {
	state := procStatus(t, pid, "State")
	return state != "" && !strings.HasPrefix(state, "Z")
}

// signalPending reports whether sig is pending for the whole process pid.
func signalPending(t *testing.T, pid int, sig syscall.Signal) bool {
	mask, err := strconv.ParseUint(procStatus(t, pid, "ShdPnd"), 16, 64)
	if err != nil {
		t.Fatalf("ShdPnd of process %d: %v", pid, err)
	}
	return mask&(1<<(uint(sig)-1)) != 0
}

// procCgroups returns /proc/pid/cgroup as hierarchy name ("" for cgroup2)
// -> cgroup path.
func procCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	cgroups := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			t.Fatalf("bad /proc/%d/cgroup line %q", pid, line)
		}
		if fields[1] == "" {
			cgroups[""] = fields[2]
			continue
		}
		for _, name := range strings.Split(fields[1], ",") {
			cgroups[name] = fields[2]
		}
	}
	return cgroups
}
