package security

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

const capSysAdmin = 21

// TestRaiseDroppedCapability: a root process with runc's three default
// capabilities tries to get CAP_SYS_ADMIN back (capset, the ambient set)
// and to use it (sethostname, mount).
func TestRaiseDroppedCapability(t *testing.T) {
	got := mustRun(t, testutil.NewRuntime(t), newBundle(t, "raise-cap"))
	for _, k := range []string{"capset", "ambient-raise", "sethostname", "mount"} {
		if got[k] != "EPERM" {
			t.Errorf("%s: %q, want EPERM", k, got[k])
		}
	}
	for _, set := range []string{"CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"} {
		v, err := strconv.ParseUint(got[set], 16, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", set, got[set], err)
		}
		if v&(1<<capSysAdmin) != 0 {
			t.Errorf("%s = %#x has CAP_SYS_ADMIN", set, v)
		}
	}
}

// TestSetuidWithNoNewPrivileges runs a setuid-root copy of the attack
// program as user 1000: with no_new_privs the setuid bit must not take
// effect. The control run without no_new_privs shows that it would.
func TestSetuidWithNoNewPrivileges(t *testing.T) {
	r := testutil.NewRuntime(t)
	b := newBundle(t, "ids")
	copyFile(t, filepath.Join(b.Rootfs(), "attack"), filepath.Join(b.Rootfs(), "suid-attack"), 0o4755|os.ModeSetuid)
	b.Spec.Process.Args = []string{"/suid-attack", "ids"}
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.Spec.Process.NoNewPrivileges = true
	b.Save(t)
	got := mustRun(t, r, b)
	if got["uid"] != "1000" || got["euid"] != "1000" {
		t.Errorf("with no_new_privs: uid %s euid %s, want 1000 and 1000", got["uid"], got["euid"])
	}
	b.Spec.Process.NoNewPrivileges = false
	b.Save(t)
	if got := mustRun(t, r, b); got["euid"] != "0" {
		t.Fatalf("control without no_new_privs: euid %q, want 0: the setuid bit does not work here, so the test proves nothing", got["euid"])
	}
}

// TestDefaultSeccompProfileBlocks runs the attack program under tincan's
// default seccomp profile (Docker's): keyctl, unshare(CLONE_NEWUSER),
// mount and AF_ALG sockets fail with EPERM. The control run without the
// profile shows the kernel answering keyctl and unshare itself (unshare
// says EINVAL there: the Go program is multithreaded).
func TestDefaultSeccompProfileBlocks(t *testing.T) {
	r := testutil.NewRuntime(t)
	b := newBundle(t, "syscalls")
	control := mustRun(t, r, b)
	if control["keyctl"] != "ok" || control["unshare-user"] == "EPERM" {
		t.Fatalf("control without seccomp: keyctl %q, unshare-user %q: want ok and not EPERM, else the test proves nothing",
			control["keyctl"], control["unshare-user"])
	}
	withDefaultSeccomp(t, b)
	got := mustRun(t, r, b)
	for _, k := range []string{"keyctl", "unshare-user", "mount", "socket-alg"} {
		if got[k] != "EPERM" {
			t.Errorf("%s under the default profile: %q, want EPERM", k, got[k])
		}
	}
	if got["getpid"] != "ok" {
		t.Errorf("getpid under the default profile: %q", got["getpid"])
	}
}

// TestDefaultSeccompProfileRunsAShell checks that ordinary work is not
// hindered by the profile: files, directories, pipes, processes.
func TestDefaultSeccompProfileRunsAShell(t *testing.T) {
	b := newBundle(t)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	b.Spec.Process.Args = []string{"sh", "-c",
		"echo hello > /tmp/f && mkdir /tmp/d && mv /tmp/f /tmp/d/g && cat /tmp/d/g | tr a-z A-Z && " +
			"ls / | grep -c bin && (sleep 0 &) && wait && rm -r /tmp/d && id -u && date +%Y > /dev/null && echo done"}
	b.Save(t)
	withDefaultSeccomp(t, b)
	res := run(t, testutil.NewRuntime(t), b)
	if res.Code != 0 {
		t.Fatalf("shell under the default profile: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	if want := "HELLO\n1\n0\ndone\n"; res.Stdout != want {
		t.Errorf("shell under the default profile printed %q, want %q", res.Stdout, want)
	}
	if strings.Contains(res.Stderr, "Operation not permitted") {
		t.Errorf("something was refused: %s", res.Stderr)
	}
}
