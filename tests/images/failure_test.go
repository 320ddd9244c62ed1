package images

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	se "github.com/tincan/tincan/storage/storagetest"
)

// bigImage is busybox plus a layer with size bytes of random data (which
// gzip cannot shrink); it returns the digest and size of that layer's blob.
func bigImage(t *testing.T, l *layout, tag string, size int) (string, int64) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	desc := l.image(testImage{Layers: [][]byte{busyboxLayer(t), se.Layer(t, se.File("big", string(data)))}})
	l.tag(desc, tag)
	var m ocispec.Manifest
	raw, err := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", desc.Digest.Encoded()))
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m.Layers[1].Digest.String(), m.Layers[1].Size
}

// nothingVisible checks that no image, name, snapshot or staging
// directory is left, and that blob digest is not stored.
func (e *env) nothingVisible(digest string) {
	e.t.Helper()
	if got := entries(e.t, filepath.Join(e.data, "images", "meta")); len(got) != 0 {
		e.t.Fatalf("image records left: %v", got)
	}
	if out := e.must("images", "-q").stdout; out != "" {
		e.t.Fatalf("images listed: %s", out)
	}
	if _, err := os.Stat(filepath.Join(e.data, "images", "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))); !os.IsNotExist(err) {
		e.t.Fatalf("blob %s is visible: %v", digest, err)
	}
	if got := entries(e.t, filepath.Join(e.data, "storage", "overlay", "tmp")); len(got) != 0 {
		e.t.Fatalf("staging directories left: %v", got)
	}
}

// noPartial checks that no partial download of digest is kept. (Others,
// cancelled when this one failed, are kept for a later pull to resume.)
func (e *env) noPartial(digest string) {
	e.t.Helper()
	name := strings.Replace(digest, ":", "-", 1)
	if slices.Contains(entries(e.t, filepath.Join(e.data, "images", "ingest")), name) {
		e.t.Fatalf("the partial download of %s was kept", digest)
	}
}

// TestPullResumes kills a pull in the middle of a layer and checks that
// nothing corrupt is visible, then that the next pull resumes the layer
// with a range request.
func TestPullResumes(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	px := startProxy(t, reg.Host)
	l := newLayout(t)
	big, bigBlobSize := bigImage(t, l, "v1", 8<<20)
	pushLayout(t, l, "v1", reg.Host+"/big:v1")
	const cut = 3 << 20
	px.set(func() { px.stall[big] = cut })

	pull := e.cmd("pull", "-q", px.Host+"/big:v1")
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	ingest := filepath.Join(e.data, "images", "ingest", strings.Replace(big, ":", "-", 1))
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(ingest); err == nil && fi.Size() == cut {
			break
		}
		if time.Now().After(deadline) {
			pull.Process.Kill()
			pull.Wait()
			t.Fatalf("the partial download never reached %d bytes", cut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pull.Process.Kill() // the pull we started, by its pid
	pull.Wait()
	if fi, err := os.Stat(ingest); err != nil || fi.Size() != cut {
		t.Fatalf("partial download after the kill: %v", err)
	}
	if got := entries(t, filepath.Join(e.data, "images", "meta")); len(got) != 0 {
		t.Fatalf("image records after a killed pull: %v", got)
	}
	if _, err := os.Stat(filepath.Join(e.data, "images", "blobs", "sha256", strings.TrimPrefix(big, "sha256:"))); !os.IsNotExist(err) {
		t.Fatalf("a partial blob is visible: %v", err)
	}

	px.set(func() { delete(px.stall, big) })
	e.must("pull", "-q", px.Host+"/big:v1")
	// (The base layer may have been cut short by the kill too, and resumed.)
	want := fmt.Sprintf("%s bytes=%d-%d -> 206", big, cut, bigBlobSize-1)
	if got := px.rangesSeen(); !slices.Contains(got, want) {
		t.Fatalf("range requests %v, want %s among them", got, want)
	}
	if fi, err := os.Stat(filepath.Join(e.rootfs(px.Host+"/big:v1"), "big")); err != nil || fi.Size() != 8<<20 {
		t.Fatalf("the resumed layer's file: %v", err)
	}
	if _, err := os.Stat(ingest); !os.IsNotExist(err) {
		t.Fatalf("the partial download is still there: %v", err)
	}
}

// TestPullDigestMismatch: a corrupted layer fails the pull with a digest
// error and leaves nothing behind, not even the partial download.
func TestPullDigestMismatch(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	px := startProxy(t, reg.Host)
	l := newLayout(t)
	big, _ := bigImage(t, l, "v1", 1<<20)
	pushLayout(t, l, "v1", reg.Host+"/big:v1")
	px.set(func() { px.corrupt[big] = true })
	e.fails("digest mismatch", "pull", px.Host+"/big:v1")
	e.nothingVisible(big)
	e.noPartial(big)
	// The registry itself was fine: pulling without the proxy works.
	e.must("pull", "-q", reg.Host+"/big:v1")
}

// TestPullErrors: unknown images, bad references, a registry that is not
// there: one clear line each, exit status 125, nothing stored.
func TestPullErrors(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("f", "x"))}}), "v1")
	pushLayout(t, l, "v1", reg.Host+"/there:v1")
	down := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, tc := range []struct{ ref, want string }{
		{reg.Host + "/nope:v1", "not found in registry"},
		{reg.Host + "/there:v2", "not found in registry"},
		{reg.Host + "/there@sha256:" + strings.Repeat("0", 64), "not found in registry"},
		{"Bad/Name", "repository names must be lowercase"},
		{"x@sha256:zzz", "invalid reference"},
		{"a:b:c", "invalid reference"},
		{strings.Repeat("0123456789abcdef", 4), "image ids, not names"},
		{down + "/x:v1", "unreachable"},
	} {
		line := e.fails(tc.want, "pull", tc.ref)
		if r := e.tincan("pull", tc.ref); r.code != 125 {
			t.Errorf("pull %s: exit %d, want 125 (%s)", tc.ref, r.code, line)
		}
	}
	e.nothingVisible("sha256:" + strings.Repeat("0", 64))
	if b := e.blobs(); len(b) != 0 {
		t.Fatalf("blobs stored by failed pulls: %v", b)
	}
	e.fails("not found", "image", "inspect", "nope")
	e.fails("not found", "rmi", "nope")
	e.fails("not found", "history", "nope")
}

