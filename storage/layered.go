package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Layered reads a stack of layer directories as an overlay mount of them
// would show it, without mounting anything: an entry in a higher layer
// hides the same path below it, a 0:0 character device is a whiteout, a
// directory marked opaque (the overlay.opaque xattr) hides what the layers
// below have in it, and a directory over a non-directory hides the rest.
// Symlinks resolve inside the view, an absolute target from its root, as
// in a chroot, so a link in an image never leads to the host.
//
// The engine reads a container's /etc/passwd and fills volumes with an
// image's content this way, before the container's overlay exists. A
// native snapshot is one full tree: a stack of one, with no whiteouts.
type Layered struct {
	// Layers are the directories, top first (what Snapshotter.Layers
	// returns).
	Layers []string
}

// maxSymlinks bounds symlink resolution, as the kernel's limit does.
const maxSymlinks = 40

// mergedNode is one path of the merged view: the host paths that make it,
// topmost first. A directory may be merged from several layers; anything
// else comes from one.
type mergedNode struct {
	paths []string
	st    unix.Stat_t // of paths[0]
}

func (n *mergedNode) isDir() bool { return n.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// root is the merged root directory.
func (v Layered) root() (mergedNode, error) {
	var n mergedNode
	if len(v.Layers) == 0 {
		return n, errors.New("layered view: no layers")
	}
	for i, dir := range v.Layers {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return n, fmt.Errorf("layer %s: %w", dir, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return n, fmt.Errorf("layer %s: not a directory", dir)
		}
		if i == 0 {
			n.st = st
		}
		// overlayfs stacks every layer's root (it never looks the root
		// up, so an opaque marker there hides nothing).
		n.paths = append(n.paths, dir)
	}
	return n, nil
}

// child looks name up in the merged directory dir; found is false when no
// layer has it or the topmost mention is a whiteout.
func (v Layered) child(dir mergedNode, name string) (n mergedNode, found bool, err error) {
	for _, d := range dir.paths {
		p := filepath.Join(d, name)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return n, false, fmt.Errorf("stat %s: %w", p, err)
		}
		if isWhiteout(&st) {
			break
		}
		stIsDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if len(n.paths) == 0 {
			n.st = st
		} else if !stIsDir {
			break // a directory above hides a non-directory and all below
		}
		n.paths = append(n.paths, p)
		if !stIsDir || isOpaque(p) {
			break
		}
	}
	return n, len(n.paths) > 0, nil
}

// resolve finds name in the view, following symlinks (the last component
// only with followLast).
func (v Layered) resolve(name string, followLast bool) (mergedNode, error) {
	root, err := v.root()
	if err != nil {
		return root, err
	}
	notFound := &fs.PathError{Op: "lookup", Path: name, Err: unix.ENOENT}
	stack := []mergedNode{root}
	parts := strings.Split(name, "/")
	links := 0
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		if !cur.isDir() {
			return cur, &fs.PathError{Op: "lookup", Path: name, Err: unix.ENOTDIR}
		}
		next, found, err := v.child(cur, part)
		if err != nil {
			return next, err
		}
		if !found {
			return next, notFound
		}
		if next.st.Mode&unix.S_IFMT == unix.S_IFLNK && (len(parts) > 0 || followLast) {
			if links++; links > maxSymlinks {
				return next, &fs.PathError{Op: "lookup", Path: name, Err: unix.ELOOP}
			}
			target, err := os.Readlink(next.paths[0])
			if err != nil {
				return next, fmt.Errorf("readlink %s: %w", next.paths[0], err)
			}
			if strings.HasPrefix(target, "/") {
				stack = stack[:1]
			}
			parts = append(strings.Split(target, "/"), parts...)
			continue
		}
		stack = append(stack, next)
	}
	return stack[len(stack)-1], nil
}

// Open opens the regular file name (an absolute path in the view),
// following symlinks inside the view. A missing file is an error for
// which errors.Is(err, fs.ErrNotExist) holds.
func (v Layered) Open(name string) (*os.File, error) {
	n, err := v.resolve(name, true)
	if err != nil {
		return nil, err
	}
	if n.st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("open %s: not a regular file", name)
	}
	return os.OpenFile(n.paths[0], os.O_RDONLY|unix.O_NOFOLLOW, 0)
}

// CopyDir copies what the view shows in directory name into the existing,
// empty directory dst and gives dst the source directory's owner and mode:
// how docker fills a new volume with the image's content at its mount
// point. It copies nothing and returns false when name is missing or not a
// directory.
func (v Layered) CopyDir(name, dst string) (bool, error) {
	n, err := v.resolve(name, true)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !n.isDir() {
		return false, nil
	}
	c := newCopier()
	c.skipXattr = isOverlayXattr
	if err := c.meta(n.paths[0], dst, &n.st); err != nil {
		return false, err
	}
	c.dirs = append(c.dirs, copiedDir{path: dst, ts: []unix.Timespec{n.st.Atim, n.st.Mtim}})
	if err := v.copyChildren(c, n, dst); err != nil {
		return false, err
	}
	return true, c.finish()
}

// copyChildren copies the merged directory dir's entries into dst.
func (v Layered) copyChildren(c *copier, dir mergedNode, dst string) error {
	seen := map[string]bool{}
	for _, d := range dir.paths {
		names, err := readNames(d)
		if err != nil {
			return err
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			n, found, err := v.child(dir, name)
			if err != nil {
				return err
			}
			if !found {
				continue // whited out
			}
			target := filepath.Join(dst, name)
			if !n.isDir() {
				if err := c.leaf(n.paths[0], target, &n.st); err != nil {
					return err
				}
				continue
			}
			if err := c.mkdir(n.paths[0], target, &n.st); err != nil {
				return err
			}
			if err := v.copyChildren(c, n, target); err != nil {
				return err
			}
		}
	}
	return nil
}

// isWhiteout: overlayfs marks a deleted path with a 0:0 character device.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// isOpaque reports the overlay.opaque marker (trusted.*, or user.* for
// layers made for user namespaces).
func isOpaque(dir string) bool {
	buf := make([]byte, 1)
	for _, name := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(dir, name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

func isOverlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}
