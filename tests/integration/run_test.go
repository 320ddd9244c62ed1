package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

func TestRunPrintsOutputAndPropagatesExitCode(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		script string
		code   int
		out    string
	}{
		{"echo hello from $(hostname)", 0, "hello from runc\n"},
		{"exit 3", 3, ""},
		// The shell is pid 1 of its pid namespace: a signal it sends itself
		// is ignored, so ask a child to kill it from outside its subtree.
		{"sleep 100 & kill -TERM $!; wait $!", 143, ""},
	} {
		b := testutil.NewBundle(t, "sh", "-c", tc.script)
		res := r.Exec(t, "run", "--bundle", b.Dir, "c1")
		if res.Code != tc.code || res.Stdout != tc.out {
			t.Errorf("%q: exit %d stdout %q stderr %q; want exit %d stdout %q", tc.script, res.Code, res.Stdout, res.Stderr, tc.code, tc.out)
		}
		if got := r.Exec(t, "state", "c1"); got.Code == 0 || !strings.Contains(got.Stderr, "does not exist") {
			t.Errorf("container left behind after run: %+v", got)
		}
	}
}

func TestRunKilledBySignalExits128PlusSignal(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "100")
	cmd := r.Cmd("run", "--bundle", b.Dir, "c2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "c2", "running")
	r.MustExec(t, "kill", "c2", "KILL")
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 137 {
		t.Fatalf("run exit %v (%v), want 137", cmd.ProcessState.ExitCode(), err)
	}
}

func TestRunDetachReturnsWithContainerRunning(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	id := newID(t)
	start := time.Now()
	pid := runDetached(t, r, b, id)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run --detach took %v", d)
	}
	if st := r.State(t, id); st.Status != "running" {
		t.Errorf("status after run --detach = %q, want running", st.Status)
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if string(cmdline) != "sleep\x00100\x00" {
		t.Errorf("pid %d runs %q, want sleep 100", pid, cmdline)
	}
}

func TestRunForegroundExitStatus(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 42", 42},
		{"exit 255", 255},
		// A child kills pid 1 from outside its subtree (pid 1 ignores
		// signals it has no handler for only when sent from inside).
		{"sleep 100 & kill -KILL $!; wait $!", 137},
	} {
		b := testutil.NewBundle(t, "sh", "-c", tc.script)
		res := runFG(t, r, b, newID(t))
		if res.Code != tc.code {
			t.Errorf("%q: exit %d (stderr %q), want %d", tc.script, res.Code, res.Stderr, tc.code)
		}
	}
}

func TestRunForegroundSignalledExits128PlusSignal(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// Without a pid namespace: pid 1 of one ignores every signal it has no
	// handler for, except SIGKILL from outside (pid_namespaces(7)).
	b := testutil.NewBundle(t, "sleep", "100")
	setNamespaces(b, "mount", "network", "ipc", "uts")
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	cmd := r.Cmd("run", "--bundle", b.Dir, id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitStatus(t, r, id, "running")
	r.MustExec(t, "kill", id, "TERM")
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 128+15 {
		t.Errorf("run exit %d, want 143", code)
	}
}

func TestRunForwardsSignals(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	out := outDir(t, b, "/out")
	shell(t, b, `trap 'echo usr1 >> /out/usr1' USR1; trap 'exit 42' TERM; touch /out/ready; while true; do sleep 0.01; done`)
	r := testutil.NewRuntime(t)
	id := newID(t)
	cmd := r.Cmd("run", "--bundle", b.Dir, id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "the container's traps", func() bool { return exists(filepath.Join(out, "ready")) })
	cmd.Process.Signal(syscall.SIGUSR1)
	waitFor(t, "USR1 to reach the container", func() bool { return countLines(filepath.Join(out, "usr1")) == 1 })
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Errorf("run exit %d after TERM, want the container's 42", code)
	}
	expectFailure(t, r.Exec(t, "state", id), "does not exist")
}

func TestRunKeep(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "exit 4")
	r := testutil.NewRuntime(t)
	id := newID(t)
	if res := runFG(t, r, b, id, "--keep"); res.Code != 4 {
		t.Fatalf("run --keep: exit %d %s", res.Code, res.Stderr)
	}
	forceDeleteAtCleanup(t, r, id)
	if st := r.State(t, id); st.Status != "stopped" {
		t.Errorf("run --keep left status %q, want stopped", st.Status)
	}
	r.MustExec(t, "delete", id)
}
