package cgroupfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// RemoveTrees removes the cgroups at dirs (one container's cgroup in each
// hierarchy) and every cgroup below them, deepest first. rmdir fails with
// EBUSY while a cgroup still has processes, including ones exiting right
// now, so busy trees are retried until RemoveTimeout, one deadline for all
// of them. Missing directories are not an error. It kills nothing.
func RemoveTrees(dirs ...string) error {
	pending := slices.Clone(dirs)
	var failed, busy []error
	err := Poll(RemoveTimeout, func() (bool, error) {
		busy = nil
		stillBusy := pending[:0]
		for _, dir := range pending {
			err := removeTreeOnce(dir)
			switch {
			case err == nil:
			case errors.Is(err, unix.EBUSY):
				busy = append(busy, err)
				stillBusy = append(stillBusy, dir)
			default:
				failed = append(failed, err)
			}
		}
		pending = stillBusy
		return len(pending) == 0, nil
	})
	if errors.Is(err, ErrTimedOut) {
		failed = append(failed, fmt.Errorf("%w (still busy after %s)", errors.Join(busy...), RemoveTimeout))
	}
	return errors.Join(failed...)
}

// removeTreeOnce tries to remove the tree at dir once, deepest first,
// stopping at the first cgroup that cannot go (its parents cannot either).
func removeTreeOnce(dir string) error {
	// Usually the cgroup has no children: one rmdir, no listing.
	if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	dirs, err := Dirs(dir)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove cgroup %s: %w", d, err)
		}
	}
	return nil
}

// MakeDirs creates the cgroup at dir and its missing parents; an existing
// cgroup is fine.
func MakeDirs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path != dir {
			return fmt.Errorf("create cgroup %s: %s: %w", dir, pe.Path, pe.Err)
		}
		return fmt.Errorf("create cgroup %s: %w", dir, pathErrCause(err))
	}
	return nil
}

// DirExists reports whether dir exists and is a directory.
func DirExists(dir string) bool {
	info, err := os.Stat(dir)
	return err == nil && info.IsDir()
}

// Dirs returns dir and every directory below it, deepest first, so that the
// result is the order in which cgroups can be removed. A missing dir gives
// an empty list.
func Dirs(dir string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("list cgroup %s: %w", path, pathErrCause(err))
		}
		if entry.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	// WalkDir visits parents before children, so reversing puts every
	// child before its parent.
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	return dirs, err
}
