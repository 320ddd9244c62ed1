package images

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	se "github.com/tincan/tincan/storage/storagetest"
)

// rawDigest is the digest of the manifest skopeo reads for ref.
func rawDigest(t *testing.T, ref string) (string, string) {
	t.Helper()
	raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+ref)
	sum := sha256.Sum256([]byte(raw))
	return "sha256:" + hex.EncodeToString(sum[:]), raw
}

// configDigest is the config digest skopeo reports for ref (the image id).
func configDigest(t *testing.T, transportRef string, extra ...string) string {
	t.Helper()
	out := skopeo(t, append(append([]string{"inspect", "--config", "--raw"}, extra...), transportRef)...)
	sum := sha256.Sum256([]byte(out))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestPushCrossCheck loads the feature image from an OCI layout, pushes it
// with tincan, and checks it with skopeo and podman, and by pulling it
// back into an empty store.
func TestPushCrossCheck(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(featureImage(t)), reg.Host+"/feature:v1")
	e.must("load", "-i", l.tarball())
	id := e.inspect(reg.Host + "/feature:v1").ID

	e.must("tag", reg.Host+"/feature:v1", reg.Host+"/pushed:v1")
	out := strings.TrimSpace(e.must("push", reg.Host+"/pushed:v1").stdout)
	name, pushed, ok := strings.Cut(out, "@")
	if !ok || name != reg.Host+"/pushed" {
		t.Fatalf("push printed %q", out)
	}
	if d, _ := rawDigest(t, reg.Host+"/pushed:v1"); d != pushed {
		t.Fatalf("registry has manifest %s, push said %s", d, pushed)
	}
	if c := configDigest(t, "docker://"+reg.Host+"/pushed:v1", "--tls-verify=false"); c != id {
		t.Fatalf("registry has config %s, the image id is %s", c, id)
	}
	if v := e.inspect(reg.Host + "/pushed:v1"); !strings.Contains(strings.Join(v.RepoDigests, " "), reg.Host+"/pushed@"+pushed) {
		t.Fatalf("push did not record the repo digest: %v", v.RepoDigests)
	}

	p := newPodman(t)
	p.run("pull", "--tls-verify=false", "-q", reg.Host+"/pushed:v1")
	if got := strings.TrimSpace(p.run("image", "inspect", "--format", "{{.Id}} {{.Digest}}", reg.Host+"/pushed:v1")); got != strings.TrimPrefix(id, "sha256:")+" "+pushed {
		t.Fatalf("podman sees %q, want %s %s", got, id, pushed)
	}

	e2 := newEnv(t)
	e2.must("pull", "-q", reg.Host+"/pushed:v1")
	v := e2.inspect(reg.Host + "/pushed:v1")
	if v.ID != id || v.Digest != pushed {
		t.Fatalf("pulled back id %s digest %s, want %s %s", v.ID, v.Digest, id, pushed)
	}
	sameTree(t, "the pushed and the pulled-back trees", tree(t, e2.rootfs(reg.Host+"/pushed:v1"), true),
		tree(t, e.rootfs(reg.Host+"/feature:v1"), true))

	// Pushing a pulled image elsewhere keeps its manifest byte for byte.
	e2.must("push", "-q", reg.Host+"/pushed:v1", reg.Host+"/copy:v2")
	if d, _ := rawDigest(t, reg.Host+"/copy:v2"); d != pushed {
		t.Fatalf("copy has manifest %s, want %s", d, pushed)
	}
	e2.fails("not found", "push", "nope:v1")
	e2.fails("an image id needs a destination", "push", strings.TrimPrefix(id, "sha256:")[:12])
}

// TestPushIndex pushes an image that came with a multi-platform index
// whose every platform is stored: the whole index goes to the registry.
func TestPushIndex(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	host := l.image(testImage{Layers: [][]byte{busyboxLayer(t), se.Layer(t, se.File("arch", runtime.GOARCH))}})
	other := l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("arch", "riscv64"))},
		Platform: ocispec.Platform{OS: "linux", Architecture: "riscv64"}})
	index := l.indexOf(host, other)
	l.tag(index, reg.Host+"/multi:v1")
	e.must("load", "-i", l.tarball())
	out := strings.TrimSpace(e.must("push", "-q", reg.Host+"/multi:v1").stdout)
	if !strings.HasSuffix(out, "@"+index.Digest.String()) {
		t.Fatalf("push printed %q, want the index digest %s", out, index.Digest)
	}
	d, raw := rawDigest(t, reg.Host+"/multi:v1")
	var idx ocispec.Index
	if err := json.Unmarshal([]byte(raw), &idx); err != nil || d != index.Digest.String() || len(idx.Manifests) != 2 {
		t.Fatalf("registry has %s with %d manifests (%v), want index %s with 2", d, len(idx.Manifests), err, index.Digest)
	}
	e2 := newEnv(t)
	e2.must("pull", "-q", "--platform", "linux/riscv64", reg.Host+"/multi:v1")
	if v := e2.inspect(reg.Host + "/multi:v1"); v.Architecture != "riscv64" {
		t.Fatalf("pulled %s", v.Architecture)
	}
	// skopeo reads the riscv64 image through the index we pushed.
	if c := configDigest(t, "docker://"+reg.Host+"/multi:v1", "--tls-verify=false", "--override-arch", "riscv64"); c != e2.inspect(reg.Host+"/multi:v1").ID {
		t.Fatalf("skopeo's riscv64 config %s differs", c)
	}
}
