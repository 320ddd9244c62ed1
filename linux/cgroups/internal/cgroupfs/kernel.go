package cgroupfs

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// kernelVersion is the running kernel's major and minor version, read once
// from uname(2); zero when it cannot be parsed.
var kernelVersion = sync.OnceValue(func() [2]int {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return [2]int{}
	}
	release := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return [2]int{}
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return [2]int{}
	}
	return [2]int{major, minor}
})

// KernelAtLeast reports whether the running kernel is major.minor or newer,
// for the interfaces that cannot be probed without side effects
// (CLONE_INTO_CGROUP).
func KernelAtLeast(major, minor int) bool {
	v := kernelVersion()
	return v[0] > major || v[0] == major && v[1] >= minor
}
