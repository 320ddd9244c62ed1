package images

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	se "github.com/tincan/tincan/storage/storagetest"
)

// TestPullUnpacks pulls the feature image (pushed by skopeo) and checks
// the unpacked root filesystem through an overlay mount: owners, modes,
// hardlinks, symlinks, devices, xattrs, capabilities, whiteouts, the
// opaque directory and the zstd layer.
func TestPullUnpacks(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(featureImage(t)), "v1")
	ref := reg.Host + "/feature:v1"
	pushLayout(t, l, "v1", ref)

	out := e.must("pull", ref)
	if got := strings.TrimSpace(out.stdout); got != ref {
		t.Fatalf("pull printed %q, want %q", got, ref)
	}
	if d, _ := rawDigest(t, ref); e.inspect(ref).Digest != d {
		t.Fatalf("tincan pulled manifest %s, skopeo reads %s", e.inspect(ref).Digest, d)
	}
	root := e.rootfs(ref)
	check := func(rel string, typ, perm uint32, uid, gid int) *unix.Stat_t {
		t.Helper()
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, rel), &st); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if st.Mode&unix.S_IFMT != typ || (perm != 0 && st.Mode&0o7777 != perm) || int(st.Uid) != uid || int(st.Gid) != gid {
			t.Fatalf("%s: mode %o uid %d gid %d; want type %o perm %o uid %d gid %d", rel, st.Mode, st.Uid, st.Gid, typ, perm, uid, gid)
		}
		return &st
	}
	a := check("data/a", unix.S_IFREG, 0o640, 1000, 1000)
	b := check("data/b", unix.S_IFREG, 0o640, 1000, 1000)
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Fatalf("data/b is not a hardlink of data/a (inodes %d %d, nlink %d)", a.Ino, b.Ino, a.Nlink)
	}
	check("data/suid", unix.S_IFREG, 0o4755, 0, 0)
	if dev := check("data/null", unix.S_IFCHR, 0o666, 0, 0); dev.Rdev != unix.Mkdev(1, 3) {
		t.Fatalf("data/null is device %x", dev.Rdev)
	}
	check("data/fifo", unix.S_IFIFO, 0o600, 0, 0)
	for link, target := range map[string]string{"data/abs": "/data/a", "data/rel": "a"} {
		if got, err := os.Readlink(filepath.Join(root, link)); err != nil || got != target {
			t.Fatalf("%s -> %q, %v; want %q", link, got, err, target)
		}
	}
	for rel, want := range map[string]string{"data/a": "hello", "data/dir/upper": "upper", "opt/keep/k": "k",
		"zstd/hello": "from a zstd layer", "etc/motd": "built by tincan's tests\n"} {
		if got, err := os.ReadFile(filepath.Join(root, rel)); err != nil || string(got) != want {
			t.Fatalf("%s holds %q, %v; want %q", rel, got, err, want)
		}
	}
	for _, gone := range []string{"data/old", "opt/gone", "data/dir/lower"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Fatalf("%s should be whited out: %v", gone, err)
		}
	}
	xattr := func(rel, name string) string {
		buf := make([]byte, 64)
		n, err := unix.Lgetxattr(filepath.Join(root, rel), name, buf)
		if err != nil {
			t.Fatalf("%s xattr %s: %v", rel, name, err)
		}
		return string(buf[:n])
	}
	if got := xattr("data/a", "user.test"); got != "xattr value" {
		t.Fatalf("data/a user.test = %q", got)
	}
	if got := xattr("data/ping", "security.capability"); got != capV2() {
		t.Fatalf("data/ping capability = %x", got)
	}
	// The root filesystem works: busybox runs from it.
	chroot := exec.Command("chroot", root, "/bin/cat", "/etc/motd")
	if got, err := chroot.Output(); err != nil || string(got) != "built by tincan's tests\n" {
		t.Fatalf("busybox in the unpacked image: %q, %v", got, err)
	}
}

// TestPullMatchesUmoci cross-checks the unpacked tree with umoci's unpack
// of the same image (copied out of the registry by skopeo).
func TestPullMatchesUmoci(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	img := featureImage(t)
	img.Compression = nil // umoci 0.4 reads no zstd
	l.tag(l.image(img), "v1")
	ref := reg.Host + "/feature:v1"
	pushLayout(t, l, "v1", ref)
	e.must("pull", "-q", ref)
	ours := tree(t, e.rootfs(ref), true)

	oci := filepath.Join(t.TempDir(), "oci")
	skopeo(t, "copy", "--src-tls-verify=false", "docker://"+ref, "oci:"+oci+":v1")
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "umoci", "unpack", "--image", oci+":v1", bundle)
	theirs := tree(t, filepath.Join(bundle, "rootfs"), true)
	sameTree(t, "tincan's and umoci's unpacked trees", ours, theirs)
}

