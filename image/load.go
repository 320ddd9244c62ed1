package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Platform picks the image of a multi-platform index; empty: this
	// host's.
	Platform string
	// Progress reports what was loaded; nil: nothing.
	Progress *Progress
}

// Loaded is one image Load stored.
type Loaded struct {
	Image *Image
	// Names are the names it was given ("" when the archive had none).
	Names []string
}

// archiveFile is a file of the archive as stored: every file becomes a
// blob under its own digest, and the small JSON files are kept in memory.
type archiveFile struct {
	digest digest.Digest
	size   int64
	data   []byte // JSON files only
}

// Load reads an OCI layout or docker archive tar (gzip or zstd
// compressed, or not) from r, stores its blobs (each verified), records
// and unpacks its images. Blobs stream through the content store: the
// archive is read once.
func (s *Store) Load(ctx context.Context, r io.Reader, opts LoadOptions) ([]Loaded, error) {
	plat, err := ParsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	release, err := s.addingContent()
	if err != nil {
		return nil, err
	}
	defer release()
	dr, _, err := storage.Decompress(r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	files := make(map[string]archiveFile)
	tr := tar.NewReader(dr)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errdefs.InvalidArgument("read archive: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		f, err := s.storeArchiveFile(name, tr)
		if err != nil {
			return nil, err
		}
		files[name] = f
	}
	var loaded []Loaded
	switch {
	case files["index.json"].data != nil:
		loaded, err = s.loadOCI(files, plat)
	case files["manifest.json"].data != nil:
		loaded, err = s.loadDocker(files)
	default:
		return nil, errdefs.InvalidArgument("not an image archive: no index.json (OCI layout) or manifest.json (docker archive)")
	}
	if err != nil {
		return nil, err
	}
	for _, l := range loaded {
		if _, err := s.unpackLocked(ctx, l.Image); err != nil {
			return nil, err
		}
		opts.Progress.Printf("Loaded image %s", displayName(l))
	}
	return loaded, nil
}

func displayName(l Loaded) string {
	if len(l.Names) > 0 {
		if ref, err := parseStored(l.Names[0]); err == nil {
			return ref.FamiliarString()
		}
	}
	return l.Image.ID.String()
}

// storeArchiveFile stores one file of the archive as a blob (under its
// computed digest; a blobs/<alg>/<hex> path must match it) and keeps the
// JSON files' bytes.
func (s *Store) storeArchiveFile(name string, r io.Reader) (archiveFile, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "load-")
	if err != nil {
		return archiveFile{}, fmt.Errorf("load %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // gone already when committed
	alg := digest.Canonical
	if strings.HasPrefix(name, "blobs/") {
		if a := digest.Algorithm(path.Base(path.Dir(name))); a.Available() {
			alg = a
		}
	}
	h := alg.Hash()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		return archiveFile{}, fmt.Errorf("load %s: %w", name, cerr)
	}
	if err != nil {
		return archiveFile{}, fmt.Errorf("read archive %s: %w", name, err)
	}
	f := archiveFile{digest: digest.NewDigest(alg, h), size: n}
	if strings.HasPrefix(name, "blobs/") {
		want := digest.NewDigestFromEncoded(alg, path.Base(name))
		if want.Validate() == nil && want != f.digest {
			return f, fmt.Errorf("archive file %s: %w", name, errDigestMismatch(want, f.digest))
		}
	}
	if strings.HasSuffix(name, ".json") || name == "oci-layout" || name == "repositories" {
		if n > maxSmallBlob {
			return f, errdefs.InvalidArgument("archive file %s is too large", name)
		}
		if f.data, err = os.ReadFile(tmp.Name()); err != nil {
			return f, fmt.Errorf("load %s: %w", name, err)
		}
	}
	if !s.content.has(f.digest) {
		if err := s.content.commit(tmp.Name(), f.digest); err != nil {
			return f, fmt.Errorf("store %s: %w", name, err)
		}
	}
	return f, nil
}

// loadOCI records the images an OCI layout's index.json lists.
func (s *Store) loadOCI(files map[string]archiveFile, plat ocispec.Platform) ([]Loaded, error) {
	top, err := parseIndex(files["index.json"].data)
	if err != nil {
		return nil, errdefs.InvalidArgument("archive index.json: %v", err)
	}
	var out []Loaded
	for _, desc := range top.Manifests {
		img := &Image{Added: time.Now().UTC()}
		mdesc := desc
		if isIndex(desc.MediaType) {
			data, err := s.content.read(desc.Digest)
			if err != nil {
				return nil, archiveMissing(desc.Digest, err)
			}
			idx, err := parseIndex(data)
			if err != nil {
				return nil, err
			}
			if mdesc, err = selectManifest(idx, plat); err != nil {
				return nil, err
			}
			img.Index = &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
			img.Platform = *mdesc.Platform
			img.Others = s.otherBlobs(idx, mdesc.Digest)
		}
		if err := s.recordManifest(img, mdesc); err != nil {
			return nil, err
		}
		var names []string
		if n := ociName(desc.Annotations); n != "" {
			names = []string{n}
		}
		if err := s.addImage(img, names); err != nil {
			return nil, err
		}
		out = append(out, Loaded{Image: img, Names: names})
	}
	return out, nil
}

// otherBlobs lists the stored blobs of an index's other manifests.
func (s *Store) otherBlobs(idx ocispec.Index, chosen digest.Digest) []digest.Digest {
	var out []digest.Digest
	for _, m := range idx.Manifests {
		if m.Digest == chosen || !s.content.has(m.Digest) {
			continue
		}
		out = append(out, m.Digest)
		data, err := s.content.read(m.Digest)
		if err != nil {
			continue
		}
		man, err := parseManifest(data, m.MediaType)
		if err != nil {
			continue
		}
		for _, b := range append([]ocispec.Descriptor{man.Config}, man.Layers...) {
			if s.content.has(b.Digest) {
				out = append(out, b.Digest)
			}
		}
	}
	return out
}

// recordManifest fills img from a stored manifest whose blobs must all
// be stored.
func (s *Store) recordManifest(img *Image, desc ocispec.Descriptor) error {
	data, err := s.content.read(desc.Digest)
	if err != nil {
		return archiveMissing(desc.Digest, err)
	}
	m, err := parseManifest(data, desc.MediaType)
	if err != nil {
		return err
	}
	img.Digest, img.MediaType, img.Config = desc.Digest, desc.MediaType, m.Config
	if !s.content.has(m.Config.Digest) {
		return archiveMissing(m.Config.Digest, nil)
	}
	for _, l := range m.Layers {
		if !s.content.has(l.Digest) {
			return archiveMissing(l.Digest, nil)
		}
	}
	return s.fillFromConfig(img, m)
}

func archiveMissing(d digest.Digest, err error) error {
	if err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return errdefs.InvalidArgument("the archive lacks blob %s", d)
}

// ociName is the image name an OCI layout gives a manifest: containerd's
// full-name annotation, else a ref.name that is a whole reference (a bare
// tag names no repository).
func ociName(ann map[string]string) string {
	for _, key := range []string{annotationContainerdRef, annotationRefName} {
		v := ann[key]
		if v == "" || (key == annotationRefName && !strings.ContainsAny(v, "/:")) {
			continue
		}
		if ref, _, err := ParseReference(v, DockerHub); err == nil && ref.Tag != "" {
			return ref.Tagged()
		}
	}
	return ""
}

// loadDocker records the images of a docker archive: an OCI manifest is
// written for each, over its config and layer tars as stored.
func (s *Store) loadDocker(files map[string]archiveFile) ([]Loaded, error) {
	var entries []dockerManifestEntry
	if err := json.Unmarshal(files["manifest.json"].data, &entries); err != nil {
		return nil, errdefs.InvalidArgument("archive manifest.json: %v", err)
	}
	var out []Loaded
	for _, e := range entries {
		cfg, ok := files[path.Clean(e.Config)]
		if !ok {
			return nil, errdefs.InvalidArgument("the archive lacks %s", e.Config)
		}
		m := ocispec.Manifest{
			Versioned: specsVersioned(),
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg.digest, Size: cfg.size},
		}
		for _, lp := range e.Layers {
			lf, ok := files[path.Clean(lp)]
			if !ok {
				return nil, errdefs.InvalidArgument("the archive lacks %s", lp)
			}
			mt, err := s.layerMediaType(lf.digest)
			if err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: lf.digest, Size: lf.size})
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		img := &Image{Added: time.Now().UTC(), Digest: digest.FromBytes(data), MediaType: m.MediaType, Config: m.Config}
		if err := s.content.write(img.Digest, data); err != nil {
			return nil, err
		}
		if err := s.fillFromConfig(img, m); err != nil {
			return nil, err
		}
		var names []string
		for _, t := range e.RepoTags {
			ref, _, err := ParseReference(t, DockerHub)
			if err != nil {
				return nil, err
			}
			names = append(names, ref.Tagged())
		}
		if err := s.addImage(img, names); err != nil {
			return nil, err
		}
		out = append(out, Loaded{Image: img, Names: names})
	}
	return out, nil
}

// layerMediaType names a stored layer's compression as an OCI media type.
func (s *Store) layerMediaType(d digest.Digest) (string, error) {
	f, err := s.content.open(d)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic, err := bufio.NewReader(f).Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		return ocispec.MediaTypeImageLayerGzip, nil
	case bytes.HasPrefix(magic, zstdMagic):
		return ocispec.MediaTypeImageLayerZstd, nil
	}
	return ocispec.MediaTypeImageLayer, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func specsVersioned() specs.Versioned { return specs.Versioned{SchemaVersion: 2} }
