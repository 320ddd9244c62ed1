package images

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/image"
)

// inspect returns `tincan image inspect ref`.
func (e *env) inspect(ref string) image.InspectView {
	e.t.Helper()
	var views []image.InspectView
	out := e.must("image", "inspect", ref).stdout
	if err := json.Unmarshal([]byte(out), &views); err != nil || len(views) != 1 {
		e.t.Fatalf("inspect %s: %v: %s", ref, err, out)
	}
	return views[0]
}

// rootfs returns a directory showing image ref's root filesystem: its
// layers mounted read-only with overlayfs under a test directory (or the
// native snapshot itself), as a container's lower layers.
func (e *env) rootfs(ref string) string {
	e.t.Helper()
	v := e.inspect(ref)
	lower := v.GraphDriver.Data["LowerDir"]
	if lower == "" {
		e.t.Fatalf("image %s has no layers unpacked: %+v", ref, v.GraphDriver)
	}
	if v.GraphDriver.Name == "native" {
		return lower
	}
	if !strings.Contains(lower, ":") {
		lower += ":" + e.t.TempDir() // overlayfs wants two lowers without an upper
	}
	target := e.t.TempDir()
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+lower); err != nil {
		e.t.Fatalf("mount %s's layers: %v", ref, err)
	}
	e.t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			e.t.Errorf("unmount %s: %v", target, err)
		}
	})
	return target
}

// pushLayout copies a layout's tag to the registry with skopeo.
func pushLayout(t *testing.T, l *layout, tag, dest string, extra ...string) {
	t.Helper()
	args := append([]string{"copy", "--dest-tls-verify=false"}, extra...)
	skopeo(t, append(args, "oci:"+l.dir+":"+tag, "docker://"+dest)...)
}

// entries lists what a store directory holds (names), for "nothing left"
// checks.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// blobCount counts the content store's blobs.
func (e *env) blobs() []string {
	return entries(e.t, filepath.Join(e.data, "images", "blobs", "sha256"))
}

// snapshots lists the overlay snapshots (tmp excluded).
func (e *env) snapshots() []string {
	var out []string
	for _, n := range entries(e.t, filepath.Join(e.data, "storage", "overlay")) {
		if n != "tmp" {
			out = append(out, n)
		}
	}
	return out
}

// treeEntry is what the tree comparisons look at for one path.
type treeEntry struct {
	Mode     uint32
	UID, GID uint32
	Rdev     uint64
	Size     int64
	Content  string // sha256 of regular files
	Link     string
	Xattrs   string
	Linked   string // first path of the same inode (hardlinks)
	ModTime  int64
	IsDirent bool
}

// tree describes every path under root, skipping names in skip.
func tree(t *testing.T, root string, xattrs bool) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	inodes := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		e := treeEntry{Mode: st.Mode, UID: st.Uid, GID: st.Gid, IsDirent: d.IsDir()}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			e.Size = st.Size
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			e.Content = hex.EncodeToString(sum[:8])
			e.ModTime = st.Mtim.Sec
			if first, ok := inodes[st.Ino]; ok && st.Nlink > 1 {
				e.Linked = first
			} else {
				inodes[st.Ino] = rel
			}
		case unix.S_IFLNK:
			e.Link, _ = os.Readlink(p)
		case unix.S_IFCHR, unix.S_IFBLK:
			e.Rdev = st.Rdev
		}
		if xattrs {
			e.Xattrs = listXattrs(p)
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func listXattrs(p string) string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil || n == 0 {
		return ""
	}
	var parts []string
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if strings.HasPrefix(name, "trusted.overlay.") || name == "security.selinux" {
			continue
		}
		v := make([]byte, 256)
		m, _ := unix.Lgetxattr(p, name, v)
		parts = append(parts, fmt.Sprintf("%s=%x", name, v[:max(m, 0)]))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// sameTree fails on any difference between two trees.
func sameTree(t *testing.T, what string, got, want map[string]treeEntry) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			diffs = append(diffs, "missing "+p)
			continue
		}
		if p == "." {
			continue // the mount point's own attributes
		}
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: %+v, want %+v", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = diffs[:20]
		}
		t.Fatalf("%s differ:\n%s", what, strings.Join(diffs, "\n"))
	}
}
