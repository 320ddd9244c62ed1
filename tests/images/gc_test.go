package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	se "github.com/tincan/tincan/storage/storagetest"
)

// TestRemoveAndCollect: tags, rmi by name and id, and the collector: a
// removed image's own blobs and snapshots go, what another image shares
// stays, and the store ends empty.
func TestRemoveAndCollect(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	base := busyboxLayer(t)
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{base, se.Layer(t, se.File("one", "1"))}}), "one")
	l.tag(l.image(testImage{Layers: [][]byte{base, se.Layer(t, se.File("two", "2"))}}), "two")
	pushLayout(t, l, "one", reg.Host+"/one:v1")
	pushLayout(t, l, "two", reg.Host+"/two:v1")
	e.must("pull", "-q", reg.Host+"/one:v1")
	e.must("pull", "-q", reg.Host+"/two:v1")
	if b, s := len(e.blobs()), len(e.snapshots()); b != 7 || s != 3 {
		t.Fatalf("%d blobs and %d snapshots, want 7 (2 manifests, 2 configs, 3 layers) and 3", b, s)
	}

	// A second name: rmi of one name only untags.
	e.must("tag", reg.Host+"/one:v1", "other/name:latest")
	out := e.must("rmi", "other/name").stdout
	if !strings.Contains(out, "Untagged: other/name:latest") || strings.Contains(out, "Deleted") {
		t.Fatalf("rmi of a second name: %q", out)
	}
	// An id with two names needs --force.
	e.must("tag", reg.Host+"/one:v1", "other/name:latest")
	id := e.inspect(reg.Host + "/one:v1").ID
	e.fails("several names", "rmi", strings.TrimPrefix(id, "sha256:")[:12])
	out = e.must("rmi", "-f", strings.TrimPrefix(id, "sha256:")[:12]).stdout
	if !strings.Contains(out, "Deleted: "+id) {
		t.Fatalf("rmi -f by id: %q", out)
	}
	if b, s := len(e.blobs()), len(e.snapshots()); b != 4 || s != 2 {
		t.Fatalf("after removing one: %d blobs and %d snapshots, want 4 and 2 (the shared base stays)", b, s)
	}
	if _, err := os.Stat(filepath.Join(e.rootfs(reg.Host+"/two:v1"), "bin/busybox")); err != nil {
		t.Fatalf("the remaining image lost its base: %v", err)
	}
	e.must("rmi", reg.Host+"/two:v1")
	if b, s := e.blobs(), e.snapshots(); len(b) != 0 || len(s) != 0 {
		t.Fatalf("after removing both: blobs %v, snapshots %v", b, s)
	}
	if out := e.must("images", "-q").stdout; out != "" {
		t.Fatalf("images: %q", out)
	}
}

// TestImagesAndPrune: the listing formats, a dangling image left by
// re-tagging, and prune.
func TestImagesAndPrune(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, "")
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("v", "1"))}}), "v1")
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("v", "2"))}}), "v2")
	pushLayout(t, l, "v1", reg.Host+"/app:latest")
	e.must("pull", "-q", reg.Host+"/app")
	first := e.inspect(reg.Host + "/app").ID
	pushLayout(t, l, "v2", reg.Host+"/app:latest")
	e.must("pull", "-q", reg.Host+"/app")
	second := e.inspect(reg.Host + "/app").ID

	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(e.must("images", "--format", "json").stdout), "\n") {
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("images --format json line %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 2 {
		t.Fatalf("images: %v", rows)
	}
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["ID"]] = r
	}
	named, dangling := byID[strings.TrimPrefix(second, "sha256:")[:12]], byID[strings.TrimPrefix(first, "sha256:")[:12]]
	if named["Repository"] != reg.Host+"/app" || named["Tag"] != "latest" || !strings.HasPrefix(named["Digest"], "sha256:") {
		t.Fatalf("the named image's row: %v", named)
	}
	if dangling["Repository"] != "<none>" || dangling["Tag"] != "<none>" {
		t.Fatalf("the dangling image's row: %v", dangling)
	}
	if q := strings.Fields(e.must("images", "-q").stdout); len(q) != 2 {
		t.Fatalf("images -q: %v", q)
	}
	table := e.must("images").stdout
	if !strings.HasPrefix(table, "REPOSITORY") || !strings.Contains(table, reg.Host+"/app") {
		t.Fatalf("images table: %q", table)
	}

	out := e.must("image", "prune").stdout
	if !strings.Contains(out, "Deleted: "+first) || strings.Contains(out, second) {
		t.Fatalf("prune: %q", out)
	}
	e.must("image", "inspect", reg.Host+"/app")
	e.must("image", "prune", "--all")
	if b := e.blobs(); len(b) != 0 {
		t.Fatalf("blobs after prune --all: %v", b)
	}
}

// TestHistory checks history against the config the test wrote.
func TestHistory(t *testing.T) {
	e := newEnv(t)
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("a", "1")), se.Layer(t, se.File("b", strings.Repeat("x", 5000)))},
		Config: ocispec.ImageConfig{Cmd: []string{"sh"}}}), "h/h:v1")
	e.must("load", "-q", "-i", l.tarball())
	var steps []struct {
		ID         string `json:"id"`
		CreatedBy  string `json:"createdBy"`
		Size       int64  `json:"size"`
		EmptyLayer bool   `json:"emptyLayer"`
	}
	if err := json.Unmarshal([]byte(e.must("history", "--format", "json", "h/h:v1").stdout), &steps); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0].CreatedBy != "CMD config" || !steps[0].EmptyLayer || steps[0].ID == "" ||
		steps[1].CreatedBy != "layer B" || steps[1].Size < 5000 || steps[2].CreatedBy != "layer A" || steps[2].ID != "" {
		t.Fatalf("history: %+v", steps)
	}
	if out := e.must("history", "h/h:v1").stdout; !strings.Contains(out, "<missing>") || !strings.Contains(out, "layer B") {
		t.Fatalf("history table: %q", out)
	}
}
