package image

import (
	"context"
	"errors"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
)

// applyLayer unpacks the compressed stream of layer l into snapshot key.
// compressed must verify the blob digest at its end (a verifier); the
// diff ID is checked here. Both are checked before the snapshot commits.
func (s *Store) applyLayer(ctx context.Context, key string, parents []string, l Layer, compressed io.Reader) (storage.Info, error) {
	dr, _, err := storage.Decompress(compressed)
	if err != nil {
		return storage.Info{}, err
	}
	defer dr.Close()
	stream := &layerStream{diff: newVerifier(dr, l.DiffID, -1), compressed: compressed}
	info, err := s.snap.Apply(ctx, key, parents, stream, storage.ApplyOptions{Warn: s.warn})
	if err != nil && !errdefs.IsInvalidArgument(err) && !errors.Is(err, ErrDigestMismatch) &&
		ctx.Err() == nil && !errors.Is(err, unix.ENOSPC) {
		// A tar the applier could not read may be a corrupt blob: if the
		// digest says so, that is the error to report.
		if _, derr := io.Copy(io.Discard, compressed); errors.Is(derr, ErrDigestMismatch) {
			return info, derr
		}
	}
	return info, err
}

// parentKeys are the snapshot keys below layer i, nearest first.
func parentKeys(chain []digest.Digest, i int) []string {
	keys := make([]string, 0, i)
	for j := i - 1; j >= 0; j-- {
		keys = append(keys, chain[j].Encoded())
	}
	return keys
}

// unpackFromBlob makes sure layer i of img has its snapshot, unpacking it
// from the stored blob when it has none.
func (s *Store) unpackFromBlob(ctx context.Context, img *Image, chain []digest.Digest, i int) error {
	l := &img.Layers[i]
	key := chain[i].Encoded()
	if info, err := s.snap.Stat(key); err == nil {
		l.DiffSize = info.DiffSize
		return nil
	}
	f, err := s.content.open(l.Digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", ShortID(l.Digest), err)
	}
	defer f.Close()
	info, err := s.applyLayer(ctx, key, parentKeys(chain, i), *l, newVerifier(f, l.Digest, l.Size))
	if err != nil {
		return fmt.Errorf("layer %s: %w", ShortID(l.Digest), err)
	}
	l.DiffSize = info.DiffSize
	return nil
}

// Unpack makes sure every layer of img has its snapshot (unpacking from
// the stored blobs what is missing) and returns the directories to stack
// for a container, top first: what runtime.CreateOptions.RootfsOverlay
// takes as Lower. An image without layers has none.
func (s *Store) Unpack(ctx context.Context, img *Image) ([]string, error) {
	if len(img.Layers) == 0 {
		return nil, nil
	}
	release, err := s.addingContent()
	if err != nil {
		return nil, err
	}
	defer release()
	return s.unpackLocked(ctx, img)
}

// unpackLocked is Unpack under the collector lock. Layer sizes learnt on
// the way are recorded.
func (s *Store) unpackLocked(ctx context.Context, img *Image) ([]string, error) {
	if len(img.Layers) == 0 {
		return nil, nil
	}
	chain := img.ChainIDs()
	changed := false
	for i := range img.Layers {
		before := img.Layers[i].DiffSize
		if err := s.unpackFromBlob(ctx, img, chain, i); err != nil {
			return nil, err
		}
		changed = changed || img.Layers[i].DiffSize != before
	}
	if changed {
		if err := s.updateSizes(img); err != nil {
			return nil, err
		}
	}
	if err := s.settle(chain); err != nil {
		return nil, err
	}
	return s.snap.Layers(chain[len(chain)-1].Encoded())
}

// updateSizes writes img's layer sizes into its stored record.
func (s *Store) updateSizes(img *Image) error {
	unlock, err := s.lockMeta()
	if err != nil {
		return err
	}
	defer unlock()
	stored, err := s.readImage(img.ID)
	if err != nil {
		return err
	}
	for i := range stored.Layers {
		if i < len(img.Layers) && stored.Layers[i].Digest == img.Layers[i].Digest {
			stored.Layers[i].DiffSize = img.Layers[i].DiffSize
		}
	}
	return s.writeImage(stored)
}

func (s *Store) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

// settle finishes the snapshots of chain (bottom first) once all exist:
// see storage.Settler.
func (s *Store) settle(chain []digest.Digest) error {
	keys := make([]string, len(chain))
	for i, c := range chain {
		keys[i] = c.Encoded()
	}
	return storage.Settle(s.snap, keys...)
}
