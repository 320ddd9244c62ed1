package seccompprofile

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/seccomp"
)

// A filter cannot be removed, so the kernel test loads the default profile
// in a child (the test binary again) which makes the probes and prints
// their errnos as JSON.
const childEnv = "TINCAN_SECCOMPPROFILE_CHILD"

func TestMain(m *testing.M) {
	if caps := os.Getenv(childEnv); caps != "" {
		os.Exit(childProbe(caps))
	}
	os.Exit(m.Run())
}

// probes are the calls the child makes under the filter, by name.
var probes = map[string]func() unix.Errno{
	"getpid": func() unix.Errno { return rawErr(unix.SYS_GETPID, 0, 0, 0) },
	"keyctl": func() unix.Errno {
		// KEYCTL_GET_KEYRING_ID of the session keyring.
		return rawErr(unix.SYS_KEYCTL, 0, uintptr(0xfffffffd), 0)
	},
	"add_key":       func() unix.Errno { return rawErr(unix.SYS_ADD_KEY, 0, 0, 0) },
	"unshare-user":  func() unix.Errno { return rawErr(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0) },
	"unshare-files": func() unix.Errno { return rawErr(unix.SYS_UNSHARE, unix.CLONE_FILES, 0, 0) },
	// The probes run on the host: an allowed call must change nothing. A
	// mount of a filesystem type that does not exist on a target that does
	// not exist fails after the filter (ENOENT/ENODEV) when allowed, and
	// with the filter's EPERM when not.
	"mount": func() unix.Errno {
		return errnoOf(unix.Mount("none", "/nonexistent-tincan-probe", "tincan-no-such-fs", 0, ""))
	},
	"socket-inet":     socketProbe(unix.AF_INET),
	"socket-unix":     socketProbe(unix.AF_UNIX),
	"socket-netlink":  socketProbe(unix.AF_NETLINK),
	"socket-alg":      socketProbe(unix.AF_ALG),
	"socket-vsock":    socketProbe(unix.AF_VSOCK),
	"socket-decnet":   socketProbe(unix.AF_DECnet),
	"personality-get": func() unix.Errno { return rawErr(unix.SYS_PERSONALITY, 0xffffffff, 0, 0) },
	"personality-bsd": func() unix.Errno { return rawErr(unix.SYS_PERSONALITY, 0x0006, 0, 0) },
	"clone3":          func() unix.Errno { return rawErr(unix.SYS_CLONE3, 0, 0, 0) },
	"chroot":          func() unix.Errno { return errnoOf(unix.Chroot("/")) },
	"clone-newuser": func() unix.Errno {
		// Only the filter's verdict matters: with the namespace flag the
		// filter refuses before the kernel would create anything; without
		// it, a child would be made, so the probe uses invalid flags the
		// kernel rejects with EINVAL after the filter let them through.
		return rawErr(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_THREAD, 0, 0)
	},
	"clone-plain-invalid": func() unix.Errno { return rawErr(unix.SYS_CLONE, unix.CLONE_THREAD, 0, 0) },
}

func socketProbe(family int) func() unix.Errno {
	return func() unix.Errno {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
			return 0
		}
		// The filter let it through when the kernel says anything else.
		if err == unix.EPERM {
			return unix.EPERM
		}
		return 0
	}
}

func rawErr(nr, a1, a2, a3 uintptr) unix.Errno {
	_, _, e := unix.RawSyscall(nr, a1, a2, a3)
	return e
}

func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EINVAL
}

func childProbe(caps string) int {
	runtime.LockOSThread()
	var list []string
	if caps != "none" {
		list = strings.Split(caps, ",")
	}
	prog, _, err := seccomp.Compile(ForCaps(list, runtime.GOARCH))
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 2
	}
	if _, err := seccomp.Load(prog); err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	out := map[string]int{}
	for name, probe := range probes {
		out[name] = int(probe())
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

func runProbes(t *testing.T, caps string) map[string]unix.Errno {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+caps)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	var raw map[string]int
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("child output %q: %v", data, err)
	}
	out := map[string]unix.Errno{}
	for k, v := range raw {
		out[k] = unix.Errno(v)
	}
	return out
}

// TestDefaultProfileInKernel loads the resolved default profile and checks
// per syscall and argument condition what the kernel answers.
func TestDefaultProfileInKernel(t *testing.T) {
	got := runProbes(t, "none")
	want := map[string]unix.Errno{
		"getpid": 0, "keyctl": unix.EPERM, "add_key": unix.EPERM,
		"unshare-user": unix.EPERM, "unshare-files": unix.EPERM, "mount": unix.EPERM,
		"socket-inet": 0, "socket-unix": 0, "socket-netlink": 0,
		"socket-alg": unix.EPERM, "socket-vsock": unix.EPERM, "socket-decnet": unix.EPERM,
		"personality-get": 0, "personality-bsd": unix.EPERM,
		"clone3": unix.ENOSYS, "chroot": unix.EPERM,
		"clone-newuser": unix.EPERM, "clone-plain-invalid": unix.EINVAL,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: errno %d (%v), want %d (%v)", name, got[name], got[name], w, w)
		}
	}

	// With CAP_SYS_ADMIN and CAP_SYS_CHROOT in the set, the gated calls
	// pass the filter (and reach the kernel, which answers for itself).
	got = runProbes(t, "CAP_SYS_ADMIN,CAP_SYS_CHROOT")
	for _, name := range []string{"unshare-files", "chroot", "clone-newuser"} {
		if got[name] == unix.EPERM {
			t.Errorf("%s with CAP_SYS_ADMIN/CAP_SYS_CHROOT: EPERM from the filter", name)
		}
	}
	if got["clone3"] == unix.ENOSYS {
		t.Error("clone3 with CAP_SYS_ADMIN: still ENOSYS")
	}
	if got["keyctl"] != unix.EPERM {
		t.Errorf("keyctl with CAP_SYS_ADMIN: %v, want EPERM", got["keyctl"])
	}
}
