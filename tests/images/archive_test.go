package images

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestSaveLoad saves a pulled image in both formats, reads the archives
// with skopeo and podman, loads them into an empty store, and loads what
// skopeo writes.
func TestSaveLoad(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(featureImage(t)), "v1")
	ref := reg.Host + "/feature:v1"
	pushLayout(t, l, "v1", ref)
	e.must("pull", "-q", ref)
	id := e.inspect(ref).ID
	want := tree(t, e.rootfs(ref), true)
	dir := t.TempDir()

	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, format+".tar")
			e.must("save", "--format", format, "-o", file, ref)
			transport := format + ":" + file
			if format == "oci-archive" {
				transport += ":v1" // the tag, as docker save writes ref.name
			}
			if c := configDigest(t, transport); c != id {
				t.Fatalf("skopeo reads config %s from the %s, want %s", c, format, id)
			}
			e2 := newEnv(t)
			out := e2.must("load", "-i", file).stdout
			if !strings.Contains(out, "Loaded image: "+ref) {
				t.Fatalf("load printed %q", out)
			}
			v := e2.inspect(ref)
			if v.ID != id {
				t.Fatalf("loaded id %s, want %s", v.ID, id)
			}
			sameTree(t, "the loaded and the pulled trees", tree(t, e2.rootfs(ref), true), want)
			if format == "docker-archive" {
				p := newPodman(t)
				p.run("load", "-q", "-i", file)
				if got := strings.TrimSpace(p.run("image", "inspect", "--format", "{{.Id}}", ref)); got != strings.TrimPrefix(id, "sha256:") {
					t.Fatalf("podman loaded %s, want %s", got, id)
				}
			}
		})
	}

	// What skopeo writes, tincan loads (docker archives name docker.io
	// images in the short form). Docker archives have no zstd: this image
	// is all gzip.
	// It goes to a registry of its own: skopeo's blob cache would otherwise
	// reuse the zstd layer the first registry has for the same content.
	gz := featureImage(t)
	gz.Compression = nil
	l.tag(l.image(gz), "gzip")
	reg2 := startRegistry(t, "")
	pushLayout(t, l, "gzip", reg2.Host+"/feature:gzip")
	gzID := configDigest(t, "docker://"+reg2.Host+"/feature:gzip", "--tls-verify=false")
	for _, format := range []string{"docker-archive", "oci-archive"} {
		file := filepath.Join(dir, "skopeo-"+format+".tar")
		skopeo(t, "copy", "--src-tls-verify=false", "docker://"+reg2.Host+"/feature:gzip", format+":"+file+":skopeo/feature:v1")
		e3 := newEnv(t)
		e3.must("load", "-q", "-i", file)
		if v := e3.inspect("skopeo/feature:v1"); v.ID != gzID {
			t.Fatalf("%s from skopeo: id %s, want %s", format, v.ID, gzID)
		}
		if _, err := os.Stat(filepath.Join(e3.rootfs("skopeo/feature:v1"), "data/dir/upper")); err != nil {
			t.Fatalf("%s from skopeo: %v", format, err)
		}
	}
}

// TestLoadRejects: not an archive, a truncated one, one whose blob does not
// match its name — an error, and nothing recorded.
func TestLoadRejects(t *testing.T) {
	e := newEnv(t)
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{busyboxLayer(t)}}), "x/y:v1")
	good := l.tarball()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.fails("not an image archive", "load", "-i", write("empty.tar", make([]byte, 1024)))
	e.fails("read archive", "load", "-i", write("garbage.tar", []byte(strings.Repeat("garbage", 200))))
	e.fails("unexpected EOF", "load", "-i", write("truncated.tar", data[:len(data)/2]))
	// Corrupt the biggest blob (the busybox layer) in place.
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)/2] ^= 0xff
	e.fails("digest mismatch", "load", "-i", write("corrupt.tar", corrupt))
	if got := entries(t, filepath.Join(e.data, "images", "meta")); len(got) != 0 {
		t.Fatalf("images recorded from bad archives: %v", got)
	}
	// A gzip-compressed archive, on stdin.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	cmd := e.cmd("load")
	cmd.Stdin = &gz
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Loaded image: x/y:v1") {
		t.Fatalf("load from stdin: %s, %v", out, err)
	}
	e.must("image", "inspect", "x/y:v1")
}
