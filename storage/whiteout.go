package storage

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// dir returns an O_PATH handle to the directory rel inside the root,
// creating it (and its parents) when the tar did not list it.
func (a *applier) dir(rel string) (*os.File, error) {
	if a.cachedDir != nil && a.cachedRel == rel {
		return a.cachedDir, nil
	}
	a.invalidate()
	f, err := a.root.Open(rel, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) {
		f, err = a.mkdirImplicit(rel)
	}
	if err != nil {
		return nil, fmt.Errorf("parent directory %s: %w", rel, err)
	}
	a.cachedRel, a.cachedDir = rel, f
	return f, nil
}

// mkdirImplicit creates the missing directories of rel, each resolved
// inside the root, with the owner and mode the lower layers give that
// path (root 0755 when none has it).
func (a *applier) mkdirImplicit(rel string) (*os.File, error) {
	cur, err := a.root.Open(".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	done := "."
	for _, comp := range strings.Split(rel, "/") {
		done = path.Join(done, comp)
		next, err := a.root.Open(done, unix.O_PATH|unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			err = unix.Mkdirat(int(cur.Fd()), comp, 0o755)
			if errors.Is(err, unix.EEXIST) {
				// A dangling symlink: create its target inside the root.
				cur.Close()
				return a.root.MkdirAll(rel, 0o755)
			}
			if err == nil {
				err = a.implicitAttrs(int(cur.Fd()), comp, done)
			}
			if err == nil {
				next, err = a.root.Open(done, unix.O_PATH|unix.O_DIRECTORY)
			}
		}
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// implicitAttrs gives the new directory rel (name in dfd) the owner and
// mode of the same path in the first lower layer that has it.
func (a *applier) implicitAttrs(dfd int, name, rel string) error {
	if len(a.opts.Lowers) > 0 {
		a.implicit = append(a.implicit, rel)
	}
	mode, uid, gid, found := lowerDirAttrs(a.opts.Lowers, rel)
	if !found {
		mode = 0o755
		var err error
		if uid, err = mapID(0, a.opts.UIDMap); err != nil {
			return err
		}
		if gid, err = mapID(0, a.opts.GIDMap); err != nil {
			return err
		}
	}
	if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	if err := unix.Fchmodat(dfd, name, mode, 0); err != nil {
		return fmt.Errorf("chmod %s: %w", rel, err)
	}
	return nil
}

// lowerDirAttrs returns the mode and owner of directory rel in the topmost
// of lowers that has the path; found is false when none has it, or when
// the topmost has something else there (then the layer's own directory
// hides it and keeps the defaults).
func lowerDirAttrs(lowers []string, rel string) (mode uint32, uid, gid int, found bool) {
	for _, lower := range lowers {
		st, ok, err := statBeneath(lower, rel)
		if err != nil || !ok {
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return 0, 0, 0, false
		}
		return st.Mode & 0o7777, int(st.Uid), int(st.Gid), true
	}
	return 0, 0, 0, false
}

// SettleImplicit gives each directory of rels (relative to dir, created
// implicitly by a layer applied with Lowers) the owner and mode it has in
// the topmost of lowers, now that they are complete. Directories no lower
// has keep what Apply gave them.
func SettleImplicit(dir string, rels []string, lowers []string) error {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("settle implicit directories of %s: %w", dir, err)
	}
	defer unix.Close(root)
	for _, rel := range rels {
		mode, uid, gid, found := lowerDirAttrs(lowers, rel)
		if !found {
			continue
		}
		fd, err := unix.Openat2(root, rel, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
		})
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue // a later entry of the layer replaced it
		}
		if err != nil {
			return fmt.Errorf("settle %s in %s: %w", rel, dir, err)
		}
		err = unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		if err == nil {
			// fchmod does not take O_PATH handles; the magic link does.
			err = unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("settle %s in %s: %w", rel, dir, err)
		}
	}
	return nil
}

// statBeneath stats rel under dir without following any symlink, so a
// lower layer's links never lead outside it.
func statBeneath(dir, rel string) (unix.Stat_t, bool, error) {
	var st unix.Stat_t
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, false, err
	}
	defer unix.Close(root)
	sfd, err := unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
	})
	if err != nil {
		return st, false, nil
	}
	defer unix.Close(sfd)
	if err := unix.Fstat(sfd, &st); err != nil {
		return st, false, err
	}
	return st, true, nil
}

// whiteout handles ".wh.NAME" and the opaque marker in directory parent.
// A whiteout of something this layer wrote itself is ignored: whiteouts
// speak about the layers below.
func (a *applier) whiteout(parent, base string) error {
	if base == opaqueMarker {
		return a.opaque(parent)
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return errdefs.InvalidArgument("invalid whiteout %q", base)
	}
	target := path.Join(parent, name)
	if a.written[target] {
		return nil
	}
	pdir, err := a.dir(parent)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	exists := unix.Fstatat(int(pdir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	if a.opts.Whiteouts == WhiteoutDelete {
		if !exists {
			return nil
		}
		err := removeAt(pdir, name, st.Mode&unix.S_IFMT == unix.S_IFDIR)
		a.invalidate()
		return err
	}
	if exists {
		return nil // a directory this layer needed for its own entries
	}
	if err := unix.Mknodat(int(pdir.Fd()), name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("whiteout %s: %w", target, err)
	}
	return nil
}

// opaque makes directory rel hide what the layers below have in it.
func (a *applier) opaque(rel string) error {
	dir, err := a.dir(rel)
	if err != nil {
		return err
	}
	if a.opts.Whiteouts == WhiteoutOverlay {
		// One form only: an overlay mount shows the other namespace's
		// overlay.* xattrs to the container as ordinary ones.
		name := "trusted.overlay.opaque"
		if a.opts.UserXattr {
			name = "user.overlay.opaque"
		}
		if err := unix.Setxattr(procPath(int(dir.Fd())), name, []byte("y"), 0); err != nil {
			return fmt.Errorf("mark %s opaque: %w", rel, err)
		}
		return nil
	}
	err = a.removeUnwritten(dir, rel)
	a.invalidate()
	return err
}

// removeUnwritten removes everything under dir that this layer did not
// write, keeping the directories it wrote and recursing into them.
func (a *applier) removeUnwritten(dir *os.File, rel string) error {
	d, err := os.Open(procPath(int(dir.Fd())))
	if err != nil {
		return fmt.Errorf("open %s: %w", rel, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	for _, name := range names {
		child := path.Join(rel, name)
		var st unix.Stat_t
		if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %s: %w", child, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if !a.written[child] {
			if err := removeAt(dir, name, isDir); err != nil {
				return err
			}
			continue
		}
		if isDir {
			fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s: %w", child, err)
			}
			sub := os.NewFile(uintptr(fd), child)
			err = a.removeUnwritten(sub, child)
			sub.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
