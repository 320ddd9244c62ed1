package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// PushOptions configure Push.
type PushOptions struct {
	RegistryOptions
	// Progress reports the upload; nil: nothing.
	Progress *Progress
}

// Push uploads the image source names to dest (empty: the name source
// matched) and returns the reference and the digest pushed. An image that
// came with a multi-platform index whose every manifest and blob is
// stored pushes the whole index; otherwise its own manifest.
func (s *Store) Push(ctx context.Context, source, dest string, opts PushOptions) (Reference, digest.Digest, error) {
	img, matched, err := s.lookup(source)
	if err != nil {
		return Reference{}, "", err
	}
	if dest == "" {
		if matched == "" {
			return Reference{}, "", errdefs.InvalidArgument("push %s: an image id needs a destination name", source)
		}
		dest = matched
	}
	regs, err := s.Registries()
	if err != nil {
		return Reference{}, "", err
	}
	ref, _, err := ParseReference(dest, regs.Default)
	if err != nil {
		return Reference{}, "", err
	}
	if ref.Digest != "" {
		return ref, "", errdefs.InvalidArgument("push %s: cannot push to a digest", dest)
	}
	repo, base, err := s.repoAndTransport(ref, opts.RegistryOptions)
	if err != nil {
		return ref, "", err
	}
	ropts := []remote.Option{
		remote.WithTransport(base), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithContext(ctx), remote.WithJobs(3),
	}
	opts.Progress.Printf("Pushing %s", ref.FamiliarString())
	tag := repo.Tag(ref.Tag)
	var pushed digest.Digest
	if idx := s.completeIndex(img); idx != nil {
		err = remote.WriteIndex(tag, idx, ropts...)
		pushed = idx.desc.Digest
	} else {
		var v1img v1.Image
		if v1img, err = s.v1Image(img.Digest, img.MediaType, opts.Progress); err == nil {
			err = remote.Write(tag, v1img, ropts...)
		}
		pushed = img.Digest
	}
	if err != nil {
		return ref, "", registryError(ref, err)
	}
	opts.Progress.Printf("%s: digest: %s", ref.Tag, pushed)
	return ref, pushed, s.addRepoDigest(img.ID, ref.Name()+"@"+pushed.String())
}

func (s *Store) addRepoDigest(id digest.Digest, rd string) error {
	unlock, err := s.lockMeta()
	if err != nil {
		return err
	}
	defer unlock()
	img, err := s.readImage(id)
	if err != nil {
		return err
	}
	img.RepoDigests = mergeSorted(img.RepoDigests, []string{rd})
	return s.writeImage(img)
}

// storeImage is a stored manifest as ggcr's v1.Image (through
// partial.CompressedToImage): blobs are read from the content store.
type storeImage struct {
	s         *Store
	manifest  []byte
	mediaType string
	config    digest.Digest
	layers    map[digest.Digest]ocispec.Descriptor
	progress  *Progress
}

func (s *Store) v1Image(d digest.Digest, mediaType string, progress *Progress) (v1.Image, error) {
	data, err := s.content.read(d)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(data, mediaType)
	if err != nil {
		return nil, err
	}
	si := &storeImage{s: s, manifest: data, mediaType: mediaType, config: m.Config.Digest,
		layers: make(map[digest.Digest]ocispec.Descriptor), progress: progress}
	for _, l := range m.Layers {
		if !s.content.has(l.Digest) {
			return nil, errdefs.NotFound("layer %s of %s is not stored (the image was loaded without it)", ShortID(l.Digest), ShortID(d))
		}
		si.layers[l.Digest] = l
	}
	si.layers[m.Config.Digest] = m.Config
	return partial.CompressedToImage(si)
}

func (si *storeImage) RawConfigFile() ([]byte, error) { return si.s.content.read(si.config) }

func (si *storeImage) MediaType() (types.MediaType, error) { return types.MediaType(si.mediaType), nil }

func (si *storeImage) RawManifest() ([]byte, error) { return si.manifest, nil }

func (si *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	desc, ok := si.layers[digest.Digest(h.String())]
	if !ok {
		return nil, fmt.Errorf("blob %s is not part of the image", h)
	}
	return &storeLayer{s: si.s, desc: desc, progress: si.progress}, nil
}

// storeLayer is a stored blob as ggcr's CompressedLayer.
type storeLayer struct {
	s        *Store
	desc     ocispec.Descriptor
	progress *Progress
}

func (l *storeLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.desc.Digest.String()) }

func (l *storeLayer) Size() (int64, error) { return l.desc.Size, nil }

func (l *storeLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
}

func (l *storeLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.s.content.open(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	if isConfig(l.desc.MediaType) {
		return f, nil
	}
	task := l.progress.Task(ShortID(l.desc.Digest), "Pushing", l.desc.Size)
	return &taskReadCloser{Reader: task.Reader(f), f: f, task: task}, nil
}

type taskReadCloser struct {
	io.Reader
	f    io.Closer
	task *Task
}

func (t *taskReadCloser) Close() error {
	t.task.Done("Pushed")
	return t.f.Close()
}

// storeIndex is a stored index whose every manifest and blob is stored,
// as ggcr's v1.ImageIndex.
type storeIndex struct {
	s    *Store
	desc ocispec.Descriptor
	raw  []byte
	idx  ocispec.Index
}

// completeIndex returns img's index when everything it references is
// stored, nil otherwise.
func (s *Store) completeIndex(img *Image) *storeIndex {
	if img.Index == nil {
		return nil
	}
	raw, err := s.content.read(img.Index.Digest)
	if err != nil {
		return nil
	}
	idx, err := parseIndex(raw)
	if err != nil {
		return nil
	}
	for _, m := range idx.Manifests {
		if !isManifest(m.MediaType) {
			return nil
		}
		data, err := s.content.read(m.Digest)
		if err != nil {
			return nil
		}
		man, err := parseManifest(data, m.MediaType)
		if err != nil || !s.content.has(man.Config.Digest) {
			return nil
		}
		for _, l := range man.Layers {
			if !s.content.has(l.Digest) {
				return nil
			}
		}
	}
	return &storeIndex{s: s, desc: *img.Index, raw: raw, idx: idx}
}

func (si *storeIndex) MediaType() (types.MediaType, error) {
	return types.MediaType(si.desc.MediaType), nil
}

func (si *storeIndex) Digest() (v1.Hash, error) { return v1.NewHash(si.desc.Digest.String()) }

func (si *storeIndex) Size() (int64, error) { return si.desc.Size, nil }

func (si *storeIndex) RawManifest() ([]byte, error) { return si.raw, nil }

func (si *storeIndex) IndexManifest() (*v1.IndexManifest, error) {
	var im v1.IndexManifest
	if err := json.Unmarshal(si.raw, &im); err != nil {
		return nil, err
	}
	return &im, nil
}

func (si *storeIndex) Image(h v1.Hash) (v1.Image, error) {
	for _, m := range si.idx.Manifests {
		if m.Digest.String() == h.String() {
			return si.s.v1Image(m.Digest, m.MediaType, nil)
		}
	}
	return nil, errdefs.NotFound("manifest %s is not in the index", h)
}

func (si *storeIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, errdefs.Unsupported("nested indexes are not supported")
}
