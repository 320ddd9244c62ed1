package security

import (
	"testing"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/landlock"
)

// TestLandlockDeniedRead gives the container a Landlock ruleset that
// allows reading /etc/passwd (and running /attack) only: reading
// /etc/group must fail with EACCES. The control run without the
// annotation reads both.
func TestLandlockDeniedRead(t *testing.T) {
	if landlock.ABI() == 0 {
		t.Skip("this kernel has no Landlock")
	}
	r := testutil.NewRuntime(t)
	b := newBundle(t, "read", "/etc/passwd", "/etc/group")
	control := mustRun(t, r, b)
	if control["read /etc/group"][:2] != "ok" {
		t.Fatalf("control: read /etc/group: %q", control["read /etc/group"])
	}
	b.Spec.Annotations = map[string]string{landlock.Annotation: `{"fs": [
		{"allow": ["read", "execute"], "paths": ["/attack"]},
		{"allow": ["read"], "paths": ["/etc/passwd"]}]}`}
	b.Save(t)
	got := mustRun(t, r, b)
	if got["read /etc/group"] != "EACCES" {
		t.Errorf("read /etc/group under Landlock: %q, want EACCES", got["read /etc/group"])
	}
	if v := got["read /etc/passwd"]; len(v) < 2 || v[:2] != "ok" {
		t.Errorf("read /etc/passwd under Landlock: %q, want ok", v)
	}
}

// TestLandlockBadAnnotation: a malformed annotation fails create, naming it.
func TestLandlockBadAnnotation(t *testing.T) {
	b := newBundle(t, "cwd")
	b.Spec.Annotations = map[string]string{landlock.Annotation: `{"fs": [{"allow": ["fly"], "paths": ["/"]}]}`}
	b.Save(t)
	expectCreateRefused(t, testutil.NewRuntime(t), b, landlock.Annotation)
}
