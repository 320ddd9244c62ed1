// Package security holds tincan-oci's break-out tests: each test runs a
// real container whose process tries one attack (overwriting the runtime
// binary, escaping through symlinked mount targets or leaked fds, getting
// dropped capabilities back, syscalls the default seccomp profile blocks,
// setuid escalation under no_new_privs, reading masked paths, reading what
// a Landlock rule denies) and checks that it fails, and that the attack
// would have been observable had it worked (a control run or check).
//
// The attacks are made by ./internal/attack, a static program copied into
// each container's rootfs. The tests need root; see docs/SECURITY.md for
// the threat model they exercise.
package security
