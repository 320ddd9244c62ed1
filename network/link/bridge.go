package link

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// defaultMTU is the MTU of a bridge whose MTU is 0.
const defaultMTU = 1500

// Bridge is one bridge device.
type Bridge struct {
	Name  string
	MTU   int            // 0: 1500
	Addrs []netip.Prefix // gateway addresses with the subnet's length, e.g. 10.88.0.1/16, fd00::1/64
}

// EnsureBridge creates the bridge if missing (else checks it is a bridge), sets MTU,
// adds the missing addresses (IPv6 with IFA_F_NODAD so they are usable at once),
// sets net.ipv4.conf.<name>.route_localnet=1 (published ports reached from 127.0.0.1),
// and brings it up. Safe to call concurrently from two processes (EEXIST tolerated).
//
// A bridge it creates gets a fixed random MAC address, so the gateway's MAC does not
// change as ports come and go, and keeps its MTU when ports with a smaller MTU join
// (the kernel's default is to follow the smallest port).
func (h *Host) EnsureBridge(b Bridge) error {
	if err := validName(b.Name); err != nil {
		return fmt.Errorf("ensure bridge: %w", err)
	}
	mtu := b.MTU
	if mtu == 0 {
		mtu = defaultMTU
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("ensure bridge %s: invalid mtu %d", b.Name, mtu)
	}
	addrs, err := normPrefixes(b.Addrs)
	if err != nil {
		return fmt.Errorf("ensure bridge %s: %w", b.Name, err)
	}

	l, err := h.linkByName(b.Name)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", b.Name, err)
	}
	if l == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = b.Name
		attrs.MTU = mtu
		attrs.HardwareAddr = randomMAC()
		err = h.nl.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", b.Name, err)
		}
		created := err == nil
		if l, err = h.nl.LinkByName(b.Name); err != nil {
			return fmt.Errorf("find bridge %s: %w", b.Name, err)
		}
		if created && l.Type() == "bridge" {
			if err := h.pinMTU(l, mtu); err != nil {
				return err
			}
		}
	}
	if l.Type() != "bridge" {
		return fmt.Errorf("ensure bridge %s: device exists and is a %s, not a bridge", b.Name, l.Type())
	}
	if l.Attrs().MTU != mtu {
		if err := h.nl.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("set mtu %d on bridge %s: %w", mtu, b.Name, err)
		}
	}
	if err := addAddrs(h.nl, l, addrs); err != nil {
		return fmt.Errorf("bridge %s: %w", b.Name, err)
	}
	if _, err := h.ensureSysctl(routeLocalnet(b.Name), "1"); err != nil {
		return fmt.Errorf("bridge %s: %w", b.Name, err)
	}
	if err := h.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("set bridge %s up: %w", b.Name, err)
	}
	return nil
}

// pinMTU makes mtu the bridge's own. The kernel lowers a bridge's MTU to its
// smallest port's unless the MTU was set by hand, which an MTU given at creation
// is not, and setting the MTU it already has is a no-op that marks nothing; so a
// new, portless bridge gets its MTU set twice: one off, then right.
func (h *Host) pinMTU(l netlink.Link, mtu int) error {
	other := mtu + 1
	if mtu == 65535 {
		other = mtu - 1
	}
	for _, m := range []int{other, mtu} {
		if err := h.nl.LinkSetMTU(l, m); err != nil {
			return fmt.Errorf("set mtu %d on bridge %s: %w", m, l.Attrs().Name, err)
		}
	}
	l.Attrs().MTU = mtu
	return nil
}

// DeleteBridge removes it; missing is fine. A device of that name that is not a
// bridge is left alone and reported.
func (h *Host) DeleteBridge(name string) error {
	if err := validName(name); err != nil {
		return fmt.Errorf("delete bridge: %w", err)
	}
	l, err := h.linkByName(name)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", name, err)
	}
	if l == nil {
		return nil
	}
	if l.Type() != "bridge" {
		return fmt.Errorf("delete bridge %s: device is a %s, not a bridge", name, l.Type())
	}
	if err := h.nl.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// addAddrs adds the prefixes l lacks, through nl (the handle of l's namespace).
// IPv6 addresses get IFA_F_NODAD so they are usable at once.
func addAddrs(nl *netlink.Handle, l netlink.Link, want []netip.Prefix) error {
	if len(want) == 0 {
		return nil
	}
	name := l.Attrs().Name
	have, err := retryDump(func() ([]netlink.Addr, error) {
		return nl.AddrList(l, netlink.FAMILY_ALL)
	})
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", name, err)
	}
	present := make(map[netip.Prefix]bool, len(have))
	for _, a := range have {
		if p, ok := addrPrefix(a); ok {
			present[p] = true
		}
	}
	for _, p := range want {
		if present[p] {
			continue
		}
		a := &netlink.Addr{IPNet: prefixIPNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := nl.AddrAdd(l, a); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s to %s: %w", p, name, err)
		}
		present[p] = true
	}
	return nil
}

// normPrefixes checks addresses and unmaps IPv4-mapped IPv6 ones.
func normPrefixes(in []netip.Prefix) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() {
			return nil, fmt.Errorf("invalid address %v", p)
		}
		a := p.Addr()
		if a.Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("invalid address %v", p)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p)
	}
	return out, nil
}

// addrPrefix converts a netlink address to a prefix.
func addrPrefix(a netlink.Addr) (netip.Prefix, bool) {
	if a.IPNet == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// prefixIPNet converts a prefix to the address-with-mask form netlink takes (the
// host bits kept).
func prefixIPNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().Unmap()
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(p.Bits(), a.BitLen())}
}

// randomMAC returns a random locally administered unicast MAC address.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac) // crypto/rand.Read never fails
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}
