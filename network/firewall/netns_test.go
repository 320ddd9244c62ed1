package firewall

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Test helpers: private network namespaces, links between them, and
// listeners and clients running inside them. Nothing here ever enters or
// changes the test process's own network namespace: every namespace
// switch happens on a goroutine whose thread stays locked and dies with it.

// ioTimeout bounds every dial, read and write of the tests.
const ioTimeout = 2 * time.Second

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and nftables rules")
	}
}

// newNetns creates a private network namespace with lo up; it is closed
// (and so freed once nothing else holds it) when the test ends.
func newNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// Never unlocked: the thread leaves the process's namespace, so
		// it must exit with this goroutine rather than be reused.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{-1, fmt.Errorf("unshare: %w", err)}
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("new network namespace: %v", r.err)
	}
	ns := netns.NsHandle(r.fd)
	t.Cleanup(func() { ns.Close() })
	h := handleAt(t, ns)
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatalf("lo: %v", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		t.Fatalf("lo up: %v", err)
	}
	return ns
}

// inNetns runs fn on a thread in ns and returns its error.
func inNetns(ns netns.NsHandle, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, see newNetns
		if err := unix.Setns(int(ns), unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("setns: %w", err)
			return
		}
		ch <- fn()
	}()
	return <-ch
}

// handleAt is a netlink handle of ns, closed when the test ends.
func handleAt(t *testing.T, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// sysctl writes value to /proc/sys/<key> of ns (/proc/sys/net is that of
// the task that opens it).
func sysctl(t *testing.T, ns netns.NsHandle, key, value string) {
	t.Helper()
	err := inNetns(ns, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
	if err != nil {
		t.Fatalf("sysctl %s=%s: %v", key, value, err)
	}
}

// addBridge creates bridge name in ns with address addr (a prefix) and
// brings it up.
func addBridge(t *testing.T, h *netlink.Handle, name, addr string) *netlink.Bridge {
	t.Helper()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("add bridge %s: %v", name, err)
	}
	t.Cleanup(func() { h.LinkDel(br) })
	setAddrUp(t, h, br, addr)
	return br
}

// setAddrUp gives l the address addr (none when "") and brings it up.
func setAddrUp(t *testing.T, h *netlink.Handle, l netlink.Link, addr string) {
	t.Helper()
	if addr != "" {
		p := netip.MustParsePrefix(addr)
		a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD // usable at once
		}
		if err := h.AddrAdd(l, a); err != nil {
			t.Fatalf("address %s on %s: %v", addr, l.Attrs().Name, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		t.Fatalf("up %s: %v", l.Attrs().Name, err)
	}
}

// peer describes the far end of a veth: a namespace, its address there
// (named eth0) and the default gateway ("" for none).
type peer struct {
	ns      netns.NsHandle
	addr    string
	gateway string
}

// addVeth creates veth hostName in ns h (with address hostAddr, or
// enslaved to master when master is not nil) whose other end is eth0 in
// p.ns. It returns the host end.
func addVeth(t *testing.T, h *netlink.Handle, hostName, hostAddr string, master netlink.Link, p peer) netlink.Link {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostName}, PeerName: "eth0", PeerNamespace: netlink.NsFd(p.ns)}
	if err := h.LinkAdd(v); err != nil {
		t.Fatalf("add veth %s: %v", hostName, err)
	}
	t.Cleanup(func() { h.LinkDel(v) })
	if master != nil {
		if err := h.LinkSetMaster(v, master); err != nil {
			t.Fatalf("enslave %s: %v", hostName, err)
		}
	}
	setAddrUp(t, h, v, hostAddr)

	ph := handleAt(t, p.ns)
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		t.Fatalf("peer of %s: %v", hostName, err)
	}
	setAddrUp(t, ph, eth0, p.addr)
	if p.gateway != "" {
		gw := netip.MustParseAddr(p.gateway)
		r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gw.AsSlice()}
		if err := ph.RouteAdd(r); err != nil {
			t.Fatalf("default route via %s: %v", p.gateway, err)
		}
	}
	return v
}

// brNetfilter turns br_netfilter's bridge-nf-call-ip{,6}tables on or off in
// ns; it skips the test if it is to be on but the kernel has no
// br_netfilter.
func brNetfilter(t *testing.T, ns netns.NsHandle, on bool) {
	t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	err := inNetns(ns, func() error {
		for _, f := range []string{"iptables", "ip6tables"} {
			if err := os.WriteFile("/proc/sys/net/bridge/bridge-nf-call-"+f, []byte(v), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist) && !on:
	case errors.Is(err, os.ErrNotExist):
		t.Skip("no br_netfilter in this kernel")
	default:
		t.Fatalf("br_netfilter sysctls: %v", err)
	}
}

// serveTCP listens on addr in ns and answers every connection with reply,
// then closes it. It stops when the test ends.
func serveTCP(t *testing.T, ns netns.NsHandle, addr, reply string) {
	t.Helper()
	var ln net.Listener
	err := inNetns(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(ioTimeout))
			io.WriteString(c, reply)
			c.Close()
		}
	}()
}

// serveUDP answers every datagram to addr in ns with reply.
func serveUDP(t *testing.T, ns netns.NsHandle, addr, reply string) {
	t.Helper()
	var pc net.PacketConn
	err := inNetns(ns, func() (err error) {
		pc, err = net.ListenPacket("udp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on udp %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(reply), from)
		}
	}()
}

// dial connects from ns to addr over network ("tcp" or "udp"; for udp it
// first sends a datagram) and returns what the server says.
func dial(ns netns.NsHandle, network, addr string, timeout time.Duration) (string, error) {
	var got string
	err := inNetns(ns, func() error {
		c, err := net.DialTimeout(network, addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		if network == "udp" {
			if _, err := c.Write([]byte("ping")); err != nil {
				return err
			}
			buf := make([]byte, 512)
			n, err := c.Read(buf)
			got = string(buf[:n])
			return err
		}
		b, err := io.ReadAll(c)
		got = string(b)
		return err
	})
	return got, err
}

// wantReply checks that dialing addr from ns gets want.
func wantReply(t *testing.T, ns netns.NsHandle, network, addr, want string) {
	t.Helper()
	got, err := dial(ns, network, addr, ioTimeout)
	if err != nil {
		t.Fatalf("%s %s: %v", network, addr, err)
	}
	if got != want {
		t.Fatalf("%s %s: got %q, want %q", network, addr, got, want)
	}
}

// wantNoReply checks that dialing addr from ns fails within timeout.
func wantNoReply(t *testing.T, ns netns.NsHandle, network, addr string, timeout time.Duration) {
	t.Helper()
	got, err := dial(ns, network, addr, timeout)
	if err == nil {
		t.Fatalf("%s %s: got %q, want no connection", network, addr, got)
	}
	t.Logf("%s %s fails as wanted: %v", network, addr, err)
}

// addDefault6 adds an IPv6 default route via gw on eth0.
func addDefault6(t *testing.T, h *netlink.Handle, gw string) {
	t.Helper()
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatalf("eth0: %v", err)
	}
	r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: netip.MustParseAddr(gw).AsSlice()}
	if err := h.RouteAdd(r); err != nil {
		t.Fatalf("default route via %s: %v", gw, err)
	}
}
