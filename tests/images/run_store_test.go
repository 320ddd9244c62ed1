package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestRunPullPolicy: --pull never uses only the store, missing (the
// default) pulls what is not stored and otherwise keeps what is, always
// asks the registry every time (a retag there is picked up).
func TestRunPullPolicy(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "first"), ref)

	line := e.fails("image "+ref+": not found locally (--pull never)", "run", "--rm", "--pull", "never", ref)
	if r := e.tincan("run", "--rm", "--pull", "never", ref); r.code != 125 {
		t.Fatalf("--pull never of a missing image: exit %d (%s)", r.code, line)
	}
	if imgs := e.must("images", "-q").stdout; imgs != "" {
		t.Fatalf("--pull never pulled: %q", imgs)
	}
	if out := e.must("run", "--rm", ref).stdout; out != "first\n" {
		t.Fatalf("--pull missing (default): %q", out)
	}
	// The registry's tag moves to a new image.
	pushImage(t, plainImage(t, "second"), ref)
	for _, args := range [][]string{{"run", "--rm", ref}, {"run", "--rm", "--pull", "missing", ref}, {"run", "--rm", "--pull", "never", ref}} {
		if out := e.must(args...).stdout; out != "first\n" {
			t.Fatalf("%q: %q, want the stored image's", args, out)
		}
	}
	if out := e.must("run", "--rm", "--pull", "always", ref).stdout; out != "second\n" {
		t.Fatalf("--pull always: %q, want the registry's new image", out)
	}
	if out := e.must("run", "--rm", ref).stdout; out != "second\n" {
		t.Fatalf("after --pull always the name points at %q", out)
	}
	e.fails("invalid --pull", "run", "--rm", "--pull", "sometimes", ref)
	e.fails("--pull applies to images", "run", "--rm", "--pull", "always", "--rootfs", t.TempDir(), "true")
	e.fails("--rootfs-rw needs --rootfs", "run", "--rm", "--rootfs-rw", ref)
	e.fails("no image", "run", "--rm")
}

// TestRunDetachedImage: run -d IMAGE prints the id; logs shows its output
// once it exited, wait its status.
func TestRunDetachedImage(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "x"), ref)
	id := strings.TrimSpace(e.must("run", "-d", "--name", "bg", ref, "sh", "-c", "echo out; echo err >&2; exit 4").stdout)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want the id", id)
	}
	if code := strings.TrimSpace(e.must("wait", "bg").stdout); code != "4" {
		t.Fatalf("wait: %s, want 4", code)
	}
	r := e.must("logs", "bg")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("logs: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestRunImageInUse: rmi refuses an image a container uses, running or
// stopped; prune keeps it; rmi -f only takes its name, and its layers
// stay until the container is gone.
func TestRunImageInUse(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "again"), ref)
	e.must("run", "--name", "user", ref)
	id := e.inspect(ref).ID
	e.must("run", "-d", "--name", "running", ref, "sleep", "1000")

	e.fails("a container uses image", "rmi", ref)
	e.fails("a container uses it", "rmi", id)
	e.must("image", "prune", "-a")
	if out := e.must("images", "-q", "--no-trunc").stdout; out != id+"\n" {
		t.Fatalf("prune -a removed an image in use: images %q", out)
	}
	e.must("rm", "-f", "running")
	e.fails("a container uses image", "rmi", ref) // the stopped one

	snaps := e.snapshots()
	out := e.must("rmi", "-f", ref).stdout
	if !strings.Contains(out, "Untagged: "+ref) || strings.Contains(out, "Deleted") {
		t.Fatalf("rmi -f of an image in use: %q", out)
	}
	e.must("image", "prune")
	if got := e.snapshots(); strings.Join(got, ",") != strings.Join(snaps, ",") || len(got) == 0 {
		t.Fatalf("snapshots %v after rmi -f and prune, want %v kept", got, snaps)
	}
	// The container still runs from its image's layers.
	if out := e.must("start", "-a", "user").stdout; out != "again\n" {
		t.Fatalf("start -a after rmi -f: %q", out)
	}
	if v := e.inspectContainer("user"); v.ImageID != id {
		t.Fatalf("the container's image id changed: %s", v.ImageID)
	}
	e.must("rm", "user")
	e.must("image", "prune")
	if b, s := e.blobs(), e.snapshots(); len(b) != 0 || len(s) != 0 {
		t.Fatalf("once unused the image was not pruned: blobs %v snapshots %v", b, s)
	}
}

