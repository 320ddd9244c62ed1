package engines

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

// testImage is the image every engine test runs: busybox-static with its
// applets, /etc/passwd and /etc/group, in one layer.
const testImage = "tincan.test/busybox:latest"

var imageArchive struct {
	once sync.Once
	path string
	err  error
}

// imageTar returns a docker-archive tarball of testImage (manifest.json,
// the image config, one uncompressed layer): the format `docker load`,
// `podman load` and `ctr images import` all read. It is built once per test
// binary in a directory removed by TestMain.
func imageTar(t testing.TB) string {
	t.Helper()
	imageArchive.once.Do(func() {
		imageArchive.path, imageArchive.err = buildImage(testutil.Busybox(t))
	})
	if imageArchive.err != nil {
		t.Fatalf("build the test image: %v", imageArchive.err)
	}
	return imageArchive.path
}

// tarEntry is one file of a tar stream.
type tarEntry struct {
	name     string
	mode     int64
	typ      byte
	linkname string
	data     []byte
}

func writeTar(entries []tarEntry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed time, so the layer (and the image id) is reproducible.
	mtime := time.Unix(1700000000, 0)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.linkname,
			Size: int64(len(e.data)), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func buildImage(busybox string) (string, error) {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return "", err
	}
	entries := []tarEntry{}
	for _, d := range []string{"bin/", "dev/", "etc/", "home/", "home/user/", "proc/", "root/", "sys/", "tmp/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		entries = append(entries, tarEntry{name: d, mode: mode, typ: tar.TypeDir})
	}
	entries = append(entries, tarEntry{name: "bin/busybox", mode: 0o755, typ: tar.TypeReg, data: bb})
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			entries = append(entries, tarEntry{name: "bin/" + applet, mode: 0o777, typ: tar.TypeSymlink, linkname: "busybox"})
		}
	}
	entries = append(entries,
		tarEntry{name: "etc/passwd", mode: 0o644, typ: tar.TypeReg,
			data: []byte("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		tarEntry{name: "etc/group", mode: 0o644, typ: tar.TypeReg,
			data: []byte("root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n")},
	)
	layer, err := writeTar(entries)
	if err != nil {
		return "", err
	}
	diffID := "sha256:" + sha256Hex(layer)
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "2023-11-14T22:13:20Z",
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": []string{"sh"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return "", err
	}
	configName := sha256Hex(config) + ".json"
	layerName := sha256Hex(layer) + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": []string{testImage}, "Layers": []string{layerName},
	}})
	if err != nil {
		return "", err
	}
	archive, err := writeTar([]tarEntry{
		{name: configName, mode: 0o644, typ: tar.TypeReg, data: config},
		{name: filepath.Dir(layerName) + "/", mode: 0o755, typ: tar.TypeDir},
		{name: layerName, mode: 0o644, typ: tar.TypeReg, data: layer},
		{name: "manifest.json", mode: 0o644, typ: tar.TypeReg, data: manifest},
	})
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "tincan-engines-image-")
	if err != nil {
		return "", err
	}
	scratch.add(dir)
	path := filepath.Join(dir, "busybox.tar")
	return path, os.WriteFile(path, archive, 0o644)
}
