package seccomp

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

func uintPtr(v uint) *uint { return &v }

func dockerDefault(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	var c specs.LinuxSeccomp
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func mustCompile(t testing.TB, c *specs.LinuxSeccomp) *Program {
	t.Helper()
	p, _, err := Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// run runs p on one syscall and fails the test if the interpreter does.
func run(t testing.TB, p *Program, d seccompData) uint32 {
	t.Helper()
	ret, _, err := runFilter(p.Filter, d)
	if err != nil {
		t.Fatalf("%v\n%s", err, disassemble(p.Filter))
	}
	return ret
}

func nr(t testing.TB, a abi, name string) uint32 {
	t.Helper()
	n, ok := a.syscallNumber(name)
	if !ok {
		t.Fatalf("no %s syscall %q", a, name)
	}
	return n
}

func call(a abi, nr uint32, args ...uint64) seccompData {
	d := seccompData{nr: nr, arch: a.auditArch()}
	copy(d.args[:], args)
	return d
}

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retEPERM = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

func TestCompileDockerDefault(t *testing.T) {
	p, warnings, err := Compile(dockerDefault(t))
	if err != nil {
		t.Fatal(err)
	}
	// The profile names two socketcall-era names no x86 table has and one
	// syscall newer than the headers the tables come from.
	for _, want := range []string{`"recv"`, `"send"`, `"fchmodat2"`} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning about %s in %q", want, warnings)
		}
	}
	if len(p.Filter) > 400 {
		t.Errorf("filter has %d instructions; the interval search should need fewer than 400", len(p.Filter))
	}
	if worst := worstCasePath(p.Filter); worst > 30 {
		t.Errorf("worst case runs %d instructions; want at most 30", worst)
	}
	if p.Flags != unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW || p.Notify {
		t.Errorf("flags %#x notify %v; want TSYNC|SPEC_ALLOW, no notify", p.Flags, p.Notify)
	}

	const cloneNewUser = unix.CLONE_NEWUSER
	for _, tc := range []struct {
		name string
		d    seccompData
		want uint32
	}{
		{"read", call(abiX86_64, nr(t, abiX86_64, "read")), retAllow},
		{"kexec_load", call(abiX86_64, nr(t, abiX86_64, "kexec_load")), retEPERM},
		{"clone3 gets ENOSYS", call(abiX86_64, nr(t, abiX86_64, "clone3")), unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{"clone for a thread", call(abiX86_64, nr(t, abiX86_64, "clone"), unix.CLONE_VM|unix.CLONE_THREAD), retAllow},
		{"clone of a user namespace", call(abiX86_64, nr(t, abiX86_64, "clone"), cloneNewUser), retEPERM},
		{"personality query", call(abiX86_64, nr(t, abiX86_64, "personality"), 0xffffffff), retAllow},
		{"personality 64-bit -1", call(abiX86_64, nr(t, abiX86_64, "personality"), ^uint64(0)), retEPERM},
		{"personality other", call(abiX86_64, nr(t, abiX86_64, "personality"), 1), retEPERM},
		{"beyond the table", call(abiX86_64, 1000), retEPERM},
		{"i386 chown32", call(abiI386, nr(t, abiI386, "chown32")), retAllow},
		{"i386 socketcall", call(abiI386, nr(t, abiI386, "socketcall")), retAllow},
		{"i386 kexec_load", call(abiI386, nr(t, abiI386, "kexec_load")), retEPERM},
		{"i386 personality 64-bit -1 cut to 32 bits", call(abiI386, nr(t, abiI386, "personality"), ^uint64(0)), retAllow},
		{"i386 clone of a user namespace", call(abiI386, nr(t, abiI386, "clone"), cloneNewUser), retEPERM},
		{"x32 read", call(abiX32, nr(t, abiX32, "read")), retAllow},
		{"x32 readv", call(abiX32, nr(t, abiX32, "readv")), retAllow},
		{"x32 kexec_load", call(abiX32, nr(t, abiX32, "kexec_load")), retEPERM},
		{"x32 number with no x32 syscall", call(abiX32, x32SyscallBit|nr(t, abiX86_64, "readv")), retEPERM},
		{"syscall -1", call(abiX86_64, 0xffffffff), retEPERM},
		{"arm", seccompData{arch: 0x40000028}, retKill},
	} {
		if got := run(t, p, tc.d); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, action(got), action(tc.want))
		}
	}
}

