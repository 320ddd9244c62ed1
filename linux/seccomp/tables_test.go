package seccomp

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The tables come from the kernel headers; golang.org/x/sys has the x86_64
// numbers from another copy of them, which is a check on the generator.
func TestTablesAgreeWithXSys(t *testing.T) {
	for name, want := range map[string]uint32{
		"read": unix.SYS_READ, "getpid": unix.SYS_GETPID, "clone": unix.SYS_CLONE,
		"openat": unix.SYS_OPENAT, "seccomp": unix.SYS_SECCOMP, "clone3": unix.SYS_CLONE3,
		"io_uring_setup": unix.SYS_IO_URING_SETUP, "pidfd_open": unix.SYS_PIDFD_OPEN,
	} {
		if got, ok := abiX86_64.syscallNumber(name); !ok || got != want {
			t.Errorf("x86_64 %s = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, tc := range []struct {
		abi  abi
		name string
		want uint32
	}{
		{abiI386, "exit", 1}, {abiI386, "getpid", 20}, {abiI386, "socketcall", 102}, {abiI386, "chown32", 212},
		{abiX32, "read", x32SyscallBit + 0}, {abiX32, "getpid", x32SyscallBit + 39}, {abiX32, "readv", x32SyscallBit + 515},
	} {
		if got, ok := tc.abi.syscallNumber(tc.name); !ok || got != tc.want {
			t.Errorf("%s %s = %#x, %v; want %#x", tc.abi, tc.name, got, ok, tc.want)
		}
	}
	for _, tc := range []struct {
		abi  abi
		name string
	}{{abiX86_64, "chown32"}, {abiX86_64, "socketcall"}, {abiI386, "epoll_ctl_old"}, {abiX32, "no_such_syscall"}} {
		if _, ok := tc.abi.syscallNumber(tc.name); ok {
			t.Errorf("%s has %s", tc.abi, tc.name)
		}
	}
}

func TestTableSortedAndSane(t *testing.T) {
	if !slices.IsSortedFunc(syscallTable[:], func(a, b syscallEntry) int { return strings.Compare(a.name, b.name) }) {
		t.Fatal("table not sorted by name, so lookups fail")
	}
	for ab := abi(0); ab < abiCount; ab++ {
		names := namesOn(ab)
		if len(names) < 300 {
			t.Errorf("%s: only %d syscalls", ab, len(names))
		}
		for _, name := range names {
			nr, ok := ab.syscallNumber(name)
			if !ok || (nr&x32SyscallBit != 0) != (ab == abiX32) {
				t.Errorf("%s: %s = %#x, %v", ab, name, nr, ok)
			}
		}
	}
}

// namesOn returns the names of the syscalls the ABI has.
func namesOn(ab abi) []string {
	var names []string
	for _, e := range syscallTable {
		if e.nr[ab] != noSyscall {
			names = append(names, e.name)
		}
	}
	return names
}
