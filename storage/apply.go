package storage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/pathrs"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	copyBufferSize = 256 << 10
)

// Apply unpacks the uncompressed layer tar r into dir and returns how many
// bytes of r it read (the layer's diff size). It reads r to its end, past
// the tar end-of-archive marker, so that a reader checking a digest at EOF
// reports a mismatch as Apply's error.
//
// Entries are resolved inside dir: "../" names and hardlinks are refused,
// absolute names are taken relative to dir, and symlinks on the way to an
// entry (absolute or relative) resolve as if dir were "/". Whiteouts
// follow opts.Whiteouts. Ownership, mode (setuid bits included), xattrs
// (security.capability included), device numbers and times are kept.
func Apply(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (int64, error) {
	root, err := pathrs.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	a := &applier{root: root, opts: opts, written: make(map[string]bool), buf: make([]byte, copyBufferSize)}
	defer a.close()
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return cr.n, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return cr.n, fmt.Errorf("read layer: %w", err)
		}
		if err := a.entry(hdr, tr); err != nil {
			return cr.n, fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
	if err := a.finishDirs(); err != nil {
		return cr.n, err
	}
	if a.opts.ImplicitDir != nil {
		for _, rel := range a.implicit {
			if !a.written[rel] { // listed later: its own attributes stand
				a.opts.ImplicitDir(rel)
			}
		}
	}
	// What follows the end-of-archive marker (padding) belongs to the
	// stream too: read it so the caller's digest covers all of it.
	if _, err := io.CopyBuffer(io.Discard, cr, a.buf); err != nil {
		return cr.n, fmt.Errorf("read layer: %w", err)
	}
	return cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// dirTimes is a directory whose times are set after all entries, since
// creating entries in it changes its mtime.
type dirTimes struct {
	rel          string
	atime, mtime time.Time
}

type applier struct {
	root    *pathrs.Root
	opts    ApplyOptions
	written map[string]bool // entries this layer wrote, by cleaned name
	// implicit are the directories created for entries whose parents the
	// tar had not listed (yet), while there were Lowers.
	implicit []string
	dirs     []dirTimes
	buf      []byte

	// The last parent directory opened: consecutive entries usually share
	// one. Dropped whenever an existing entry is removed, since that may
	// have been (an ancestor of) it.
	cachedRel string
	cachedDir *os.File
}

func (a *applier) close() {
	a.invalidate()
	a.root.Close()
}

func (a *applier) invalidate() {
	if a.cachedDir != nil {
		a.cachedDir.Close()
		a.cachedDir, a.cachedRel = nil, ""
	}
}

// cleanName makes a tar name relative to the root, refusing names that
// climb out of it.
func cleanName(name string) (string, error) {
	c := path.Clean(strings.TrimLeft(name, "/"))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errdefs.InvalidArgument("escapes the layer root")
	}
	return c, nil
}

func (a *applier) entry(hdr *tar.Header, content io.Reader) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeCont:
		return nil
	}
	if rel == "." {
		if hdr.Typeflag == tar.TypeDir {
			return a.rootMeta(hdr)
		}
		return errdefs.InvalidArgument("a layer entry cannot replace the root")
	}
	parent, base := path.Dir(rel), path.Base(rel)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(parent, base)
	}
	pdir, err := a.dir(parent)
	if err != nil {
		return err
	}
	pfd := int(pdir.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		if hdr.Typeflag != tar.TypeDir || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := removeAt(pdir, base, st.Mode&unix.S_IFMT == unix.S_IFDIR); err != nil {
				return err
			}
			a.invalidate()
			if pdir, err = a.dir(parent); err != nil {
				return err
			}
			pfd = int(pdir.Fd())
		}
	} else if !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("stat: %w", err)
	}
	a.written[rel] = true

	switch hdr.Typeflag {
	case tar.TypeReg:
		return a.regular(pfd, base, hdr, content)
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir: %w", err)
		}
		a.dirs = append(a.dirs, dirTimes{rel: rel, atime: hdr.AccessTime, mtime: hdr.ModTime})
		return a.meta(pfd, base, hdr, false)
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
		return a.meta(pfd, base, hdr, true)
	case tar.TypeLink:
		return a.hardlink(pfd, base, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, mode, int(dev)); err != nil {
			if errors.Is(err, unix.EPERM) && hdr.Typeflag != tar.TypeFifo {
				delete(a.written, rel)
				a.opts.warn("skipping device node /%s: %v (not allowed in a user namespace)", rel, err)
				return nil
			}
			return fmt.Errorf("mknod: %w", err)
		}
		return a.meta(pfd, base, hdr, false)
	}
	delete(a.written, rel)
	a.opts.warn("skipping /%s: unsupported tar entry type %q", rel, hdr.Typeflag)
	return nil
}

