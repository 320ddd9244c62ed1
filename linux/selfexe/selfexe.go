// Package selfexe gives the runtime the path to re-execute its own binary
// ("tincan-oci init") such that the process that enters the container
// cannot write to the runtime binary through /proc/<pid>/exe
// (CVE-2019-5736: a container that makes the runtime execute inside it
// opens /proc/self/exe of that process and overwrites the host binary).
//
// It owns only that: which file the init is executed from. It does not
// start processes; runtime/spawn.go passes Path to exec.Cmd.
//
// Two ways, tried in this order, both set up once per tincan-oci process:
//
//   - A read-only mount of the binary: open_tree(OPEN_TREE_CLONE) of
//     /proc/self/exe gives a detached bind mount of the binary file, and
//     mount_setattr(MOUNT_ATTR_RDONLY) makes it read-only. Nothing is
//     copied and nothing is attached to any mount namespace: the mount
//     lives as long as the fd, or the executable of a process started from
//     it. Opening that executable for writing fails with EROFS (or ETXTBSY
//     while it runs). Needs CAP_SYS_ADMIN over the mount namespace (root),
//     and Linux 5.12 for mount_setattr.
//   - A sealed memfd copy (rootless, older kernels): the binary is copied
//     into a memfd sealed against writes, growth, shrinking and further
//     sealing. Writes through /proc/<pid>/exe fail with EPERM. It costs the
//     binary's size in shared memory for as long as a process runs from it
//     (a created, not yet started container), once per tincan-oci process.
//
// The path handed out is /proc/<pid>/fd/<n> of this process, not
// /proc/self/fd/<n>: exec.Cmd rearranges the child's descriptors (dup2 of
// ExtraFiles onto 3, 4, ... and of the ones in the way above them) before
// execve, which may overwrite fd n in the child, while this process's
// table stays as it is. The kernel resolves the magic link at execve, so
// the child runs exactly the opened file; the fd is close-on-exec and never
// reaches the container.
package selfexe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Method is how the protected copy of the binary was made.
type Method int

const (
	// ReadonlyMount: a detached read-only bind mount of the binary.
	ReadonlyMount Method = iota + 1
	// SealedCopy: a sealed memfd holding a copy of the binary.
	SealedCopy
)

func (m Method) String() string {
	switch m {
	case ReadonlyMount:
		return "read-only mount"
	case SealedCopy:
		return "sealed memfd copy"
	}
	return "method " + strconv.Itoa(int(m))
}

var self struct {
	once   sync.Once
	file   *os.File
	path   string
	method Method
	err    error
}

// Path returns the path to execute to run this binary again, protected as
// the package documentation says. It is set up on the first call and the
// same for every later call in this process; the descriptor behind it stays
// open for the life of the process. When neither way works the error names
// both causes; the runtime must not fall back to /proc/self/exe.
func Path() (string, error) {
	self.once.Do(func() {
		self.file, self.method, self.err = open()
		if self.err == nil {
			self.path = procFDPath(self.file)
		}
	})
	return self.path, self.err
}

// Used reports the method behind Path (0 before Path succeeded).
func Used() Method {
	if _, err := Path(); err != nil {
		return 0
	}
	return self.method
}

func open() (*os.File, Method, error) {
	f, errMount := openReadonlyMount()
	if errMount == nil {
		return f, ReadonlyMount, nil
	}
	f, errCopy := openSealedCopy()
	if errCopy == nil {
		return f, SealedCopy, nil
	}
	return nil, 0, fmt.Errorf("no write-protected copy of the runtime binary for the container init (CVE-2019-5736): %w",
		errors.Join(errMount, errCopy))
}

// openReadonlyMount returns an O_PATH handle on the running binary as the
// root of a detached, read-only bind mount.
func openReadonlyMount() (*os.File, error) {
	f, err := readonlyMountOf("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("read-only mount: %w", err)
	}
	if err := sameFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("read-only mount: %w", err)
	}
	return f, nil
}

// readonlyMountOf returns an O_PATH handle on the file at path as the root
// of a detached, read-only bind mount of it.
func readonlyMountOf(path string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", path, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mount_setattr read-only on the mount of %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path+" (read-only mount)"), nil
}

// openSealedCopy copies the running binary into a memfd and seals it.
func openSealedCopy() (*os.File, error) {
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	// MFD_EXEC (Linux 6.3) asks for an executable memfd explicitly, as
	// vm.memfd_noexec=1 requires; older kernels reject the flag.
	fd, err := unix.MemfdCreate("tincan-oci", flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("tincan-oci", flags)
	}
	if err != nil {
		return nil, fmt.Errorf("sealed copy: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "tincan-oci (sealed copy)")
	if err := fillAndSeal(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealed copy: %w", err)
	}
	return f, nil
}

func fillAndSeal(f *os.File) error {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	// Sized first, so the copy does not grow the memfd page by page.
	if err := f.Truncate(fi.Size()); err != nil {
		return fmt.Errorf("size memfd to %d bytes: %w", fi.Size(), err)
	}
	// io.Copy uses copy_file_range/sendfile: no user-space buffer.
	n, err := io.Copy(f, src)
	if err != nil {
		return fmt.Errorf("copy /proc/self/exe: %w", err)
	}
	if n != fi.Size() {
		return fmt.Errorf("copy /proc/self/exe: copied %d of %d bytes", n, fi.Size())
	}
	if err := unix.Fchmod(int(f.Fd()), 0o555); err != nil {
		return fmt.Errorf("chmod memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("seal memfd: %w", err)
	}
	return nil
}

// sameFile checks that f is the inode /proc/self/exe names.
func sameFile(f *os.File) error {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if err := unix.Stat("/proc/self/exe", &b); err != nil {
		return fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		return fmt.Errorf("%s is not the running binary", f.Name())
	}
	return nil
}

// procFDPath is /proc/<pid>/fd/<fd> with the pid as the mounted /proc
// knows this process (it differs from getpid when the runtime runs in a
// pid namespace with the parent namespace's /proc).
func procFDPath(f *os.File) string {
	pid, err := os.Readlink("/proc/self")
	if err != nil {
		pid = strconv.Itoa(os.Getpid())
	}
	return "/proc/" + pid + "/fd/" + strconv.Itoa(int(f.Fd()))
}
