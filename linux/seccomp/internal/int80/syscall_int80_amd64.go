package int80

// Supported says this architecture has an int $0x80 gate to try.
const Supported = true

// Syscall makes the i386 system call nr with six 32-bit arguments and
// returns what the kernel returns: the result, or -errno.
//
// Where the kernel has no IA32 emulation (or it is switched off with
// ia32_emulation=0), the gate faults and the process dies with SIGSEGV, so
// callers try it in a child first.
func Syscall(nr, a1, a2, a3, a4, a5, a6 uint32) int32
