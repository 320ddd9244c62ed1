package v2

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// runFilter interprets the instructions deviceFilter emits, so that the
// program's meaning can be checked on every input without a kernel.
func runFilter(t *testing.T, prog []byte, devType, access, major, minor uint32) uint64 {
	t.Helper()
	ctx := []uint32{access<<16 | devType, major, minor}
	var reg [11]uint64
	for pc := 0; pc < len(prog)/bpfInsnSize; pc++ {
		b := prog[pc*bpfInsnSize:]
		code, dst, src := b[0], b[1]&0xf, b[1]>>4
		off := int16(binary.LittleEndian.Uint16(b[2:]))
		imm := int64(int32(binary.LittleEndian.Uint32(b[4:])))
		switch code {
		case bpfLdxMemW:
			if src != r1 || off%4 != 0 || int(off)/4 >= len(ctx) {
				t.Fatalf("pc %d: load outside the context", pc)
			}
			reg[dst] = uint64(ctx[off/4])
		case bpfMovImm:
			reg[dst] = uint64(imm)
		case bpfAndImm:
			reg[dst] &= uint64(imm)
		case bpfRshImm:
			reg[dst] >>= uint64(imm)
		case bpfJa:
			pc += int(off)
		case bpfJeqImm, bpfJneImm:
			if (reg[dst] == uint64(imm)) == (code == bpfJeqImm) {
				pc += int(off)
			}
		case bpfExit:
			return reg[r0]
		default:
			t.Fatalf("pc %d: unexpected opcode %#x", pc, code)
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

// reference is the meaning deviceFilter must have: rules applied in order
// to a list that starts by denying everything, each access bit decided by
// the last rule that matches the device and names the bit.
func reference(rules []resources.Rule, devType byte, access resources.Access, major, minor int64) bool {
	allowed := resources.Access(0)
	for _, r := range rules {
		if r.Type == 'a' {
			allowed = 0
			if r.Allow {
				allowed = resources.AccessAll
			}
			continue
		}
		if r.Type != devType || r.Major != resources.Wildcard && r.Major != major || r.Minor != resources.Wildcard && r.Minor != minor {
			continue
		}
		if r.Allow {
			allowed |= r.Access
		} else {
			allowed &^= r.Access
		}
	}
	return access&^allowed == 0
}

func TestDeviceFilterMeaning(t *testing.T) {
	configs := []string{
		`[]`,
		`[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]`,
		`[{"allow":true},{"allow":false,"type":"c","major":1,"minor":5,"access":"w"}]`,
		`[{"allow":false},{"allow":true,"type":"c","access":"m"},{"allow":true,"type":"b","major":8,"access":"r"},{"allow":false,"type":"b","major":8,"minor":1,"access":"r"}]`,
		`[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},{"allow":true,"type":"c","major":1,"minor":3,"access":"w"}]`,
		`[{"allow":true,"type":"c","major":5,"access":"rwm"},{"allow":false},{"allow":true,"type":"c","major":136,"access":"rw"}]`,
	}
	for _, cfg := range configs {
		var list []specs.LinuxDeviceCgroup
		if err := json.Unmarshal([]byte(cfg), &list); err != nil {
			t.Fatal(err)
		}
		rules, err := resources.ParseRules(list)
		if err != nil {
			t.Fatal(err)
		}
		prog := deviceFilter(append([]resources.Rule(nil), rules...))
		for _, dev := range []struct {
			typ  byte
			code uint32
		}{{'c', devChar}, {'b', devBlock}} {
			for _, major := range []int64{1, 5, 8, 136} {
				for _, minor := range []int64{0, 1, 3, 5} {
					for access := resources.Access(1); access <= resources.AccessAll; access++ {
						want := reference(rules, dev.typ, access, major, minor)
						got := runFilter(t, prog, dev.code, uint32(access), uint32(major), uint32(minor)) == 1
						if got != want {
							t.Errorf("rules %s: %c %d:%d %s: program says %v, want %v", cfg, dev.typ, major, minor, access, got, want)
						}
					}
				}
			}
		}
	}
}

// TestDeviceFilterMeaningRandom compares the program with the reference
// on random rule lists: mixed verdicts, types, wildcards and accesses, so
// that every grouping the compiler does is exercised.
func TestDeviceFilterMeaningRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	numbers := []int64{1, 5, 136, resources.Wildcard}
	for n := 0; n < 3000; n++ {
		rules := make([]resources.Rule, r.IntN(9))
		for i := range rules {
			rules[i] = resources.Rule{
				Allow:  r.IntN(2) == 0,
				Type:   "abcc"[r.IntN(4)],
				Major:  numbers[r.IntN(len(numbers))],
				Minor:  numbers[r.IntN(len(numbers))],
				Access: resources.Access(1 + r.IntN(int(resources.AccessAll))),
			}
		}
		prog := deviceFilter(append([]resources.Rule(nil), rules...))
		for _, dev := range []struct {
			typ  byte
			code uint32
		}{{'c', devChar}, {'b', devBlock}} {
			for _, major := range numbers[:3] {
				for _, minor := range numbers[:3] {
					for access := resources.Access(1); access <= resources.AccessAll; access++ {
						want := reference(rules, dev.typ, access, major, minor)
						got := runFilter(t, prog, dev.code, uint32(access), uint32(major), uint32(minor)) == 1
						if got != want {
							t.Fatalf("rules %v: %c %d:%d %s: program says %v, want %v", rules, dev.typ, major, minor, access, got, want)
						}
					}
				}
			}
		}
	}
}

// defaultRules are the device rules of a container whose config denies
// everything (as engines write it) plus the runtime's defaults.
func defaultRules(t testing.TB) []resources.Rule {
	list := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	add := func(typ string, major, minor int64, access string) {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			d.Major = &major
		}
		if minor >= 0 {
			d.Minor = &minor
		}
		list = append(list, d)
	}
	add("c", -1, -1, "m")
	add("b", -1, -1, "m")
	for _, dev := range [][2]int64{{5, 1}, {5, 2}, {136, -1}, {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}} {
		add("c", dev[0], dev[1], "rwm")
	}
	rules, err := resources.ParseRules(list)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// BenchmarkLoadDeviceFilter is the kernel's time to load (verify and
// compile) the default device program, paid by every create on cgroup v2.
func BenchmarkLoadDeviceFilter(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: loads BPF programs")
	}
	prog := deviceFilter(defaultRules(b))
	b.ReportMetric(float64(len(prog)/bpfInsnSize), "insns")
	for b.Loop() {
		fd, err := loadDeviceProgram(prog)
		if err != nil {
			b.Fatal(err)
		}
		syscall.Close(fd)
	}
}

// TestDeviceFilterInKernel loads programs into the kernel, attaches them to
// a test cgroup in the cgroup2 hierarchy (a hybrid host's too: device
// programs need no controller) and checks what processes started in it
// may open and create.
func TestDeviceFilterInKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads BPF programs and creates cgroups")
	}
	mountPoint := cgroup2Mount(t)
	m := New(mountPoint, fmt.Sprintf("/tincan-devtest-%d", os.Getpid()))
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	nodes := t.TempDir()
	for _, tt := range []struct {
		rules  string
		script string
		ok     bool
	}{
		{`[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]`, "cat /dev/null && echo > /dev/null", true},
		{`[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]`, "head -c1 /dev/zero", false},
		{`[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]`, "mknod " + nodes + "/a c 1 3", false},
		{`[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]`, "mknod " + nodes + "/b c 1 3", true},
		{`[{"allow":true},{"allow":false,"type":"c","major":1,"minor":5,"access":"w"}]`, "head -c1 /dev/zero >/dev/null && echo > /dev/null", true},
		{`[{"allow":true},{"allow":false,"type":"c","major":1,"minor":5,"access":"w"}]`, "echo > /dev/zero", false},
	} {
		var list []specs.LinuxDeviceCgroup
		if err := json.Unmarshal([]byte(tt.rules), &list); err != nil {
			t.Fatal(err)
		}
		// A second Set replaces the first program: only one is attached.
		if err := m.setDevices(list); err != nil {
			t.Fatalf("setDevices(%s): %v", tt.rules, err)
		}
		dir, err := m.openDir()
		if err != nil {
			t.Fatal(err)
		}
		ids, err := attachedDevicePrograms(int(dir.Fd()))
		if err != nil || len(ids) != 1 {
			t.Fatalf("after setDevices the cgroup has programs %v, %v; want exactly one", ids, err)
		}
		cmd := exec.Command("sh", "-c", tt.script)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
		out, err := cmd.CombinedOutput()
		dir.Close()
		if (err == nil) != tt.ok {
			t.Errorf("rules %s: %q: %v (%s); want success %v", tt.rules, tt.script, err, out, tt.ok)
		}
	}
}

// cgroup2Mount finds the cgroup2 hierarchy, skipping the test without one.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hierarchies, err := cgroupfs.ParseHierarchies(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hierarchies {
		if h.Unified {
			return filepath.Clean(h.MountPoint)
		}
	}
	t.Skip("no cgroup2 hierarchy is mounted")
	return ""
}
