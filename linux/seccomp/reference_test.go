package seccomp

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// referenceDecision is the filter semantics of the package documentation
// written as plainly as possible, with none of the compiler's machinery: the
// fuzz test holds every compiled program to it. It expects a config that
// Compile accepted.
func referenceDecision(c *specs.LinuxSeccomp, d seccompData) uint32 {
	listed := func(a specs.Arch) bool { return slices.Contains(c.Architectures, a) }
	var ab abi
	switch {
	case d.arch == unix.AUDIT_ARCH_X86_64 && d.nr >= 0x40000000:
		if !listed(specs.ArchX32) {
			return unix.SECCOMP_RET_KILL_PROCESS
		}
		ab = abiX32
	case d.arch == unix.AUDIT_ARCH_X86_64:
		ab = abiX86_64
	case d.arch == unix.AUDIT_ARCH_I386 && listed(specs.ArchX86):
		ab = abiI386
	default:
		return unix.SECCOMP_RET_KILL_PROCESS
	}

	defaultRet := referenceAction(c.DefaultAction, c.DefaultErrnoRet)
	for _, s := range c.Syscalls {
		ret := referenceAction(s.Action, s.ErrnoRet)
		if ret == defaultRet {
			continue
		}
		names := false
		for _, e := range syscallTable {
			if e.nr[ab] == d.nr && slices.Contains(s.Names, e.name) {
				names = true
			}
		}
		if !names {
			continue
		}
		holds := true
		for _, arg := range s.Args {
			holds = holds && referenceCondition(arg, d.args[arg.Index], ab == abiI386)
		}
		if holds {
			return ret
		}
	}
	return defaultRet
}

func referenceAction(name specs.LinuxSeccompAction, errnoRet *uint) uint32 {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		data = uint32(*errnoRet)
	}
	switch name {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG
	case specs.ActNotify:
		return unix.SECCOMP_RET_USER_NOTIF
	}
	return unix.SECCOMP_RET_ALLOW
}

func referenceCondition(c specs.LinuxSeccompArg, arg uint64, args32 bool) bool {
	value, valueTwo := c.Value, c.ValueTwo
	if args32 {
		arg, value, valueTwo = uint64(uint32(arg)), uint64(uint32(value)), uint64(uint32(valueTwo))
	}
	switch c.Op {
	case specs.OpNotEqual:
		return arg != value
	case specs.OpLessThan:
		return arg < value
	case specs.OpLessEqual:
		return arg <= value
	case specs.OpEqualTo:
		return arg == value
	case specs.OpGreaterEqual:
		return arg >= value
	case specs.OpGreaterThan:
		return arg > value
	case specs.OpMaskedEqual:
		return arg&value == valueTwo
	}
	panic("reference: unknown operator " + string(c.Op))
}
