package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Endpoint is one container interface: a veth pair, the host end on a bridge.
type Endpoint struct {
	Bridge   string
	HostName string           // host end, <= 15 bytes
	NetNS    string           // the container's netns file path
	Name     string           // name inside (eth0, eth1 ...)
	MTU      int              // 0: the bridge's MTU
	MAC      net.HardwareAddr // nil: 02:42 and the first IPv4 address, else random (locally administered)
	Addrs    []netip.Prefix   // container addresses with the subnet length (IPv6 with NODAD)
	Gateways []netip.Addr     // default routes (one per family); empty: none
}

// AddEndpoint creates the pair with the peer already inside the namespace under its
// final name, MAC and MTU (one RTM_NEWLINK, so the peer never appears in the host
// namespace and cannot clash with a host device called eth0), attaches the host end
// to the bridge and brings it up, then inside brings the peer and lo up and adds the
// addresses and default routes. Returns the MAC used. On any failure it removes what
// it made.
func (h *Host) AddEndpoint(e Endpoint) (_ net.HardwareAddr, err error) {
	what := fmt.Sprintf("veth %s for bridge %s", e.HostName, e.Bridge)
	for _, n := range []string{e.HostName, e.Name, e.Bridge} {
		if err := validName(n); err != nil {
			return nil, fmt.Errorf("create %s: %w", what, err)
		}
	}
	addrs, err := normPrefixes(e.Addrs)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", what, err)
	}
	routes, err := defaultRoutes(e.Gateways)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", what, err)
	}

	br, err := h.nl.LinkByName(e.Bridge)
	if err != nil {
		return nil, fmt.Errorf("create %s: find bridge: %w", what, err)
	}
	if br.Type() != "bridge" {
		return nil, fmt.Errorf("create %s: %s is a %s, not a bridge", what, e.Bridge, br.Type())
	}
	mtu := e.MTU
	if mtu == 0 {
		mtu = br.Attrs().MTU
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("create %s: invalid mtu %d", what, mtu)
	}
	mac := e.MAC
	if mac == nil {
		mac = endpointMAC(addrs)
	}
	if len(mac) != 6 || mac[0]&0x01 != 0 {
		return nil, fmt.Errorf("create %s: invalid unicast mac %s", what, mac)
	}

	ns, err := netns.GetFromPath(e.NetNS)
	if err != nil {
		return nil, fmt.Errorf("create %s: open network namespace %s: %w", what, e.NetNS, err)
	}
	defer ns.Close()
	if err := checkNetNSFd(int(ns)); err != nil {
		return nil, fmt.Errorf("create %s: network namespace %s: %w", what, e.NetNS, err)
	}

	attrs := netlink.NewLinkAttrs()
	attrs.Name = e.HostName
	attrs.MTU = mtu
	veth := &netlink.Veth{
		LinkAttrs:        attrs,
		PeerName:         e.Name,
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(ns),
		PeerTxQLen:       -1,
		PeerMTU:          uint32(mtu),
	}
	if err := h.nl.LinkAdd(veth); err != nil {
		if errors.Is(err, unix.EEXIST) {
			if l, _ := h.linkByName(e.HostName); l != nil {
				return nil, fmt.Errorf("create %s: host device %s already exists: %w", what, e.HostName, err)
			}
			return nil, fmt.Errorf("create %s: %s already exists in %s: %w", what, e.Name, e.NetNS, err)
		}
		return nil, fmt.Errorf("create %s: %w", what, err)
	}
	defer func() {
		if err != nil {
			// Deleting the host end takes the peer with it, wherever it is.
			if derr := h.nl.LinkDel(veth); derr != nil && !isNotFound(derr) {
				err = errors.Join(err, fmt.Errorf("remove %s: %w", what, derr))
			}
		}
	}()

	host, err := h.nl.LinkByName(e.HostName)
	if err != nil {
		return nil, fmt.Errorf("find new %s: %w", what, err)
	}
	if err := h.nl.LinkSetMaster(host, br); err != nil {
		return nil, fmt.Errorf("attach %s: %w", what, err)
	}
	// Hairpin: with br_netfilter, a container's connection to its own
	// published port (through a host address) is DNATed back to it and
	// switched out of the port it came in on, which a bridge refuses
	// unless the port allows it.
	if err := h.nl.LinkSetHairpin(host, true); err != nil {
		return nil, fmt.Errorf("set hairpin mode on %s: %w", what, err)
	}
	if err := h.nl.LinkSetUp(host); err != nil {
		return nil, fmt.Errorf("set %s up: %w", what, err)
	}
	if err := configurePeer(ns, e.Name, addrs, routes); err != nil {
		return nil, fmt.Errorf("configure %s in %s (peer of %s): %w", e.Name, e.NetNS, e.HostName, err)
	}
	return mac, nil
}

// configurePeer brings name and lo up in ns, adds the addresses and then the
// default routes (IPv6 wants the device up and the prefix route there first).
func configurePeer(ns netns.NsHandle, name string, addrs []netip.Prefix, routes []*netlink.Route) error {
	nl, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink socket: %w", err)
	}
	defer nl.Close()
	l, err := nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	if err := addAddrs(nl, l, addrs); err != nil {
		return err
	}
	if err := setLoopbackUp(nl); err != nil {
		return err
	}
	for _, r := range routes {
		r.LinkIndex = l.Attrs().Index
		if err := nl.RouteAdd(r); err != nil {
			return fmt.Errorf("add default route via %s dev %s: %w", r.Gw, name, err)
		}
	}
	return nil
}

// defaultRoutes turns gateways into default routes, at most one per family.
func defaultRoutes(gws []netip.Addr) ([]*netlink.Route, error) {
	var routes []*netlink.Route
	seen := map[bool]bool{} // keyed by is-IPv4
	for _, gw := range gws {
		gw = gw.Unmap()
		if !gw.IsValid() || gw.IsUnspecified() || gw.Zone() != "" {
			return nil, fmt.Errorf("invalid gateway %v", gw)
		}
		if seen[gw.Is4()] {
			return nil, fmt.Errorf("more than one gateway of the family of %s", gw)
		}
		seen[gw.Is4()] = true
		dst := &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
		if gw.Is4() {
			dst = &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
		}
		routes = append(routes, &netlink.Route{Dst: dst, Gw: net.IP(gw.AsSlice())})
	}
	return routes, nil
}

// endpointMAC is 02:42 followed by the first IPv4 address (as docker does), or a
// random locally administered address when there is none.
func endpointMAC(addrs []netip.Prefix) net.HardwareAddr {
	for _, p := range addrs {
		if a := p.Addr(); a.Is4() {
			v4 := a.As4()
			return net.HardwareAddr{0x02, 0x42, v4[0], v4[1], v4[2], v4[3]}
		}
	}
	return randomMAC()
}

// RemoveEndpoint deletes the host end (the peer goes with it); missing is fine. A
// device of that name that is not a veth is left alone and reported.
func (h *Host) RemoveEndpoint(hostName string) error {
	if err := validName(hostName); err != nil {
		return fmt.Errorf("remove veth: %w", err)
	}
	l, err := h.linkByName(hostName)
	if err != nil {
		return fmt.Errorf("find veth %s: %w", hostName, err)
	}
	if l == nil {
		return nil
	}
	if l.Type() != "veth" {
		return fmt.Errorf("remove veth %s: device is a %s, not a veth", hostName, l.Type())
	}
	if err := h.nl.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove veth %s: %w", hostName, err)
	}
	return nil
}
