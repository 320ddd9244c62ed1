package seccomp

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// x32SyscallBit is __X32_SYSCALL_BIT: x32 calls arrive under
// AUDIT_ARCH_X86_64 with this bit set in the syscall number.
const x32SyscallBit = 0x40000000

// abi is one x86 system call convention a filter can have a section for.
type abi int

const (
	abiX86_64 abi = iota
	abiX32
	abiI386
	abiCount
)

func (a abi) String() string {
	switch a {
	case abiX86_64:
		return "x86_64"
	case abiX32:
		return "x32"
	case abiI386:
		return "i386"
	}
	return "unknown abi"
}

// auditArch is the seccomp_data.arch value the kernel reports for the ABI.
func (a abi) auditArch() uint32 {
	if a == abiI386 {
		return unix.AUDIT_ARCH_I386
	}
	return unix.AUDIT_ARCH_X86_64
}

// has32BitArgs reports whether the ABI's syscall arguments are 32 bits wide,
// so that only the low word of seccomp_data.args means anything.
func (a abi) has32BitArgs() bool { return a == abiI386 }

// syscallNumber resolves a syscall name on the ABI.
func (a abi) syscallNumber(name string) (uint32, bool) {
	e, ok := lookupSyscall(name)
	if !ok || e.nr[a] == noSyscall {
		return 0, false
	}
	return e.nr[a], true
}

// syscallEntry is one row of the generated table.
type syscallEntry struct {
	name string
	// nr holds the syscall's number on each ABI, noSyscall where the ABI
	// lacks it.
	nr [abiCount]uint32
}

// noSyscall marks an ABI without the syscall; no ABI uses the number.
const noSyscall = ^uint32(0)

// lookupSyscall binary-searches syscallTable, sorted by name.
func lookupSyscall(name string) (*syscallEntry, bool) {
	lo, hi := 0, len(syscallTable)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if syscallTable[mid].name < name {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(syscallTable) && syscallTable[lo].name == name {
		return &syscallTable[lo], true
	}
	return nil, false
}

// archNames lists every architecture the runtime-spec names (libseccomp
// v2.6.0), in its order.
var archNames = [...]specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM,
	specs.ArchAARCH64, specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32,
	specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC,
	specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X,
	specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64,
	specs.ArchLOONGARCH64, specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

// abiSet says which ABIs get a section, indexed by abi.
type abiSet [abiCount]bool

// parseArchitectures returns the ABIs a filter covers: x86_64 always, plus
// the x86 ABIs the config lists. Names of other architectures are accepted
// and ignored (see the package documentation).
func parseArchitectures(names []specs.Arch) (abiSet, error) {
	var set abiSet
	set[abiX86_64] = true
	for i, name := range names {
		switch name {
		case specs.ArchX86_64:
		case specs.ArchX32:
			set[abiX32] = true
		case specs.ArchX86:
			set[abiI386] = true
		default:
			if !slices.Contains(archNames[:], name) {
				return set, errdefs.InvalidArgument("linux.seccomp.architectures[%d]: unknown architecture %q", i, name)
			}
		}
	}
	return set, nil
}
