package seccomp

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		flags    []specs.LinuxSeccompFlag
		notify   bool
		want     uint
		warnings int
	}{
		{"absent: SPEC_ALLOW as runc and crun", nil, false, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0},
		{"empty", []specs.LinuxSeccompFlag{}, false, unix.SECCOMP_FILTER_FLAG_TSYNC, 0},
		{"log", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, false, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG, 0},
		{"tsync named", []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}, false, unix.SECCOMP_FILTER_FLAG_TSYNC, 0},
		{"wait killable without notify is dropped", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, false, unix.SECCOMP_FILTER_FLAG_TSYNC, 1},
		{"notify", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, true,
			unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 0},
	} {
		c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.flags, ListenerPath: "/run/agent.sock",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActErrno}}}
		if tc.notify {
			c.Syscalls[0].Action = specs.ActNotify
		}
		p, warnings, err := Compile(c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.Flags != tc.want || p.Notify != tc.notify || len(warnings) != tc.warnings {
			t.Errorf("%s: flags %#x notify %v warnings %q; want %#x %v %d", tc.name, p.Flags, p.Notify, warnings, tc.want, tc.notify, tc.warnings)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	valid := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActAllow},
				{Names: []string{"write"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 1}}},
			}}
	}
	for _, tc := range []struct {
		edit func(*specs.LinuxSeccomp)
		want string
	}{
		{func(c *specs.LinuxSeccomp) { c.DefaultAction = "" }, "linux.seccomp.defaultAction: missing action"},
		{func(c *specs.LinuxSeccomp) { c.DefaultAction = "SCMP_ACT_FOO" }, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`},
		{func(c *specs.LinuxSeccomp) { c.DefaultAction = specs.ActAllow; c.DefaultErrnoRet = uintPtr(1) }, "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno"},
		{func(c *specs.LinuxSeccomp) { c.DefaultErrnoRet = uintPtr(70000) }, "linux.seccomp.defaultErrnoRet: 70000 does not fit the 16 bits seccomp returns"},
		{func(c *specs.LinuxSeccomp) { c.DefaultAction = specs.ActNotify; c.ListenerPath = "/a" }, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
		{func(c *specs.LinuxSeccomp) { c.Architectures = []specs.Arch{specs.ArchX86, "SCMP_ARCH_VAX"} }, `linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_VAX"`},
		{func(c *specs.LinuxSeccomp) { c.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NEW_LISTENER"} }, `linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"`},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Action = "SCMP_ACT_FOO" }, `linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"`},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].ErrnoRet = uintPtr(1) }, "linux.seccomp.syscalls[1].errnoRet: SCMP_ACT_ALLOW takes no errno"},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Names = nil }, "linux.seccomp.syscalls[1].names: no syscall names"},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Names = []string{"read", ""} }, "linux.seccomp.syscalls[1].names[1]: empty syscall name"},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Args[0].Op = "SCMP_CMP_XOR" }, `linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_XOR"`},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Args[0].Op = "" }, "linux.seccomp.syscalls[1].args[0].op: missing operator"},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Args[0].Index = 6 }, "linux.seccomp.syscalls[1].args[0].index: 6 is not an argument index (0 to 5)"},
		{func(c *specs.LinuxSeccomp) { c.Syscalls[1].Action = specs.ActNotify }, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
		{func(c *specs.LinuxSeccomp) { c.ListenerMetadata = "x" }, "linux.seccomp.listenerMetadata: set without listenerPath"},
		// A dropped rule (its action is the default) is still checked.
		{func(c *specs.LinuxSeccomp) {
			c.Syscalls[0].Action = specs.ActErrno
			c.Syscalls[0].Args = []specs.LinuxSeccompArg{{Op: "bad"}}
		},
			`linux.seccomp.syscalls[0].args[0].op: unknown operator "bad"`},
	} {
		c := valid()
		tc.edit(c)
		_, _, err := Compile(c)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errdefs.IsInvalidArgument(err) {
			t.Errorf("got %v, want an invalid-argument error starting %q", err, tc.want)
		}
	}
	if _, _, err := Compile(nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Compile(nil): got %v, want invalid argument", err)
	}
	if _, _, err := Compile(valid()); err != nil {
		t.Errorf("the valid config: %v", err)
	}
}

func TestKnownNames(t *testing.T) {
	for _, tc := range []struct {
		got  []string
		want []string
	}{
		{KnownActions(), []string{"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}},
		{KnownOperators(), []string{"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}},
		{KnownFlags(), []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	arches := KnownArchitectures()
	if len(arches) != 23 || !slices.Contains(arches, "SCMP_ARCH_X32") || !slices.Contains(arches, "SCMP_ARCH_SHEB") {
		t.Errorf("KnownArchitectures: %q", arches)
	}
	// Every known name must compile.
	for _, a := range arches {
		c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}}
		if _, _, err := Compile(c); err != nil {
			t.Errorf("architecture %s: %v", a, err)
		}
	}
	for _, a := range KnownActions() {
		c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.LinuxSeccompAction(a)}}}
		if _, _, err := Compile(c); err != nil {
			t.Errorf("action %s: %v", a, err)
		}
	}
}
