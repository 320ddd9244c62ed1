package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/tincan/tincan/errdefs"
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
