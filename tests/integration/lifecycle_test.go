package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

// stopFileScript runs until /out/stop exists, after recording that it ran.
const stopFileScript = `touch /out/ran; while [ ! -e /out/stop ]; do sleep 0.01; done`

func TestLifecycleCreateStartStopDelete(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	out := outDir(t, b, "/out")
	shell(t, b, stopFileScript)
	r := testutil.NewRuntime(t)
	id := newID(t)

	create(t, r, b, id)
	st := r.State(t, id)
	if st.Status != "created" {
		t.Fatalf("status after create = %q, want created", st.Status)
	}
	if st.Pid <= 0 || !exists("/proc/"+strconv.Itoa(st.Pid)) {
		t.Fatalf("pid after create = %d, want a live process", st.Pid)
	}
	// The program must not run before start.
	time.Sleep(50 * time.Millisecond)
	if exists(filepath.Join(out, "ran")) {
		t.Fatal("the container's program ran before start")
	}

	r.MustExec(t, "start", id)
	if st := r.State(t, id); st.Status != "running" || st.Pid <= 0 {
		t.Fatalf("after start: status %q pid %d, want running with a pid", st.Status, st.Pid)
	}
	waitFor(t, "the program to run", func() bool { return exists(filepath.Join(out, "ran")) })

	if err := os.WriteFile(filepath.Join(out, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, id, "stopped")
	if st := r.State(t, id); st.Pid != 0 {
		t.Errorf("stopped container has pid %d in state, want 0", st.Pid)
	}

	r.MustExec(t, "delete", id)
	res := r.Exec(t, "state", id)
	expectFailure(t, res, "does not exist")
	if exists(filepath.Join(r.Root, id)) {
		t.Errorf("state directory %s remains after delete", filepath.Join(r.Root, id))
	}
}

func TestDeleteWithoutForceRefusesLiveContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)

	createdID := newID(t)
	create(t, r, b, createdID)
	expectFailure(t, r.Exec(t, "delete", createdID), createdID)
	if st := r.State(t, createdID); st.Status != "created" || !exists("/proc/"+strconv.Itoa(st.Pid)) {
		t.Errorf("after refused delete: status %q pid %d, want created and alive", st.Status, st.Pid)
	}
	// start still works on it.
	r.MustExec(t, "start", createdID)

	runningID := newID(t)
	pid := runDetached(t, r, b, runningID)
	expectFailure(t, r.Exec(t, "delete", runningID), runningID)
	if st := r.State(t, runningID); st.Status != "running" {
		t.Errorf("after refused delete: status %q, want running", st.Status)
	}

	r.MustExec(t, "delete", "--force", runningID)
	expectFailure(t, r.Exec(t, "state", runningID), "does not exist")
	waitFor(t, "the init to be gone", func() bool {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return err != nil || len(data) == 0
	})
	// delete --force of a created container works too.
	r.MustExec(t, "delete", "--force", createdID)
	expectFailure(t, r.Exec(t, "state", createdID), "does not exist")
	// and of one that does not exist, as with runc.
	r.MustExec(t, "delete", "--force", createdID)
	expectFailure(t, r.Exec(t, "delete", createdID), "does not exist")
}

func TestStartTwiceAndStartStoppedFail(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	out := outDir(t, b, "/out")
	shell(t, b, stopFileScript)
	r := testutil.NewRuntime(t)
	id := newID(t)
	create(t, r, b, id)
	r.MustExec(t, "start", id)
	expectFailure(t, r.Exec(t, "start", id), "running")
	os.WriteFile(filepath.Join(out, "stop"), nil, 0o644)
	waitStatus(t, r, id, "stopped")
	expectFailure(t, r.Exec(t, "start", id), "stopped")
}

func TestContainerWithoutProcess(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	b.Spec.Process = nil
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	create(t, r, b, id)
	if st := r.State(t, id); st.Status != "created" {
		t.Fatalf("status %q after create, want created", st.Status)
	}
	r.MustExec(t, "start", id)
	waitStatus(t, r, id, "stopped")
	r.MustExec(t, "delete", id)
}

func TestCreateDuplicateID(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	id := newID(t)
	create(t, r, b, id)
	pid := r.State(t, id).Pid
	expectFailure(t, ociExec(t, r, nil, "create", "--bundle", b.Dir, id), "already exists")
	expectFailure(t, ociExec(t, r, nil, "run", "--detach", "--bundle", b.Dir, id), "already exists")
	if st := r.State(t, id); st.Status != "created" || st.Pid != pid {
		t.Errorf("after a refused duplicate create: status %q pid %d, want created %d", st.Status, st.Pid, pid)
	}

	// Of concurrent creates of one id exactly one wins, and the losers
	// leave nothing of theirs behind.
	id2 := newID(t)
	before := testutil.TakeSnapshot(t)
	const n = 6
	results := make(chan testutil.Result, n)
	for i := 0; i < n; i++ {
		go func() { results <- ociExec(t, r, nil, "create", "--bundle", b.Dir, id2) }()
	}
	wins := 0
	for i := 0; i < n; i++ {
		res := <-results
		if res.Code == 0 {
			wins++
		} else {
			expectFailure(t, res, "already exists")
		}
	}
	forceDeleteAtCleanup(t, r, id2)
	if wins != 1 {
		t.Errorf("%d of %d concurrent creates of one id succeeded, want 1", wins, n)
	}
	if procs := containerProcesses(id2); len(procs) != 1 {
		t.Errorf("processes of %s after concurrent creates: %v, want just its init", id2, procs)
	}
	r.MustExec(t, "delete", "--force", id2)
	assertNothingLeft(t, r, before, id2)
}
