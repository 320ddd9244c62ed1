package seccomp

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// optionalFlags are the flags Load drops when the kernel lacks them:
// neither changes what the filter allows. Without LOG (Linux 4.14) the
// kernel does not log the actions it takes; without SPEC_ALLOW (4.17) it
// keeps the speculative store bypass mitigation, the safe side.
const optionalFlags = unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW

// Load installs p for the calling thread and, through
// SECCOMP_FILTER_FLAG_TSYNC, every other thread of the process. It returns
// the SCMP_ACT_NOTIFY listener (close-on-exec, as the kernel creates it),
// or -1 when p does not notify.
//
// The calling thread must have no_new_privs set or hold CAP_SYS_ADMIN in
// its user namespace; otherwise the kernel refuses with EACCES. no_new_privs
// is per thread until the filter is installed (TSYNC then sets it on every
// thread), so a Go caller locks its goroutine to the thread
// (runtime.LockOSThread) across prctl(PR_SET_NO_NEW_PRIVS) and Load.
//
// Load first checks the kernel. Every action the program returns must be
// available (KILL_PROCESS and LOG since Linux 4.14, NOTIFY since 5.0), or
// Load fails with an error of class errdefs.ErrUnsupported. Flags:
//
//   - LOG and SPEC_ALLOW are dropped when the kernel lacks them (see
//     optionalFlags); DroppedFlags names them so the runtime can warn.
//   - TSYNC, NEW_LISTENER and TSYNC_ESRCH (5.7; the kernel refuses the
//     first two together without it) are errors when missing: without
//     them some threads would run unfiltered or the agent would get no
//     listener, so notify needs Linux 5.7.
//   - WAIT_KILLABLE_RECV (5.19) is an error when missing: the agent asked
//     that a signal not interrupt a syscall it is already handling, and one
//     that is interrupted is restarted and handled twice, which an agent
//     emulating, say, mount cannot take back.
func Load(p *Program) (listenerFd int, err error) {
	if len(p.Filter) == 0 || len(p.Filter) > maxInstructions {
		return -1, fmt.Errorf("load seccomp filter: %d instructions (want 1 to %d)", len(p.Filter), maxInstructions)
	}
	if err := checkActions(p); err != nil {
		return -1, err
	}
	dropped, err := droppedFlags(p.Flags)
	if err != nil {
		return -1, err
	}
	flags := p.Flags &^ dropped
	r, err := setModeFilter(flags, p.Filter)
	switch {
	case errors.Is(err, unix.EACCES):
		return -1, fmt.Errorf("load seccomp filter: %w (the calling thread needs no_new_privs or CAP_SYS_ADMIN)", err)
	case errors.Is(err, unix.ESRCH):
		return -1, fmt.Errorf("load seccomp filter: another thread has seccomp filters this one does not, so it cannot be synchronised: %w", err)
	case errors.Is(err, unix.ENOMEM):
		return -1, fmt.Errorf("load seccomp filter: %w (the filters of a process may hold 32768 instructions in all)", err)
	case err != nil:
		return -1, fmt.Errorf("load seccomp filter: %w", err)
	}
	if p.Notify {
		return r, nil
	}
	if r != 0 {
		// TSYNC without TSYNC_ESRCH reports the thread it could not
		// synchronise, after installing the filter on this one.
		return -1, fmt.Errorf("load seccomp filter: thread %d cannot be synchronised", r)
	}
	return -1, nil
}

// DroppedFlags returns the names of p's flags that Load leaves out because
// the running kernel lacks them (see Load), for the runtime to warn about.
func DroppedFlags(p *Program) ([]string, error) {
	dropped, err := droppedFlags(p.Flags)
	if err != nil {
		return nil, err
	}
	var names []string
	for bit := uint(1); bit <= dropped; bit <<= 1 {
		if dropped&bit != 0 {
			names = append(names, flagName(bit))
		}
	}
	return names, nil
}

// SupportedFlags returns the names of the flags a config may name (see
// KnownFlags) that the running kernel supports, for the runtime-spec
// features document.
func SupportedFlags() []string {
	var out []string
	for _, f := range flagNames {
		if ok, err := flagSupported(f.bit); err == nil && ok {
			out = append(out, string(f.name))
		}
	}
	return out
}

// droppedFlags returns the optional flags in flags the kernel lacks, or an
// error for a missing flag that is not optional.
func droppedFlags(flags uint) (uint, error) {
	var dropped uint
	for bit := uint(1); bit <= flags; bit <<= 1 {
		if flags&bit == 0 {
			continue
		}
		ok, err := flagSupported(bit)
		if err != nil {
			return 0, fmt.Errorf("probe seccomp filter flag %s: %w", flagName(bit), err)
		}
		switch {
		case ok:
		case bit&optionalFlags != 0:
			dropped |= bit
		default:
			return 0, errdefs.Unsupported("seccomp filter flag %s: not supported by this kernel", flagName(bit))
		}
	}
	return dropped, nil
}

// checkActions fails for the first action p returns that the kernel lacks.
func checkActions(p *Program) error {
	seen := map[uint32]bool{}
	for _, in := range p.Filter {
		if in.Code != opReturn {
			continue
		}
		kind := action(in.K).kind()
		if seen[kind] {
			continue
		}
		seen[kind] = true
		ok, err := kernelHasAction(kind)
		if err != nil {
			return fmt.Errorf("probe seccomp action %s: %w", action(kind), err)
		}
		if !ok {
			return errdefs.Unsupported("seccomp action %s: not supported by this kernel", action(kind))
		}
	}
	return nil
}

// The kernel does not change under a running process, so each question is
// asked once.
var (
	probeMu      sync.Mutex
	flagProbes   map[uint]bool
	actionProbes map[uint32]bool
)

func flagSupported(bit uint) (bool, error) {
	probeMu.Lock()
	defer probeMu.Unlock()
	if ok, done := flagProbes[bit]; done {
		return ok, nil
	}
	probe := bit
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		// The kernel refuses it without a listener.
		probe |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	ok, err := probeFilterFlags(probe)
	if err != nil {
		return false, err
	}
	if flagProbes == nil {
		flagProbes = map[uint]bool{}
	}
	flagProbes[bit] = ok
	return ok, nil
}

func kernelHasAction(kind uint32) (bool, error) {
	probeMu.Lock()
	defer probeMu.Unlock()
	if ok, done := actionProbes[kind]; done {
		return ok, nil
	}
	ok, err := actionAvailable(kind)
	if errors.Is(err, unix.EINVAL) {
		// A kernel before 4.14 cannot tell; it has the actions seccomp
		// started with and none of the later ones.
		switch kind {
		case unix.SECCOMP_RET_KILL_THREAD, unix.SECCOMP_RET_TRAP, unix.SECCOMP_RET_ERRNO,
			unix.SECCOMP_RET_TRACE, unix.SECCOMP_RET_ALLOW:
			ok = true
		}
		err = nil
	}
	if err != nil {
		return false, err
	}
	if actionProbes == nil {
		actionProbes = map[uint32]bool{}
	}
	actionProbes[kind] = ok
	return ok, nil
}
