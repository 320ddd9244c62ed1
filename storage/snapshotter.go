package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// Snapshotter stores read-only layer snapshots by key.
type Snapshotter interface {
	// Name is the driver name ("overlay", "native").
	Name() string
	// ApplyNeedsParent reports whether Apply reads the parent snapshot's
	// content (then layers must be applied in order), or only records the
	// chain (then layers can be unpacked in parallel, while they
	// download).
	ApplyNeedsParent() bool
	// Apply creates snapshot key on top of parents (the keys of the
	// snapshots below it, nearest first; none for a base layer) from the
	// uncompressed layer tar diff. The snapshot becomes visible only once
	// diff has been read to its end without error, so a reader that fails
	// at EOF (a digest check) leaves nothing behind. When key exists
	// (made concurrently) Apply returns its Info without reading diff.
	Apply(ctx context.Context, key string, parents []string, diff io.Reader, opts ApplyOptions) (Info, error)
	// Stat returns a snapshot's information, or an errdefs.ErrNotFound
	// error.
	Stat(key string) (Info, error)
	// Layers returns the read-only directories to stack for key, top
	// first: every layer's own directory for overlay, one full tree for
	// native.
	Layers(key string) ([]string, error)
	// List returns every snapshot.
	List() ([]Info, error)
	// Remove deletes a snapshot. Children of it stop working; the caller
	// (the garbage collector) removes only snapshots nothing reaches.
	Remove(key string) error
	// Cleanup removes what interrupted Apply calls left behind. Call it
	// only while no Apply runs.
	Cleanup() error
}

// Settler is a Snapshotter whose Apply may run before the parents are
// complete (overlay: layers unpack in parallel as they download). Settle
// finishes snapshot key against its now complete parents; call it for
// every layer of a chain, bottom first, before the chain is used.
type Settler interface {
	Settle(key string) error
}

// Settle settles keys (bottom layer first) when s needs it.
func Settle(s Snapshotter, keys ...string) error {
	st, ok := s.(Settler)
	if !ok {
		return nil
	}
	for _, k := range keys {
		if err := st.Settle(k); err != nil {
			return fmt.Errorf("settle snapshot %s: %w", k, err)
		}
	}
	return nil
}

// Info describes a snapshot.
type Info struct {
	// Key is the snapshot's name (the layer's chain ID).
	Key string `json:"key"`
	// Parent is the parent snapshot's key, "" for a base layer.
	Parent string `json:"parent,omitempty"`
	// DiffSize is the size of the layer tar that made it.
	DiffSize int64 `json:"diffSize"`
}

// ValidKey checks that key can name a directory: lowercase letters,
// digits, '-' and '_', as chain IDs in hex are.
func ValidKey(key string) error {
	if key == "" || len(key) > 128 {
		return errdefs.InvalidArgument("invalid snapshot key %q", key)
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return errdefs.InvalidArgument("invalid snapshot key %q", key)
		}
	}
	return nil
}

// StagingDir makes a fresh directory under root/tmp for an Apply in
// progress. Cleanup removes the leftovers of killed ones.
func StagingDir(root string) (string, error) {
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", tmp, err)
	}
	dir, err := os.MkdirTemp(tmp, "apply-")
	if err != nil {
		return "", fmt.Errorf("create staging directory in %s: %w", tmp, err)
	}
	// Traversable by anyone: overlay lower directories are looked up with
	// the credentials of the container's init, which may be in a user
	// namespace.
	if err := os.Chmod(dir, 0o711); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("chmod %s: %w", dir, err)
	}
	return dir, nil
}

// CommitDir renames a finished staging directory to its final name. It
// returns committed=false, with no error, when another Apply made the
// snapshot first; the staging directory is then removed.
func CommitDir(staging, final string) (committed bool, err error) {
	err = os.Rename(staging, final)
	if err == nil {
		return true, nil
	}
	if fi, serr := os.Stat(final); serr == nil && fi.IsDir() {
		os.RemoveAll(staging)
		return false, nil
	}
	return false, fmt.Errorf("commit snapshot %s: %w", filepath.Base(final), err)
}

// ListDirs returns the names of root's snapshot directories (all but tmp).
func ListDirs(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots in %s: %w", root, err)
	}
	var keys []string
	for _, e := range ents {
		if e.IsDir() && e.Name() != "tmp" && !strings.HasPrefix(e.Name(), ".") {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}
