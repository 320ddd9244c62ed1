// Package pathrs resolves paths inside a container root filesystem without
// ever leaving it: symlinks (absolute or with "..") are resolved as if the
// root were "/", and magic links (/proc/self/root and friends) are refused.
//
// It owns path resolution and the creation of missing directories and
// files on the way; callers get an O_PATH *os.File whose /proc/self/fd path
// can be handed to mount(2), so that a concurrent rename or symlink swap in
// the rootfs cannot redirect a mount onto the host (CVE-2021-30465 class).
// It does not decide what to mount or create; the init sequence does.
//
// On kernels with openat2(2) (5.6+) resolution uses RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS; elsewhere it falls back to
// github.com/cyphar/filepath-securejoin followed by an O_NOFOLLOW open.
package pathrs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

var (
	openat2Once sync.Once
	haveOpenat2 bool
)

func openat2Supported() bool {
	openat2Once.Do(func() {
		fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
		if err == nil {
			unix.Close(fd)
			haveOpenat2 = true
		}
	})
	return haveOpenat2
}

// Root is an open container root directory.
type Root struct {
	path string
	fd   *os.File
}

// OpenRoot opens the directory path as a root for later resolution.
func OpenRoot(path string) (*Root, error) {
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs %s: %w", path, err)
	}
	return &Root{path: path, fd: f}, nil
}

// Path returns the host path of the root.
func (r *Root) Path() string { return r.path }

// Close releases the root's file descriptor.
func (r *Root) Close() error { return r.fd.Close() }

// Open resolves unsafePath inside the root and opens it with flags
// (O_CLOEXEC is always added). The final component is not followed if it
// is a symlink and flags has O_NOFOLLOW.
func (r *Root) Open(unsafePath string, flags int) (*os.File, error) {
	rel := relative(unsafePath)
	if openat2Supported() {
		how := &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
		fd, err := unix.Openat2(int(r.fd.Fd()), rel, how)
		for err == unix.EAGAIN || err == unix.EINTR {
			// EAGAIN: a rename raced with the lookup; try again.
			fd, err = unix.Openat2(int(r.fd.Fd()), rel, how)
		}
		if err != nil {
			return nil, &os.PathError{Op: "open in rootfs", Path: filepath.Join(r.path, rel), Err: err}
		}
		return os.NewFile(uintptr(fd), filepath.Join(r.path, rel)), nil
	}
	full, err := securejoin.SecureJoin(r.path, rel)
	if err != nil {
		return nil, fmt.Errorf("resolve %s in rootfs %s: %w", unsafePath, r.path, err)
	}
	f, err := os.OpenFile(full, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open in rootfs: %w", err)
	}
	return f, nil
}

// MkdirAll creates unsafePath and any missing parents inside the root
// (like os.MkdirAll, but every step is resolved inside the root) and
// returns an O_PATH handle to the final directory.
func (r *Root) MkdirAll(unsafePath string, mode os.FileMode) (*os.File, error) {
	return r.mkdirAll(unsafePath, mode, 0)
}

// maxLinkDepth bounds how many dangling symlinks MkdirAll follows, as the
// kernel bounds symlink resolution (ELOOP).
const maxLinkDepth = 40

func (r *Root) mkdirAll(unsafePath string, mode os.FileMode, depth int) (*os.File, error) {
	rel := relative(unsafePath)
	if rel == "." {
		return r.Open(".", unix.O_PATH|unix.O_DIRECTORY)
	}
	parts := strings.Split(rel, "/")
	cur, err := r.Open(".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	done := ""
	for _, part := range parts {
		if part == "" || part == "." {
			continue
		}
		done = filepath.Join(done, part)
		next, err := r.Open(done, unix.O_PATH|unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			err = unix.Mkdirat(int(cur.Fd()), part, uint32(mode.Perm()))
			switch {
			case err == unix.EEXIST && depth < maxLinkDepth:
				// A dangling symlink: create its target, resolved inside
				// the root (images often link /var/run -> /run before /run
				// exists), then carry on from there.
				cur.Close()
				target, jerr := securejoin.SecureJoin(r.path, done)
				if jerr != nil {
					return nil, fmt.Errorf("resolve %s in rootfs %s: %w", done, r.path, jerr)
				}
				rest := strings.TrimPrefix(rel, done)
				return r.mkdirAll(strings.TrimPrefix(target, r.path)+rest, mode, depth+1)
			case err != nil:
				cur.Close()
				return nil, fmt.Errorf("mkdir %s in rootfs %s: %w", done, r.path, err)
			}
			next, err = r.Open(done, unix.O_PATH|unix.O_DIRECTORY)
		}
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// CreateFile makes sure a regular file exists at unsafePath (creating its
// parent directories) and returns an O_PATH handle to it. An existing
// non-directory is accepted as is (bind mounts of device nodes or sockets
// land on whatever is there).
func (r *Root) CreateFile(unsafePath string, mode os.FileMode) (*os.File, error) {
	rel := relative(unsafePath)
	if f, err := r.Open(rel, unix.O_PATH); err == nil {
		return f, nil
	}
	dir, err := r.MkdirAll(filepath.Dir(rel), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	// An O_PATH directory handle is a valid dirfd for openat(2).
	base := filepath.Base(rel)
	fd, err := unix.Openat(int(dir.Fd()), base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err == nil {
		unix.Close(fd)
	} else if err != unix.EEXIST {
		return nil, fmt.Errorf("create %s in rootfs %s: %w", rel, r.path, err)
	}
	return r.Open(rel, unix.O_PATH)
}

// ProcPath returns the /proc/self/fd path of f, usable as a mount target
// or source: the kernel resolves it to exactly the opened inode.
func ProcPath(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// relative makes unsafePath relative to the root ("/a/../b" -> "b").
func relative(unsafePath string) string {
	p := filepath.Clean("/" + unsafePath)
	if p == "/" {
		return "."
	}
	return p[1:]
}
