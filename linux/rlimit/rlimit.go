// Package rlimit owns POSIX resource limits by name: it maps the
// config.json process.rlimits type names ("RLIMIT_NOFILE") to the kernel's
// resource numbers and applies a list of limits to the calling process.
//
// It does not choose limits (engines and spec do) and it does not validate
// a whole configuration beyond the names and values it is given.
package rlimit

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// resources maps every Linux rlimit name to its number. The numbers come
// from golang.org/x/sys/unix because they differ between architectures
// (RLIMIT_NOFILE is 7 on amd64 but 5 on mips).
var resources = [...]struct {
	name     string
	resource int
}{
	{"RLIMIT_CPU", unix.RLIMIT_CPU},
	{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE},
	{"RLIMIT_DATA", unix.RLIMIT_DATA},
	{"RLIMIT_STACK", unix.RLIMIT_STACK},
	{"RLIMIT_CORE", unix.RLIMIT_CORE},
	{"RLIMIT_RSS", unix.RLIMIT_RSS},
	{"RLIMIT_NPROC", unix.RLIMIT_NPROC},
	{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK},
	{"RLIMIT_AS", unix.RLIMIT_AS},
	{"RLIMIT_LOCKS", unix.RLIMIT_LOCKS},
	{"RLIMIT_SIGPENDING", unix.RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", unix.RLIMIT_NICE},
	{"RLIMIT_RTPRIO", unix.RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", unix.RLIMIT_RTTIME},
}

// Parse returns the resource number of the rlimit called name, as the
// runtime-spec spells it ("RLIMIT_NOFILE").
func Parse(name string) (int, error) {
	for _, r := range resources {
		if r.name == name {
			return r.resource, nil
		}
	}
	return 0, errdefs.InvalidArgument("unknown rlimit type %q", name)
}

// Known returns the name of every Linux rlimit.
func Known() []string {
	names := make([]string, len(resources))
	for i, r := range resources {
		names[i] = r.name
	}
	return names
}

// Apply sets each limit on the calling process, in order, with prlimit(2).
// All names and values are checked before any limit is set. Raising a hard
// limit needs CAP_SYS_RESOURCE. Going through golang.org/x/sys/unix matters
// for RLIMIT_NOFILE: when Go starts or execs a program it puts back the
// limit it found at its own start-up, unless the limit was changed through
// its syscall package, which unix.Prlimit is.
func Apply(rlimits []specs.POSIXRlimit) error {
	resourceOf := make([]int, len(rlimits))
	for i, rl := range rlimits {
		resource, err := Parse(rl.Type)
		if err != nil {
			return err
		}
		if rl.Soft > rl.Hard {
			return errdefs.InvalidArgument("rlimit %s: soft limit %d is above hard limit %d", rl.Type, rl.Soft, rl.Hard)
		}
		resourceOf[i] = resource
	}
	for i, rl := range rlimits {
		limit := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(0, resourceOf[i], &limit, nil); err != nil {
			return fmt.Errorf("set rlimit %s to soft %d, hard %d: %w", rl.Type, rl.Soft, rl.Hard, err)
		}
	}
	return nil
}
