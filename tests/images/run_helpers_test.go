package images

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	se "github.com/tincan/tincan/storage/storagetest"
)

// newRunEnv is newEnv for tests that run containers: at cleanup, even
// after a failure, every container is removed with its anonymous
// volumes, before the registry and the data directory go.
func newRunEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	t.Cleanup(func() {
		out, _ := e.cmd("ps", "-aq").Output()
		for _, id := range strings.Fields(string(out)) {
			e.cmd("rm", "-f", "-v", id).Run()
		}
	})
	return e
}

// plainImage is busybox with only a Cmd.
func plainImage(t *testing.T, greeting string) testImage {
	return testImage{
		Layers: [][]byte{busyboxLayer(t)},
		Config: ocispec.ImageConfig{Cmd: []string{"echo", greeting}, Env: []string{"PATH=/bin"}},
	}
}

// appImage is busybox, a layer that replaces /etc/passwd and /etc/group
// (user app, 4242:4343, also in group extra) and fills /data, and a layer
// that whites out one file of /data and adds another; its config sets
// everything run takes from an image.
func appImage(t *testing.T) testImage {
	app := se.Layer(t,
		se.Dir("etc"),
		se.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:4242:4343:app:/home/app:/bin/sh\n"),
		se.File("etc/group", "root:x:0:\nappgrp:x:4343:\nextra:x:5555:app\n"),
		se.Entry{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 4242, GID: 4343},
		se.Entry{Name: "data/seed", Content: "seeded\n", Mode: 0o640, UID: 4242, GID: 4343},
		se.File("data/old", "old\n"),
		se.Dir("home"), se.Entry{Name: "home/app", Type: tar.TypeDir, Mode: 0o700, UID: 4242, GID: 4343},
	)
	// As docker builds layers, the changed directory comes with its
	// attributes.
	top := se.Layer(t,
		se.Entry{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 4242, GID: 4343},
		se.Whiteout("data", "old"), se.File("data/new", "new\n"))
	return testImage{
		Layers: [][]byte{busyboxLayer(t), app, top},
		Config: ocispec.ImageConfig{
			Entrypoint: []string{"/bin/sh", "-c"},
			Cmd:        []string{`echo image-cmd; id -u; id -G; pwd; echo "$GREETING $KEEP $HOME"`},
			Env:        []string{"PATH=/bin", "GREETING=hello", "KEEP=img"},
			WorkingDir: "/work/dir", User: "app", StopSignal: "SIGUSR1",
			ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			Volumes:      map[string]struct{}{"/data": {}},
			Labels:       map[string]string{"org.example.from": "image", "org.example.both": "image"},
		},
	}
}

// pushImage writes img to a fresh layout and pushes it as ref.
func pushImage(t *testing.T, img testImage, ref string) {
	t.Helper()
	l := newLayout(t)
	l.tag(l.image(img), "x")
	pushLayout(t, l, "x", ref)
}

// containerView is the part of `tincan inspect CONTAINER` the tests read.
type containerView struct {
	ID          string
	Name        string
	Image       string
	ImageID     string
	GraphDriver struct{ Data map[string]string }
	Config      struct {
		Env          []string          `json:"env"`
		StopSignal   string            `json:"stopSignal"`
		ExposedPorts []string          `json:"exposedPorts"`
		Labels       map[string]string `json:"labels"`
		Image        string            `json:"image"`
		Mounts       []struct {
			Source      string `json:"source"`
			Destination string `json:"destination"`
			Anonymous   bool   `json:"anonymous"`
		} `json:"mounts"`
	}
}

func (e *env) inspectContainer(name string) containerView {
	e.t.Helper()
	var views []containerView
	out := e.must("inspect", "--type", "container", name).stdout
	if err := json.Unmarshal([]byte(out), &views); err != nil || len(views) != 1 {
		e.t.Fatalf("inspect %s: %v: %s", name, err, out)
	}
	return views[0]
}

// volumes lists the volumes in the store.
func (e *env) volumes() []string {
	return entries(e.t, filepath.Join(e.data, "volumes"))
}

// containers lists the container directories in the store.
func (e *env) containers() []string {
	return entries(e.t, filepath.Join(e.data, "containers"))
}

// mountsUnder lists the host's mounts below the test's data directory:
// there must never be any (overlays live in containers' namespaces).
func (e *env) mountsUnder() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], e.data) {
			out = append(out, fields[4])
		}
	}
	return out
}

// logsUntil polls `logs name` until it contains want.
func (e *env) logsUntil(name, want string) string {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := e.must("logs", name).stdout
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("logs of %s never showed %q: %q", name, want, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// snapshotTrees describes every snapshot's files, to check that
// containers never write to them.
func (e *env) snapshotTrees() map[string]map[string]treeEntry {
	out := map[string]map[string]treeEntry{}
	for _, key := range e.snapshots() {
		out[key] = tree(e.t, filepath.Join(e.data, "storage", "overlay", key, "diff"), true)
	}
	return out
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
