package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// Program is a compiled filter, ready to load.
type Program struct {
	// Filter holds the classic BPF instructions.
	Filter []unix.SockFilter
	// Flags holds the SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2):
	// those the config names, plus the ones the package documentation
	// says Compile adds.
	Flags uint
	// Notify says the filter uses SCMP_ACT_NOTIFY, so that loading it
	// returns a listener fd for the seccomp agent.
	Notify bool
}

// Compile checks c and compiles it. Unknown syscall names are skipped with a
// warning (so that profiles naming newer syscalls work on older kernels and
// tables); unknown action, operator, architecture or flag names and values
// that do not fit are errors of class errdefs.ErrInvalidArgument naming the
// field, such as
//
//	linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
//
// Compile does not look at the running kernel: the runtime can compile in
// the parent, and Load checks what the kernel supports.
func Compile(c *specs.LinuxSeccomp) (*Program, []string, error) {
	if c == nil {
		return nil, nil, errdefs.InvalidArgument("linux.seccomp: no seccomp configuration")
	}
	p, warnings, err := parsePolicy(c)
	if err != nil {
		return nil, nil, err
	}
	filter, err := generate(p)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, nil, errdefs.InvalidArgument("linux.seccomp: %w", err)
		}
		return nil, nil, fmt.Errorf("compile seccomp filter: %w", err)
	}
	return &Program{Filter: filter, Flags: p.flags, Notify: p.notify}, warnings, nil
}

// errTooLarge marks a program over the kernel's size limit: the config's
// fault, not ours.
var errTooLarge = errors.New("filter too large")
