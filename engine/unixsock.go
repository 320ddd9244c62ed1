package engine

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Unix socket paths are limited to 108 bytes, and the store may sit
// deep in the filesystem. Sockets are therefore bound and reached through
// the short path /proc/self/fd/<dir fd>/<name> of their opened directory.

func shortPath(dir *os.File, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + name
}

func listenUnix(path string) (*net.UnixListener, error) {
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach socket %s: %w", path, err)
	}
	defer dir.Close()
	short := shortPath(dir, filepath.Base(path))
	os.Remove(short)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: short, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("attach socket %s: %w", path, err)
	}
	// Closing must not try to unlink the short path (the fd is gone).
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

func dialUnix(path string) (*net.UnixConn, error) {
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: shortPath(dir, filepath.Base(path)), Net: "unix"})
}
