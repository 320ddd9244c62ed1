package engine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/testutil"
)

func TestMountsAt(t *testing.T) {
	c := &RunConfig{
		Mounts: []MountSpec{{Source: "/host", Destination: "/data/"}},
		Tmpfs:  map[string]string{"/cache": ""},
	}
	for dest, want := range map[string]bool{"/data": true, "/cache": true, "/data/sub": false, "/vol": false} {
		if got := mountsAt(c, dest); got != want {
			t.Errorf("mountsAt(%s) = %v, want %v", dest, got, want)
		}
	}
}

// TestCheckOverlayOptions: an image whose layer paths overflow the one
// page mount(2) takes is refused up front, naming the layer count.
func TestCheckOverlayOptions(t *testing.T) {
	layer := "/var/lib/tincan/storage/overlay/" + strings.Repeat("a", 64) + "/diff"
	dir := "/var/lib/tincan/containers/" + strings.Repeat("b", 64)
	if err := checkOverlayOptions([]string{layer, layer, layer}, dir); err != nil {
		t.Fatalf("3 layers: %v", err)
	}
	many := make([]string, 60)
	for i := range many {
		many[i] = layer
	}
	err := checkOverlayOptions(many, dir)
	if !errors.Is(err, errdefs.ErrUnsupported) || !strings.Contains(err.Error(), "60 layers") {
		t.Fatalf("60 layers: %v", err)
	}
}

// TestResolveUserInLayers: names come from the topmost /etc/passwd and
// /etc/group of an image's layers; a whiteout hides a lower file.
func TestResolveUserInLayers(t *testing.T) {
	testutil.RequiresRoot(t)
	base, mid, top := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(base, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nold:x:1:1::/old:/bin/sh\n")
	write(base, "etc/group", "root:x:0:\nstaff:x:50:app\n")
	write(mid, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:4242:4343:app:/home/app:/bin/sh\n")
	write(mid, "etc/group", "root:x:0:\nappgrp:x:4343:\nextra:x:5555:app\n")
	if err := os.MkdirAll(filepath.Join(top, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	layers := []string{top, mid, base}

	u, err := resolveUserInLayers(layers, "app")
	if err != nil {
		t.Fatal(err)
	}
	if u.uid != 4242 || u.gid != 4343 || u.home != "/home/app" || !reflect.DeepEqual(u.groups, []uint32{5555}) {
		t.Fatalf("app: %+v", u)
	}
	if _, err := resolveUserInLayers(layers, "old"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a user of a replaced passwd file: %v", err)
	}
	// The top layer deletes /etc/group: group names no longer resolve.
	if err := unix.Mknod(filepath.Join(top, "etc/group"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveUserInLayers(layers, "app:extra"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a group of a deleted group file: %v", err)
	}
	if u, err := resolveUserInLayers(layers, "app:7"); err != nil || u.gid != 7 || u.groups != nil {
		t.Fatalf("app:7 without a group file: %+v, %v", u, err)
	}
}

func TestParseEnvBareKey(t *testing.T) {
	t.Setenv("TINCAN_TEST_SET", "from-caller")
	os.Unsetenv("TINCAN_TEST_UNSET")
	got, err := ParseEnv([]string{"A=1", "TINCAN_TEST_SET", "TINCAN_TEST_UNSET"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "TINCAN_TEST_SET=from-caller", "TINCAN_TEST_UNSET"}
	if !slices.Equal(got, want) {
		t.Errorf("ParseEnv: %q, want %q", got, want)
	}
	if env := mergeEnv([]string{"PATH=/bin", "TINCAN_TEST_UNSET=x"}, got); !slices.Equal(env, []string{"PATH=/bin", "A=1", "TINCAN_TEST_SET=from-caller"}) {
		t.Errorf("mergeEnv with a bare key: %q", env)
	}
}
