package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// PullOptions configure Pull.
type PullOptions struct {
	RegistryOptions
	// Platform selects the image of a multi-platform index,
	// "os/arch[/variant]"; empty: this host's.
	Platform string
	// Progress reports the download; nil: nothing.
	Progress *Progress
	// Jobs is how many layers download at once; 0: 3, as docker.
	Jobs int
}

// Pull fetches the image name names (a short name tries the search
// registries in order), stores its blobs, unpacks its layers and names
// the image. It returns the image and the reference it came from.
func (s *Store) Pull(ctx context.Context, name string, opts PullOptions) (*Image, Reference, error) {
	regs, err := s.Registries()
	if err != nil {
		return nil, Reference{}, err
	}
	cands, err := regs.Candidates(name)
	if err != nil {
		return nil, Reference{}, err
	}
	plat, err := ParsePlatform(opts.Platform)
	if err != nil {
		return nil, Reference{}, err
	}
	release, err := s.addingContent()
	if err != nil {
		return nil, Reference{}, err
	}
	defer release()
	var tried []string
	for _, ref := range cands {
		img, err := s.pullRef(ctx, ref, plat, opts)
		if err == nil {
			return img, ref, nil
		}
		if !errdefs.IsNotFound(err) || len(cands) == 1 {
			return nil, ref, err
		}
		tried = append(tried, ref.Domain)
	}
	return nil, Reference{}, errdefs.NotFound("%s: not found in the search registries (%s)", name, strings.Join(tried, ", "))
}

func (s *Store) pullRef(ctx context.Context, ref Reference, plat ocispec.Platform, opts PullOptions) (*Image, error) {
	repo, err := s.connect(ctx, ref, opts.RegistryOptions, transport.PullScope)
	if err != nil {
		return nil, err
	}
	top, err := repo.manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	opts.Progress.Printf("Pulling %s", ref.FamiliarString())
	data, mediaType := top.Manifest, string(top.MediaType)
	topDigest := digest.Digest(top.Digest.String())
	img := &Image{Added: time.Now().UTC()}
	if isIndex(mediaType) {
		idx, err := parseIndex(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.FamiliarString(), err)
		}
		child, err := selectManifest(idx, plat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.FamiliarString(), err)
		}
		if err := s.content.write(topDigest, data); err != nil {
			return nil, err
		}
		img.Index = &ocispec.Descriptor{MediaType: mediaType, Digest: topDigest, Size: int64(len(data))}
		img.Platform = *child.Platform
		desc, err := repo.manifest(ctx, ref.pinned(child.Digest))
		if err != nil {
			return nil, err
		}
		data, mediaType = desc.Manifest, string(desc.MediaType)
		if isIndex(mediaType) {
			return nil, errdefs.Unsupported("%s: nested indexes are not supported", ref.FamiliarString())
		}
	}
	m, err := parseManifest(data, mediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref.FamiliarString(), err)
	}
	img.Digest, img.MediaType, img.Config = digest.FromBytes(data), mediaType, m.Config
	if err := s.content.write(img.Digest, data); err != nil {
		return nil, err
	}
	if err := s.download(ctx, repo, m.Config, nil, nil); err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref.FamiliarString(), err)
	}
	if err := s.fillFromConfig(img, m); err != nil {
		return nil, fmt.Errorf("%s: %w", ref.FamiliarString(), err)
	}
	if img.Index == nil && !matchPlatform(plat, img.Platform) {
		if opts.Platform != "" {
			return nil, errdefs.NotFound("%s: the image is for %s, not %s", ref.FamiliarString(), PlatformString(img.Platform), PlatformString(plat))
		}
		s.warn(fmt.Sprintf("%s is for %s, not this host's %s", ref.FamiliarString(), PlatformString(img.Platform), PlatformString(plat)))
	}
	if err := s.fetchLayers(ctx, repo, img, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", ref.FamiliarString(), err)
	}
	img.RepoDigests = []string{ref.Name() + "@" + topDigest.String()}
	var tags []string
	if ref.Digest == "" { // name:tag@digest pulls by digest and tags nothing, as docker
		tags = append(tags, ref.Tagged())
	}
	if err := s.addImage(img, tags); err != nil {
		return nil, err
	}
	opts.Progress.Printf("Digest: %s", topDigest)
	return img, nil
}

// fillFromConfig reads the stored config and completes the record:
// layers with their diff IDs, platform, creation time.
func (s *Store) fillFromConfig(img *Image, m ocispec.Manifest) error {
	data, err := s.content.read(m.Config.Digest)
	if err != nil {
		return err
	}
	cfg, err := parseConfig(data, len(m.Layers))
	if err != nil {
		return err
	}
	img.ID = m.Config.Digest
	img.Layers = make([]Layer, len(m.Layers))
	for i, l := range m.Layers {
		img.Layers[i] = Layer{Descriptor: l, DiffID: cfg.RootFS.DiffIDs[i]}
	}
	if img.Platform.OS == "" {
		img.Platform = normalizePlatform(cfg.Platform)
	}
	if cfg.Created != nil {
		img.Created = *cfg.Created
	}
	return nil
}

