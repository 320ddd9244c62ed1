package rlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

func TestParseKnown(t *testing.T) {
	known := Known()
	if len(known) != 16 {
		t.Fatalf("%d rlimits, want the 16 of Linux", len(known))
	}
	seen := map[int]string{}
	for _, name := range known {
		resource, err := Parse(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, dup := seen[resource]; dup {
			t.Errorf("%s and %s share resource %d", name, other, resource)
		}
		seen[resource] = name
	}
	if r, _ := Parse("RLIMIT_NOFILE"); r != unix.RLIMIT_NOFILE {
		t.Errorf("RLIMIT_NOFILE = %d", r)
	}
	if r, _ := Parse("RLIMIT_RTTIME"); r != unix.RLIMIT_RTTIME {
		t.Errorf("RLIMIT_RTTIME = %d", r)
	}
}

func TestParseUnknown(t *testing.T) {
	for _, name := range []string{"RLIMIT_BOGUS", "NOFILE", "rlimit_nofile", ""} {
		_, err := Parse(name)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("Parse(%q): %v, want an invalid-argument error naming it", name, err)
		}
	}
}

// These fail validation before any limit is set, so they are safe to run
// in the test process itself.
func TestApplyRejectsBadInputFirst(t *testing.T) {
	var before unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &before); err != nil {
		t.Fatal(err)
	}
	lowerCore := specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: 0}
	tests := []struct {
		rlimits []specs.POSIXRlimit
		want    string
	}{
		{[]specs.POSIXRlimit{lowerCore, {Type: "RLIMIT_BOGUS"}}, `unknown rlimit type "RLIMIT_BOGUS"`},
		{[]specs.POSIXRlimit{lowerCore, {Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}, "rlimit RLIMIT_NOFILE: soft limit 10 is above hard limit 5"},
	}
	for _, tt := range tests {
		err := Apply(tt.rlimits)
		if !errdefs.IsInvalidArgument(err) || err.Error() != tt.want {
			t.Errorf("got %v, want invalid argument %q", err, tt.want)
		}
	}
	var after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("a rejected list still changed RLIMIT_CORE from %+v to %+v", before, after)
	}
}

// applyChildEnv makes the re-executed test binary apply childLimits, print
// what getrlimit reads back and exec cat /proc/self/limits. Lowering a hard
// limit cannot be undone, hence the child.
const applyChildEnv = "TINCAN_RLIMIT_TEST_APPLY_CHILD"

// childLimits only lower limits: the host may lack CAP_SYS_RESOURCE. The
// RLIMIT_NOFILE hard limit stays as inherited so that, should Go put back
// its start-up soft limit on exec, it could and the test would see it.
func childLimits() ([]specs.POSIXRlimit, error) {
	var nofile unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		return nil, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	return []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 512, Hard: nofile.Max},
		{Type: "RLIMIT_MSGQUEUE", Soft: 4096, Hard: 8192},
		{Type: "RLIMIT_RTPRIO", Soft: 0, Hard: 0},
		{Type: "RLIMIT_STACK", Soft: 4 << 20, Hard: 16 << 20},
	}, nil
}

func TestMain(m *testing.M) {
	if os.Getenv(applyChildEnv) != "" {
		applyAndExec()
	}
	os.Exit(m.Run())
}

func applyAndExec() {
	limits, err := childLimits()
	if err == nil {
		err = Apply(limits)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, rl := range limits {
		resource, _ := Parse(rl.Type)
		var got unix.Rlimit
		if err := unix.Getrlimit(resource, &got); err != nil {
			fmt.Fprintf(os.Stderr, "getrlimit %s: %v\n", rl.Type, err)
			os.Exit(1)
		}
		fmt.Printf("getrlimit %s %d %d\n", rl.Type, got.Cur, got.Max)
	}
	// Exec shows what a container process inherits, which for
	// RLIMIT_NOFILE is not simply what the Go process had.
	err = syscall.Exec("/bin/cat", []string{"cat", "/proc/self/limits"}, os.Environ())
	fmt.Fprintf(os.Stderr, "exec cat: %v\n", err)
	os.Exit(1)
}

func TestApplyInChild(t *testing.T) {
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
	lines := strings.Split(string(out), "\n")
	limitsTitle := map[string]string{
		"RLIMIT_NOFILE":   "Max open files",
		"RLIMIT_MSGQUEUE": "Max msgqueue size",
		"RLIMIT_RTPRIO":   "Max realtime priority",
		"RLIMIT_STACK":    "Max stack size",
	}
	limits, err := childLimits()
	if err != nil {
		t.Fatal(err)
	}
	for _, rl := range limits {
		readBack := fmt.Sprintf("getrlimit %s %d %d", rl.Type, rl.Soft, rl.Hard)
		if !slices.Contains(lines, readBack) {
			t.Errorf("child did not report %q:\n%s", readBack, out)
		}
		soft, hard := execLimits(t, out, limitsTitle[rl.Type])
		if soft != fmt.Sprint(rl.Soft) || hard != fmt.Sprint(rl.Hard) {
			t.Errorf("after exec %s is %s/%s, want %d/%d", rl.Type, soft, hard, rl.Soft, rl.Hard)
		}
	}
}

// execLimits finds the soft and hard values of a /proc/self/limits line.
func execLimits(t *testing.T, out []byte, title string) (soft, hard string) {
	t.Helper()
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), title); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no %q line in the child's /proc/self/limits:\n%s", title, out)
	return "", ""
}
