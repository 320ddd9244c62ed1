package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRootlessIDMaps(t *testing.T) {
	dir := t.TempDir()
	subuid := filepath.Join(dir, "subuid")
	subgid := filepath.Join(dir, "subgid")
	os.WriteFile(subuid, []byte("# comment\nother:100000:65536\n1000:200000:65536\n"), 0o644)
	os.WriteFile(subgid, []byte("1000:300000:1000\n"), 0o644)
	single := func(id uint32) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: id, Size: 1}}
	}

	// Without the setuid helpers only the caller's own ids can be mapped.
	t.Setenv("PATH", dir)
	uids, gids, err := rootlessIDMaps(1000, 1001, subuid, subgid)
	if err != nil || !slices.Equal(uids, single(1000)) || !slices.Equal(gids, single(1001)) {
		t.Fatalf("without newuidmap: %v %v %v", uids, gids, err)
	}

	for _, h := range []string{"newuidmap", "newgidmap"} {
		os.WriteFile(filepath.Join(dir, h), []byte("#!/bin/sh\n"), 0o755)
	}
	uids, gids, err = rootlessIDMaps(1000, 1000, subuid, subgid)
	if err != nil {
		t.Fatal(err)
	}
	wantU := append(single(1000), specs.LinuxIDMapping{ContainerID: 1, HostID: 200000, Size: 65536})
	wantG := append(single(1000), specs.LinuxIDMapping{ContainerID: 1, HostID: 300000, Size: 1000})
	if !slices.Equal(uids, wantU) || !slices.Equal(gids, wantG) {
		t.Fatalf("with ranges: %v %v", uids, gids)
	}
	// A range in one file only: the single mapping.
	uids, gids, err = rootlessIDMaps(1000, 1000, subuid, filepath.Join(dir, "missing"))
	if err != nil || !slices.Equal(uids, single(1000)) || !slices.Equal(gids, single(1000)) {
		t.Fatalf("without a gid range: %v %v %v", uids, gids, err)
	}
}

func TestMappedIDOptions(t *testing.T) {
	one := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	opts := []string{"nosuid", "gid=5", "uid=0", "mode=0620"}
	if got := mappedIDOptions(opts, one, one); !slices.Equal(got, []string{"nosuid", "uid=0", "mode=0620"}) {
		t.Fatalf("single mapping: %v", got)
	}
	ranged := append(one, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
	if got := mappedIDOptions(opts, ranged, ranged); !slices.Equal(got, opts) {
		t.Fatalf("with a range: %v", got)
	}
}

// A rootless container's upper directory gets the directories of a rootfs
// owned by ids its namespace does not map, and its mount points.
func TestPrepareRootlessUpperDirs(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	for _, d := range []string{"etc", "tmp", "usr/share", "ro/sub"} {
		os.MkdirAll(filepath.Join(lower, d), 0o755)
	}
	os.Chmod(filepath.Join(lower, "tmp"), os.ModeSticky|0o777)
	os.Chmod(filepath.Join(lower, "ro"), 0o555)
	os.Symlink("usr/share", filepath.Join(lower, "share"))
	os.WriteFile(filepath.Join(lower, "etc/passwd"), nil, 0o644)
	// The test runs as root: lower's owner is 0, which this map leaves out.
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	if err := mirrorUnmappedDirs(lower, upper, maps, maps); err != nil {
		t.Fatal(err)
	}
	for dir, mode := range map[string]os.FileMode{"etc": 0o755, "tmp": 0o777 | os.ModeSticky, "usr/share": 0o755, "ro": 0o555, "ro/sub": 0o755} {
		fi, err := os.Lstat(filepath.Join(upper, dir))
		if err != nil || !fi.IsDir() || fi.Mode()&(os.ModePerm|os.ModeSticky) != mode {
			t.Errorf("upper %s: %v %v, want a directory of mode %v", dir, fi, err, mode)
		}
	}
	if _, err := os.Lstat(filepath.Join(upper, "share")); !os.IsNotExist(err) {
		t.Errorf("a symlink of the rootfs became something in upper: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(upper, "etc/passwd")); !os.IsNotExist(err) {
		t.Errorf("a file was copied: %v", err)
	}
	// Mapped owners: nothing to do.
	upper2 := t.TempDir()
	root := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
	if err := mirrorUnmappedDirs(lower, upper2, root, root); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(upper2); len(entries) != 0 {
		t.Errorf("directories with mapped owners were made: %v", entries)
	}

	// Mount points: made where no layer has them, never under a symlink.
	for _, tc := range []struct {
		dest string
		file bool
	}{{"/etc/hosts", true}, {"/data/deep", false}, {"/share/x", false}, {"/etc/passwd", true}} {
		if err := makeUpperMountPoint(upper2, []string{lower}, tc.dest, tc.file); err != nil {
			t.Fatalf("%s: %v", tc.dest, err)
		}
	}
	if fi, err := os.Lstat(filepath.Join(upper2, "etc/hosts")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("etc/hosts: %v %v", fi, err)
	}
	if fi, err := os.Lstat(filepath.Join(upper2, "data/deep")); err != nil || !fi.IsDir() {
		t.Errorf("data/deep: %v %v", fi, err)
	}
	for _, p := range []string{"share", "etc/passwd"} {
		if _, err := os.Lstat(filepath.Join(upper2, p)); !os.IsNotExist(err) {
			t.Errorf("%s was made in upper: %v", p, err)
		}
	}
}
