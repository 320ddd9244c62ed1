package link

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// These tests never touch the host's network namespace: each works in private
// namespaces made on throwaway threads.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and devices")
	}
}

// privateNetNS makes an empty network namespace and returns an fd to it, closed at
// cleanup (which frees the namespace once nothing else holds it).
func privateNetNS(t *testing.T) int {
	t.Helper()
	var fd int
	err := onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		var err error
		fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		t.Fatalf("make private network namespace: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// privateHost is a Host in a fresh private namespace; it returns the namespace fd
// too.
func privateHost(t *testing.T) (*Host, int) {
	t.Helper()
	fd := privateNetNS(t)
	h, err := At(fd)
	if err != nil {
		t.Fatalf("At: %v", err)
	}
	t.Cleanup(h.Close)
	return h, fd
}

// nsFile creates a namespace file under t.TempDir(), removed at cleanup.
func nsFile(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "netns", name)
	if err := CreateNetNS(p); err != nil {
		t.Fatalf("CreateNetNS(%s): %v", p, err)
	}
	t.Cleanup(func() {
		if err := RemoveNetNS(p); err != nil {
			t.Errorf("RemoveNetNS(%s): %v", p, err)
		}
	})
	return p
}

// nlAt opens an independent netlink handle in the namespace at fd, for checking.
func nlAt(t *testing.T, fd int) *netlink.Handle {
	t.Helper()
	nl, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(nl.Close)
	return nl
}

// nlAtPath is nlAt for a namespace file.
func nlAtPath(t *testing.T, path string) *netlink.Handle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return nlAt(t, int(f.Fd()))
}

// runInNS runs fn on a throwaway thread inside the namespace at fd.
func runInNS(t *testing.T, fd int, fn func() error) error {
	t.Helper()
	return inNetNS(netns.NsHandle(fd), fn)
}

// runInNSPath is runInNS for a namespace file.
func runInNSPath(t *testing.T, path string, fn func() error) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return runInNS(t, int(f.Fd()), fn)
}

// mounted reports whether path is a mount point per /proc/self/mountinfo.
func mounted(t *testing.T, path string) bool {
	t.Helper()
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil {
		t.Fatal(err)
	}
	return len(mounts) > 0
}

// linkExists reports whether name exists in the namespace of nl.
func linkExists(t *testing.T, nl *netlink.Handle, name string) bool {
	t.Helper()
	_, err := nl.LinkByName(name)
	if err == nil {
		return true
	}
	if !isNotFound(err) {
		t.Fatalf("look up %s: %v", name, err)
	}
	return false
}

// isUp reports whether l is administratively up.
func isUp(l netlink.Link) bool { return l.Attrs().Flags&net.FlagUp != 0 }

// hostHasLink checks the test process's own namespace, which must stay untouched.
func hostHasLink(t *testing.T, name string) bool {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, err := netlink.LinkByName(name)
	return err == nil
}

// TestCurrent only reads the test process's namespace.
func TestCurrent(t *testing.T) {
	requireRoot(t)
	h, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	names, err := h.Links("lo")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || names[0] != "lo" {
		t.Errorf("Links(lo) = %v", names)
	}
	if _, err := At(0); err == nil {
		t.Errorf("At(stdin) succeeded")
	}
}
