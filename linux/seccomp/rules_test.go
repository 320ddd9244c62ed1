package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		act   specs.LinuxSeccompAction
		errno *uint
		want  uint32
	}{
		{specs.ActKill, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillThread, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP},
		{specs.ActErrno, nil, retEPERM},
		{specs.ActErrno, uintPtr(0), unix.SECCOMP_RET_ERRNO},
		{specs.ActErrno, uintPtr(uint(unix.ENOSYS)), unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{specs.ActTrace, nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
		{specs.ActTrace, uintPtr(0xffff), unix.SECCOMP_RET_TRACE | 0xffff},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG},
		{specs.ActNotify, nil, unix.SECCOMP_RET_USER_NOTIF},
	} {
		c := &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  "/run/agent.sock",
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: tc.act, ErrnoRet: tc.errno}},
		}
		p := mustCompile(t, c)
		if got := run(t, p, call(abiX86_64, nr(t, abiX86_64, "getpid"))); got != tc.want {
			t.Errorf("%s errno %v: got %s, want %s", tc.act, tc.errno, action(got), action(tc.want))
		}
		if got := run(t, p, call(abiX86_64, nr(t, abiX86_64, "getppid"))); got != retAllow {
			t.Errorf("%s: getppid got %s, want the default", tc.act, action(got))
		}
		if p.Notify != (tc.act == specs.ActNotify) {
			t.Errorf("%s: Notify %v", tc.act, p.Notify)
		}
	}
}

func TestDefaultErrnoRet(t *testing.T) {
	for _, tc := range []struct {
		act   specs.LinuxSeccompAction
		errno *uint
		want  uint32
	}{
		{specs.ActErrno, nil, retEPERM},
		{specs.ActErrno, uintPtr(uint(unix.ENOSYS)), unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{specs.ActTrace, uintPtr(7), unix.SECCOMP_RET_TRACE | 7},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		c := &specs.LinuxSeccomp{DefaultAction: tc.act, DefaultErrnoRet: tc.errno,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
		p := mustCompile(t, c)
		if got := run(t, p, call(abiX86_64, nr(t, abiX86_64, "write"))); got != tc.want {
			t.Errorf("default %s errno %v: got %s, want %s", tc.act, tc.errno, action(got), action(tc.want))
		}
		if got := run(t, p, call(abiX86_64, nr(t, abiX86_64, "read"))); got != retAllow {
			t.Errorf("default %s: read got %s, want allow", tc.act, action(got))
		}
	}
}

func TestRuleOrderAndDefaultActionRules(t *testing.T) {
	getpid := call(abiX86_64, nr(t, abiX86_64, "getpid"), 5)
	for _, tc := range []struct {
		name  string
		rules []specs.LinuxSyscall
		want  uint32
	}{
		{"first unconditional wins", []specs.LinuxSyscall{
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(3)},
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(4)},
		}, unix.SECCOMP_RET_ERRNO | 3},
		{"conditional that fails falls to the next rule", []specs.LinuxSyscall{
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 6, Op: specs.OpEqualTo}}},
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(4)},
		}, unix.SECCOMP_RET_ERRNO | 4},
		{"conditional that holds wins over a later unconditional", []specs.LinuxSyscall{
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpEqualTo}}},
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(4)},
		}, unix.SECCOMP_RET_ERRNO | 3},
		{"a rule with the default action is dropped, as runc does", []specs.LinuxSyscall{
			{Names: []string{"getpid"}, Action: specs.ActAllow},
			{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(4)},
		}, unix.SECCOMP_RET_ERRNO | 4},
		{"name twice in one rule", []specs.LinuxSyscall{
			{Names: []string{"getpid", "getpid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 6, Op: specs.OpEqualTo}}},
		}, retAllow},
	} {
		c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: tc.rules}
		p := mustCompile(t, c)
		if got := run(t, p, getpid); got != tc.want {
			t.Errorf("%s: got %s, want %s\n%s", tc.name, action(got), action(tc.want), disassemble(p.Filter))
		}
		if want := referenceDecision(c, getpid); want != tc.want {
			t.Errorf("%s: the reference says %s", tc.name, action(want))
		}
	}
}

// TestConditions checks each operator at and around its boundaries, with
// values on both sides of 2^32, on x86_64 and i386.
func TestConditions(t *testing.T) {
	values := []uint64{0, 1, 0xfffffffe, 0xffffffff, 1 << 32, 1<<32 + 1, 0xfffffffe_00000000, ^uint64(0) - 1, ^uint64(0)}
	ops := []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
	for _, op := range ops {
		for _, value := range values {
			for _, index := range []uint{0, 5} {
				c := &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Architectures: []specs.Arch{specs.ArchX86},
					Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActErrno,
						Args: []specs.LinuxSeccompArg{{Index: index, Op: op, Value: value, ValueTwo: value & 0xf0000000_f0000000}}}},
				}
				p := mustCompile(t, c)
				for _, ab := range []abi{abiX86_64, abiI386} {
					for _, arg := range values {
						d := call(ab, nr(t, ab, "getpid"))
						d.args[index] = arg
						if got, want := run(t, p, d), referenceDecision(c, d); got != want {
							t.Fatalf("%s arg%d %s %#x with %#x: got %s, want %s\n%s", ab, index, op, value, arg, action(got), action(want), disassemble(p.Filter))
						}
					}
				}
			}
		}
	}
}

func TestConditionsAreANDedAlsoOnOneArgument(t *testing.T) {
	c := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
			{Index: 0, Op: specs.OpGreaterEqual, Value: 10},
			{Index: 0, Op: specs.OpLessThan, Value: 20},
			{Index: 3, Op: specs.OpMaskedEqual, Value: 0x3, ValueTwo: 0x1},
		}}},
	}
	p := mustCompile(t, c)
	getpid := nr(t, abiX86_64, "getpid")
	for _, tc := range []struct {
		a0, a3 uint64
		want   uint32
	}{
		{10, 1, retEPERM}, {19, 0x5, retEPERM}, {9, 1, retAllow}, {20, 1, retAllow}, {15, 2, retAllow}, {15, 3, retAllow},
	} {
		if got := run(t, p, call(abiX86_64, getpid, tc.a0, 0, 0, tc.a3)); got != tc.want {
			t.Errorf("arg0 %d arg3 %d: got %s, want %s", tc.a0, tc.a3, action(got), action(tc.want))
		}
	}
}
