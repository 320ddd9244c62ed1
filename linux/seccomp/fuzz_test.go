package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The fuzz tests hold Compile to two promises: it never panics, and every
// program it returns decides every syscall as referenceDecision does.

// fuzzInput hands out the fuzzer's bytes as choices.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	v := in.b[0]
	in.b = in.b[1:]
	return v
}

func (in *fuzzInput) pick(n int) int { return int(in.byte()) % n }

// value is mostly a boundary value, sometimes eight raw bytes.
func (in *fuzzInput) value() uint64 {
	interesting := []uint64{0, 1, 2, 5, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 + 5, 0xffffffff_00000000, 1 << 63, ^uint64(0)}
	i := in.pick(len(interesting) + 1)
	if i < len(interesting) {
		return interesting[i]
	}
	var raw [8]byte
	for j := range raw {
		raw[j] = in.byte()
	}
	return binary.LittleEndian.Uint64(raw[:])
}

// A small vocabulary makes rules collide: names on one ABI only, on all,
// on none; every action and operator, and a few bad ones.
var (
	fuzzNames   = []string{"getpid", "read", "readv", "clone", "chown32", "socketcall", "arch_prctl", "epoll_ctl_old", "no_such_syscall"}
	fuzzActions = []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify, "SCMP_ACT_BAD"}
	fuzzOps = []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual, specs.OpMaskedEqual, "SCMP_CMP_BAD"}
	fuzzArches = []specs.Arch{specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM}
)

func (in *fuzzInput) errno() *uint {
	if in.pick(3) == 0 {
		return nil
	}
	v := uint(in.byte())
	return &v
}

func (in *fuzzInput) config() *specs.LinuxSeccomp {
	c := &specs.LinuxSeccomp{ListenerPath: "/agent.sock"}
	c.DefaultAction = fuzzActions[in.pick(len(fuzzActions))]
	if c.DefaultAction == specs.ActErrno || c.DefaultAction == specs.ActTrace || in.pick(8) == 0 {
		c.DefaultErrnoRet = in.errno()
	}
	for _, a := range fuzzArches {
		if in.pick(2) == 0 {
			c.Architectures = append(c.Architectures, a)
		}
	}
	for range in.pick(6) {
		s := specs.LinuxSyscall{Action: fuzzActions[in.pick(len(fuzzActions))]}
		for range 1 + in.pick(3) {
			s.Names = append(s.Names, fuzzNames[in.pick(len(fuzzNames))])
		}
		if s.Action == specs.ActErrno || s.Action == specs.ActTrace || in.pick(8) == 0 {
			s.ErrnoRet = in.errno()
		}
		for range in.pick(4) {
			s.Args = append(s.Args, specs.LinuxSeccompArg{
				Index: uint(in.pick(7)), Op: fuzzOps[in.pick(len(fuzzOps))], Value: in.value(), ValueTwo: in.value(),
			})
		}
		c.Syscalls = append(c.Syscalls, s)
	}
	return c
}

// probes returns syscalls to try: every vocabulary name on every ABI and
// through a foreign arch, with arguments at and around the rules' values.
func probes(c *specs.LinuxSeccomp, in *fuzzInput) []seccompData {
	var argValues []uint64
	for _, s := range c.Syscalls {
		for _, a := range s.Args {
			argValues = append(argValues, a.Value, a.Value-1, a.Value+1, a.ValueTwo, a.Value&a.ValueTwo)
		}
	}
	argValues = append(argValues, in.value(), in.value())
	var out []seccompData
	for _, ab := range []abi{abiX86_64, abiX32, abiI386} {
		for _, name := range fuzzNames {
			n, ok := ab.syscallNumber(name)
			if !ok {
				continue
			}
			d := call(ab, n)
			out = append(out, d)
			for i, v := range argValues {
				d.args[i%maxArgs] = v
				out = append(out, d)
			}
		}
	}
	return append(out,
		seccompData{arch: unix.AUDIT_ARCH_ARM, nr: 20},
		call(abiX86_64, uint32(in.value())),
		call(abiI386, uint32(in.value())))
}

func checkAgainstReference(t *testing.T, c *specs.LinuxSeccomp, in *fuzzInput) {
	p, _, err := Compile(c)
	if err != nil {
		return
	}
	if len(p.Filter) > maxInstructions {
		t.Fatalf("%d instructions", len(p.Filter))
	}
	for _, d := range probes(c, in) {
		got, _, err := runFilter(p.Filter, d)
		if err != nil {
			t.Fatalf("%v\n%s", err, disassemble(p.Filter))
		}
		if want := referenceDecision(c, d); got != want {
			b, _ := json.Marshal(c)
			t.Fatalf("arch %#x nr %#x args %#x: program says %s, reference %s\nconfig %s\n%s",
				d.arch, d.nr, d.args, action(got), action(want), b, disassemble(p.Filter))
		}
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{6, 1, 1, 1, 0, 3, 4, 0, 1, 2, 1, 3, 0, 5, 7})
	f.Add([]byte{4, 2, 9, 0, 1, 0, 5, 2, 2, 4, 1, 0, 3, 3, 6, 1, 2, 8, 0, 6, 3, 1})
	f.Add([]byte("fuzzing the seccomp compiler with some text as bytes"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := &fuzzInput{b: b}
		checkAgainstReference(t, in.config(), in)
	})
}

func FuzzCompileJSON(f *testing.F) {
	docker, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(docker, []byte{1, 2, 3})
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["getcwd","chmod"],"action":"SCMP_ACT_ERRNO"}]}`), []byte{})
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967296,"op":"SCMP_CMP_GE"},{"index":0,"value":3,"valueTwo":1,"op":"SCMP_CMP_MASKED_EQ"}]}]}`), []byte{9})
	f.Fuzz(func(t *testing.T, config, probeBytes []byte) {
		var c specs.LinuxSeccomp
		if json.Unmarshal(config, &c) != nil {
			return
		}
		checkAgainstReference(t, &c, &fuzzInput{b: probeBytes})
	})
}
