// Package seccomp turns the seccomp section of an OCI runtime config
// (specs.LinuxSeccomp) into a classic BPF program, encodes that program so
// the runtime can compile in the parent and hand the result to the container
// init, installs it with seccomp(2), and passes the SCMP_ACT_NOTIFY listener
// to a seccomp agent. It is pure Go: no libseccomp.
//
// It owns the filter semantics below and the syscall tables of the x86
// family (generated from the kernel headers, see internal/gensyscalls). It
// does not decide which profile a container gets (spec and runtime do), when
// the init loads the filter (runtime/initproc: as late as possible before
// exec, so that the runtime's own syscalls are not filtered), whether
// no_new_privs is set (the init sets it from process.noNewPrivileges before
// calling Load), nor does it run a seccomp agent.
//
// # Semantics
//
// These follow libseccomp as runc and crun drive it, except where a point
// says otherwise and why.
//
//   - Architectures. The native ABI, x86_64, is always in the filter, as
//     seccomp_init puts it there; architectures adds SCMP_ARCH_X86 (i386)
//     and SCMP_ARCH_X32. The other names the runtime-spec lists (ARM, MIPS,
//     ...) are accepted and generate nothing: an x86_64 kernel never reports
//     their AUDIT_ARCH values, so their sections would be dead code.
//   - A syscall made through an ABI that is not in the filter is killed with
//     SECCOMP_RET_KILL_PROCESS. libseccomp's bad-arch action is SCMP_ACT_KILL,
//     which kills the thread only; we kill the process because a
//     multithreaded program (any Go program) that loses a thread hangs
//     instead of failing.
//   - x32 shares AUDIT_ARCH_X86_64 with x86_64; its syscall numbers carry
//     __X32_SYSCALL_BIT (0x40000000). Under AUDIT_ARCH_X86_64 a number at or
//     above the bit is an x32 call, as libseccomp decides too: it is matched
//     against the x32 rules when SCMP_ARCH_X32 is listed and killed as a bad
//     arch when it is not. x86_64 rules never match x32 calls and x32 rules
//     never match numbers below the bit.
//   - Syscall names resolve per ABI. A name one ABI lacks (chown32 on x86_64)
//     is skipped on that ABI only; a name no x86 ABI knows is skipped with a
//     warning, as runc and crun do, so that profiles naming newer syscalls
//     load on older kernels.
//   - Conditions in one rule are ANDed, also when one argument index appears
//     twice. (runc splits such a rule into one rule per condition, which ORs
//     them; we do what the config says.)
//   - Rules are tried in config order; for a given syscall the first rule
//     that names it and whose conditions all hold decides, and when none
//     holds the default action applies. An unconditional rule always holds,
//     so later rules for that syscall are dead. This is the "first entry
//     wins" behaviour of runc and crun made exact. libseccomp merges the
//     conditional rules of one syscall into a tree ordered by argument index,
//     so where two such rules overlap and have different actions it may pick
//     the other one; the profiles Docker, Podman and containerd ship have no
//     such rules.
//   - A rule whose action, errno included, is the default action is dropped
//     before the above applies, as runc and crun do (libseccomp refuses such
//     rules). Its names are still checked.
//   - Arguments are compared as unsigned numbers, the high 32 bits first and
//     then the low 32 bits. i386 arguments are 32 bits wide: only the low word
//     is compared and value and valueTwo are cut to their low 32 bits, as
//     libseccomp does for 32-bit ABIs, so a -1 written as 0xffffffffffffffff
//     still matches a 32-bit -1. This is also what the syscall will see: a
//     64-bit process entering through int $0x80 can leave anything in the
//     high halves of the registers seccomp_data reports, and the i386 entry
//     points drop them. x32 syscalls take the full 64-bit registers, so x32
//     rules compare all 64 bits, like x86_64 ones (libseccomp compares 32
//     bits there, which lets a caller set high bits no rule checks).
//   - SCMP_CMP_MASKED_EQ holds when (arg & value) == valueTwo.
//   - errnoRet is allowed with SCMP_ACT_ERRNO (the errno to return) and
//     SCMP_ACT_TRACE (the data the tracer sees) only, and defaults to EPERM;
//     with any other action it is an error, as the runtime-spec requires. The
//     same holds for defaultErrnoRet and defaultAction. It must fit the 16
//     data bits of a filter's return value (the kernel caps errnos at 4095).
//   - SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD. SCMP_ACT_NOTIFY cannot be the
//     default action: the init's own syscalls after Load (sending the
//     listener to the agent, exec) would wait on an agent that has no
//     listener yet. A config that uses SCMP_ACT_NOTIFY needs listenerPath.
//   - Flags: SECCOMP_FILTER_FLAG_TSYNC is always set so that every thread of
//     the (Go, hence multithreaded) init gets the filter. SCMP_ACT_NOTIFY adds
//     NEW_LISTENER, and TSYNC_ESRCH because the kernel refuses TSYNC with
//     NEW_LISTENER without it. When flags is absent (not empty) SPEC_ALLOW is
//     added, as runc and crun do: the speculative store bypass mitigation
//     that seccomp would otherwise force costs interpreters a lot.
//     WAIT_KILLABLE_RECV without SCMP_ACT_NOTIFY is dropped with a warning
//     (the kernel rejects it without a listener). Load documents what happens
//     to flags the running kernel lacks.
//
// # Program shape
//
// The program loads seccomp_data.arch and jumps to one section per ABI; an
// unknown arch falls through to the bad-arch return. In the x86_64 section
// one comparison sends x32 numbers to the x32 section. Each section sorts
// the syscall numbers into intervals of equal outcome (the default action
// filling the gaps) and finds the interval with a balanced binary search of
// JGE comparisons, so a syscall costs O(log n) instructions. Syscalls with
// argument conditions jump to a shared block of comparisons after the
// search tree; each section ends with one return per action. Conditional
// jumps reach at most 255 instructions ahead; the assembler inserts an
// unconditional jump as a trampoline where a target lies further, and drops
// loads of a word the accumulator already holds.
//
// For the Docker default profile (testdata/docker-default.json, 346 names,
// three ABIs) that is 331 instructions; a syscall runs 11 of them on
// average, 16 at most, and 24 at most where argument conditions are
// checked (personality's three rules).
package seccomp

//go:generate go run ./internal/gensyscalls -out syscalls_table.go
