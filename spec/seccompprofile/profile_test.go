package seccompprofile

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/seccomp"
)

// allowed reports whether s has a rule allowing name, and the conditions
// of the first such rule.
func allowed(s *specs.LinuxSeccomp, name string) (bool, []specs.LinuxSeccompArg) {
	for _, r := range s.Syscalls {
		if r.Action != specs.ActAllow {
			continue
		}
		for _, n := range r.Names {
			if n == name {
				return true, r.Args
			}
		}
	}
	return false, nil
}

func ruleFor(s *specs.LinuxSeccomp, name string, action specs.LinuxSeccompAction) *specs.LinuxSyscall {
	for i, r := range s.Syscalls {
		if r.Action != action {
			continue
		}
		for _, n := range r.Names {
			if n == name {
				return &s.Syscalls[i]
			}
		}
	}
	return nil
}

func TestDefaultParsesAndCompiles(t *testing.T) {
	p, err := Parse(defaultJSON)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Fatalf("default action %s errno %v, want SCMP_ACT_ERRNO with EPERM", p.DefaultAction, p.DefaultErrnoRet)
	}
	for _, caps := range [][]string{nil, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT"}} {
		s := ForCaps(caps, "amd64")
		prog, warnings, err := seccomp.Compile(s)
		if err != nil {
			t.Fatalf("compile for %v: %v", caps, err)
		}
		// Names newer than linux/seccomp's syscall table are skipped with a
		// warning; nothing else may warn.
		for _, w := range warnings {
			if !strings.Contains(w, "unknown syscall") {
				t.Errorf("compile for %v: unexpected warning %q", caps, w)
			}
		}
		t.Logf("caps %v: %d rules, %d BPF instructions, %d unknown names", caps, len(s.Syscalls), len(prog.Filter), len(warnings))
	}
}

func TestForCapsFollowsCapabilities(t *testing.T) {
	none := ForCaps(nil, "amd64")
	admin := ForCaps([]string{"CAP_SYS_ADMIN"}, "amd64")
	for _, name := range []string{"mount", "umount2", "unshare", "setns", "sethostname", "bpf", "open_tree"} {
		if ok, _ := allowed(none, name); ok {
			t.Errorf("%s allowed without CAP_SYS_ADMIN", name)
		}
		if ok, _ := allowed(admin, name); !ok {
			t.Errorf("%s not allowed with CAP_SYS_ADMIN", name)
		}
	}
	// Denied whatever the capabilities.
	for _, name := range []string{"keyctl", "add_key", "request_key", "kexec_load", "userfaultfd", "pivot_root", "swapon", "move_pages"} {
		if ok, _ := allowed(admin, name); ok {
			t.Errorf("%s allowed", name)
		}
	}
	// clone: namespace flags masked out without CAP_SYS_ADMIN, free with it.
	ok, args := allowed(none, "clone")
	if !ok || len(args) != 1 || args[0].Op != specs.OpMaskedEqual || args[0].Value != 0x7e020000 || args[0].ValueTwo != 0 {
		t.Errorf("clone without CAP_SYS_ADMIN: allowed %v with %+v, want (flags & 0x7e020000) == 0", ok, args)
	}
	if ok, args := allowed(admin, "clone"); !ok || len(args) != 0 {
		t.Errorf("clone with CAP_SYS_ADMIN: allowed %v with %+v, want unconditional", ok, args)
	}
	if r := ruleFor(none, "clone3", specs.ActErrno); r == nil || r.ErrnoRet == nil || *r.ErrnoRet != 38 {
		t.Errorf("clone3 without CAP_SYS_ADMIN: %+v, want ERRNO ENOSYS", r)
	}
	if r := ruleFor(admin, "clone3", specs.ActErrno); r != nil {
		t.Errorf("clone3 with CAP_SYS_ADMIN still fails: %+v", r)
	}
	// Spellings of capability names.
	for _, c := range []string{"CAP_SYS_CHROOT", "SYS_CHROOT", "cap_sys_chroot", "sys_chroot"} {
		if ok, _ := allowed(ForCaps([]string{c}, "amd64"), "chroot"); !ok {
			t.Errorf("chroot not allowed with %q", c)
		}
	}
	if ok, _ := allowed(none, "chroot"); ok {
		t.Error("chroot allowed without CAP_SYS_CHROOT")
	}
	if ok, _ := allowed(ForCaps([]string{"CAP_SYS_PTRACE"}, "amd64"), "kcmp"); !ok {
		t.Error("kcmp not allowed with CAP_SYS_PTRACE")
	}
}

