package signals

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	good := map[string]unix.Signal{
		"9": unix.SIGKILL, "KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "kill": unix.SIGKILL,
		"sigterm": unix.SIGTERM, "TERM": unix.SIGTERM, "15": unix.SIGTERM, "HUP": unix.SIGHUP,
		"RTMIN": 34, "SIGRTMIN+3": 37, "RTMAX-0": 64, "RTMAX": 64, "usr1": unix.SIGUSR1,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "65", "-1", "BOGUS", "SIG", "RTMIN+40", "RTMAX+1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
