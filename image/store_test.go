package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/testutil"
)

// testRegistry is ggcr's in-memory registry on loopback; noRange makes it
// ignore Range headers (as some registries and proxies do).
type testRegistry struct {
	host    string
	mu      sync.Mutex
	noRange bool
	ranges  int
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Range") != "" {
			r.mu.Lock()
			r.ranges++
			if r.noRange {
				req.Header.Del("Range")
			}
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// push writes a random image (layers of random files) as repo:tag.
func (r *testRegistry) push(t *testing.T, repo string, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, layers)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return img
}

func openStore(t *testing.T, data, driver string) *Store {
	t.Helper()
	s, err := Open(Options{Data: data, Driver: driver, RegistriesFiles: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func layerDigests(t *testing.T, img v1.Image) []digest.Digest {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, l := range ls {
		h, _ := l.Digest()
		out = append(out, digest.Digest(h.String()))
	}
	return out
}

// TestPullRestartsWithoutRange: a partial download is resumed with a
// range request; a registry that ignores the range sends the whole blob,
// and the download starts over instead of appending.
func TestPullRestartsWithoutRange(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	img := reg.push(t, "app:v1", 2)
	for _, noRange := range []bool{false, true} {
		s := openStore(t, t.TempDir(), "overlay")
		reg.mu.Lock()
		reg.noRange, reg.ranges = noRange, 0
		reg.mu.Unlock()
		// The start of the first layer, as a killed pull leaves it.
		ls, _ := img.Layers()
		rc, _ := ls[0].Compressed()
		buf := make([]byte, 1000)
		n, _ := rc.Read(buf)
		rc.Close()
		d := layerDigests(t, img)[0]
		if err := os.WriteFile(s.content.ingestPath(d), buf[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Pull(context.Background(), reg.host+"/app:v1", PullOptions{}); err != nil {
			t.Fatalf("noRange=%v: %v", noRange, err)
		}
		if reg.ranges != 1 {
			t.Fatalf("noRange=%v: %d range requests, want 1", noRange, reg.ranges)
		}
		if !s.content.has(d) {
			t.Fatalf("noRange=%v: layer not stored", noRange)
		}
	}
}

// TestPullDiscardsBadPartial: a partial download that does not belong to
// the blob fails the digest check, is discarded, and the next pull works.
func TestPullDiscardsBadPartial(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	img := reg.push(t, "app:v1", 1)
	s := openStore(t, t.TempDir(), "overlay")
	d := layerDigests(t, img)[0]
	if err := os.WriteFile(s.content.ingestPath(d), []byte("not the blob's first bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Pull(context.Background(), reg.host+"/app:v1", PullOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("pull over a bad partial download: %v", err)
	}
	if _, err := os.Stat(s.content.ingestPath(d)); !os.IsNotExist(err) {
		t.Fatalf("the bad partial download was kept: %v", err)
	}
	if _, _, err := s.Pull(context.Background(), reg.host+"/app:v1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentPulls: two stores on one data root pull the same image at
// once; both succeed and the blobs are stored once.
func TestConcurrentPulls(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	reg.push(t, "app:v1", 4)
	data := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = openStore(t, data, "overlay").Pull(context.Background(), reg.host+"/app:v1", PullOptions{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, data, "overlay")
	list, err := s.List()
	if err != nil || len(list) != 1 {
		t.Fatalf("images: %v, %v", list, err)
	}
	blobs := 0
	s.content.walk(func(digest.Digest, int64) error { blobs++; return nil })
	if blobs != 6 { // manifest, config, 4 layers
		t.Fatalf("%d blobs, want 6", blobs)
	}
}

// TestNativeDriver pulls onto the native snapshotter: layers applied in
// order, each snapshot a full tree.
func TestNativeDriver(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	reg.push(t, "app:v1", 3)
	s := openStore(t, t.TempDir(), "native")
	img, _, err := s.Pull(context.Background(), reg.host+"/app:v1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := s.Unpack(context.Background(), img)
	if err != nil || len(dirs) != 1 {
		t.Fatalf("unpack: %v, %v", dirs, err)
	}
	ents, err := os.ReadDir(dirs[0])
	if err != nil || len(ents) == 0 {
		t.Fatalf("the snapshot is empty: %v", err)
	}
	infos, _ := s.snap.List()
	if len(infos) != 3 {
		t.Fatalf("%d snapshots, want 3", len(infos))
	}
	// Snapshots lost (a driver switch, a crash): Unpack makes them again
	// from the stored blobs.
	for _, info := range infos {
		s.snap.Remove(info.Key)
	}
	if dirs, err := s.Unpack(context.Background(), img); err != nil || len(dirs) != 1 {
		t.Fatalf("unpack again: %v, %v", dirs, err)
	}
}

// TestStoreRoundTrip: pull, push elsewhere (same digest), get by policy,
// tag, remove, collect.
func TestStoreRoundTrip(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	orig := reg.push(t, "app:v1", 2)
	s := openStore(t, t.TempDir(), "overlay")
	ctx := context.Background()
	if _, err := s.Get(ctx, reg.host+"/app:v1", PullNever, PullOptions{}); !errdefs.IsNotFound(err) {
		t.Fatalf("--pull never of a missing image: %v", err)
	}
	img, err := s.Get(ctx, reg.host+"/app:v1", PullMissing, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := orig.Digest()
	if img.Digest.String() != want.String() {
		t.Fatalf("pulled %s, registry has %s", img.Digest, want)
	}
	if _, err := s.Get(ctx, img.ID.Encoded()[:8], PullNever, PullOptions{}); err != nil {
		t.Fatalf("by short id: %v", err)
	}
	ref, d, err := s.Push(ctx, reg.host+"/app:v1", reg.host+"/copy:v2", PushOptions{})
	if err != nil || d != img.Digest || ref.String() != reg.host+"/copy:v2" {
		t.Fatalf("push: %s %s %v", ref, d, err)
	}
	if err := s.Tag(reg.host+"/app:v1", "local/app"); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.Names(img.ID); len(names) != 2 || names[1] != "docker.io/local/app:latest" {
		t.Fatalf("names: %v", names)
	}
	inUse := func(id digest.Digest) bool { return id == img.ID }
	if _, err := s.Remove(reg.host+"/app:v1", false, inUse); err != nil {
		t.Fatalf("remove one of two names of an image in use: %v", err)
	}
	if _, err := s.Remove("local/app", false, inUse); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("remove the last name of an image in use: %v", err)
	}
	res, err := s.Remove("local/app", true, inUse)
	if err != nil || res.Deleted != "" {
		t.Fatalf("forced: %+v, %v (the image must stay)", res, err)
	}
	if gc, err := s.GC(GCOptions{}); err != nil || gc.Blobs != 0 {
		t.Fatalf("gc with the image in use: %+v, %v", gc, err)
	}
	pr, err := s.Prune(false, nil)
	if err != nil || len(pr.Images) != 1 || pr.Blobs != 4 || pr.Snapshots != 2 {
		t.Fatalf("prune: %+v, %v", pr, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.root, "meta")); len(ents) != 0 {
		t.Fatalf("records left: %v", ents)
	}
}
