// Package int80 makes i386 system calls from a 64-bit process through the
// int $0x80 gate, so that tests can reach the i386 section of a seccomp
// filter on an x86_64 kernel with IA32 emulation. Only tests import it; it
// owns nothing else.
package int80
