package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/sched"
)

// statFields returns the fields of a /proc/PID/stat line after the
// command name, numbered as proc(5) numbers them (field 3 is index 3).
func statFields(t *testing.T, line string) []string {
	t.Helper()
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		t.Fatalf("not a stat line: %q", line)
	}
	return append([]string{"", "pid", "comm"}, strings.Fields(line[end+1:])...)
}

func TestProcessScheduler(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "cat", "/proc/self/stat")
	b.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 7}
	b.Save(t)
	r := testutil.NewRuntime(t)
	f := statFields(t, runOutput(t, r, b))
	// Field 19: nice; 41: policy (SCHED_BATCH is 3).
	if f[19] != "7" || f[41] != "3" {
		t.Errorf("nice %s policy %s, want 7 and 3 (SCHED_BATCH)", f[19], f[41])
	}
	// A policy the kernel refuses for this process fails the create with
	// the field named, and leaves nothing behind.
	b.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10_000, Deadline: 20_000, Period: 30_000}
	b.Spec.Process.Args = []string{"true"}
	b.Spec.Linux.Resources = nil
	b.Save(t)
	before := testutil.TakeSnapshot(t)
	id := newID(t)
	res := runFG(t, r, b, id)
	if res.Code == 0 {
		// SCHED_DEADLINE is allowed where the cgroup's CPU bandwidth
		// admits it; then it must have been applied.
		t.Logf("SCHED_DEADLINE admitted here")
		return
	}
	expectFailure(t, res, "process.scheduler")
	assertNothingLeft(t, r, before, id)
}

func TestProcessIOPriority(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "1000")
	b.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	b.Save(t)
	r := testutil.NewRuntime(t)
	pid := runDetached(t, r, b, newID(t))
	got, err := sched.IOPriority(pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2<<13 | 6; got != want {
		t.Errorf("ioprio of the container process %#x, want %#x (best effort, 6)", got, want)
	}
}

func TestExecCPUAffinity(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	initial, final := "0", "0"
	if runtime.NumCPU() > 1 {
		initial = "1"
	}
	b := testutil.NewBundle(t, "sleep", "1000")
	// Not applicable to the container's init (the runtime-spec): create
	// accepts it and the init keeps every CPU.
	b.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: initial, Final: final}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	pid := runDetached(t, r, b, id)
	if runtime.NumCPU() > 1 && procStatusField(t, pid, "Cpus_allowed_list") == final {
		t.Errorf("the init was pinned to %s", final)
	}
	p := specs.Process{
		Args:            []string{"grep", "Cpus_allowed_list", "/proc/self/status"},
		Env:             []string{"PATH=/bin"},
		Cwd:             "/",
		ExecCPUAffinity: &specs.CPUAffinity{Initial: initial, Final: final},
	}
	file := filepath.Join(t.TempDir(), "process.json")
	write := func(p specs.Process) {
		data, _ := json.Marshal(p)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(p)
	res := execIn(t, r, "--process", file, id)
	if want := "Cpus_allowed_list:\t" + final + "\n"; res.Code != 0 || res.Stdout != want {
		t.Errorf("exec with execCPUAffinity: exit %d stdout %q stderr %q, want %q", res.Code, res.Stdout, res.Stderr, want)
	}
	// A CPU this machine does not have: a clear error naming the field.
	p.ExecCPUAffinity = &specs.CPUAffinity{Final: "1023"}
	write(p)
	expectExecFailure(t, execIn(t, r, "--process", file, id), "execCPUAffinity.final")
}
