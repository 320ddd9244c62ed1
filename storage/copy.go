package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

type devIno struct{ dev, ino uint64 }

// copier copies trees exactly: owners, modes, xattrs, times, device
// numbers and hardlinks. The sources are snapshots of ours, never changed
// after they were committed, so walking them by path with lstat is safe;
// the destinations are directories it creates itself.
type copier struct {
	links    map[devIno]string
	dirs     []copiedDir
	noClone  bool
	xattrBuf []byte
	// skipXattr drops xattrs that describe the source's layering (the
	// overlay.* markers of a layer directory) rather than the file.
	skipXattr func(name string) bool
}

type copiedDir struct {
	path string
	ts   []unix.Timespec
}

func newCopier() *copier {
	return &copier{links: make(map[devIno]string), xattrBuf: make([]byte, 4096)}
}

// CopyTree makes dst (which must not exist) an exact copy of the tree
// src: what the native snapshotter does to start a snapshot from its
// parent.
func CopyTree(src, dst string) error {
	c := newCopier()
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if err := c.copy(src, dst, &st); err != nil {
		return err
	}
	return c.finish()
}

// finish sets the directories' times, deepest first, once nothing is
// added to them any more.
func (c *copier) finish() error {
	for i := len(c.dirs) - 1; i >= 0; i-- {
		d := c.dirs[i]
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, d.path, d.ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("set times of %s: %w", d.path, err)
		}
	}
	return nil
}

func (c *copier) copy(src, dst string, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := c.mkdir(src, dst, st); err != nil {
			return err
		}
		return c.children(src, dst)
	}
	return c.leaf(src, dst, st)
}

// mkdir makes dst a directory with src's attributes (times at finish).
func (c *copier) mkdir(src, dst string, st *unix.Stat_t) error {
	if err := unix.Mkdir(dst, 0o700); err != nil {
		return fmt.Errorf("mkdir %s: %w", dst, err)
	}
	if err := c.meta(src, dst, st); err != nil {
		return err
	}
	c.dirs = append(c.dirs, copiedDir{path: dst, ts: []unix.Timespec{st.Atim, st.Mtim}})
	return nil
}

// leaf copies anything but a directory.
func (c *copier) leaf(src, dst string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if st.Nlink > 1 {
			id := devIno{uint64(st.Dev), st.Ino}
			if first, ok := c.links[id]; ok {
				if err := os.Link(first, dst); err != nil {
					return fmt.Errorf("hardlink %s: %w", dst, err)
				}
				return nil
			}
			c.links[id] = dst
		}
		if err := c.copyFile(src, dst); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("readlink %s: %w", src, err)
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("symlink %s: %w", dst, err)
		}
	default: // devices, fifos, sockets
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", dst, err)
		}
	}
	if err := c.meta(src, dst, st); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", dst, err)
	}
	return nil
}

func (c *copier) children(src, dst string) error {
	names, err := readNames(src)
	if err != nil {
		return err
	}
	for _, name := range names {
		s, t := filepath.Join(src, name), filepath.Join(dst, name)
		var st unix.Stat_t
		if err := unix.Lstat(s, &st); err != nil {
			return fmt.Errorf("stat %s: %w", s, err)
		}
		if err := c.copy(s, t, &st); err != nil {
			return err
		}
	}
	return nil
}

func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return names, nil
}

// copyFile copies contents with a reflink when the filesystem has them,
// else with copy_file_range (what io.Copy between files uses).
func (c *copier) copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	defer out.Close()
	if !c.noClone {
		err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd()))
		if err == nil {
			return nil
		}
		c.noClone = true
	}
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", dst, err)
	}
	return nil
}

// meta copies owner, mode and xattrs (after chown, which clears setuid
// bits and security.capability).
func (c *copier) meta(src, dst string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	return c.xattrs(src, dst)
}

func (c *copier) xattrs(src, dst string) error {
	n, err := unix.Llistxattr(src, c.xattrBuf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Llistxattr(src, nil); err == nil {
			c.xattrBuf = make([]byte, n)
			n, err = unix.Llistxattr(src, c.xattrBuf)
		}
	}
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list xattrs of %s: %w", src, err)
	}
	for _, name := range splitNames(c.xattrBuf[:n]) {
		if c.skipXattr != nil && c.skipXattr(name) {
			continue
		}
		size, err := unix.Lgetxattr(src, name, nil)
		if err != nil {
			return fmt.Errorf("get xattr %s of %s: %w", name, src, err)
		}
		value := make([]byte, size)
		if size, err = unix.Lgetxattr(src, name, value); err != nil {
			return fmt.Errorf("get xattr %s of %s: %w", name, src, err)
		}
		if err := unix.Lsetxattr(dst, name, value[:size], 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", name, dst, err)
		}
	}
	return nil
}

func splitNames(buf []byte) []string {
	var names []string
	for _, n := range strings.Split(string(buf), "\x00") {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}