// TestInspectFallsBackToImage: inspect NAME shows a container, else the
// image; --type restricts it.
func TestInspectFallsBackToImage(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "x"), ref)
	e.must("run", "--name", "c1", ref)
	id := e.inspect(ref).ID

	var docs []map[string]any
	if err := json.Unmarshal([]byte(e.must("inspect", "c1", ref).stdout), &docs); err != nil || len(docs) != 2 {
		t.Fatalf("inspect c1 %s: %v, %d documents", ref, err, len(docs))
	}
	if docs[0]["Name"] != "c1" || docs[0]["ImageID"] != id || docs[0]["Image"] != ref {
		t.Fatalf("container document: Name %v ImageID %v Image %v", docs[0]["Name"], docs[0]["ImageID"], docs[0]["Image"])
	}
	if docs[1]["Id"] != id || docs[1]["RepoTags"] == nil {
		t.Fatalf("image document: %v", docs[1])
	}
	var imgs []map[string]any
	json.Unmarshal([]byte(e.must("inspect", "--type", "image", ref).stdout), &imgs)
	if len(imgs) != 1 || imgs[0]["Id"] != id {
		t.Fatalf("inspect --type image: %v", imgs)
	}
	e.fails("no such container", "inspect", "--type", "container", ref)
	e.fails("not found", "inspect", "--type", "image", "c1")
	e.fails("no such container or image: nothing", "inspect", "nothing")
	e.fails("--type", "inspect", "--type", "volume", "c1")
}

// TestRunImageFailuresLeaveNothing: each way run can fail before the
// container exists exits 125 with one line naming the problem and leaves
// no record, container directory, volume or mount behind.
func TestRunImageFailuresLeaveNothing(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	app, nocmd := reg.Host+"/app:v1", reg.Host+"/nocmd:v1"
	pushImage(t, appImage(t), app)
	empty := plainImage(t, "")
	empty.Config = ocispec.ImageConfig{Env: []string{"PATH=/bin"}}
	pushImage(t, empty, nocmd)
	e.must("pull", "-q", app)
	e.must("pull", "-q", nocmd)
	before := e.snapshotTrees()

	for _, tc := range []struct {
		want string
		args []string
	}{
		{"not found locally (--pull never)", []string{"--pull", "never", reg.Host + "/missing:v1"}},
		{"not found", []string{reg.Host + "/missing:v1"}},
		{"invalid reference", []string{"Bad/Name:x"}},
		{"no command specified", []string{nocmd}},
		{"unable to find user nosuch", []string{"-u", "nosuch", app}},
		{"unable to find group nosuch", []string{"-u", "app:nosuch", app}},
		// Fails after the image's anonymous volume was made and filled.
		{"seccomp", []string{"--security-opt", "seccomp=" + filepath.Join(t.TempDir(), "missing.json"), app}},
		{"--ulimit", []string{"--ulimit", "bogus=1", app}},
	} {
		r := e.tincan(append([]string{"run", "--rm"}, tc.args...)...)
		msg := strings.TrimSpace(r.stderr)
		t.Logf("run %q: %s", tc.args, msg)
		if r.code != 125 || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "tincan: ") {
			t.Errorf("run %q: exit %d, stderr %q; want 125 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
		if c, v, m := e.containers(), e.volumes(), e.mountsUnder(); len(c) != 0 || len(v) != 0 || len(m) != 0 {
			t.Fatalf("run %q left containers %v, volumes %v, mounts %v", tc.args, c, v, m)
		}
	}
	if out := e.must("ps", "-aq").stdout; out != "" {
		t.Fatalf("ps -a: %q", out)
	}
	if after := e.snapshotTrees(); len(after) != len(before) {
		t.Fatalf("snapshots changed: %d, were %d", len(after), len(before))
	}
	if _, err := os.Stat(filepath.Join(e.data, "run", "engine")); err == nil {
		if ents := entries(t, filepath.Join(e.data, "run", "engine")); len(ents) != 0 {
			t.Fatalf("engine run directories left: %v", ents)
		}
	}
}
