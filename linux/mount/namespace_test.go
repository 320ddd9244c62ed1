package mount

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The root tests mount things, so each runs its body in a child: this test
// binary again, in a new mount namespace, limited to that one test. The
// child makes / rprivate before anything else, so nothing it mounts can
// reach the host, and everything it mounts goes away with it.
const (
	childTestEnv    = "TINCAN_MOUNT_TEST_CHILD"
	usernsHolderEnv = "TINCAN_MOUNT_TEST_USERNS_HOLDER"
)

func TestMain(m *testing.M) {
	if os.Getenv(usernsHolderEnv) != "" {
		// Keep a user namespace alive until the test closes our stdin.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// inMountNamespace runs body in a child process in a private mount
// namespace. Only for top-level tests.
func inMountNamespace(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	if os.Getenv(childTestEnv) == t.Name() {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Fatalf("make / rprivate in the test's mount namespace: %v", err)
		}
		body(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts in a new mount namespace")
	}
	runTestInChild(t, []string{childTestEnv + "=" + t.Name()}, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS})
}

// runTestInChild runs the current top-level test again in a child process
// started with attr and the extra environment env, and fails or skips as
// the child did.
func runTestInChild(t *testing.T, env []string, attr *syscall.SysProcAttr) {
	t.Helper()
	if strings.Contains(t.Name(), "/") {
		t.Fatalf("runTestInChild works for top-level tests only, not %s", t.Name())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("test in a child process failed: %v\n%s", err, out)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()):
		t.Skipf("skipped in the child:\n%s", out)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("the child did not run %s:\n%s", t.Name(), out)
	}
}

// mountForTest mounts and unmounts again when the test ends, before the
// t.TempDir cleanups that were registered earlier.
func mountForTest(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := Mount(source, target, fstype, flags, data); err != nil {
		t.Fatal(err)
	}
	unmountAtCleanup(t, target)
}

func unmountAtCleanup(t *testing.T, target string) {
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

func statfs(t *testing.T, path string) unix.Statfs_t {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		t.Fatalf("statfs %s: %v", path, err)
	}
	return st
}

// mountInfo is the part of a /proc/self/mountinfo line the tests look at.
type mountInfo struct {
	options  []string // per-mount options, e.g. ro, nosuid
	optional []string // propagation: shared:N, master:N ...
	fstype   string
}

// findMountInfo returns the top mount at mountPoint.
func findMountInfo(t *testing.T, mountPoint string) mountInfo {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found *mountInfo
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// id parent major:minor root mountpoint options optional... - fstype source superoptions
		fields := strings.Fields(scanner.Text())
		sep := -1
		for i, field := range fields {
			if field == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || sep+1 >= len(fields) || fields[4] != mountPoint {
			continue
		}
		found = &mountInfo{
			options:  strings.Split(fields[5], ","),
			optional: fields[6:sep],
			fstype:   fields[sep+1],
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if found == nil {
		t.Fatalf("no mount at %s in /proc/self/mountinfo", mountPoint)
	}
	return *found
}

func hasPrefixed(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// skipIfUnsupported skips when err says the kernel or filesystem cannot do
// what the test needs (ENOSYS, EINVAL from the new mount API).
func skipIfUnsupported(t *testing.T, err error, what string) {
	t.Helper()
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("%s not supported here: %v", what, err)
	}
}
