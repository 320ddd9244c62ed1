package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
)

// InUse reports whether a container uses image id; the engine provides
// it. An image in use is never deleted (only untagged, with force), so
// its blobs and snapshots stay.
type InUse func(id digest.Digest) bool

// Use makes a container's use of image id visible without a race with
// Remove: record (the caller's write of what its InUse function reads)
// runs under the metadata lock, once the image is found to exist. Remove
// asks InUse under the same lock, so an image is either removed before
// the container records it (Use fails, NotFound) or kept because of it;
// and the collector keeps the snapshots of every image record.
func (s *Store) Use(id digest.Digest, record func() error) error {
	unlock, err := s.lockMeta()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.readImage(id); err != nil {
		if errdefs.IsNotFound(err) {
			return errdefs.NotFound("image %s was removed while the container was being created", ShortID(id))
		}
		return err
	}
	return record()
}

// RemoveResult is what Remove did.
type RemoveResult struct {
	// Untagged are the names removed.
	Untagged []string
	// Deleted is the image removed, when it was.
	Deleted digest.Digest
}

// Remove removes the name ref (the image goes with its last name), or,
// for an id or digest, the image with all its names. An image a
// container uses, or an id with several names, needs force; force never
// deletes an image in use: it only takes its names away. The blobs and
// snapshots nothing references any more are collected afterwards (GC).
func (s *Store) Remove(ref string, force bool, inUse InUse) (RemoveResult, error) {
	var res RemoveResult
	img, matched, err := s.lookup(ref)
	if err != nil {
		return res, err
	}
	unlock, err := s.lockMeta()
	if err != nil {
		return res, err
	}
	defer unlock()
	n, err := s.readNames()
	if err != nil {
		return res, err
	}
	names := n.of(img.ID)
	used := inUse != nil && inUse(img.ID)
	switch {
	case matched != "" && len(names) > 1:
		res.Untagged = []string{matched}
	case matched != "":
		res.Untagged = []string{matched}
		if used && !force {
			return RemoveResult{}, errdefs.Conflict("unable to remove %s: a container uses image %s (--force takes the name away, the image stays)", ref, img.ShortID())
		}
	default:
		if len(names) > 1 && !force {
			return res, errdefs.Conflict("unable to delete image %s: it has several names (%s); remove them one by one or use --force",
				img.ShortID(), strings.Join(names, ", "))
		}
		if used && !force {
			return res, errdefs.Conflict("unable to delete image %s: a container uses it", img.ShortID())
		}
		res.Untagged = names
	}
	for _, name := range res.Untagged {
		delete(n, name)
	}
	if err := s.writeNames(n); err != nil {
		return RemoveResult{}, err
	}
	if len(n.of(img.ID)) > 0 || used {
		return res, nil
	}
	if err := os.Remove(s.metaPath(img.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, fmt.Errorf("remove image %s: %w", img.ShortID(), err)
	}
	res.Deleted = img.ID
	return res, nil
}

// PruneResult is what Prune removed.
type PruneResult struct {
	// Images are the deleted images.
	Images []digest.Digest
	GCResult
}

// Prune deletes the images without names (with all: every image) that no
// container uses, then collects garbage, including partial downloads.
func (s *Store) Prune(all bool, inUse InUse) (PruneResult, error) {
	var res PruneResult
	list, err := s.List()
	if err != nil {
		return res, err
	}
	for _, img := range list {
		if (len(img.Names) > 0 && !all) || (inUse != nil && inUse(img.ID)) {
			continue
		}
		r, err := s.Remove(img.ID.String(), true, inUse)
		if err != nil {
			if errdefs.IsNotFound(err) {
				continue
			}
			return res, err
		}
		if r.Deleted != "" {
			res.Images = append(res.Images, r.Deleted)
		}
	}
	res.GCResult, err = s.GC(GCOptions{Partial: true})
	return res, err
}

// GCOptions configure GC.
type GCOptions struct {
	// Partial also removes partial downloads (kept otherwise so that a
	// pull can resume them).
	Partial bool
	// NoWait gives up (ErrBusy) instead of waiting for pulls in progress.
	NoWait bool
}

// ErrBusy: the collector did not run because content is being added.
var ErrBusy = errBusy

// GCResult is what the collector removed.
type GCResult struct {
	Blobs     int   `json:"blobs"`
	Snapshots int   `json:"snapshots"`
	Reclaimed int64 `json:"reclaimed"`
}

// GC removes the blobs and snapshots no image references and what
// interrupted pulls, loads and applies left behind. It holds the
// collector lock exclusively: no pull or load runs meanwhile.
func (s *Store) GC(opts GCOptions) (GCResult, error) {
	var res GCResult
	release, err := s.lock("gc.lock", exclusive, opts.NoWait)
	if err != nil {
		return res, err
	}
	defer release()
	imgs, err := s.images()
	if err != nil {
		return res, err
	}
	blobs := make(map[digest.Digest]bool)
	snaps := make(map[string]bool)
	for _, img := range imgs {
		blobs[img.Digest], blobs[img.Config.Digest] = true, true
		if img.Index != nil {
			blobs[img.Index.Digest] = true
		}
		for _, d := range img.Others {
			blobs[d] = true
		}
		for _, l := range img.Layers {
			blobs[l.Digest] = true
		}
		for _, c := range img.ChainIDs() {
			snaps[c.Encoded()] = true
		}
	}
	err = s.content.walk(func(d digest.Digest, size int64) error {
		if blobs[d] {
			return nil
		}
		if err := s.content.remove(d); err != nil {
			return err
		}
		res.Blobs++
		res.Reclaimed += size
		return nil
	})
	if err != nil {
		return res, err
	}
	infos, err := s.snap.List()
	if err != nil {
		return res, err
	}
	for _, info := range infos {
		if snaps[info.Key] {
			continue
		}
		if err := s.snap.Remove(info.Key); err != nil && !errdefs.IsNotFound(err) {
			return res, err
		}
		res.Snapshots++
		res.Reclaimed += info.DiffSize
	}
	if err := s.snap.Cleanup(); err != nil {
		return res, err
	}
	dirs := []string{"tmp"}
	if opts.Partial {
		dirs = append(dirs, "ingest")
	}
	for _, d := range dirs {
		if err := emptyDir(filepath.Join(s.root, d)); err != nil {
			return res, err
		}
	}
	return res, nil
}

func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("clean %s: %w", dir, err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	return nil
}
