// Package personality sets the process execution domain (personality(2)),
// for containers that ask for a 32-bit view of the machine (uname reports
// i686). It owns the raw syscall only; the init decides when to call it.
package personality

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Execution domains from <sys/personality.h>.
const (
	Linux   = 0x0000
	Linux32 = 0x0008
)

// Set sets the calling process's execution domain.
func Set(domain uintptr) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, domain, 0, 0); errno != 0 {
		return fmt.Errorf("personality %#x: %w", domain, errno)
	}
	return nil
}
