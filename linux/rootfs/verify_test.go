package rootfs

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// The cwd checks need a root that is not the host's: a child (the test
// binary again) in a private mount namespace chroots into a directory that
// has a procfs, keeping a directory fd from outside, as a runtime that
// leaks an fd would.
const childEnv = "TINCAN_ROOTFS_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(cwdChild(dir))
	}
	os.Exit(m.Run())
}

func cwdChild(dir string) int {
	out := map[string]string{}
	report := func(name string, err error) {
		if err != nil {
			out[name] = err.Error()
		} else {
			out[name] = "ok"
		}
	}
	root := filepath.Join(dir, "root")
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return 2
	}
	if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", 0, ""); err != nil {
		return 2
	}
	outside, err := os.Open(filepath.Join(dir, "outside"))
	if err != nil {
		return 2
	}
	if err := unix.Chroot(root); err != nil {
		return 2
	}
	unix.Chdir("/")
	leaked := "/proc/self/fd/" + strconv.Itoa(int(outside.Fd()))
	report("enter leaked", EnterDir(leaked))
	report("enter inside", EnterDir("/dir"))
	report("check inside", CheckCwdInRoot())
	report("plain chdir leaked", unix.Chdir(leaked))
	report("check after plain chdir", CheckCwdInRoot())
	unix.Chdir("/")
	report("proc is proc", CheckMountedFS("/proc", "proc"))
	report("dir is proc", CheckMountedFS("/dir", "proc"))
	report("link to proc is proc", CheckMountedFS("/link", "proc"))
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

func TestCwdAndMountChecksInAChroot(t *testing.T) {
	testutil.RequiresRoot(t)
	dir := t.TempDir()
	for _, d := range []string{"root/proc", "root/dir", "outside"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/proc", filepath.Join(dir, "root/link")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	// Its own mount namespace: the procfs mount dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("child said %q: %v", data, err)
	}
	for name, want := range map[string]string{
		"enter leaked":            "too many levels of symbolic links",
		"enter inside":            "ok",
		"check inside":            "ok",
		"plain chdir leaked":      "ok",
		"check after plain chdir": "outside the container's root filesystem",
		"proc is proc":            "ok",
		"dir is proc":             "is not a proc mount",
		"link to proc is proc":    "check proc mount at /link",
	} {
		if g := got[name]; (want == "ok" && g != "ok") || (want != "ok" && !strings.Contains(g, want)) {
			t.Errorf("%s: %q, want %q", name, g, want)
		}
	}
}

func TestCheckFSTypeOnHost(t *testing.T) {
	for _, c := range []struct {
		path, fstype string
		ok           bool
	}{
		{"/proc", "proc", true}, {"/sys", "sysfs", true}, {"/proc", "sysfs", false},
		{t.TempDir(), "proc", false}, {"/proc", "ext4", false},
	} {
		f, err := os.OpenFile(c.path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckFSType(f, c.fstype)
		f.Close()
		if (err == nil) != c.ok {
			t.Errorf("CheckFSType(%s, %s) = %v, want ok %v", c.path, c.fstype, err, c.ok)
		}
	}
}
