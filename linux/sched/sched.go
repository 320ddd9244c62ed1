// Package sched applies a process's scheduling settings from the
// runtime-spec: the scheduler policy and parameters (sched_setattr(2)), the
// I/O priority (ioprio_set(2)) and the CPU affinity (sched_setaffinity(2)).
//
// Values are checked by package spec when the config is loaded; here they
// are converted and applied, and errors name the setting.
package sched

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var policies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    unix.SCHED_NORMAL,
	specs.SchedFIFO:     unix.SCHED_FIFO,
	specs.SchedRR:       unix.SCHED_RR,
	specs.SchedBatch:    unix.SCHED_BATCH,
	specs.SchedIdle:     unix.SCHED_IDLE,
	specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var flags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  unix.SCHED_FLAG_RESET_ON_FORK,
	specs.SchedFlagReclaim:      unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun:    unix.SCHED_FLAG_DL_OVERRUN,
	specs.SchedFlagKeepPolicy:   unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams:   unix.SCHED_FLAG_KEEP_PARAMS,
	specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// Attr converts a runtime-spec scheduler to the kernel's sched_attr.
func Attr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	policy, ok := policies[s.Policy]
	if !ok {
		return nil, fmt.Errorf("process.scheduler.policy: %q is not available on linux", s.Policy)
	}
	attr := &unix.SchedAttr{
		Size:     unix.SizeofSchedAttr,
		Policy:   policy,
		Nice:     s.Nice,
		Priority: uint32(s.Priority),
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for _, f := range s.Flags {
		bit, ok := flags[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags: unknown flag %q", f)
		}
		attr.Flags |= bit
	}
	return attr, nil
}

// SetScheduler applies s to the calling thread (pid 0) or to pid. It is
// inherited by the threads and children created afterwards, and by execve.
func SetScheduler(pid int, s *specs.Scheduler) error {
	attr, err := Attr(s)
	if err != nil {
		return err
	}
	if err := unix.SchedSetAttr(pid, attr, 0); err != nil {
		return fmt.Errorf("process.scheduler: sched_setattr %s: %w", s.Policy, err)
	}
	return nil
}

var ioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

// IOPrioValue is the ioprio_set(2) value of p: class << 13 | priority.
func IOPrioValue(p *specs.LinuxIOPriority) (int, error) {
	class, ok := ioClasses[p.Class]
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class: unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fmt.Errorf("process.ioPriority.priority: %d is outside [0, 7]", p.Priority)
	}
	return class<<ioprioClassShift | int(p.Priority), nil
}

// SetIOPriority applies p to the calling thread (pid 0) or to pid; children
// inherit it.
func SetIOPriority(pid int, p *specs.LinuxIOPriority) error {
	v, err := IOPrioValue(p)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(pid), uintptr(v)); errno != 0 {
		return fmt.Errorf("process.ioPriority: ioprio_set %s %d: %w", p.Class, p.Priority, errno)
	}
	return nil
}

// IOPriority reads the I/O priority value of pid (0: the calling thread).
func IOPriority(pid int) (int, error) {
	const ioprioGet = unix.SYS_IOPRIO_GET
	v, _, errno := unix.Syscall(ioprioGet, ioprioWhoProcess, uintptr(pid), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(v), nil
}

// MaxCPU bounds CPU numbers in a list, well above any NR_CPUS, so that
// code building a CPU mask from a list cannot be made to allocate without
// limit.
const MaxCPU = 1 << 16

// CPURange is one element of a CPU list: First to Last, inclusive.
type CPURange struct{ First, Last int }

// ParseCPURanges parses a cpuset(7) list such as "0-3,7": decimal CPU
// numbers below MaxCPU and ranges that do not run backwards.
func ParseCPURanges(list string) ([]CPURange, error) {
	var ranges []CPURange
	for _, part := range strings.Split(list, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err := parseCPU(first)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parseCPU(last); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("range %s is backwards", part)
			}
		}
		ranges = append(ranges, CPURange{lo, hi})
	}
	return ranges, nil
}

func parseCPU(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n >= MaxCPU {
		return 0, fmt.Errorf("CPU %d is out of range", n)
	}
	return n, nil
}

// ParseCPUList parses a CPU list (see ParseCPURanges) into a CPU set.
func ParseCPUList(list string) (*unix.CPUSet, error) {
	ranges, err := ParseCPURanges(list)
	if err != nil {
		return nil, fmt.Errorf("cpu list %q: %w", list, err)
	}
	var set unix.CPUSet
	set.Zero()
	for _, r := range ranges {
		if r.Last >= len(set)*64 {
			return nil, fmt.Errorf("cpu list %q: cpu %d is beyond %d", list, r.Last, len(set)*64-1)
		}
		for cpu := r.First; cpu <= r.Last; cpu++ {
			set.Set(cpu)
		}
	}
	return &set, nil
}

// SetAffinity pins pid (0: the calling thread) to the CPUs of list. An
// empty list changes nothing, as the runtime-spec asks.
func SetAffinity(pid int, field, list string) error {
	if list == "" {
		return nil
	}
	set, err := ParseCPUList(list)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if err := unix.SchedSetaffinity(pid, set); err != nil {
		return fmt.Errorf("%s: sched_setaffinity %s: %w", field, list, err)
	}
	return nil
}
