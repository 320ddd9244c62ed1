// Package link owns the kernel side of tincan's bridge networks: named network
// namespace files, bridges, veth pairs, addresses, routes and the sysctls they need.
// It knows nothing of containers or networks' configuration (the network package does).
//
// Every device operation goes through a Host, which holds a netlink socket opened
// inside one network namespace, so callers never depend on which namespace the
// calling OS thread happens to be in. Work that must run on a thread inside a
// namespace (sysctl writes, creating a namespace) runs on a throwaway goroutine
// whose OS thread is locked and never unlocked, so the Go runtime ends that thread
// instead of reusing it in the wrong namespace.
//
// Namespace files are bind mounts of nsfs files. Whether such a mount propagates to
// other mount namespaces depends on the propagation of the mount holding the file:
// this package changes no mount's propagation, so callers that care keep the files
// in a directory whose mount they control.
package link

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Host is the network namespace devices are created in (the calling process's, or a
// private one in tests).
type Host struct {
	nl *netlink.Handle
	ns netns.NsHandle
}

// Current returns a Host for the calling thread's network namespace, which is the
// process's unless the caller moved its own locked thread elsewhere.
func Current() (*Host, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("open current network namespace: %w", err)
	}
	h, err := newHost(ns)
	if err != nil {
		ns.Close()
		return nil, err
	}
	return h, nil
}

// At returns a Host for the network namespace open at netnsFd. The descriptor is
// duplicated: the caller keeps ownership of netnsFd, and Close releases the copy.
func At(netnsFd int) (*Host, error) {
	fd, err := unix.FcntlInt(uintptr(netnsFd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate network namespace fd %d: %w", netnsFd, err)
	}
	ns := netns.NsHandle(fd)
	if err := checkNetNSFd(fd); err != nil {
		ns.Close()
		return nil, fmt.Errorf("network namespace fd %d: %w", netnsFd, err)
	}
	h, err := newHost(ns)
	if err != nil {
		ns.Close()
		return nil, err
	}
	return h, nil
}

func newHost(ns netns.NsHandle) (*Host, error) {
	nl, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink socket in network namespace %s: %w", ns, err)
	}
	return &Host{nl: nl, ns: ns}, nil
}

// Close releases the Host's netlink socket and namespace handle. The devices it
// made stay.
func (h *Host) Close() {
	if h == nil {
		return
	}
	if h.nl != nil {
		h.nl.Close()
		h.nl = nil
	}
	if h.ns.IsOpen() {
		h.ns.Close()
	}
	h.ns = netns.None()
}

// do runs fn on a fresh OS thread that has joined h's network namespace. The
// thread stays locked, so it is thrown away when fn returns.
func (h *Host) do(fn func() error) error {
	return inNetNS(h.ns, fn)
}

// inNetNS runs fn on a throwaway OS thread set into the namespace ns.
func inNetNS(ns netns.NsHandle, fn func() error) error {
	return onThrowawayThread(func() error {
		if err := unix.Setns(int(ns), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter network namespace %s: %w", ns, err)
		}
		return fn()
	})
}

// onThrowawayThread runs fn on a goroutine locked to its OS thread and never
// unlocked: whatever fn does to the thread (setns, unshare) dies with it.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- fn()
	}()
	return <-errc
}

// checkNetNSFd reports whether fd refers to a network namespace.
func checkNetNSFd(fd int) error {
	typ, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("not a namespace: %w", err)
	}
	if typ != unix.CLONE_NEWNET {
		return fmt.Errorf("not a network namespace (type %#x)", typ)
	}
	return nil
}

// validName checks a network device name the way the kernel does.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("empty device name")
	case len(name) > unix.IFNAMSIZ-1:
		return fmt.Errorf("device name %q longer than %d bytes", name, unix.IFNAMSIZ-1)
	case name == "." || name == "..":
		return fmt.Errorf("invalid device name %q", name)
	case strings.ContainsAny(name, "/: \t\n\r\v\f"):
		return fmt.Errorf("device name %q contains '/', ':' or white space", name)
	}
	return nil
}

// isNotFound reports whether err says a link does not exist.
func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// linkByName looks up name, returning (nil, nil) when it does not exist.
func (h *Host) linkByName(name string) (netlink.Link, error) {
	l, err := h.nl.LinkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return l, nil
}

// retryDump retries a netlink dump that raced with a change.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var (
		out []T
		err error
	)
	for range 5 {
		out, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return out, err
}

// Links lists the host's links whose names start with prefix (for the crash sweep).
func (h *Host) Links(prefix string) ([]string, error) {
	links, err := retryDump(h.nl.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links with prefix %q: %w", prefix, err)
	}
	var names []string
	for _, l := range links {
		if n := l.Attrs().Name; strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	return names, nil
}
