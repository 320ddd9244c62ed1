package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// action is a filter return value: a SECCOMP_RET_* action in the high 16
// bits and its data (errno, trace message) in the low 16.
type action uint32

const (
	// retDataMask keeps the 16 data bits of a return value.
	retDataMask = unix.SECCOMP_RET_DATA
	// retActionMask keeps the action bits, KILL_PROCESS's top bit included.
	retActionMask = unix.SECCOMP_RET_ACTION_FULL
)

func (a action) kind() uint32 { return uint32(a) & retActionMask }

func (a action) String() string {
	data := uint32(a) & retDataMask
	switch a.kind() {
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "SCMP_ACT_KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "SCMP_ACT_KILL_THREAD"
	case unix.SECCOMP_RET_TRAP:
		return "SCMP_ACT_TRAP"
	case unix.SECCOMP_RET_ERRNO:
		return fmt.Sprintf("SCMP_ACT_ERRNO(%d)", data)
	case unix.SECCOMP_RET_USER_NOTIF:
		return "SCMP_ACT_NOTIFY"
	case unix.SECCOMP_RET_TRACE:
		return fmt.Sprintf("SCMP_ACT_TRACE(%d)", data)
	case unix.SECCOMP_RET_LOG:
		return "SCMP_ACT_LOG"
	case unix.SECCOMP_RET_ALLOW:
		return "SCMP_ACT_ALLOW"
	}
	return fmt.Sprintf("seccomp action %#x", uint32(a))
}

// The names are arrays, not slices or maps, so that they are static data.
var actionNames = [...]specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
	specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

var operatorNames = [...]specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

// flagNames are the filter flags a config may name, with their bits.
var flagNames = [...]struct {
	name specs.LinuxSeccompFlag
	bit  uint
}{
	{"SECCOMP_FILTER_FLAG_TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC},
	{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
	{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// KnownActions returns the action names Compile accepts.
func KnownActions() []string { return toStrings(actionNames[:]) }

// KnownOperators returns the argument operator names Compile accepts.
func KnownOperators() []string { return toStrings(operatorNames[:]) }

// KnownArchitectures returns the architecture names Compile accepts. Only
// the x86 family generates code; see the package documentation.
func KnownArchitectures() []string { return toStrings(archNames[:]) }

// KnownFlags returns the filter flag names Compile accepts.
func KnownFlags() []string {
	out := make([]string, len(flagNames))
	for i, f := range flagNames {
		out[i] = string(f.name)
	}
	return out
}

func toStrings[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// parseAction turns an action name and its optional errno into a return
// value. actionField and errnoField name the two config fields for errors,
// such as "linux.seccomp.syscalls[3].action".
func parseAction(name specs.LinuxSeccompAction, errnoRet *uint, actionField, errnoField string) (action, error) {
	var kind uint32
	takesData := false
	switch name {
	case specs.ActKill, specs.ActKillThread:
		kind = unix.SECCOMP_RET_KILL_THREAD
	case specs.ActKillProcess:
		kind = unix.SECCOMP_RET_KILL_PROCESS
	case specs.ActTrap:
		kind = unix.SECCOMP_RET_TRAP
	case specs.ActErrno:
		kind, takesData = unix.SECCOMP_RET_ERRNO, true
	case specs.ActTrace:
		kind, takesData = unix.SECCOMP_RET_TRACE, true
	case specs.ActAllow:
		kind = unix.SECCOMP_RET_ALLOW
	case specs.ActLog:
		kind = unix.SECCOMP_RET_LOG
	case specs.ActNotify:
		kind = unix.SECCOMP_RET_USER_NOTIF
	case "":
		return 0, errdefs.InvalidArgument("%s: missing action", actionField)
	default:
		return 0, errdefs.InvalidArgument("%s: unknown action %q", actionField, name)
	}
	if !takesData {
		if errnoRet != nil {
			return 0, errdefs.InvalidArgument("%s: %s takes no errno", errnoField, name)
		}
		return action(kind), nil
	}
	data := uint(unix.EPERM) // the runtime-spec's default
	if errnoRet != nil {
		data = *errnoRet
	}
	if data > retDataMask {
		return 0, errdefs.InvalidArgument("%s: %d does not fit the 16 bits seccomp returns", errnoField, data)
	}
	return action(kind | uint32(data)), nil
}

// parseFlag returns the SECCOMP_FILTER_FLAG_* bit of a config flag name.
func parseFlag(name specs.LinuxSeccompFlag, field string) (uint, error) {
	for _, f := range flagNames {
		if f.name == name {
			return f.bit, nil
		}
	}
	return 0, errdefs.InvalidArgument("%s: unknown flag %q", field, name)
}

// flagName returns the name of one SECCOMP_FILTER_FLAG_* bit, for errors.
func flagName(bit uint) string {
	switch bit {
	case unix.SECCOMP_FILTER_FLAG_NEW_LISTENER:
		return "SECCOMP_FILTER_FLAG_NEW_LISTENER"
	case unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
		return "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"
	}
	for _, f := range flagNames {
		if f.bit == bit {
			return string(f.name)
		}
	}
	return fmt.Sprintf("seccomp filter flag %#x", bit)
}
