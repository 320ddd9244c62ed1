package mount

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mountTmpfsCopyUp mounts a tmpfs on target and copies what the directory
// held before into it ("tmpcopyup"), so that an image's /run or /tmp
// contents survive being covered by a fresh tmpfs.
//
// The old contents are read through a descriptor opened before the mount:
// once covered they are reachable no other way, and this needs neither a
// scratch directory nor a move of the new mount. The copy keeps type, mode,
// owner and times; it does not keep hard links (each name gets its own
// copy) or extended attributes.
func mountTmpfsCopyUp(source, target string, o Options) (err error) {
	lower, err := os.OpenFile(target, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup on %s: %w", target, err)
	}
	defer lower.Close()

	// Writable first so the copy can fill it; read-only comes last.
	if err := Mount(source, target, "tmpfs", o.Flags&^unix.MS_RDONLY, o.DataString()); err != nil {
		return err
	}
	defer func() { err = undoOnError(target, err) }()
	upper, err := os.OpenFile(target, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup on %s: %w", target, err)
	}
	defer upper.Close()
	if err := checkIsNewTmpfs(upper, lower); err != nil {
		return fmt.Errorf("tmpcopyup on %s: %w", target, err)
	}
	if err := copyDirContents(lower, upper, target); err != nil {
		return fmt.Errorf("tmpcopyup on %s: %w", target, err)
	}
	if o.Flags&unix.MS_RDONLY != 0 {
		return RemountReadonly(target)
	}
	return nil
}

// checkIsNewTmpfs makes sure reopening the target reached the new tmpfs. A
// /proc/self/fd magic link as target still leads to the covered directory,
// and copying that onto itself would be wrong in confusing ways.
func checkIsNewTmpfs(upper, lower *os.File) error {
	var upperFS unix.Statfs_t
	if err := unix.Fstatfs(int(upper.Fd()), &upperFS); err != nil {
		return fmt.Errorf("statfs new mount: %w", err)
	}
	var upperSt, lowerSt unix.Stat_t
	if err := unix.Fstat(int(upper.Fd()), &upperSt); err != nil {
		return fmt.Errorf("stat new mount: %w", err)
	}
	if err := unix.Fstat(int(lower.Fd()), &lowerSt); err != nil {
		return fmt.Errorf("stat covered directory: %w", err)
	}
	if upperFS.Type != unix.TMPFS_MAGIC || upperSt.Dev == lowerSt.Dev {
		return errors.New("the target path does not lead to the new tmpfs (a /proc/self/fd link cannot be used here)")
	}
	return nil
}

// openDir opens the directory name under dirFd without following a final
// symlink, so the copy cannot be led out of the tree it copies.
func openDir(dirFd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open directory %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// copyDirContents copies every entry of src into dst; path names src in
// errors.
func copyDirContents(src, dst *os.File, path string) error {
	entries, err := src.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", path, err)
	}
	for _, e := range entries {
		if err := copyEntry(src, dst, e.Name(), filepath.Join(path, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(srcDir, dstDir *os.File, name, path string) error {
	srcFd, dstFd := int(srcDir.Fd()), int(dstDir.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(srcFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = copyDir(srcDir, dstDir, name, path)
	case unix.S_IFREG:
		err = copyFile(srcFd, dstFd, name)
	case unix.S_IFLNK:
		err = copySymlink(srcFd, dstFd, name)
	default: // devices, fifos and sockets: a new node of the same kind
		err = unix.Mknodat(dstFd, name, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", path, err)
	}
	return copyMetadata(dstFd, name, &st, path)
}

func copyDir(srcDir, dstDir *os.File, name, path string) error {
	if err := unix.Mkdirat(int(dstDir.Fd()), name, 0o700); err != nil {
		return err
	}
	src, err := openDir(int(srcDir.Fd()), name)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openDir(int(dstDir.Fd()), name)
	if err != nil {
		return err
	}
	defer dst.Close()
	return copyDirContents(src, dst, path)
}

func copyFile(srcDirFd, dstDirFd int, name string) error {
	in, err := unix.Openat(srcDirFd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	src := os.NewFile(uintptr(in), name)
	defer src.Close()
	out, err := unix.Openat(dstDirFd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	dst := os.NewFile(uintptr(out), name)
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func copySymlink(srcDirFd, dstDirFd int, name string) error {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(srcDirFd, name, buf)
	if err != nil {
		return err
	}
	return unix.Symlinkat(string(buf[:n]), dstDirFd, name)
}

// copyMetadata gives the copy the owner, mode and times of the original.
// The mode is set after the owner because chown clears set-id bits.
func copyMetadata(dstDirFd int, name string, st *unix.Stat_t, path string) error {
	if err := unix.Fchownat(dstDirFd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown copy of %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dstDirFd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod copy of %s: %w", path, err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dstDirFd, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of copy of %s: %w", path, err)
	}
	return nil
}
