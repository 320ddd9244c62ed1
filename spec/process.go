package spec

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/sched"
)

// ValidateProcess checks a process on its own, as `exec --process` reads it;
// field is the prefix for messages ("process"). It checks what Validate
// checks for the process, without the warnings. Capability and rlimit names,
// the AppArmor profile and the SELinux label are checked where they are
// applied.
func ValidateProcess(p *specs.Process, field string) error {
	_, err := validateProcess(p, field)
	return err
}

// validateProcess returns warnings already prefixed with the field.
func validateProcess(p *specs.Process, field string) (warnings []string, err error) {
	if p == nil {
		return nil, invalidf(field, "required")
	}
	if err := checkArgs(member(field, "args"), p.Args); err != nil {
		return nil, err
	}
	if err := checkAbsPath(member(field, "cwd"), p.Cwd); err != nil {
		return nil, err
	}
	if err := checkEnv(member(field, "env"), p.Env); err != nil {
		return nil, err
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return nil, invalidf(member(field, "oomScoreAdj"), "%d is outside [-1000, 1000]", *p.OOMScoreAdj)
	}
	if err := checkRlimits(member(field, "rlimits"), p.Rlimits); err != nil {
		return nil, err
	}
	if p.User.Umask != nil && *p.User.Umask > 0o777 {
		return nil, invalidf(member(field, "user.umask"), "%#o is more than 0777", *p.User.Umask)
	}
	if p.IOPriority != nil {
		if err := checkIOPriority(member(field, "ioPriority"), p.IOPriority); err != nil {
			return nil, err
		}
	}
	if p.Scheduler != nil {
		if err := checkScheduler(member(field, "scheduler"), p.Scheduler); err != nil {
			return nil, err
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		if err := checkCPUList(member(field, "execCPUAffinity.initial"), a.Initial); err != nil {
			return nil, err
		}
		if err := checkCPUList(member(field, "execCPUAffinity.final"), a.Final); err != nil {
			return nil, err
		}
	}
	if p.ConsoleSize != nil && !p.Terminal {
		// The runtime-spec says to ignore it; say so, since the user
		// probably meant to ask for a terminal.
		warnings = append(warnings, member(field, "consoleSize")+": ignored because terminal is false")
	}
	return warnings, nil
}

func checkArgs(field string, args []string) error {
	if len(args) == 0 {
		return invalidf(field, "must not be empty")
	}
	if args[0] == "" {
		return invalidf(elem(field, 0), "the program must not be empty")
	}
	return checkNoNUL(field, args)
}

// checkEnv requires NAME=value entries, as execve(2) callers expect.
func checkEnv(field string, env []string) error {
	for i, e := range env {
		entryField := elem(field, i)
		name, _, hasValue := strings.Cut(e, "=")
		switch {
		case e == "":
			return invalidf(entryField, "empty entry")
		case strings.IndexByte(e, 0) >= 0:
			return invalidf(entryField, "%q contains a NUL byte", e)
		case !hasValue:
			return invalidf(entryField, "%q is not of the form NAME=value", e)
		case name == "":
			return invalidf(entryField, "%q has an empty name", e)
		}
	}
	return nil
}

// checkRlimits checks the limits' values; their names are linux/rlimit's.
func checkRlimits(field string, rlimits []specs.POSIXRlimit) error {
	seen := make(map[string]int, len(rlimits))
	for i, r := range rlimits {
		if first, dup := seen[r.Type]; dup {
			return invalidf(member(elem(field, i), "type"), "duplicate rlimit %q (also %s)", r.Type, elem(field, first))
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			return invalidf(elem(field, i), "soft limit %d is above hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}

func checkIOPriority(field string, prio *specs.LinuxIOPriority) error {
	switch prio.Class {
	case specs.IOPRIO_CLASS_RT, specs.IOPRIO_CLASS_BE, specs.IOPRIO_CLASS_IDLE:
	default:
		return invalidf(member(field, "class"), "unknown class %q", prio.Class)
	}
	if prio.Priority < 0 || prio.Priority > 7 {
		return invalidf(member(field, "priority"), "%d is outside [0, 7]", prio.Priority)
	}
	return nil
}

// checkScheduler checks what sched_setattr(2) would refuse with EINVAL, so
// the user learns it from create rather than from a failed start.
func checkScheduler(field string, sched *specs.Scheduler) error {
	policyField := member(field, "policy")
	realtime := false
	switch sched.Policy {
	case specs.SchedFIFO, specs.SchedRR:
		realtime = true
	case specs.SchedOther, specs.SchedBatch, specs.SchedIdle, specs.SchedDeadline:
	case specs.SchedISO:
		// Only out-of-tree schedulers had SCHED_ISO; Linux never did.
		return errdefs.Unsupported("%s: %s is not available on linux", policyField, sched.Policy)
	case "":
		return invalidf(policyField, "required")
	default:
		return invalidf(policyField, "unknown policy %q", sched.Policy)
	}
	if sched.Nice < -20 || sched.Nice > 19 {
		return invalidf(member(field, "nice"), "%d is outside [-20, 19]", sched.Nice)
	}
	if realtime && (sched.Priority < 1 || sched.Priority > 99) {
		return invalidf(member(field, "priority"), "%d is outside [1, 99] for %s", sched.Priority, sched.Policy)
	}
	if !realtime && sched.Priority != 0 {
		return invalidf(member(field, "priority"), "must be 0 for %s, got %d", sched.Policy, sched.Priority)
	}
	for i, flag := range sched.Flags {
		switch flag {
		case specs.SchedFlagResetOnFork, specs.SchedFlagReclaim, specs.SchedFlagDLOverrun,
			specs.SchedFlagKeepPolicy, specs.SchedFlagKeepParams,
			specs.SchedFlagUtilClampMin, specs.SchedFlagUtilClampMax:
		default:
			return invalidf(elem(member(field, "flags"), i), "unknown flag %q", flag)
		}
	}
	if sched.Policy == specs.SchedDeadline {
		return checkDeadline(field, sched)
	}
	return nil
}

// checkDeadline checks the SCHED_DEADLINE parameters: the kernel needs
// runtime <= deadline <= period, where a zero period means the deadline.
func checkDeadline(field string, sched *specs.Scheduler) error {
	if sched.Deadline == 0 {
		return invalidf(member(field, "deadline"), "required for %s", sched.Policy)
	}
	if sched.Runtime > sched.Deadline {
		return invalidf(member(field, "runtime"), "%d is above deadline %d", sched.Runtime, sched.Deadline)
	}
	if sched.Period != 0 && sched.Deadline > sched.Period {
		return invalidf(member(field, "deadline"), "%d is above period %d", sched.Deadline, sched.Period)
	}
	return nil
}

// checkCPUList checks a CPU list such as "0-3,7" (cpuset(7) list format).
// Empty means "not set".
func checkCPUList(field, list string) error {
	if list == "" {
		return nil
	}
	if _, err := sched.ParseCPURanges(list); err != nil {
		return invalidf(field, "%q: %v", list, err)
	}
	return nil
}
