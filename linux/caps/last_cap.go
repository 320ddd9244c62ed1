package caps

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// LastCap returns the highest capability number the running kernel knows.
// It reads /proc/sys/kernel/cap_last_cap on first use; where /proc is not
// mounted (early in a container's init) it asks the kernel about each
// number with PR_CAPBSET_READ instead, and failing that it assumes the
// highest capability this package knows.
func LastCap() Cap {
	return lastCap()
}

var lastCap = sync.OnceValue(func() Cap {
	if data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n >= 0 {
			return Cap(n)
		}
	}
	if last, ok := probeLastCap(); ok {
		return last
	}
	return highestKnown
})

// probeLastCap finds the last capability with PR_CAPBSET_READ, which fails
// with EINVAL for numbers the kernel does not have.
func probeLastCap() (Cap, bool) {
	supported := func(c Cap) bool {
		_, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		return err == nil
	}
	if !supported(0) {
		return 0, false
	}
	c := highestKnown
	for c > 0 && !supported(c) {
		c--
	}
	for c < 63 && supported(c+1) {
		c++
	}
	return c, true
}
