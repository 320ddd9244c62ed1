package caps

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// applyChildEnv makes the test binary, re-executed by
// TestApplyAcrossUserSwitchAndExec, apply childSet as a container init
// would and exec cat /proc/self/status. Capability changes cannot be undone,
// so they happen in a child.
const applyChildEnv = "TINCAN_CAPS_TEST_APPLY_CHILD"

const childUID = 1000

func childSet() Set {
	caps := func(names ...string) []Cap {
		var out []Cap
		for _, n := range names {
			c, err := Parse(n)
			if err != nil {
				panic(err)
			}
			out = append(out, c)
		}
		return out
	}
	return Set{
		Bounding:    caps("CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"),
		Effective:   caps("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
		Permitted:   caps("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
		Inheritable: caps("CAP_KILL", "CAP_NET_BIND_SERVICE"),
		Ambient:     caps("CAP_NET_BIND_SERVICE"),
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(applyChildEnv) != "" {
		applyAndExec()
	}
	os.Exit(m.Run())
}

// applyAndExec follows the order of the package documentation, checks the
// result with Current and replaces itself with cat. It never returns.
func applyAndExec() {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(1)
	}
	runtime.LockOSThread() // for good: the thread's credentials are what execve passes on
	want := childSet()
	if err := KeepCaps(); err != nil {
		fail("%v", err)
	}
	if err := ApplyBounding(want); err != nil {
		fail("%v", err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		fail("setgroups: %v", err)
	}
	if err := syscall.Setresgid(childUID, childUID, childUID); err != nil {
		fail("setresgid: %v", err)
	}
	if err := syscall.Setresuid(childUID, childUID, childUID); err != nil {
		fail("setresuid: %v", err)
	}
	if err := ApplyProcess(want); err != nil {
		fail("%v", err)
	}
	got, err := Current()
	if err != nil {
		fail("%v", err)
	}
	if !reflect.DeepEqual(got, want) {
		fail("Current() after ApplyProcess = %+v, want %+v", got, want)
	}
	if keep, err := unix.PrctlRetInt(unix.PR_GET_KEEPCAPS, 0, 0, 0, 0); err != nil || keep != 0 {
		fail("keep-caps still %d after ApplyProcess (%v)", keep, err)
	}
	err = syscall.Exec("/bin/cat", []string{"cat", "/proc/self/status"}, os.Environ())
	fail("exec cat: %v", err)
}

func TestApplyAcrossUserSwitchAndExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: switches user and changes capabilities in a child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), applyChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.Bytes())
	}
	status := parseStatus(t, out)

	// After execve as a non-root user of a file without capabilities, the
	// permitted and effective sets are exactly the ambient set.
	want := childSet()
	checks := []struct {
		field string
		want  uint64
	}{
		{"CapBnd", mask(want.Bounding)},
		{"CapAmb", mask(want.Ambient)},
		{"CapEff", mask(want.Ambient)},
		{"CapPrm", mask(want.Ambient)},
		{"CapInh", mask(want.Inheritable)},
	}
	for _, c := range checks {
		got, err := strconv.ParseUint(status[c.field], 16, 64)
		if err != nil || got != c.want {
			t.Errorf("%s = %q (%v), want %016x", c.field, status[c.field], err, c.want)
		}
	}
	if uids := strings.Fields(status["Uid"]); len(uids) != 4 || uids[0] != "1000" || uids[1] != "1000" {
		t.Errorf("Uid line %q, want 1000", status["Uid"])
	}
}

func parseStatus(t *testing.T, out []byte) map[string]string {
	t.Helper()
	fields := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		if key, value, ok := strings.Cut(scanner.Text(), ":"); ok {
			fields[key] = strings.TrimSpace(value)
		}
	}
	if _, ok := fields["CapBnd"]; !ok {
		t.Fatalf("no CapBnd in the child's output:\n%s", out)
	}
	return fields
}
