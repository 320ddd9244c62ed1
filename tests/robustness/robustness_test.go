// Package robustness tests that tincan-oci leaves nothing behind when it is
// killed at any moment, when two creates race for one id, and when its
// state file is damaged: the cases where runc leaks.
package robustness

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

// marker makes the container's program recognisable in the process list.
func marker(t *testing.T) string {
	return fmt.Sprintf("9999.%d", rand.Int31())
}

// assertGone checks that nothing of container id is left: no state entry
// in the root, no cgroup directory and no mount naming it, no process
// running the program with the marker.
func assertGone(t *testing.T, r *testutil.Runtime, id, mark string, before testutil.Snapshot) {
	t.Helper()
	var left []string
	// Processes may need a moment to be reaped after SIGKILL.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = testutil.ProcessesWith(mark)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, _ := os.ReadDir(r.Root)
	for _, e := range entries {
		left = append(left, "state entry "+e.Name())
	}
	left = append(left, testutil.Leaks(before, testutil.TakeSnapshot(t), id)...)
	if len(left) > 0 {
		t.Fatalf("left behind for %s:\n%s", id, strings.Join(left, "\n"))
	}
}

// killAfter starts tincan-oci args, SIGKILLs it after delay, and waits.
func killAfter(t *testing.T, r *testutil.Runtime, delay time.Duration, args ...string) {
	t.Helper()
	cmd := r.Cmd(args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// Create, start and delete are each killed at moments spread over their
// whole duration; each time, one delete --force must remove everything.
func TestSIGKILLAtAnyMomentThenDeleteForce(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	mark := marker(t)
	b := testutil.NewBundle(t, "sleep", mark)
	before := testutil.TakeSnapshot(t)

	// How long a full create takes here, to spread the kills over it.
	start := time.Now()
	r.MustExec(t, "create", "--bundle", b.Dir, "probe")
	span := time.Since(start)
	r.MustExec(t, "delete", "--force", "probe")

	const rounds = 40
	for i := 0; i < rounds; i++ {
		id := fmt.Sprintf("kill-%d", i)
		delay := span * time.Duration(i) / rounds
		switch i % 3 {
		case 0:
			killAfter(t, r, delay, "create", "--bundle", b.Dir, id)
		case 1:
			r.MustExec(t, "create", "--bundle", b.Dir, id)
			killAfter(t, r, delay/4, "start", id)
		case 2:
			r.MustExec(t, "create", "--bundle", b.Dir, id)
			r.MustExec(t, "start", id)
			killAfter(t, r, delay/4, "delete", "--force", id)
		}
		if res := r.Exec(t, "delete", "--force", id); res.Code != 0 {
			t.Fatalf("round %d (delay %v): delete --force: %s", i, delay, res.Stderr)
		}
		assertGone(t, r, id, mark, before)
	}
}

// Two creates of one id at the same moment: exactly one wins, the loser
// says so and touches nothing of the winner's, which then runs normally.
func TestConcurrentCreatesOfOneID(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	mark := marker(t)
	b := testutil.NewBundle(t, "sleep", mark)
	before := testutil.TakeSnapshot(t)
	for round := 0; round < 15; round++ {
		id := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		results := make([]testutil.Result, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = r.Exec(t, "create", "--bundle", b.Dir, id)
			}()
		}
		wg.Wait()
		wins, losses := 0, 0
		for _, res := range results {
			switch {
			case res.Code == 0:
				wins++
			case strings.Contains(res.Stderr, "already exists"):
				losses++
			default:
				t.Fatalf("round %d: unexpected failure: %s", round, res.Stderr)
			}
		}
		if wins != 1 || losses != 1 {
			t.Fatalf("round %d: %d creates won, %d lost: %+v", round, wins, losses, results)
		}
		st := r.State(t, id)
		if st.Status != "created" || st.Pid <= 0 {
			t.Fatalf("round %d: winner's state %+v", round, st)
		}
		r.MustExec(t, "start", id)
		if st := r.State(t, id); st.Status != "running" {
			t.Fatalf("round %d: winner not running after start: %+v", round, st)
		}
		r.MustExec(t, "delete", "--force", id)
		assertGone(t, r, id, mark, before)
	}
}

// A truncated, garbage or missing state.json still lets delete --force
// find the container's processes (through its cgroup) and remove it all.
func TestDeleteForceWithDamagedState(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	mark := marker(t)
	b := testutil.NewBundle(t, "sh", "-c", "sleep "+mark+" & exec sleep "+mark)
	before := testutil.TakeSnapshot(t)
	damage := map[string]func(path string) error{
		"truncated": func(p string) error { return os.Truncate(p, 10) },
		"garbage":   func(p string) error { return os.WriteFile(p, []byte("\x00\xffnot json{"), 0o644) },
		"missing":   os.Remove,
	}
	for name, fn := range damage {
		id := "damaged-" + name
		r.MustExec(t, "create", "--bundle", b.Dir, id)
		r.MustExec(t, "start", id)
		if len(testutil.ProcessesWith(mark)) < 2 {
			// The shell starts its two sleeps right away; wait a little.
			time.Sleep(100 * time.Millisecond)
		}
		if got := testutil.ProcessesWith(mark); len(got) < 2 {
			t.Fatalf("%s: container processes not found: %v", name, got)
		}
		if err := fn(filepath.Join(r.Root, id, "state.json")); err != nil {
			t.Fatal(err)
		}
		if res := r.Exec(t, "delete", "--force", id); res.Code != 0 {
			t.Fatalf("%s: delete --force: %s", name, res.Stderr)
		}
		assertGone(t, r, id, mark, before)
	}
}

// A cgroupsPath with parents that do not exist yet: create makes them and
// delete removes them again (only while empty), in every hierarchy.
func TestDeleteRemovesCgroupParentsItMade(t *testing.T) {
	testutil.RequiresRoot(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", marker(t))
	parent := fmt.Sprintf("robust-%d", rand.Int31())
	b.Spec.Linux.CgroupsPath = parent + "/a/b"
	b.Save(t)
	before := testutil.TakeSnapshot(t)
	r.MustExec(t, "create", "--bundle", b.Dir, "nested")
	if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), parent); len(leaks) == 0 {
		t.Fatal("create made no cgroup directories under the configured path")
	}
	r.MustExec(t, "delete", "--force", "nested")
	if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), parent); len(leaks) > 0 {
		t.Fatalf("cgroup parents left after delete:\n%s", strings.Join(leaks, "\n"))
	}
}