func (a *applier) regular(pfd int, base string, hdr *tar.Header, content io.Reader) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	// The writer hides os.File's ReadFrom, which would copy through its
	// own small buffer.
	if _, err := io.CopyBuffer(writerOnly{f}, content, a.buf); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return a.meta(pfd, base, hdr, false)
}

type writerOnly struct{ io.Writer }

// hardlink links base to the earlier entry linkname (inside the root).
func (a *applier) hardlink(pfd int, base, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", linkname, err)
	}
	if target == "." {
		return errdefs.InvalidArgument("hardlink to the layer root")
	}
	tdir, err := a.root.Open(path.Dir(target), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("hardlink target %s: %w", target, err)
	}
	defer tdir.Close()
	if err := unix.Linkat(int(tdir.Fd()), path.Base(target), pfd, base, 0); err != nil {
		return fmt.Errorf("hardlink to %s: %w", target, err)
	}
	return nil
}

// meta sets owner, mode, xattrs and (for non-directories) times, in that
// order: chown clears setuid bits and security.capability.
func (a *applier) meta(pfd int, base string, hdr *tar.Header, symlink bool) error {
	uid, err := mapID(hdr.Uid, a.opts.UIDMap)
	if err != nil {
		return err
	}
	gid, err := mapID(hdr.Gid, a.opts.GIDMap)
	if err != nil {
		return err
	}
	if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %d:%d: %w", uid, gid, err)
	}
	if !symlink {
		if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode&0o7777), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if err := a.xattrs(procPath(pfd)+"/"+base, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	return setTimes(pfd, base, hdr.AccessTime, hdr.ModTime, unix.AT_SYMLINK_NOFOLLOW)
}

func (a *applier) xattrs(p string, hdr *tar.Header) error {
	for key, value := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		if !ok {
			continue
		}
		// A layer must not speak for the overlay filesystem itself
		// (redirects, metacopy, opaque markers of its own choosing).
		if strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			a.opts.warn("skipping xattr %s on %s: reserved for overlayfs", name, hdr.Name)
			continue
		}
		v := []byte(value)
		if name == "security.capability" {
			var err error
			if v, err = mapCapability(v, a.opts.UIDMap); err != nil {
				return err
			}
		}
		if err := unix.Lsetxattr(p, name, v, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || (errors.Is(err, unix.EPERM) && strings.HasPrefix(name, "user.")) {
				a.opts.warn("skipping xattr %s on %s: %v", name, hdr.Name, err)
				continue
			}
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}

func setTimes(dfd int, name string, atime, mtime time.Time, flags int) error {
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(dfd, name, ts, flags); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// rootMeta applies a "./" entry to the root directory itself.
func (a *applier) rootMeta(hdr *tar.Header) error {
	dir, err := a.root.Open(".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer dir.Close()
	uid, err := mapID(hdr.Uid, a.opts.UIDMap)
	if err != nil {
		return err
	}
	gid, err := mapID(hdr.Gid, a.opts.GIDMap)
	if err != nil {
		return err
	}
	p := procPath(int(dir.Fd()))
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("chown root: %w", err)
	}
	if err := unix.Chmod(p, uint32(hdr.Mode&0o7777)); err != nil {
		return fmt.Errorf("chmod root: %w", err)
	}
	a.dirs = append(a.dirs, dirTimes{rel: ".", atime: hdr.AccessTime, mtime: hdr.ModTime})
	return nil
}

// finishDirs sets the directories' times once nothing is added to them.
func (a *applier) finishDirs() error {
	for i := len(a.dirs) - 1; i >= 0; i-- {
		d := a.dirs[i]
		f, err := a.root.Open(d.rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if err != nil {
			continue // replaced by a later entry
		}
		// Through the /proc link (followed: it is not the directory).
		err = setTimes(unix.AT_FDCWD, procPath(int(f.Fd())), d.atime, d.mtime, 0)
		f.Close()
		if err != nil {
			return fmt.Errorf("directory %s: %w", d.rel, err)
		}
	}
	return nil
}

func procPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// removeAt removes name in dir (a whole tree for a directory), without
// following symlinks.
func removeAt(dir *os.File, name string, isDir bool) error {
	if !isDir {
		if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove %s: %w", name, err)
		}
		return nil
	}
	// os.RemoveAll walks with openat/unlinkat and O_NOFOLLOW below the
	// directory the /proc/self/fd link resolves to.
	if err := os.RemoveAll(procPath(int(dir.Fd())) + "/" + name); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}
