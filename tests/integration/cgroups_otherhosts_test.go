package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/cgroups"
)

// The TestCgroups tests on pure cgroup v2, from a host that is not:
//
//   - TestCgroupsInV2VM boots Debian's kernel under qemu with every v2
//     controller (../shared/vm/v2vm) and runs them all there: this test
//     binary and the tincan-oci binary are copied in, and tincan-oci
//     places, limits, freezes and kills through cgroup2 only.
//   - TestCgroupsInV2View runs them in a mount namespace whose
//     /sys/fs/cgroup is the host's cgroup2 hierarchy
//     (../shared/bench/v2view); a hybrid host binds its controllers to v1,
//     so there only placement, freezing, killing and the eBPF device filter
//     are real, and the limit tests skip what is missing.
//
// Both skip, saying why, where the tools or qemu are missing, and where the
// host is already pure cgroup v2 (the tests then ran directly).

const cgroupTestsPattern = "^TestCgroups"

// cgroupTestsThatMustPass ran for real in the VM, not skipped: the checks
// that need every v2 controller.
var cgroupTestsThatMustPass = []string{
	"TestCgroupsLimitsApplied", "TestCgroupsPlacement", "TestCgroupsDevices", "TestCgroupsOOMKillAndEvents",
	"TestCgroupsForkBombStopsAtPidsMax", "TestCgroupsPauseFreezes", "TestCgroupsUpdate", "TestCgroupsPs",
	"TestCgroupsEventsStats", "TestCgroupsKillAllAndForceDeletePaused", "TestCgroupsRootless",
	"TestCgroupsJoinSharedCgroup", "TestCgroupsBadResources", "TestCgroupsTinyPidsLimit",
}

func TestCgroupsInV2VM(t *testing.T) {
	testutil.RequiresRoot(t)
	skipOnOtherHost(t)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): cannot boot the cgroup v2 VM")
	}
	v2vm := cgSharedTool(t, "vm/v2vm")
	bin := testutil.OCIBinary(t)
	// v2vm runs the command through sh -c.
	out, err := exec.Command(v2vm, "--timeout", "900", "--mem", "1536",
		"--add", os.Args[0]+":/opt/integration.test", "--add", bin+":/opt/tincan-oci", "--",
		"TINCAN_OCI=/opt/tincan-oci TINCAN_IN_OTHER_HOST=1 /opt/integration.test",
		"-test.run", "'"+cgroupTestsPattern+"'", "-test.count=1", "-test.v", "-test.timeout=850s").CombinedOutput()
	text := string(out)
	// The verdict is the test binary's own: v2vm's exit status sometimes
	// suffers from kernel messages mixed into the console line carrying it.
	passed := regexp.MustCompile(`(?m)^\s*PASS\s*$`).MatchString(text) && !regexp.MustCompile(`(?m)^\s*FAIL\s*$`).MatchString(text)
	if !passed || strings.Contains(text, "--- FAIL") || !strings.Contains(text, "cgroup2 controllers:") {
		t.Fatalf("the TestCgroups tests in the v2 VM: %v\n%s", err, text)
	}
	for _, name := range cgroupTestsThatMustPass {
		if !strings.Contains(text, "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass in the VM (skipped?)", name)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the TestCgroups tests in the v2 VM:\n%s", text)
	}
}

func TestCgroupsInV2View(t *testing.T) {
	testutil.RequiresRoot(t)
	skipOnOtherHost(t)
	v2view := cgSharedTool(t, "bench/v2view")
	cmd := exec.Command(v2view, os.Args[0], "-test.run", cgroupTestsPattern, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TINCAN_OCI="+testutil.OCIBinary(t), "TINCAN_IN_OTHER_HOST=1")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil || strings.Contains(text, "--- FAIL") {
		t.Fatalf("the TestCgroups tests in v2view: %v\n%s", err, text)
	}
	// What v2view can do on any host: placement, freeze, kill, devices.
	for _, name := range []string{"TestCgroupsPlacement", "TestCgroupsPauseFreezes", "TestCgroupsDevices", "TestCgroupsKillAllAndForceDeletePaused"} {
		if !strings.Contains(text, "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass in v2view", name)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the TestCgroups tests in v2view:\n%s", text)
	}
}

// skipOnOtherHost skips a test that re-runs the suite elsewhere when it
// already runs elsewhere, or when the host is pure cgroup v2 itself.
func skipOnOtherHost(t *testing.T) {
	t.Helper()
	if os.Getenv("TINCAN_IN_OTHER_HOST") != "" {
		t.Skip("already on the other host")
	}
	if cgroups.DetectMode() == cgroups.Unified {
		t.Skip("the host is pure cgroup v2: the TestCgroups tests ran on it directly")
	}
}

// cgSharedTool returns a tool from ../shared beside the repository,
// skipping the test when it is not there.
func cgSharedTool(t *testing.T, name string) string {
	t.Helper()
	tool := filepath.Join(filepath.Dir(testutil.RepoRoot()), "shared", name)
	if _, err := os.Stat(tool); err != nil {
		t.Skipf("shared tool %s is not available: %v", tool, err)
	}
	return tool
}
