package sched

import (
	"os/exec"
	"runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sleeper starts a process for the test to change and read back.
func sleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

func TestSetScheduler(t *testing.T) {
	pid := sleeper(t)
	s := &specs.Scheduler{Policy: specs.SchedBatch, Nice: 7, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	if err := SetScheduler(pid, s); err != nil {
		t.Fatal(err)
	}
	got, err := unix.SchedGetAttr(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy != unix.SCHED_BATCH || got.Nice != 7 || got.Flags&unix.SCHED_FLAG_RESET_ON_FORK == 0 {
		t.Errorf("sched_getattr: policy %d nice %d flags %#x, want SCHED_BATCH, 7, reset-on-fork", got.Policy, got.Nice, got.Flags)
	}
}

func TestSetSchedulerRealtimeNeedsPriority(t *testing.T) {
	pid := sleeper(t)
	err := SetScheduler(pid, &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 0})
	if err == nil {
		t.Fatal("SCHED_FIFO with priority 0 was accepted")
	}
	if _, err := Attr(&specs.Scheduler{Policy: specs.SchedISO}); err == nil {
		t.Error("SCHED_ISO converted; Linux has no such policy")
	}
}

func TestSetIOPriority(t *testing.T) {
	pid := sleeper(t)
	p := &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 0}
	if err := SetIOPriority(pid, p); err != nil {
		t.Fatal(err)
	}
	got, err := IOPriority(pid)
	if err != nil {
		t.Fatal(err)
	}
	if got>>13 != 3 {
		t.Errorf("ioprio class %d, want 3 (idle)", got>>13)
	}
	p = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	if err := SetIOPriority(pid, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := IOPriority(pid); got != 2<<13|6 {
		t.Errorf("ioprio %#x, want best-effort 6 (%#x)", got, 2<<13|6)
	}
	if _, err := IOPrioValue(&specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"}); err == nil {
		t.Error("unknown class accepted")
	}
}

func TestSetAffinity(t *testing.T) {
	pid := sleeper(t)
	last := runtime.NumCPU() - 1
	list := "0"
	if last > 0 {
		list = "1"
	}
	if err := SetAffinity(pid, "final", list); err != nil {
		t.Fatal(err)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		t.Fatal(err)
	}
	want, _ := ParseCPUList(list)
	if set != *want {
		t.Errorf("affinity %v, want only cpu %s", set, list)
	}
	if err := SetAffinity(pid, "final", ""); err != nil {
		t.Errorf("empty list: %v", err)
	}
}

func TestParseCPUList(t *testing.T) {
	set, err := ParseCPUList("0-2,5")
	if err != nil {
		t.Fatal(err)
	}
	for cpu := 0; cpu < 8; cpu++ {
		want := cpu <= 2 || cpu == 5
		if set.IsSet(cpu) != want {
			t.Errorf("cpu %d set=%v, want %v", cpu, set.IsSet(cpu), want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0-99999"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
