package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// userNSBundle makes a bundle with a new user namespace mapping container
// ids 0-65535 to host ids 100000-165535.
func userNSBundle(t *testing.T, args ...string) *testutil.Bundle {
	t.Helper()
	b := testutil.NewBundle(t, args...)
	reachable(b)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Save(t)
	return b
}

func TestUserNamespaceMappings(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := userNSBundle(t)
	out := outDir(t, b, "/out")
	shell(t, b, "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo hi > /out/file; mkdir /out/dir")
	r := testutil.NewRuntime(t)
	got := runOutput(t, r, b)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 4 || lines[0] != "0" || lines[1] != "0" {
		t.Fatalf("output %q, want uid 0, gid 0 and the two maps", got)
	}
	for i, m := range lines[2:] {
		if strings.Join(strings.Fields(m), " ") != "0 100000 65536" {
			t.Errorf("map %d inside = %q, want 0 100000 65536", i, m)
		}
	}
	for _, name := range []string{"file", "dir"} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 100000 || st.Gid != 100000 {
			t.Errorf("%s made by container root is owned by %d:%d on the host, want 100000:100000", name, st.Uid, st.Gid)
		}
	}
}

func TestUserNamespaceProcessUser(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := userNSBundle(t, "sleep", "100")
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000}}
	b.Save(t)
	r := testutil.NewRuntime(t)
	pid := runDetached(t, r, b, newID(t))
	if got := nsLink(t, pid, "user"); got == nsLink(t, 0, "user") {
		t.Errorf("the container's user namespace is the host's")
	}
	for field, want := range map[string]string{
		"Uid":    "101000\t101000\t101000\t101000",
		"Gid":    "101000\t101000\t101000\t101000",
		"Groups": "102000",
	} {
		if got := procStatusField(t, pid, field); got != want {
			t.Errorf("%s of the container process seen from the host = %q, want %q", field, got, want)
		}
	}
}

func TestUserNamespaceUnmappedUserFails(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	runFailCases(t, []failCase{
		{name: "uid outside the mapping", edit: func(t *testing.T, b *testutil.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
			b.Spec.Process.User.UID = 5000
			b.Save(t)
		}, want: []string{"5000"}},
		{name: "user namespace without mappings", edit: func(t *testing.T, b *testutil.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			b.Save(t)
		}, want: []string{"mappings"}},
	})
}

func TestJoinUserNamespace(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	holder := userNSHolder(t, 200000)
	want := nsLink(t, holder, "user")
	b := testutil.NewBundle(t, "sleep", "100")
	reachable(b)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces,
		specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/" + strconv.Itoa(holder) + "/ns/user"})
	b.Save(t)
	r := testutil.NewRuntime(t)
	pid := runDetached(t, r, b, newID(t))
	if got := nsLink(t, pid, "user"); got != want {
		t.Errorf("joined user namespace is %s, want the holder's %s", got, want)
	}
	if got := procStatusField(t, pid, "Uid"); !strings.HasPrefix(got, "200000\t") {
		t.Errorf("container root in the joined namespace is uid %q on the host, want 200000", got)
	}
}

// userNSHolder starts a sleep in a new user namespace mapping 0-65535 to
// hostID-hostID+65535 (unshare --map-users needs newuidmap, which the host
// may lack; as root the maps can be written directly) and returns its pid;
// it is killed at cleanup.
func userNSHolder(t *testing.T, hostID int) int {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: 65536}},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// reachable lets a user namespace's root, an unmapped user on the host,
// reach the bundle: t.TempDir's parent directory is 0700 (runc fails the
// same way, with "permission denied" binding the rootfs).
func reachable(b *testutil.Bundle) {
	os.Chmod(filepath.Dir(b.Dir), 0o755)
}
