package integration

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// defaultDevices are the nodes the runtime-spec requires, as
// "name major:minor" with the numbers in hex as stat %t:%T prints them.
var defaultDevices = []string{
	"/dev/null 1:3", "/dev/zero 1:5", "/dev/full 1:7",
	"/dev/random 1:8", "/dev/urandom 1:9", "/dev/tty 5:0",
}

const devScript = `for d in null zero full random urandom tty; do stat -c '/dev/%n %t:%T %F %a' /dev/$d; done | sed 's|/dev//dev/|/dev/|'
echo x > /dev/null && head -c 4 /dev/zero | wc -c && (echo x > /dev/full) 2>&1 | grep -c 'No space'
for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done`

// checkDevices checks devScript's output.
func checkDevices(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 13 {
		t.Fatalf("output %q", out)
	}
	for i, want := range defaultDevices {
		f := strings.Fields(lines[i])
		// stat %F says "character special file".
		if len(f) < 4 || f[0]+" "+f[1] != want || f[2] != "character" || f[len(f)-1] != "666" {
			t.Errorf("device %q, want %s, a character device, mode 666", lines[i], want)
		}
	}
	if lines[6] != "4" || lines[7] != "1" {
		t.Errorf("using null, zero and full: %q", lines[6:8])
	}
	want := []string{"pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"}
	for i, w := range want {
		if lines[8+i] != w {
			t.Errorf("symlink %d = %q, want %q", i, lines[8+i], w)
		}
	}
}

func TestDefaultDevices(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", devScript)
	r := testutil.NewRuntime(t)
	checkDevices(t, runOutput(t, r, b))
}

func TestDefaultDevicesInUserNamespace(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// mknod is not allowed in a user namespace: the nodes are bound from
	// the host, and must still be the right devices.
	b := userNSBundle(t, "sh", "-c", devScript)
	r := testutil.NewRuntime(t)
	checkDevices(t, runOutput(t, r, b))
}

func TestConfiguredDevice(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	mode := os.FileMode(0o600)
	b := testutil.NewBundle(t, "sh", "-c", `stat -c '%t:%T %a %u %g %F' /dev/fuse /dev/sub/dir/loopx`)
	b.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: u32(1000), GID: u32(1001)},
		{Path: "/dev/sub/dir/loopx", Type: "b", Major: 7, Minor: 200},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "a:e5 600 1000 1001 character special file" {
		t.Errorf("/dev/fuse: %q, want 10:229 (a:e5 in hex) mode 600 uid 1000 gid 1001, a character device", out)
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "7:c8 ") || !strings.HasSuffix(lines[1], "block special file") {
		t.Errorf("/dev/sub/dir/loopx: %q, want block device 7:200 (7:c8 in hex) in a created directory", out)
	}
}
