package seccomp

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel tests filter syscalls the Go runtime never makes (getpgid,
// getppid, ...) so that the child keeps working, and give ERRNO rules
// errnos from 200 up, which no real syscall returns: a result below 200
// means the syscall ran.
const firstMarker = 200

// x86 call of syscall name with args in the child.
func x86Call(t testing.TB, name string, args ...uint64) childCall {
	c := childCall{Nr: nr(t, abiX86_64, name)}
	copy(c.Args[:], args)
	return c
}

// checkObserved fails when a child's result does not show the action want.
func checkObserved(t testing.TB, what string, want uint32, got childResult) {
	t.Helper()
	act := action(want)
	switch act.kind() {
	case unix.SECCOMP_RET_ERRNO:
		if got.Errno != int(want&retDataMask) {
			t.Errorf("%s: errno %d, want %s", what, got.Errno, act)
		}
	case unix.SECCOMP_RET_TRACE:
		// With no tracer attached the kernel fails the syscall.
		if got.Errno != int(unix.ENOSYS) {
			t.Errorf("%s: errno %d, want ENOSYS for %s without a tracer", what, got.Errno, act)
		}
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG:
		if got.Errno >= firstMarker {
			t.Errorf("%s: errno %d, want the syscall to run (%s)", what, got.Errno, act)
		}
	default:
		t.Fatalf("%s: cannot observe %s in a result", what, act)
	}
}

// runAndCompare compiles c, makes calls under it in a child and holds each
// result to the reference.
func runAndCompare(t *testing.T, c *specs.LinuxSeccomp, calls []childCall) {
	t.Helper()
	p := mustCompile(t, c)
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, p), Calls: calls})
	if o.loadErr != "" || len(o.results) != len(calls) {
		t.Fatalf("load error %q, %d of %d results; child: %v\n%s", o.loadErr, len(o.results), len(calls), o.state, o.stderr)
	}
	for i, call := range calls {
		d := seccompData{nr: call.Nr, arch: unix.AUDIT_ARCH_X86_64, args: call.Args}
		if call.I386 {
			d.arch = unix.AUDIT_ARCH_I386
		}
		checkObserved(t, fmt.Sprintf("call %d %+v", i, call), referenceDecision(c, d), o.results[i])
	}
}

func TestKernelConditions(t *testing.T) {
	// Values on both sides of a boundary above 2^32, and ones that differ
	// from it in one word only.
	const v = 0x1_0000_0005
	args := []uint64{0, 4, 5, 6, v - 1, v, v + 1, 0x2_0000_0005, 0x1_0000_0000, ^uint64(0)}
	ops := []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
	for i, op := range ops {
		t.Run(string(op), func(t *testing.T) {
			index := uint(i % maxArgs)
			c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
				Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + uint(i)),
				Args: []specs.LinuxSeccompArg{{Index: index, Op: op, Value: v, ValueTwo: 0x1_0000_0004}},
			}}}
			if op == specs.OpMaskedEqual {
				c.Syscalls[0].Args[0].Value = 0x3_0000_000e
			}
			var calls []childCall
			for _, a := range args {
				call := x86Call(t, "getpgid")
				call.Args[index] = a
				calls = append(calls, call)
			}
			runAndCompare(t, c, calls)
		})
	}
}

func TestKernelRulesANDAndOR(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker), Args: []specs.LinuxSeccompArg{
			{Index: 0, Op: specs.OpEqualTo, Value: 1}, {Index: 5, Op: specs.OpEqualTo, Value: 2},
		}},
		{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 1), Args: []specs.LinuxSeccompArg{
			{Index: 2, Op: specs.OpGreaterEqual, Value: 10}, {Index: 2, Op: specs.OpLessThan, Value: 20},
		}},
		{Names: []string{"getpgid"}, Action: specs.ActTrace, ErrnoRet: uintPtr(7), Args: []specs.LinuxSeccompArg{
			{Index: 0, Op: specs.OpEqualTo, Value: 3},
		}},
		{Names: []string{"getsid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 2)},
	}}
	runAndCompare(t, c, []childCall{
		x86Call(t, "getpgid", 1, 0, 0, 0, 0, 2), // first rule
		x86Call(t, "getpgid", 1, 0, 0, 0, 0, 3), // arg5 breaks the AND
		x86Call(t, "getpgid", 0, 0, 15),         // second rule
		x86Call(t, "getpgid", 0, 0, 20),         // one bound of the second breaks it
		x86Call(t, "getpgid", 1, 0, 15, 0, 0, 2),
		x86Call(t, "getpgid", 3), // third rule: TRACE, no tracer
		x86Call(t, "getpgid", 4),
		x86Call(t, "getsid"),
	})
}

