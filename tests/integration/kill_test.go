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

// trapScript counts USR1 signals in /out/usr1.
const trapScript = `trap 'echo usr1 >> /out/usr1' USR1; touch /out/ready; while true; do sleep 0.01; done`

func TestKillSignalNames(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	out := outDir(t, b, "/out")
	shell(t, b, trapScript)
	r := testutil.NewRuntime(t)
	id := newID(t)
	runDetached(t, r, b, id)
	waitFor(t, "the trap to be set", func() bool { return exists(filepath.Join(out, "ready")) })
	for i, sig := range []string{"10", "USR1", "SIGUSR1", "usr1"} {
		r.MustExec(t, "kill", id, sig)
		waitFor(t, "USR1 given as "+sig, func() bool { return countLines(filepath.Join(out, "usr1")) == i+1 })
	}
	for _, bad := range []string{"SIGNOPE", "0x10", "100000"} {
		res := r.Exec(t, "kill", id, bad)
		expectFailure(t, res, bad)
	}
	r.MustExec(t, "kill", id, "KILL")
	waitStatus(t, r, id, "stopped")
	expectFailure(t, r.Exec(t, "kill", id, "KILL"), "container not running")
	expectFailure(t, r.Exec(t, "kill", id), "container not running")
}

func TestKillAllReachesEveryProcess(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// sleep as pid 1 ignores TERM (no handler), the background sleep does
	// not: only a signal sent to every process ends it.
	b := testutil.NewBundle(t, "sh", "-c", "sleep 100 & exec sleep 100")
	r := testutil.NewRuntime(t)
	id := newID(t)
	pid := runDetached(t, r, b, id)
	children := func() []string {
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
		return strings.Fields(string(data))
	}
	var bg string
	waitFor(t, "the background sleep", func() bool {
		c := children()
		if len(c) == 1 {
			bg = c[0]
		}
		return bg != ""
	})
	alive := func(pid string) bool {
		data, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return false
		}
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		return len(f) > 0 && f[0] != "Z" && f[0] != "X"
	}
	r.MustExec(t, "kill", id, "TERM")
	time.Sleep(50 * time.Millisecond)
	if !alive(bg) {
		t.Fatalf("kill without --all reached the background process %s", bg)
	}
	r.MustExec(t, "kill", "--all", id, "TERM")
	waitFor(t, "kill --all to end the background process", func() bool { return !alive(bg) })
	if st := r.State(t, id); st.Status != "running" {
		t.Errorf("status %q after TERM to all, want running (pid 1 ignores TERM)", st.Status)
	}
	r.MustExec(t, "kill", "-a", id, "KILL")
	waitStatus(t, r, id, "stopped")
}

func TestStateAfterExternalKill(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	id := newID(t)
	pid := runDetached(t, r, b, id)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, id, "stopped")
	expectFailure(t, r.Exec(t, "kill", id), "container not running")
	r.MustExec(t, "delete", id)
}
