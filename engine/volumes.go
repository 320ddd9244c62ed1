package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
)

var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// VolumePath returns the host directory of a named volume, creating the
// volume when it does not exist yet (as docker run -v name:/path does).
func (s *Store) VolumePath(name string) (string, error) {
	if !volumeName.MatchString(name) {
		return "", errdefs.InvalidArgument("invalid volume name %q", name)
	}
	dir := filepath.Join(s.volumesDir(), name, "_data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create volume %s: %w", name, err)
	}
	return dir, nil
}

// Volumes lists the named volumes.
func (s *Store) Volumes() ([]string, error) {
	entries, err := os.ReadDir(s.volumesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// RemoveVolume deletes a named volume, refusing one a container uses.
func (s *Store) RemoveVolume(name string) error {
	if !volumeName.MatchString(name) {
		return errdefs.InvalidArgument("invalid volume name %q", name)
	}
	dir := filepath.Join(s.volumesDir(), name)
	if _, err := os.Stat(dir); err != nil {
		return errdefs.NotFound("no such volume: %s", name)
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	for _, r := range all {
		for _, m := range r.Config.Mounts {
			if m.Volume && m.Source == name {
				return errdefs.Conflict("volume %s is in use by container %s", name, r.Name)
			}
		}
	}
	return os.RemoveAll(dir)
}

// AnonymousVolumeName names a volume made for a -v with only a container
// path or for an image VOLUME, as docker does: 64 random hex digits.
func AnonymousVolumeName() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// prepareVolumes creates the volumes rec mounts that do not exist yet and
// fills each empty one with what the container's root filesystem (view)
// has at its mount point, as docker does for a new volume. It returns the
// volumes it created, for the caller to remove if the create fails.
func (s *Store) prepareVolumes(rec *Record, view storage.Layered) (created []string, err error) {
	for _, m := range rec.Config.Mounts {
		if !m.Volume {
			continue
		}
		if !volumeName.MatchString(m.Source) {
			return created, errdefs.InvalidArgument("invalid volume name %q", m.Source)
		}
		if _, err := os.Stat(filepath.Join(s.volumesDir(), m.Source)); errors.Is(err, os.ErrNotExist) {
			created = append(created, m.Source)
		}
		dir, err := s.VolumePath(m.Source)
		if err != nil {
			return created, err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return created, fmt.Errorf("volume %s: %w", m.Source, err)
		}
		if len(ents) > 0 {
			continue
		}
		if _, err := view.CopyDir(m.Destination, dir); err != nil {
			return created, fmt.Errorf("fill volume %s with the content of %s: %w", m.Source, m.Destination, err)
		}
	}
	return created, nil
}

// removeAnonymousVolumes removes the anonymous volumes of a removed
// container (rm -v, --rm).
func (s *Store) removeAnonymousVolumes(rec *Record) {
	for _, m := range rec.Config.Mounts {
		if m.Volume && m.Anonymous {
			s.RemoveVolume(m.Source)
		}
	}
}
