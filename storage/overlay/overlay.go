// Package overlay is the overlayfs snapshotter: each snapshot is one
// directory holding only its layer's changes, with deletions kept as
// overlayfs whiteouts (0:0 character devices, the overlay.opaque xattr).
// Layers are shared by every image whose chain reaches them; a container
// stacks them as overlay lower directories. Layers unpack independently of
// their parents, so a pull unpacks them in parallel as they download.
//
// It does not mount anything: the container's init does.
package overlay

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tincan/tincan/storage"
)

// Snapshotter stores snapshots under Root:
//
//	<root>/<key>/diff        the layer's own files
//	<root>/<key>/info.json   parent, ancestors, diff size
//	<root>/tmp/              applies and removals in progress
type Snapshotter struct {
	root string
}

// New returns the overlay snapshotter rooted at root, creating it.
func New(root string) (*Snapshotter, error) {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("create %s: %w", root, err)
	}
	return &Snapshotter{root: root}, nil
}

var _ storage.Snapshotter = (*Snapshotter)(nil)

// Name is "overlay".
func (s *Snapshotter) Name() string { return "overlay" }

// ApplyNeedsParent is false: a layer's directory holds only its changes.
func (s *Snapshotter) ApplyNeedsParent() bool { return false }

func (s *Snapshotter) dir(key string) string { return filepath.Join(s.root, key) }

// Apply unpacks diff into a new layer directory. The parents need not
// exist yet (they may be unpacking at the same time); directories the
// layer creates implicitly take their attributes from the parents that
// do. diff is not read when key exists already.
func (s *Snapshotter) Apply(ctx context.Context, key string, parents []string, diff io.Reader, opts storage.ApplyOptions) (storage.Info, error) {
	if err := storage.ValidKey(key); err != nil {
		return storage.Info{}, err
	}
	if info, err := s.Stat(key); err == nil {
		return info, nil
	}
	rec := storage.Record{Info: storage.Info{Key: key}}
	for _, p := range parents {
		if err := storage.ValidKey(p); err != nil {
			return storage.Info{}, err
		}
	}
	if len(parents) > 0 {
		rec.Parent, rec.Lowers = parents[0], parents
	}
	opts.Whiteouts = storage.WhiteoutOverlay
	opts.Lowers = s.diffDirs(rec.Lowers)
	opts.ImplicitDir = func(rel string) { rec.Implicit = append(rec.Implicit, rel) }
	staging, err := storage.StagingDir(s.root)
	if err != nil {
		return storage.Info{}, err
	}
	fail := func(err error) (storage.Info, error) {
		os.RemoveAll(staging)
		return storage.Info{}, err
	}
	diffDir := filepath.Join(staging, "diff")
	if err := os.Mkdir(diffDir, 0o755); err != nil {
		return fail(fmt.Errorf("create %s: %w", diffDir, err))
	}
	n, err := storage.Apply(ctx, diffDir, diff, opts)
	if err != nil {
		return fail(err)
	}
	rec.DiffSize = n
	if err := storage.WriteRecord(staging, rec); err != nil {
		return fail(err)
	}
	if _, err := storage.CommitDir(staging, s.dir(key)); err != nil {
		return fail(err)
	}
	return rec.Info, nil
}

func (s *Snapshotter) diffDirs(keys []string) []string {
	dirs := make([]string, 0, len(keys))
	for _, k := range keys {
		dirs = append(dirs, filepath.Join(s.dir(k), "diff"))
	}
	return dirs
}

// Settle gives the directories snapshot key created implicitly the
// attributes they have in its lowers, which may have been unpacking
// while key was applied. Call it once the lowers are complete and
// settled, bottom layer first; it does nothing the second time.
func (s *Snapshotter) Settle(key string) error {
	if err := storage.ValidKey(key); err != nil {
		return err
	}
	rec, err := storage.ReadRecord(s.dir(key))
	if err != nil || len(rec.Implicit) == 0 {
		return err
	}
	if err := storage.SettleImplicit(filepath.Join(s.dir(key), "diff"), rec.Implicit, s.diffDirs(rec.Lowers)); err != nil {
		return err
	}
	rec.Implicit = nil
	return storage.ReplaceRecord(s.dir(key), rec)
}

// Stat reads a snapshot's record.
func (s *Snapshotter) Stat(key string) (storage.Info, error) {
	if err := storage.ValidKey(key); err != nil {
		return storage.Info{}, err
	}
	r, err := storage.ReadRecord(s.dir(key))
	return r.Info, err
}

// Layers returns key's directory and its ancestors', top first.
func (s *Snapshotter) Layers(key string) ([]string, error) {
	if err := storage.ValidKey(key); err != nil {
		return nil, err
	}
	r, err := storage.ReadRecord(s.dir(key))
	if err != nil {
		return nil, err
	}
	dirs := []string{filepath.Join(s.dir(key), "diff")}
	for _, l := range r.Lowers {
		dirs = append(dirs, filepath.Join(s.dir(l), "diff"))
	}
	return dirs, nil
}

// List returns every snapshot.
func (s *Snapshotter) List() ([]storage.Info, error) { return storage.ListRecords(s.root) }

// Remove deletes a snapshot.
func (s *Snapshotter) Remove(key string) error { return storage.RemoveDir(s.root, key) }

// Cleanup removes interrupted applies.
func (s *Snapshotter) Cleanup() error { return storage.CleanupStaging(s.root) }