// TestPullSharesLayers: two images with the same base share its blob and
// snapshot; the second pull downloads only what differs.
func TestPullSharesLayers(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	base := busyboxLayer(t)
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{base, se.Layer(t, se.File("one", "1"))}, Config: ocispec.ImageConfig{Cmd: []string{"sh"}}}), "one")
	l.tag(l.image(testImage{Layers: [][]byte{base, se.Layer(t, se.File("two", "2"))}, Config: ocispec.ImageConfig{Cmd: []string{"sh"}}}), "two")
	pushLayout(t, l, "one", reg.Host+"/one:latest")
	pushLayout(t, l, "two", reg.Host+"/two:latest")

	e.must("pull", reg.Host+"/one")
	blobs1, snaps1 := len(e.blobs()), len(e.snapshots())
	second := e.must("pull", reg.Host+"/two")
	if !strings.Contains(second.stderr, "Already exists") {
		t.Fatalf("the shared base layer was downloaded again:\n%s", second.stderr)
	}
	// manifest + config + top layer are new; the base blob and snapshot are shared.
	if got := len(e.blobs()); got != blobs1+3 {
		t.Fatalf("%d blobs after the second pull, want %d", got, blobs1+3)
	}
	if got := len(e.snapshots()); got != snaps1+1 || snaps1 != 2 {
		t.Fatalf("%d snapshots after the second pull (%d after the first), want 3 (2)", got, snaps1)
	}
	if _, err := os.Stat(filepath.Join(e.rootfs(reg.Host+"/two"), "bin/busybox")); err != nil {
		t.Fatal(err)
	}
}

// TestPullPlatform pulls from a multi-platform index: this host's image
// by default, another with --platform, an error for one it lacks.
func TestPullPlatform(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	host := l.image(testImage{Layers: [][]byte{busyboxLayer(t), se.Layer(t, se.File("arch", runtime.GOARCH))}})
	other := l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("arch", "riscv64"))},
		Platform: ocispec.Platform{OS: "linux", Architecture: "riscv64"}})
	l.tag(l.indexOf(host, other), "multi")
	ref := reg.Host + "/multi:latest"
	pushLayout(t, l, "multi", ref, "--all")

	e.must("pull", ref)
	if got, _ := os.ReadFile(filepath.Join(e.rootfs(ref), "arch")); string(got) != runtime.GOARCH {
		t.Fatalf("default platform pulled %q", got)
	}
	v := e.inspect(ref)
	if v.IndexDigest == "" || v.Architecture != runtime.GOARCH {
		t.Fatalf("inspect: index %q arch %q", v.IndexDigest, v.Architecture)
	}

	e2 := newEnv(t)
	e2.must("pull", "--platform", "linux/riscv64", ref)
	if got, _ := os.ReadFile(filepath.Join(e2.rootfs(ref), "arch")); string(got) != "riscv64" {
		t.Fatalf("--platform linux/riscv64 pulled %q", got)
	}
	if v := e2.inspect(ref); v.Architecture != "riscv64" {
		t.Fatalf("inspect architecture %q", v.Architecture)
	}
	e2.fails("no image for platform linux/s390x", "pull", "--platform", "linux/s390x", ref)
	e2.fails("invalid platform", "pull", "--platform", "a/b/c/d", ref)
}

// TestPullDockerMediaTypes pulls an image and an index that skopeo
// converted to Docker's v2 schema 2 media types, by tag and by digest.
func TestPullDockerMediaTypes(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	img := l.image(testImage{Layers: [][]byte{busyboxLayer(t)}, Config: ocispec.ImageConfig{Cmd: []string{"sh"}}})
	l.tag(img, "v1")
	l.tag(l.indexOf(img), "list")
	pushLayout(t, l, "v1", reg.Host+"/docker:v1", "--format", "v2s2")
	pushLayout(t, l, "list", reg.Host+"/docker:list", "--format", "v2s2", "--all")

	e.must("pull", reg.Host+"/docker:v1")
	if v := e.inspect(reg.Host + "/docker:v1"); v.MediaType != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Fatalf("media type %q", v.MediaType)
	}
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/docker:list")
	if !strings.Contains(raw, "manifest.list.v2+json") {
		t.Fatalf("skopeo did not push a manifest list: %s", raw)
	}
	sum := sha256.Sum256([]byte(raw))
	pinned := reg.Host + "/docker@sha256:" + hex.EncodeToString(sum[:])
	e.must("pull", pinned)
	v := e.inspect(pinned)
	if v.IndexDigest != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("pulled by digest: index digest %q", v.IndexDigest)
	}
	// The same image by two references: one record.
	if ids := strings.Fields(e.must("images", "-q").stdout); len(ids) != 1 {
		t.Fatalf("images -q: %v", ids)
	}
}

// rawLayer builds a layer of one entry of type typ
// (for entries that must be refused).
func rawLayer(t *testing.T, name string, typ byte, link string) []byte {
	return se.Layer(t, se.Entry{Name: name, Type: typ, Linkname: link})
}

// TestPullRefusesEscapes: a layer with "../" or a hardlink out of the
// root fails the pull, and nothing of it is kept.
func TestPullRefusesEscapes(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{rawLayer(t, "../../escape", tar.TypeReg, "")}}), "dotdot")
	l.tag(l.image(testImage{Layers: [][]byte{rawLayer(t, "link", tar.TypeLink, "../../../etc/passwd")}}), "hardlink")
	for _, tag := range []string{"dotdot", "hardlink"} {
		pushLayout(t, l, tag, reg.Host+"/evil:"+tag)
		e.fails("escapes the layer root", "pull", reg.Host+"/evil:"+tag)
	}
	if imgs := entries(t, filepath.Join(e.data, "images", "meta")); len(imgs) != 0 {
		t.Fatalf("images recorded: %v", imgs)
	}
	if snaps := e.snapshots(); len(snaps) != 0 {
		t.Fatalf("snapshots kept: %v", snaps)
	}
}
