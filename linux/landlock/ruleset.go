package landlock

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's structures (include/uapi/linux/landlock.h). rulesetAttr
// grew with the ABI: handled_access_net came with ABI 4, scoped with 6;
// create passes only the part the plan uses, so older kernels accept it.
type rulesetAttr struct {
	handledAccessFS  uint64
	handledAccessNet uint64
	scoped           uint64
}

// pathBeneathAttr is packed in the kernel (12 bytes); Go's layout agrees on
// those 12 and pads after them.
type pathBeneathAttr struct {
	allowedAccess uint64
	parentFd      int32
}

type netPortAttr struct {
	allowedAccess uint64
	port          uint64
}

const (
	createRulesetVersion = 1 << 0
	ruleTypePathBeneath  = 1
	ruleTypeNetPort      = 2
)

var abi struct {
	once    sync.Once
	version int
}

// ABI returns the Landlock ABI version of the running kernel, 0 when it
// has no Landlock or has it disabled.
func ABI() int {
	abi.once.Do(func() {
		v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, createRulesetVersion)
		if errno == 0 {
			abi.version = int(v)
		}
	})
	return abi.version
}

// Ruleset is a built Landlock ruleset, ready to enforce.
type Ruleset struct {
	fd int
}

// Build creates the ruleset of p and adds its rules: the paths are opened
// as the calling process sees them (in the container, after pivot_root).
// A path that does not exist is skipped: it grants nothing. An empty plan
// gives a nil Ruleset, which RestrictSelf accepts.
func (p *Plan) Build() (*Ruleset, error) {
	if p.Empty() {
		return nil, nil
	}
	attr := rulesetAttr{handledAccessFS: p.HandledFS, handledAccessNet: p.HandledNet, scoped: p.Scoped}
	size := unsafe.Sizeof(attr.handledAccessFS)
	switch {
	case p.Scoped != 0:
		size = unsafe.Sizeof(attr)
	case p.HandledNet != 0:
		size = unsafe.Offsetof(attr.scoped)
	}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return nil, fmt.Errorf("landlock: create ruleset: %w", errno)
	}
	// The kernel makes the fd close-on-exec.
	r := &Ruleset{fd: int(fd)}
	for _, rule := range p.Paths {
		if err := r.addPath(rule); err != nil {
			r.Close()
			return nil, err
		}
	}
	for _, rule := range p.Ports {
		pa := netPortAttr{allowedAccess: rule.Access, port: uint64(rule.Port)}
		if _, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(r.fd), ruleTypeNetPort, uintptr(unsafe.Pointer(&pa)), 0, 0, 0); errno != 0 {
			r.Close()
			return nil, fmt.Errorf("landlock: allow TCP port %d: %w", rule.Port, errno)
		}
	}
	return r, nil
}

func (r *Ruleset) addPath(rule PathRule) error {
	f, err := os.OpenFile(rule.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("landlock: open %s: %w", rule.Path, err)
	}
	defer f.Close()
	access := rule.Access
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("landlock: stat %s: %w", rule.Path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		// Directory rights (read-dir, make-*, remove-*, refer) mean
		// nothing on a file, and the kernel refuses them there.
		if access &= fileRights; access == 0 {
			return nil
		}
	}
	pb := pathBeneathAttr{allowedAccess: access, parentFd: int32(f.Fd())}
	_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(r.fd), ruleTypePathBeneath, uintptr(unsafe.Pointer(&pb)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("landlock: allow %#x beneath %s: %w", access, rule.Path, errno)
	}
	return nil
}

// Close releases the ruleset without enforcing it.
func (r *Ruleset) Close() error {
	if r == nil || r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// RestrictSelf enforces the ruleset on the calling thread (and what it
// executes), then closes it. It sets no_new_privs first, as Landlock
// requires of a thread without CAP_SYS_ADMIN: a container with Landlock
// rules runs with no_new_privs. The caller runs it on the thread that will
// execve, locked to it. A nil Ruleset does nothing.
func (r *Ruleset) RestrictSelf() error {
	if r == nil {
		return nil
	}
	defer r.Close()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("landlock: set no_new_privs: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(r.fd), 0, 0); errno != 0 {
		return fmt.Errorf("landlock: restrict self: %w", errno)
	}
	return nil
}