func TestForCapsArchitectures(t *testing.T) {
	amd64 := ForCaps(nil, "amd64")
	if got := amd64.Architectures; len(got) != 3 || got[0] != specs.ArchX86_64 || got[1] != specs.ArchX86 || got[2] != specs.ArchX32 {
		t.Errorf("amd64 architectures %v, want x86_64, x86, x32", got)
	}
	arm64 := ForCaps(nil, "arm64")
	if got := arm64.Architectures; len(got) != 2 || got[0] != specs.ArchAARCH64 || got[1] != specs.ArchARM {
		t.Errorf("arm64 architectures %v, want aarch64, arm", got)
	}
	for _, c := range []struct {
		arch, name string
		want       bool
	}{
		{"amd64", "arch_prctl", true}, {"amd64", "modify_ldt", true}, {"amd64", "set_tls", false},
		{"arm64", "arch_prctl", false}, {"arm64", "set_tls", true}, {"386", "modify_ldt", true},
		{"riscv64", "riscv_flush_icache", true}, {"s390x", "s390_runtime_instr", true},
	} {
		if ok, _ := allowed(ForCaps(nil, c.arch), c.name); ok != c.want {
			t.Errorf("%s on %s: allowed %v, want %v", c.name, c.arch, ok, c.want)
		}
	}
	// s390 passes clone's flags second.
	_, args := allowed(ForCaps(nil, "s390x"), "clone")
	if len(args) != 1 || args[0].Index != 1 {
		t.Errorf("clone on s390x: %+v, want the condition on argument 1", args)
	}
	if ForCaps(nil, "sparc64") != nil {
		t.Error("an architecture without a seccomp name resolved")
	}
}

func TestResolveMinKernel(t *testing.T) {
	p := DefaultProfile()
	for _, c := range []struct {
		kernel string
		want   bool
	}{{"4.7", false}, {"4.8", true}, {"4.19.0-25-amd64", true}, {"3.10", false}, {"6.1", true}} {
		s, err := p.Resolve(Target{Arch: "amd64", Kernel: c.kernel})
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := allowed(s, "ptrace"); ok != c.want {
			t.Errorf("ptrace on kernel %s: allowed %v, want %v", c.kernel, ok, c.want)
		}
	}
	if _, err := p.Resolve(Target{Arch: "amd64", Kernel: "six"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("kernel \"six\": %v, want an invalid argument", err)
	}
}

func TestSocketFamilies(t *testing.T) {
	s := Default()
	// Each allowed family has its own rule; walk them as the filter does.
	allows := func(family uint64) bool {
		for _, r := range s.Syscalls {
			if r.Action != specs.ActAllow || len(r.Names) != 1 || r.Names[0] != "socket" {
				continue
			}
			a := r.Args[0]
			if (a.Op == specs.OpLessThan && family < a.Value) || (a.Op == specs.OpEqualTo && family == a.Value) {
				return true
			}
		}
		return false
	}
	for fam, want := range map[uint64]bool{1: true, 2: true, 10: true, 16: true, 17: true, 12: false, 38: false, 40: false, 39: true, 45: true, 46: false, 1000: false} {
		if got := allows(fam); got != want {
			t.Errorf("socket family %d allowed %v, want %v", fam, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{`:                "seccomp profile:",
		`{"syscalls": []}`: "defaultAction: missing",
		`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "x"}}]}`: "syscalls[0].includes.minKernel",
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !errdefs.IsInvalidArgument(err) {
			t.Errorf("Parse(%s) = %v, want an invalid argument containing %q", in, err, want)
		}
	}
}

// A plain runtime-spec object is a profile without conditions.
func TestPlainRuntimeSpecProfile(t *testing.T) {
	p, err := Parse([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Resolve(Target{Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Architectures) != 1 || s.Architectures[0] != specs.ArchX86_64 || len(s.Syscalls) != 1 {
		t.Fatalf("resolved to %+v", s)
	}
}

func TestDefaultReturnsFreshCopies(t *testing.T) {
	a := Default()
	a.Syscalls[0].Names[0] = "changed"
	*a.DefaultErrnoRet = 99
	a.Architectures[0] = "changed"
	if b := Default(); b.Syscalls[0].Names[0] == "changed" || *b.DefaultErrnoRet != 1 || b.Architectures[0] != specs.ArchX86_64 {
		t.Fatal("changing one Default() result changed the next")
	}
}
