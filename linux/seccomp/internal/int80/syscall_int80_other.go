//go:build !amd64

package int80

import "golang.org/x/sys/unix"

// Supported says this architecture has an int $0x80 gate to try.
const Supported = false

// Syscall fails with ENOSYS: only amd64 has the gate.
func Syscall(nr, a1, a2, a3, a4, a5, a6 uint32) int32 { return -int32(unix.ENOSYS) }
