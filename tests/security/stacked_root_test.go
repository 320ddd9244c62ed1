package security

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
)

// TestHostRootNotReachableWhenSomethingIsStackedOnIt runs a container from a
// mount namespace where a tmpfs is stacked on / (made in a private mount
// namespace of the test's own, never on the host). pivot_root then leaves
// the old root two mounts deep; detaching only the top one would leave the
// host's root reachable from the container as "/.." (runc 1.1.5 does). In
// the container, /.. must be / itself.
func TestHostRootNotReachableWhenSomethingIsStackedOnIt(t *testing.T) {
	testutil.RequiresRoot(t)
	b := testutil.NewBundle(t, "sh", "-c", "stat -c '%d:%i' / /..")
	r := testutil.NewRuntime(t)
	script := `mount -t tmpfs none / && exec "$0" --root "$1" run --bundle "$2" stacked`
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		r.Bin, r.Root, b.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("run under a stacked root: %v: %s", err, out)
	}
	ids := strings.Fields(string(out))
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Fatalf("in the container / and /.. differ (%q): the old root is still reachable", out)
	}
}
