package spec

import (
	"errors"
	"io/fs"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// RootfsPath returns the host path of the container's root filesystem:
// root.path, taken relative to the bundle when it is relative, made absolute
// and cleaned, with every symlink resolved. runc resolves the bundle the same
// way (it works from the bundle's physical path); resolving the rootfs
// itself as well means later code can compare the result with mountinfo and
// pivot into it without meeting a symlink. The rootfs must exist: a missing
// one gives an errdefs.NotFound error. An empty bundle means the current
// directory, as in runc. Errors start with "root.path: ".
func RootfsPath(s *specs.Spec, bundle string) (string, error) {
	if s == nil || s.Root == nil || s.Root.Path == "" {
		return "", errdefs.InvalidArgument("root.path: required")
	}
	if err := checkPathString("root.path", s.Root.Path); err != nil {
		return "", err
	}
	path := s.Root.Path
	if !filepath.IsAbs(path) {
		absBundle, err := filepath.Abs(bundle)
		if err != nil {
			return "", errdefs.InvalidArgument("root.path: bundle %s: %w", bundle, err)
		}
		path = filepath.Join(absBundle, path)
	}
	path = filepath.Clean(path)
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		cause := err
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			cause = pathErr.Err
		}
		if errors.Is(cause, fs.ErrNotExist) {
			return "", errdefs.NotFound("root.path: rootfs %s: %w", path, cause)
		}
		return "", errdefs.InvalidArgument("root.path: rootfs %s: %w", path, cause)
	}
	return resolved, nil
}
