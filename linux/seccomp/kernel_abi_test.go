package seccomp

import (
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/seccomp/internal/int80"
)

// i386Call makes syscall name through int $0x80 in the child.
func i386Call(t testing.TB, name string, args ...uint64) childCall {
	c := childCall{Nr: nr(t, abiI386, name), I386: true}
	copy(c.Args[:], args)
	return c
}

// x32Call makes the x32 syscall name: a 64-bit process can, and seccomp
// sees it before the kernel finds out whether it has the x32 ABI at all.
func x32Call(t testing.TB, name string, args ...uint64) childCall {
	c := childCall{Nr: nr(t, abiX32, name)}
	copy(c.Args[:], args)
	return c
}

// requireInt80 skips the test where int $0x80 does not work: a child tries
// it, since without IA32 emulation the gate kills the process.
func requireInt80(t *testing.T) {
	t.Helper()
	if !int80.Supported {
		t.Skip("no int $0x80 on this architecture")
	}
	o := runChild(t, childPlan{ProbeInt80: true, NoNewPrivs: true,
		Program: encode(t, mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}))})
	if !o.has("probe-ok") {
		t.Skipf("int $0x80 does not work here (no IA32 emulation?): %v %q", o.state, o.lines)
	}
}

func TestKernelI386(t *testing.T) {
	requireInt80(t)
	c := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			// Written as a 64-bit -1; i386 compares it as a 32-bit one.
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker),
				Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: ^uint64(0)}}},
			{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 1)},
			// socketcall exists on i386 only.
			{Names: []string{"socketcall"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 2)},
			{Names: []string{"getsid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 3),
				Args: []specs.LinuxSeccompArg{{Index: 5, Op: specs.OpMaskedEqual, Value: 0xff00, ValueTwo: 0x1200}}},
		},
	}
	runAndCompare(t, c, []childCall{
		i386Call(t, "getpgid", 0xffffffff),
		i386Call(t, "getpgid", 5),
		i386Call(t, "getppid"),
		i386Call(t, "socketcall"),
		i386Call(t, "getsid", 0, 0, 0, 0, 0, 0x12ab),
		i386Call(t, "getsid", 0, 0, 0, 0, 0, 0x13ab),
		// The same rule on x86_64 compares all 64 bits.
		x86Call(t, "getpgid", 0xffffffff),
		x86Call(t, "getpgid", ^uint64(0)),
		x86Call(t, "getppid"),
	})
}

func TestKernelI386NotListedIsKilled(t *testing.T) {
	requireInt80(t)
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), Calls: []childCall{
		x86Call(t, "getppid"), i386Call(t, "getppid"),
	}})
	ws, _ := o.state.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS || len(o.results) != 1 {
		t.Fatalf("child ended with %v after %d results, want killed by SIGSYS at the i386 call", o.state, len(o.results))
	}
}

func TestKernelX32(t *testing.T) {
	c := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker)},
			// readv has its own x32 number, far from its x86_64 one.
			{Names: []string{"readv"}, Action: specs.ActErrno, ErrnoRet: uintPtr(firstMarker + 1)},
		},
	}
	readv64 := x86Call(t, "readv", ^uint64(0))
	readv64AsX32 := readv64
	readv64AsX32.Nr |= x32SyscallBit
	runAndCompare(t, c, []childCall{
		x32Call(t, "getpgid"),
		x32Call(t, "getppid"),
		x32Call(t, "readv", ^uint64(0)),
		readv64,
		readv64AsX32,
		x86Call(t, "getpgid"),
	})
}

func TestKernelX32NotListedIsKilled(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), Calls: []childCall{
		x86Call(t, "getppid"), x32Call(t, "getppid"),
	}})
	ws, _ := o.state.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS || len(o.results) != 1 {
		t.Fatalf("child ended with %v after %d results, want killed by SIGSYS at the x32 call", o.state, len(o.results))
	}
}
