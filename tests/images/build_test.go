package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/internal/testutil"
	se "github.com/tincan/tincan/storage/storagetest"
)

// testImage is an image the tests build.
type testImage struct {
	// Layers are uncompressed layer tars, base first.
	Layers [][]byte
	// Compression of each layer: "gzip" (default), "zstd", "none".
	Compression []string
	Config      ocispec.ImageConfig
	// Platform defaults to this host's.
	Platform ocispec.Platform
	// Docker uses Docker's v2 schema 2 media types instead of OCI's.
	Docker bool
}

// layout is an OCI image layout directory the test writes.
type layout struct {
	t     *testing.T
	dir   string
	index ocispec.Index
}

func newLayout(t *testing.T) *layout {
	l := &layout{t: t, dir: t.TempDir()}
	l.index = ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	if err := os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// blob stores data and describes it.
func (l *layout) blob(mediaType string, data []byte) ocispec.Descriptor {
	d := digest.FromBytes(data)
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", d.Encoded()), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

func (l *layout) json(mediaType string, v any) ocispec.Descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mediaType, data)
}

var created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// image writes an image's layers, config and manifest and returns the
// manifest's descriptor (with its platform).
func (l *layout) image(img testImage) ocispec.Descriptor {
	plat := img.Platform
	if plat.OS == "" {
		plat = ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	cfg := ocispec.Image{Created: &created, Platform: plat, Config: img.Config,
		RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	configType, manifestType := ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageManifest
	if img.Docker {
		configType, manifestType = "application/vnd.docker.container.image.v1+json", "application/vnd.docker.distribution.manifest.v2+json"
		m.MediaType = manifestType
	}
	for i, layer := range img.Layers {
		comp := "gzip"
		if i < len(img.Compression) && img.Compression[i] != "" {
			comp = img.Compression[i]
		}
		data, mt := compress(l.t, layer, comp)
		if img.Docker && comp == "gzip" {
			mt = "application/vnd.docker.image.rootfs.diff.tar.gzip"
		}
		m.Layers = append(m.Layers, l.blob(mt, data))
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(layer))
		cfg.History = append(cfg.History, ocispec.History{Created: &created, CreatedBy: "layer " + string(rune('A'+i))})
	}
	cfg.History = append(cfg.History, ocispec.History{Created: &created, CreatedBy: "CMD config", EmptyLayer: true})
	m.Config = l.json(configType, cfg)
	desc := l.json(manifestType, m)
	desc.Platform = &plat
	return desc
}

// indexOf writes an index of manifests and describes it.
func (l *layout) indexOf(manifests ...ocispec.Descriptor) ocispec.Descriptor {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	return l.json(ocispec.MediaTypeImageIndex, idx)
}

// tag lists desc in index.json under ref.name name and writes the layout.
func (l *layout) tag(desc ocispec.Descriptor, name string) {
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: name}
	l.index.Manifests = append(l.index.Manifests, desc)
	data, _ := json.Marshal(l.index)
	if err := os.WriteFile(filepath.Join(l.dir, "index.json"), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// tarball writes the layout as a tar file (what load reads).
func (l *layout) tarball() string {
	path := filepath.Join(l.t.TempDir(), "layout.tar")
	f, err := os.Create(path)
	if err != nil {
		l.t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == l.dir {
			return err
		}
		rel, _ := filepath.Rel(l.dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = rel
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		l.t.Fatal(err)
	}
	return path
}

func compress(t *testing.T, data []byte, how string) ([]byte, string) {
	var buf bytes.Buffer
	switch how {
	case "none":
		return data, ocispec.MediaTypeImageLayer
	case "zstd":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
		return buf.Bytes(), ocispec.MediaTypeImageLayerZstd
	}
	w := gzip.NewWriter(&buf)
	w.Write(data)
	w.Close()
	return buf.Bytes(), ocispec.MediaTypeImageLayerGzip
}

// tarDir makes a layer tar of a directory tree (owners, modes, symlinks,
// hardlinks by inode), as image builders do.
func tarDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	links := map[uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		target := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if target, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, target)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uname, hdr.Gname, hdr.Format = rel, "", "", tar.FormatPAX
		st := info.Sys().(*syscall.Stat_t)
		if d.Type().IsRegular() && st.Nlink > 1 {
			if first, ok := links[st.Ino]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[st.Ino] = rel
			}
		}
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// busyboxLayer is a layer with a busybox-static root filesystem.
func busyboxLayer(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	testutil.NewRootfs(t, dir)
	return tarDir(t, dir)
}

// capV2 is a security.capability value granting cap_net_raw (bit 13).
func capV2() string {
	b := make([]byte, 20)
	b[3] = 0x02 // revision 2
	b[0] = 1    // effective
	b[5] = 1 << 5
	return string(b)
}

// featureLayers are the layers after busybox that exercise the unpacker:
// owners and modes, hardlinks, symlinks, a device node and a fifo, xattrs
// and a file capability; then whiteouts, an opaque directory, and a zstd
// layer.
func featureLayers(t *testing.T) [][]byte {
	dataLayer := se.Layer(t,
		se.Dir("data"),
		se.Entry{Name: "data/a", Content: "hello", Mode: 0o640, UID: 1000, GID: 1000,
			Xattrs: map[string]string{"user.test": "xattr value"}},
		se.Hardlink("data/b", "data/a"),
		se.Symlink("data/abs", "/data/a"),
		se.Symlink("data/rel", "a"),
		se.Entry{Name: "data/suid", Content: "#!/bin/sh\n", Mode: 0o4755},
		se.Entry{Name: "data/ping", Content: "cap", Mode: 0o755, Xattrs: map[string]string{"security.capability": capV2()}},
		se.Entry{Name: "data/null", Type: tar.TypeChar, Mode: 0o666, Major: 1, Minor: 3},
		se.Entry{Name: "data/fifo", Type: tar.TypeFifo, Mode: 0o600},
		se.File("data/old", "old"),
		se.Dir("data/dir"), se.File("data/dir/lower", "lower"),
		se.Dir("opt"), se.Dir("opt/gone"), se.File("opt/gone/g", "g"), se.Dir("opt/keep"), se.File("opt/keep/k", "k"),
	)
	whiteouts := se.Layer(t,
		se.Whiteout("data", "old"),
		se.Whiteout("opt", "gone"),
		se.Dir("data/dir"), se.Opaque("data/dir"), se.File("data/dir/upper", "upper"),
		se.File("etc/motd", "built by tincan's tests\n"),
	)
	zstdLayer := se.Layer(t, se.Dir("zstd"), se.File("zstd/hello", "from a zstd layer"))
	return [][]byte{dataLayer, whiteouts, zstdLayer}
}

// featureImage is busybox plus featureLayers, with a config run uses.
func featureImage(t *testing.T) testImage {
	return testImage{
		Layers:      append([][]byte{busyboxLayer(t)}, featureLayers(t)...),
		Compression: []string{"gzip", "gzip", "gzip", "zstd"},
		Config: ocispec.ImageConfig{
			Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo hi"},
			Env: []string{"PATH=/bin", "GREETING=hello"}, WorkingDir: "/data", User: "0:0",
			ExposedPorts: map[string]struct{}{"80/tcp": {}}, Volumes: map[string]struct{}{"/vol": {}},
			StopSignal: "SIGINT", Labels: map[string]string{"org.example": "tincan"},
		},
	}
}
