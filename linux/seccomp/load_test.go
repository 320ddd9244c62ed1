package seccomp

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// kernelAtLeast reports whether the running kernel is major.minor or newer.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("kernel release %q", release)
	}
	maj, _ := strconv.Atoi(parts[0])
	mnr, _ := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return maj > major || maj == major && mnr >= minor
}

func TestSupportedFlags(t *testing.T) {
	got := SupportedFlags()
	want := []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}
	if kernelAtLeast(t, 5, 19) {
		want = append(want, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
	} else if !kernelAtLeast(t, 4, 17) {
		t.Skip("kernel older than 4.17")
	}
	if !slices.Equal(got, want) {
		t.Errorf("SupportedFlags() = %q, want %q", got, want)
	}
	dropped, err := DroppedFlags(&Program{Flags: unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW})
	if err != nil || len(dropped) != 0 {
		t.Errorf("DroppedFlags on a kernel with every flag: %q, %v", dropped, err)
	}
}

// pretendKernel makes the probes answer as an older kernel would, for the
// rest of the test.
func pretendKernel(t *testing.T, flags map[uint]bool, actions map[uint32]bool) {
	probeMu.Lock()
	savedFlags, savedActions := flagProbes, actionProbes
	flagProbes, actionProbes = maps.Clone(flags), maps.Clone(actions)
	probeMu.Unlock()
	t.Cleanup(func() {
		probeMu.Lock()
		flagProbes, actionProbes = savedFlags, savedActions
		probeMu.Unlock()
	})
}

func TestFlagsAnOlderKernelLacks(t *testing.T) {
	pretendKernel(t, map[uint]bool{
		unix.SECCOMP_FILTER_FLAG_TSYNC:              true,
		unix.SECCOMP_FILTER_FLAG_LOG:                false,
		unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW:         false,
		unix.SECCOMP_FILTER_FLAG_NEW_LISTENER:       true,
		unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH:        false,
		unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: false,
	}, nil)

	dropped, err := DroppedFlags(&Program{Flags: unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW})
	if want := []string{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}; err != nil || !slices.Equal(dropped, want) {
		t.Errorf("DroppedFlags = %q, %v; want %q", dropped, err, want)
	}
	for _, tc := range []struct {
		flags uint
		want  string
	}{
		{unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"},
		{unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
	} {
		// Load fails before it reaches seccomp(2), so it is safe here.
		_, err := Load(&Program{Flags: tc.flags, Filter: []unix.SockFilter{{Code: opReturn, K: unix.SECCOMP_RET_ALLOW}}})
		if !errors.Is(err, errdefs.ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("flags %#x: got %v, want an unsupported error naming %s", tc.flags, err, tc.want)
		}
	}
}

func TestActionsAnOlderKernelLacks(t *testing.T) {
	pretendKernel(t, nil, map[uint32]bool{unix.SECCOMP_RET_ALLOW: true, unix.SECCOMP_RET_USER_NOTIF: false})
	p := &Program{Flags: unix.SECCOMP_FILTER_FLAG_TSYNC, Filter: []unix.SockFilter{
		{Code: opReturn, K: unix.SECCOMP_RET_ALLOW},
		{Code: opReturn, K: unix.SECCOMP_RET_USER_NOTIF},
	}}
	// Load fails before it reaches seccomp(2), so it is safe here.
	_, err := Load(p)
	if !errors.Is(err, errdefs.ErrUnsupported) || !strings.Contains(err.Error(), "SCMP_ACT_NOTIFY") {
		t.Errorf("got %v, want an unsupported error naming SCMP_ACT_NOTIFY", err)
	}
}
