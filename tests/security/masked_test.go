package security

import (
	"os"
	"strings"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
)

// TestMaskedPathsUnreadable reads, from the container, the masked paths
// (runc's default list) that have content on this host, and tries to
// unmount a mask.
func TestMaskedPathsUnreadable(t *testing.T) {
	var files []string
	for _, p := range []string{"/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug"} {
		if data, err := os.ReadFile(p); err == nil && len(data) > 0 {
			files = append(files, p)
		}
	}
	firmware, _ := os.ReadDir("/sys/firmware")
	if len(files) == 0 && len(firmware) == 0 {
		t.Skip("no masked path has content on this host: nothing to hide")
	}
	b := newBundle(t)
	script := "for f in " + strings.Join(files, " ") + "; do echo $f=$(wc -c < $f); done; " +
		"echo firmware=$(ls -A /sys/firmware | wc -l); " +
		"umount /proc/keys 2>/dev/null && echo umount=done || echo umount=refused"
	b.Spec.Process.Args = []string{"sh", "-c", script}
	b.Save(t)
	got := mustRun(t, testutil.NewRuntime(t), b)
	for _, f := range files {
		if got[f] != "0" {
			t.Errorf("%s: %s bytes readable in the container, want 0", f, got[f])
		}
	}
	if len(firmware) > 0 && got["firmware"] != "0" {
		t.Errorf("/sys/firmware: %s entries in the container, want 0", got["firmware"])
	}
	if got["umount"] != "refused" {
		t.Errorf("unmounting a mask: %q", got["umount"])
	}
}
