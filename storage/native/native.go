// Package native is the copy-based snapshotter, for hosts where overlayfs
// is not available: each snapshot is a complete root filesystem, its
// parent's copied (reflinks where the filesystem has them) with the layer
// applied on top and whiteouts applied as deletions. It costs a full copy
// per layer; in exchange a snapshot is one plain directory.
package native

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tincan/tincan/storage"
)

// Snapshotter stores snapshots under root:
//
//	<root>/<key>/rootfs      the complete tree
//	<root>/<key>/info.json   parent, diff size
//	<root>/tmp/              applies and removals in progress
type Snapshotter struct {
	root string
}

// New returns the native snapshotter rooted at root, creating it.
func New(root string) (*Snapshotter, error) {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("create %s: %w", root, err)
	}
	return &Snapshotter{root: root}, nil
}

var _ storage.Snapshotter = (*Snapshotter)(nil)

// Name is "native".
func (s *Snapshotter) Name() string { return "native" }

// ApplyNeedsParent is true: a snapshot starts as a copy of its parent.
func (s *Snapshotter) ApplyNeedsParent() bool { return true }

func (s *Snapshotter) dir(key string) string { return filepath.Join(s.root, key) }

// Apply copies the parent (parents[0], which must exist) and applies diff
// onto the copy. diff is not read when key exists already.
func (s *Snapshotter) Apply(ctx context.Context, key string, parents []string, diff io.Reader, opts storage.ApplyOptions) (storage.Info, error) {
	if err := storage.ValidKey(key); err != nil {
		return storage.Info{}, err
	}
	if info, err := s.Stat(key); err == nil {
		return info, nil
	}
	parent := ""
	if len(parents) > 0 {
		parent = parents[0]
	}
	if parent != "" {
		if err := storage.ValidKey(parent); err != nil {
			return storage.Info{}, err
		}
		if _, err := s.Stat(parent); err != nil {
			return storage.Info{}, fmt.Errorf("parent of %s: %w", key, err)
		}
	}
	staging, err := storage.StagingDir(s.root)
	if err != nil {
		return storage.Info{}, err
	}
	fail := func(err error) (storage.Info, error) {
		os.RemoveAll(staging)
		return storage.Info{}, err
	}
	rootfs := filepath.Join(staging, "rootfs")
	if parent == "" {
		err = os.Mkdir(rootfs, 0o755)
	} else {
		err = storage.CopyTree(filepath.Join(s.dir(parent), "rootfs"), rootfs)
	}
	if err != nil {
		return fail(fmt.Errorf("prepare snapshot %s: %w", key, err))
	}
	opts.Whiteouts = storage.WhiteoutDelete
	opts.Lowers = nil
	n, err := storage.Apply(ctx, rootfs, diff, opts)
	if err != nil {
		return fail(err)
	}
	rec := storage.Record{Info: storage.Info{Key: key, Parent: parent, DiffSize: n}}
	if err := storage.WriteRecord(staging, rec); err != nil {
		return fail(err)
	}
	if _, err := storage.CommitDir(staging, s.dir(key)); err != nil {
		return fail(err)
	}
	return rec.Info, nil
}

// Stat reads a snapshot's record.
func (s *Snapshotter) Stat(key string) (storage.Info, error) {
	if err := storage.ValidKey(key); err != nil {
		return storage.Info{}, err
	}
	r, err := storage.ReadRecord(s.dir(key))
	return r.Info, err
}

// Layers returns the snapshot's one complete tree.
func (s *Snapshotter) Layers(key string) ([]string, error) {
	if _, err := s.Stat(key); err != nil {
		return nil, err
	}
	return []string{filepath.Join(s.dir(key), "rootfs")}, nil
}

// List returns every snapshot.
func (s *Snapshotter) List() ([]storage.Info, error) { return storage.ListRecords(s.root) }

// Remove deletes a snapshot.
func (s *Snapshotter) Remove(key string) error { return storage.RemoveDir(s.root, key) }

// Cleanup removes interrupted applies.
func (s *Snapshotter) Cleanup() error { return storage.CleanupStaging(s.root) }
