package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
)

// ArchiveFormat is the format of save's tar.
type ArchiveFormat string

const (
	// OCIArchive is an OCI image layout in a tar (oci-layout, index.json,
	// blobs/sha256/...), blobs as stored.
	OCIArchive ArchiveFormat = "oci-archive"
	// DockerArchive is docker save's format: manifest.json naming each
	// image's config and uncompressed layer tars (paths as docker 25+
	// writes them, blobs/sha256/<digest>).
	DockerArchive ArchiveFormat = "docker-archive"
)

// annotations of the OCI layout's index.json.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerdRef = "io.containerd.image.name"
)

// dockerManifestEntry is one image of a docker archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Save writes the images refs name to w as one tar in format.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string, format ArchiveFormat) error {
	if format != OCIArchive && format != DockerArchive {
		return errdefs.InvalidArgument("unknown archive format %q (oci-archive or docker-archive)", format)
	}
	if len(refs) == 0 {
		return errdefs.InvalidArgument("save: no image given")
	}
	tw := &archiveWriter{tw: tar.NewWriter(w), written: make(map[string]bool)}
	var ociIndex ocispec.Index
	ociIndex.SchemaVersion, ociIndex.MediaType = 2, ocispec.MediaTypeImageIndex
	var dockerManifest []dockerManifestEntry
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return err
		}
		img, name, err := s.lookup(r)
		if err != nil {
			return err
		}
		if format == DockerArchive {
			entry, err := s.saveDocker(ctx, tw, img, name)
			if err != nil {
				return err
			}
			dockerManifest = append(dockerManifest, entry)
			continue
		}
		desc, err := s.saveOCI(tw, img)
		if err != nil {
			return err
		}
		if name != "" {
			ref, err := parseStored(name)
			if err == nil {
				desc.Annotations = map[string]string{annotationContainerdRef: ref.String(), annotationRefName: ref.Tag}
			}
		}
		ociIndex.Manifests = append(ociIndex.Manifests, desc)
	}
	if format == DockerArchive {
		if err := tw.json("manifest.json", dockerManifest); err != nil {
			return err
		}
	} else {
		if err := tw.json("oci-layout", ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}); err != nil {
			return err
		}
		if err := tw.json("index.json", ociIndex); err != nil {
			return err
		}
	}
	if err := tw.tw.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

// saveOCI writes img's blobs (its whole index when every part of it is
// stored) and returns the descriptor index.json lists.
func (s *Store) saveOCI(tw *archiveWriter, img *Image) (ocispec.Descriptor, error) {
	if idx := s.completeIndex(img); idx != nil {
		for _, m := range idx.idx.Manifests {
			if err := s.saveManifestBlobs(tw, m.Digest, m.MediaType); err != nil {
				return ocispec.Descriptor{}, err
			}
		}
		return idx.desc, tw.blob(s, idx.desc.Digest, idx.desc.Size)
	}
	desc := ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Platform: &img.Platform}
	data, err := s.content.read(img.Digest)
	if err != nil {
		return desc, err
	}
	desc.Size = int64(len(data))
	return desc, s.saveManifestBlobs(tw, img.Digest, img.MediaType)
}

func (s *Store) saveManifestBlobs(tw *archiveWriter, d digest.Digest, mediaType string) error {
	data, err := s.content.read(d)
	if err != nil {
		return err
	}
	m, err := parseManifest(data, mediaType)
	if err != nil {
		return err
	}
	for _, desc := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if err := tw.blob(s, desc.Digest, desc.Size); err != nil {
			return err
		}
	}
	return tw.blob(s, d, int64(len(data)))
}

// saveDocker writes img's config and uncompressed layers.
func (s *Store) saveDocker(ctx context.Context, tw *archiveWriter, img *Image, name string) (dockerManifestEntry, error) {
	entry := dockerManifestEntry{Config: blobPath(img.Config.Digest)}
	if name != "" {
		if ref, err := parseStored(name); err == nil {
			entry.RepoTags = []string{ref.FamiliarName() + ":" + ref.Tag}
		}
	}
	if err := tw.blob(s, img.Config.Digest, img.Config.Size); err != nil {
		return entry, err
	}
	for _, l := range img.Layers {
		entry.Layers = append(entry.Layers, blobPath(l.DiffID))
		if tw.written[blobPath(l.DiffID)] {
			continue
		}
		size := l.DiffSize
		if size == 0 {
			var err error
			if size, err = s.diffSize(l); err != nil {
				return entry, err
			}
		}
		if err := s.writeDiff(ctx, tw, l, size); err != nil {
			return entry, err
		}
	}
	return entry, nil
}

// diffSize measures a layer's uncompressed size by decompressing it.
func (s *Store) diffSize(l Layer) (int64, error) {
	f, err := s.content.open(l.Digest)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dr, _, err := storage.Decompress(f)
	if err != nil {
		return 0, err
	}
	defer dr.Close()
	n, err := io.Copy(io.Discard, dr)
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", ShortID(l.Digest), err)
	}
	return n, nil
}

// writeDiff writes layer l uncompressed, checking its diff ID as it goes.
func (s *Store) writeDiff(ctx context.Context, tw *archiveWriter, l Layer, size int64) error {
	f, err := s.content.open(l.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	dr, _, err := storage.Decompress(f)
	if err != nil {
		return err
	}
	defer dr.Close()
	if err := tw.header(blobPath(l.DiffID), size); err != nil {
		return err
	}
	v := newVerifier(dr, l.DiffID, size)
	if _, err := io.Copy(tw.tw, &ctxReader{ctx: ctx, r: v}); err != nil {
		return fmt.Errorf("layer %s: %w", ShortID(l.Digest), err)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func blobPath(d digest.Digest) string {
	return "blobs/" + string(d.Algorithm()) + "/" + d.Encoded()
}

// archiveWriter writes each blob once.
type archiveWriter struct {
	tw      *tar.Writer
	written map[string]bool
	dirs    bool
}

// archiveTime is the fixed time of every entry: the same images give the
// same archive.
var archiveTime = time.Unix(0, 0)

func (a *archiveWriter) header(name string, size int64) error {
	if !a.dirs {
		a.dirs = true
		for _, d := range []string{"blobs/", "blobs/sha256/"} {
			hdr := &tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: archiveTime, Format: tar.FormatPAX}
			if err := a.tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("write archive: %w", err)
			}
		}
	}
	a.written[name] = true
	hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: archiveTime, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

func (a *archiveWriter) blob(s *Store, d digest.Digest, size int64) error {
	name := blobPath(d)
	if a.written[name] {
		return nil
	}
	f, err := s.content.open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := a.header(name, size); err != nil {
		return err
	}
	if _, err := io.Copy(a.tw, newVerifier(f, d, size)); err != nil {
		return fmt.Errorf("write blob %s: %w", d, err)
	}
	return nil
}

func (a *archiveWriter) json(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := a.header(name, int64(len(data))); err != nil {
		return err
	}
	if _, err := a.tw.Write(data); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}
