package spec

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestRootfsPath(t *testing.T) {
	// Resolve the temporary directory itself: it may sit behind a symlink.
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(base, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink("bundle", link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, bundle, root string
	}{
		{"relative", bundle, "rootfs"},
		{"relative, unclean", bundle, "./x/../rootfs/"},
		{"absolute", "/nonexistent", rootfs},
		{"bundle behind a symlink", link, "rootfs"},
		{"absolute through a symlink", "", filepath.Join(link, "rootfs")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &specs.Spec{Root: &specs.Root{Path: tc.root}}
			got, err := RootfsPath(s, tc.bundle)
			if err != nil {
				t.Fatalf("RootfsPath: %v", err)
			}
			if got != rootfs {
				t.Errorf("RootfsPath = %q, want %q", got, rootfs)
			}
		})
	}
}

func TestRootfsPathRelativeToWorkingDirectory(t *testing.T) {
	bundle := newBundle(t)
	t.Chdir(bundle)
	want, err := filepath.EvalSymlinks(filepath.Join(bundle, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := RootfsPath(&specs.Spec{Root: &specs.Root{Path: "rootfs"}}, "")
	if err != nil || got != want {
		t.Errorf("RootfsPath with no bundle = %q, %v; want %q", got, err, want)
	}
}

func TestRootfsPathErrors(t *testing.T) {
	bundle := newBundle(t)
	_, err := RootfsPath(&specs.Spec{Root: &specs.Root{Path: "missing"}}, bundle)
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing rootfs: %v, want a not-found error", err)
	}
	for _, s := range []*specs.Spec{nil, {}, {Root: &specs.Root{}}} {
		if _, err := RootfsPath(s, bundle); !errdefs.IsInvalidArgument(err) {
			t.Errorf("RootfsPath(%+v) = %v, want an invalid-argument error", s, err)
		}
	}
}
