package seccomp

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file holds the raw seccomp(2) calls; golang.org/x/sys has no
// wrapper for them.

// setModeFilter installs filter with seccomp(SECCOMP_SET_MODE_FILTER) and
// returns the syscall's result: the listener fd with
// SECCOMP_FILTER_FLAG_NEW_LISTENER, the id of a thread that could not be
// synchronised with TSYNC but without TSYNC_ESRCH, 0 otherwise.
func setModeFilter(flags uint, filter []unix.SockFilter) (int, error) {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// probeFilterFlags asks seccomp(SECCOMP_SET_MODE_FILTER) to install no
// program with flags. The kernel checks the flags before it reads the
// program, so it fails with EINVAL when it does not know a flag (or refuses
// the combination) and with EFAULT, having installed nothing, when it does.
func probeFilterFlags(flags uint) (bool, error) {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), 0)
	switch errno {
	case unix.EFAULT:
		return true, nil
	case unix.EINVAL:
		return false, nil
	case 0:
		// Cannot happen: there is no program to install.
		return true, nil
	}
	return false, errno
}

// actionAvailable asks seccomp(SECCOMP_GET_ACTION_AVAIL) whether the kernel
// knows a return action (its data bits zero). It fails with EINVAL when the
// kernel predates the question (Linux 4.14).
func actionAvailable(kind uint32) (bool, error) {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&kind)))
	switch errno {
	case 0:
		return true, nil
	case unix.EOPNOTSUPP:
		return false, nil
	}
	return false, errno
}