// TestDockerDefaultMatchesReference runs every syscall number of every ABI,
// and those around each ABI's range, through the program and the reference.
func TestDockerDefaultMatchesReference(t *testing.T) {
	c := dockerDefault(t)
	p := mustCompile(t, c)
	var worst int
	for _, ab := range []abi{abiX86_64, abiX32, abiI386} {
		base := uint32(0)
		if ab == abiX32 {
			base = x32SyscallBit
		}
		for n := base; n < base+600; n++ {
			for _, arg := range []uint64{0, 8, 0xffffffff, unix.CLONE_NEWNS, 1 << 40} {
				d := call(ab, n, arg)
				got, executed, err := runFilter(p.Filter, d)
				if err != nil {
					t.Fatal(err)
				}
				worst = max(worst, executed)
				if want := referenceDecision(c, d); got != want {
					t.Fatalf("%s syscall %#x arg %#x: got %s, want %s", ab, n, arg, action(got), action(want))
				}
			}
		}
	}
	if static := worstCasePath(p.Filter); worst > static {
		t.Errorf("a run took %d instructions, more than the longest path %d", worst, static)
	}
}

func TestX32AndX86_64RulesAreSeparate(t *testing.T) {
	c := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"readv"}, Action: specs.ActErrno}},
	}
	p := mustCompile(t, c)
	readv64, readvX32 := nr(t, abiX86_64, "readv"), nr(t, abiX32, "readv")
	for _, tc := range []struct {
		nr   uint32
		want uint32
	}{
		{readv64, retEPERM},
		{readvX32, retEPERM},
		// readv's x86_64 number with the x32 bit is no x32 readv, and the
		// x32 number without the bit is no x86_64 readv.
		{x32SyscallBit | readv64, retAllow},
		{readvX32 &^ x32SyscallBit, retAllow},
	} {
		if got := run(t, p, call(abiX86_64, tc.nr)); got != tc.want {
			t.Errorf("syscall %#x: got %s, want %s", tc.nr, action(got), action(tc.want))
		}
	}

	c.Architectures = []specs.Arch{specs.ArchX86_64}
	p = mustCompile(t, c)
	if got := run(t, p, call(abiX86_64, readvX32)); got != retKill {
		t.Errorf("x32 call without SCMP_ARCH_X32: got %s, want the bad-arch kill", action(got))
	}
	if got := run(t, p, call(abiI386, 3)); got != retKill {
		t.Errorf("i386 call without SCMP_ARCH_X86: got %s, want the bad-arch kill", action(got))
	}
	if got := run(t, p, call(abiX86_64, readv64)); got != retEPERM {
		t.Errorf("x86_64 readv: got %s, want EPERM", action(got))
	}
}

func TestNativeArchAlwaysIncluded(t *testing.T) {
	c := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchAARCH64},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActErrno}},
	}
	p := mustCompile(t, c)
	if got := run(t, p, call(abiX86_64, nr(t, abiX86_64, "getpid"))); got != retEPERM {
		t.Errorf("x86_64 getpid: got %s, want EPERM", action(got))
	}
	if got := run(t, p, call(abiI386, nr(t, abiI386, "getpid"))); got != retEPERM {
		t.Errorf("i386 getpid: got %s, want EPERM", action(got))
	}
	if got := run(t, p, seccompData{arch: unix.AUDIT_ARCH_AARCH64, nr: 172}); got != retKill {
		t.Errorf("aarch64 call: got %s; AARCH64 has no section, so the bad-arch kill", action(got))
	}
}

// TestLongJumps makes the search tree and the return blocks far apart with
// a distinct action for each of hundreds of syscalls, so that trampolines
// are needed, and checks every number against the reference.
func TestLongJumps(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32}}
	for i, name := range namesOn(abiX86_64) {
		c.Syscalls = append(c.Syscalls, specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(100 + i))})
	}
	p := mustCompile(t, c)
	trampolines := 0
	for _, in := range p.Filter {
		if in.Code == opJump {
			trampolines++
		}
	}
	if trampolines == 0 {
		t.Fatalf("no trampolines in a %d-instruction program", len(p.Filter))
	}
	for _, ab := range []abi{abiX86_64, abiX32, abiI386} {
		base := uint32(0)
		if ab == abiX32 {
			base = x32SyscallBit
		}
		for n := base; n < base+600; n++ {
			d := call(ab, n)
			if got, want := run(t, p, d), referenceDecision(c, d); got != want {
				t.Fatalf("%s syscall %d: got %s, want %s", ab, n, action(got), action(want))
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for i := range 1000 {
		c.Syscalls = append(c.Syscalls, specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: uint64(i) << 32}}})
	}
	_, _, err := Compile(c)
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "more than the kernel's limit of 4096") {
		t.Fatalf("got %v, want an invalid-argument error about the 4096 limit", err)
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	a, b := mustCompile(t, dockerDefault(t)), mustCompile(t, dockerDefault(t))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two compilations of one config differ")
	}
}
