package initproc

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// copyTree copies the directory tree src into dst (an existing directory),
// keeping modes, owners and symlinks; used by tmpcopyup. src is a
// directory inside the rootfs reached through its /proc/self/fd path, so
// nothing in it is followed out of the rootfs: symlinks are copied as
// links, and special files are recreated with mknod.
func copyTree(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(s, &st); err != nil {
			return fmt.Errorf("stat %s: %w", s, err)
		}
		mode := st.Mode & 0o7777
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := os.Mkdir(d, os.FileMode(mode)); err != nil {
				return err
			}
			if err := copyTree(s, d); err != nil {
				return err
			}
		case unix.S_IFLNK:
			target, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, d); err != nil {
				return err
			}
		case unix.S_IFREG:
			if err := copyFile(s, d, os.FileMode(mode)); err != nil {
				return err
			}
		default:
			if err := unix.Mknod(d, st.Mode, int(st.Rdev)); err != nil {
				return fmt.Errorf("mknod %s: %w", d, err)
			}
		}
		if err := unix.Lchown(d, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", d, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			// chown clears setuid bits; set the mode again.
			if err := unix.Chmod(d, mode); err != nil {
				return fmt.Errorf("chmod %s: %w", d, err)
			}
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