// TestPullDiskFull pulls into a data root on a small tmpfs: the error says
// so, and no partial blob, snapshot or record stays visible.
func TestPullDiskFull(t *testing.T) {
	e := newEnv(t)
	if err := unix.Mount("tmpfs", e.data, "tmpfs", 0, "size=8m"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", e.data, err)
	}
	t.Cleanup(func() { unix.Unmount(e.data, unix.MNT_DETACH) })
	reg := startRegistry(t, "")
	l := newLayout(t)
	big, _ := bigImage(t, l, "v1", 12<<20)
	pushLayout(t, l, "v1", reg.Host+"/big:v1")
	e.fails("no space left on device", "pull", reg.Host+"/big:v1")
	e.nothingVisible(big)
	e.noPartial(big) // what filled the disk is freed
	e.must("image", "prune")
	if b := e.blobs(); len(b) != 0 {
		t.Fatalf("blobs after prune: %v", b)
	}
}

// TestRegistriesConfig: the default registry and the short-name search
// list come from registries.json.
func TestRegistriesConfig(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	empty := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("f", "x"))}}), "v1")
	pushLayout(t, l, "v1", reg.Host+"/app:v1")
	conf := filepath.Join(e.data, "registries.json")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write(fmt.Sprintf(`{"default": %q}`, reg.Host))
	if out := strings.TrimSpace(e.must("pull", "-q", "app:v1").stdout); out != reg.Host+"/app:v1" {
		t.Fatalf("short name with a default registry pulled %q", out)
	}
	e.must("image", "inspect", "app:v1")

	e2 := newEnv(t)
	conf = filepath.Join(e2.data, "registries.json")
	write(fmt.Sprintf(`{"search": [%q, %q]}`, empty.Host, reg.Host))
	if out := strings.TrimSpace(e2.must("pull", "-q", "app:v1").stdout); out != reg.Host+"/app:v1" {
		t.Fatalf("short name through the search list pulled %q", out)
	}
	if v := e2.inspect("app:v1"); len(v.RepoTags) != 1 || v.RepoTags[0] != reg.Host+"/app:v1" {
		t.Fatalf("inspect through the search list: %v", v.RepoTags)
	}
	e2.fails("not found in the search registries", "pull", "nope:v1")

	write(`{"default": `)
	e2.fails("registries configuration", "pull", "app:v1")
}
