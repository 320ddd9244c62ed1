package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// Image is the record of one image (one platform's manifest) in the store,
// <root>/meta/<id hex>.json.
type Image struct {
	// ID is the config's digest, as docker and podman name images.
	ID digest.Digest `json:"id"`
	// Digest is the digest of the image's manifest.
	Digest digest.Digest `json:"digest"`
	// MediaType is the manifest's media type (OCI or Docker v2).
	MediaType string `json:"mediaType"`
	// Index is the index (manifest list) the image was pulled or loaded
	// through, when there was one; the names point at it.
	Index *ocispec.Descriptor `json:"index,omitempty"`
	// Others are further blobs the image owns: other platforms'
	// manifests, configs and layers that came with the index (a load of
	// a multi-platform layout), so that push can send the whole index.
	Others []digest.Digest `json:"others,omitempty"`
	// RepoDigests are name@digest references it was pulled by.
	RepoDigests []string `json:"repoDigests,omitempty"`
	// Platform is the image's platform.
	Platform ocispec.Platform `json:"platform"`
	// Config is the config blob's descriptor.
	Config ocispec.Descriptor `json:"config"`
	// Layers are the layers, base first.
	Layers []Layer `json:"layers"`
	// Created is the config's creation time.
	Created time.Time `json:"created,omitzero"`
	// Added is when the image came into this store.
	Added time.Time `json:"added"`
}

// Layer is one layer of an image.
type Layer struct {
	ocispec.Descriptor
	// DiffID is the digest of the uncompressed layer tar.
	DiffID digest.Digest `json:"diffID"`
	// DiffSize is the size of the uncompressed layer tar (0 until
	// unpacked).
	DiffSize int64 `json:"diffSize,omitempty"`
}

// Size is the unpacked size (sum of the layers' tars), as docker shows.
func (img *Image) Size() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.DiffSize
	}
	return n
}

// ChainIDs are the layers' chain IDs: the snapshot keys.
func (img *Image) ChainIDs() []digest.Digest {
	ids := make([]digest.Digest, len(img.Layers))
	for i, l := range img.Layers {
		if i == 0 {
			ids[i] = l.DiffID
		} else {
			ids[i] = digest.FromString(ids[i-1].String() + " " + l.DiffID.String())
		}
	}
	return ids
}

// ShortID is the 12-character id docker prints.
func (img *Image) ShortID() string { return ShortID(img.ID) }

// ShortID shortens a digest to docker's 12 characters.
func ShortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}

func (s *Store) metaPath(id digest.Digest) string {
	return filepath.Join(s.root, "meta", id.Encoded()+".json")
}

// readImage reads a record by id.
func (s *Store) readImage(id digest.Digest) (*Image, error) {
	if err := checkDigest(id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.metaPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("image %s not found", ShortID(id))
	}
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", ShortID(id), err)
	}
	img := &Image{}
	if err := json.Unmarshal(data, img); err != nil {
		return nil, fmt.Errorf("read image %s: %w", ShortID(id), err)
	}
	return img, nil
}

// writeImage writes a record (under the metadata lock).
func (s *Store) writeImage(img *Image) error {
	data, err := json.Marshal(img)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.metaPath(img.ID), data)
}

// images reads every record.
func (s *Store) images() ([]*Image, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "meta"))
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []*Image
	for _, e := range ents {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		img, err := s.readImage(digest.NewDigestFromEncoded(digest.SHA256, hex))
		if err != nil {
			if errdefs.IsNotFound(err) {
				continue // removed meanwhile
			}
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// names is the name → image id table, <root>/repositories.json.
type names map[string]digest.Digest

func (s *Store) namesPath() string { return filepath.Join(s.root, "repositories.json") }

func (s *Store) readNames() (names, error) {
	data, err := os.ReadFile(s.namesPath())
	if errors.Is(err, os.ErrNotExist) {
		return names{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image names: %w", err)
	}
	var n names
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("read image names %s: %w", s.namesPath(), err)
	}
	if n == nil {
		n = names{}
	}
	return n, nil
}

func (s *Store) writeNames(n names) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.namesPath(), data)
}

// of returns the names of image id, sorted.
func (n names) of(id digest.Digest) []string {
	var out []string
	for name, target := range n {
		if target == id {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// writeFileAtomic writes data to path through a synced temporary file and
// a rename, so readers see the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