func TestKernelDefaultErrnoRet(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(firstMarker + 50)}
	var names []string
	for _, name := range namesOn(abiX86_64) {
		if name != "getpgid" {
			names = append(names, name)
		}
	}
	c.Syscalls = []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}}
	p := mustCompile(t, c)
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, p), Calls: []childCall{
		x86Call(t, "getpgid"), x86Call(t, "getppid"),
	}})
	if len(o.results) != 2 {
		t.Fatalf("results %v, load error %q, %v\n%s", o.results, o.loadErr, o.state, o.stderr)
	}
	if o.results[0].Errno != firstMarker+50 {
		t.Errorf("getpgid: errno %d, want defaultErrnoRet %d", o.results[0].Errno, firstMarker+50)
	}
	if o.results[1].Errno != 0 || int(o.results[1].R1) != os.Getpid() {
		t.Errorf("getppid: %+v, want our pid %d", o.results[1], os.Getpid())
	}
}

func TestKernelKillProcess(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActKillProcess}}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), Calls: []childCall{
		x86Call(t, "getppid"), x86Call(t, "getpgid"), x86Call(t, "getppid"),
	}})
	ws, _ := o.state.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("child ended with %v, want killed by SIGSYS\n%s", o.state, o.stderr)
	}
	if len(o.results) != 1 {
		t.Errorf("%d results, want the one before getpgid", len(o.results))
	}
}

func TestKernelTrap(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActTrap}}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), Calls: []childCall{
		x86Call(t, "getppid"), x86Call(t, "getpgid"), x86Call(t, "getppid"),
	}})
	// The Go runtime turns the SIGSYS the kernel sends into a fatal error.
	if !strings.Contains(o.stderr, "SIGSYS: bad system call") || o.state.ExitCode() != 2 {
		t.Fatalf("child ended with %v, want the Go runtime's SIGSYS crash\n%s", o.state, o.stderr)
	}
	if len(o.results) != 1 {
		t.Errorf("%d results, want the one before getpgid", len(o.results))
	}
}

func TestKernelLog(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActLog}}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), Calls: []childCall{x86Call(t, "getppid")}})
	if len(o.results) != 1 || int(o.results[0].R1) != os.Getpid() {
		t.Fatalf("getppid under SCMP_ACT_LOG: %+v, want our pid; load error %q", o.results, o.loadErr)
	}
}

func TestKernelAllThreadsGetTheFilter(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker)}}}
	o := runChild(t, childPlan{NoNewPrivs: true, OtherThread: true, Program: encode(t, mustCompile(t, c)),
		Calls: []childCall{x86Call(t, "getpgid")}})
	if len(o.results) != 1 || o.results[0].Errno != firstMarker {
		t.Fatalf("getpgid on a thread started before Load: %+v, want errno %d; load error %q", o.results, firstMarker, o.loadErr)
	}
}

func TestKernelNotify(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/unused",
		Flags:    []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActNotify}}}
	p := mustCompile(t, c)
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, p),
		NotifyNr: nr(t, abiX86_64, "getpgid"),
		Answers:  []notifyAnswer{{Errno: firstMarker + 3}, {Val: 4242}},
		Calls:    []childCall{x86Call(t, "getpgid"), x86Call(t, "getpgid")},
	})
	if fd, ok := o.loadedListener(); !ok || fd < 0 {
		t.Fatalf("no listener fd; output %q, load error %q", o.lines, o.loadErr)
	}
	if len(o.results) != 2 {
		t.Fatalf("results %+v; %v\n%s", o.results, o.state, o.stderr)
	}
	if o.results[0].Errno != firstMarker+3 {
		t.Errorf("first getpgid: errno %d, want the agent's %d", o.results[0].Errno, firstMarker+3)
	}
	if o.results[1].Errno != 0 || o.results[1].R1 != 4242 {
		t.Errorf("second getpgid: %+v, want the agent's 4242", o.results[1])
	}
}

func TestLoadNeedsNoNewPrivsOrCapSysAdmin(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	o := runChild(t, childPlan{DropCaps: true, Program: encode(t, mustCompile(t, c))})
	if !strings.Contains(o.loadErr, "needs no_new_privs or CAP_SYS_ADMIN") {
		t.Fatalf("load error %q, want the no_new_privs hint; output %q", o.loadErr, o.lines)
	}
}

func TestLoadRejectsBadProgram(t *testing.T) {
	bad := &Program{Flags: unix.SECCOMP_FILTER_FLAG_TSYNC, Filter: []unix.SockFilter{
		{Code: opJEQ, K: 1, Jt: 10}, // beyond the end
		{Code: opReturn, K: unix.SECCOMP_RET_ALLOW},
	}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, bad)})
	if !strings.Contains(o.loadErr, "invalid argument") {
		t.Fatalf("load error %q, want the kernel's EINVAL; output %q", o.loadErr, o.lines)
	}
}