// fetchLayers downloads the layers the store lacks, several at once, and
// unpacks the missing snapshots. With a snapshotter that does not need
// the parent (overlay) each layer unpacks while it downloads; otherwise
// layers unpack in order, each as soon as it and its parent are ready.
func (s *Store) fetchLayers(ctx context.Context, repo *repository, img *Image, opts PullOptions) error {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 3
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chain := img.ChainIDs()
	n := len(img.Layers)
	ready := make([]chan struct{}, n)
	errs := make([]error, n)
	sem := make(chan struct{}, jobs)
	streaming := !s.snap.ApplyNeedsParent()
	for i := range img.Layers {
		ready[i] = make(chan struct{})
		l := &img.Layers[i]
		key, parents := chain[i].Encoded(), parentKeys(chain, i)
		info, serr := s.snap.Stat(key)
		haveSnap := serr == nil
		if haveSnap {
			l.DiffSize = info.DiffSize
		}
		task := opts.Progress.Task(ShortID(l.Digest), "Waiting", l.Size)
		if s.content.has(l.Digest) {
			task.Done("Already exists")
			close(ready[i])
			continue
		}
		go func() {
			defer close(ready[i])
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				task.Fail()
				return
			}
			defer func() { <-sem }()
			task.SetStatus("Downloading")
			var consume func(io.Reader) error
			if !haveSnap && streaming {
				consume = func(r io.Reader) error {
					info, err := s.applyLayer(ctx, key, parents, *l, r)
					l.DiffSize = info.DiffSize
					return err
				}
			}
			if err := s.download(ctx, repo, l.Descriptor, task, consume); err != nil {
				errs[i] = fmt.Errorf("layer %s: %w", ShortID(l.Digest), err)
				task.Fail()
				cancel()
				return
			}
			task.Done("Pull complete")
		}()
	}
	// Unpack, in order, what was not unpacked while downloading.
	var applyErr error
	for i := range img.Layers {
		<-ready[i]
		if errs[i] != nil || applyErr != nil {
			continue
		}
		if err := s.unpackFromBlob(ctx, img, chain, i); err != nil {
			applyErr = err
			cancel()
		}
	}
	if err := firstError(append(errs, applyErr)); err != nil {
		if errors.Is(err, unix.ENOSPC) {
			// Partial downloads are kept for the next pull to resume, but
			// on a full disk they are what is in the way, the ones the
			// failure cancelled too.
			for i := range img.Layers {
				s.content.dropIngest(img.Layers[i].Digest)
			}
		}
		return err
	}
	return s.settle(chain)
}

// firstError prefers a real failure over the cancellations it caused.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			if canceled == nil {
				canceled = err
			}
		default:
			return err
		}
	}
	return canceled
}

// download stores blob desc, resuming a partial download with an HTTP
// range request when the registry supports it. When consume is set it
// gets the whole blob stream (what was already on disk, then the
// network) as it downloads, and must read it to the end; the stream
// reports a digest or size mismatch as an error at its end. The blob
// becomes visible only once complete and verified.
func (s *Store) download(ctx context.Context, repo *repository, desc ocispec.Descriptor, task *Task, consume func(io.Reader) error) error {
	ing, err := s.content.startIngest(desc.Digest)
	if err != nil {
		return err
	}
	if s.content.has(desc.Digest) { // another pull finished it while we waited
		ing.close()
		if consume == nil {
			return nil
		}
		f, err := s.content.open(desc.Digest)
		if err != nil {
			return err
		}
		defer f.Close()
		return consume(newVerifier(f, desc.Digest, desc.Size))
	}
	offset, err := ing.size()
	if err == nil && offset > desc.Size {
		offset, err = 0, ing.reset()
	}
	if err != nil {
		ing.close()
		return err
	}
	var body io.ReadCloser = io.NopCloser(strings.NewReader(""))
	partial := true
	if offset < desc.Size {
		body, partial, err = repo.blob(ctx, desc.Digest, desc.Size, offset)
		if err != nil {
			ing.close()
			return err
		}
	}
	defer body.Close()
	if !partial && offset > 0 {
		if offset, err = 0, ing.reset(); err != nil {
			ing.close()
			return err
		}
	}
	if _, err := ing.f.Seek(offset, io.SeekStart); err != nil {
		ing.close()
		return err
	}
	if task == nil {
		task = (*Progress)(nil).Task("", "", 0)
	}
	task.SetCurrent(offset)
	prefix := io.NewSectionReader(ing.f, 0, offset)
	network := io.TeeReader(task.Reader(body), writerOnly{ing.f})
	stream := newVerifier(io.MultiReader(prefix, network), desc.Digest, desc.Size)
	if consume != nil {
		err = consume(stream)
	}
	if err == nil {
		_, err = io.CopyBuffer(writerOnly{io.Discard}, stream, make([]byte, 256<<10))
	}
	if err != nil {
		if errors.Is(err, ErrDigestMismatch) || errors.Is(err, unix.ENOSPC) {
			ing.discard(s.content) // worthless, or in the way
		} else {
			ing.close() // kept: the next pull resumes it
		}
		return err
	}
	return ing.finish(s.content)
}

type writerOnly struct{ io.Writer }
