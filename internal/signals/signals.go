// Package signals parses signal names and numbers the way runc's kill and
// docker's --stop-signal accept them: "9", "KILL", "SIGKILL", "kill",
// "RTMIN+3". It owns only the parsing.
package signals

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// sigRTMIN and sigRTMAX are the kernel's real-time signal range.
const (
	sigRTMIN = 34
	sigRTMAX = 64
)

// Parse returns the signal named by s.
func Parse(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > sigRTMAX {
			return 0, errdefs.InvalidArgument("invalid signal %q: out of range 1-%d", s, sigRTMAX)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	name = strings.TrimPrefix(name, "SIG")
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		return rtSignal(s, sigRTMIN, rest)
	}
	if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		return rtSignal(s, sigRTMAX, rest)
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, errdefs.InvalidArgument("unknown signal %q", s)
}

func rtSignal(orig string, base int, offset string) (unix.Signal, error) {
	if offset == "" {
		return unix.Signal(base), nil
	}
	n, err := strconv.Atoi(offset)
	sig := base + n
	if err != nil || sig < sigRTMIN || sig > sigRTMAX {
		return 0, errdefs.InvalidArgument("invalid signal %q", orig)
	}
	return unix.Signal(sig), nil
}

// Name returns "SIGKILL" style names, for messages.
func Name(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}
